//! `check --connector NAME`: what a policy asks of a connector that the
//! connector cannot give. A rule that depends on a field the platform never
//! supplies sees *unknown* for every user, so it sends everyone it reaches
//! to review; an action the platform cannot carry out cannot be applied.

use crate::ast::{Expr, ExprKind, Policy, Stmt};
use crate::config::Connector;
use crate::connector::platform::{RuleCheck, Supply};
use crate::diagnostic::{Code, Diag};
use crate::fields::Field;
use std::collections::{HashMap, HashSet};

/// Why connector `c` never supplies `field`, if it never does. `enriched`
/// are the columns of the connector's enrich files, which supply what they
/// hold, and so do the identity providers its `logins_from` names, the
/// last login. The platform speaks first; the rules every platform shares
/// follow.
pub fn never_supplied(c: &Connector, field: &Field, enriched: &[Field]) -> Option<String> {
    if enriched.contains(field) || (*field == Field::LastLogin && !c.logins_from.is_empty()) {
        return None;
    }
    let platform = c.kind.platform();
    let own = |f: &Field| never_supplied(c, f, enriched).is_none();
    match platform.supplies(c, field, &own) {
        Supply::Supplied => None,
        Supply::Never(why) => Some(why),
        Supply::Usual => usually_never(platform.name(), platform.attrs(), field, &own),
    }
}

/// The rules every platform shares: service flags, counters and `attr.*`
/// only where the platform says it has them, and derived fields only when
/// what they are worked out from is there.
fn usually_never(platform: &str, attrs: &[&str], field: &Field, own: &dyn Fn(&Field) -> bool) -> Option<String> {
    match field {
        Field::IsService => Some(format!("{platform} has no flag for service or API accounts")),
        Field::Activity(_) => Some(format!("{platform} reports no activity counters")),
        Field::Attr(_) if attrs.is_empty() => Some(format!("{platform} supplies no `attr.*`")),
        Field::Attr(name) if !attrs.contains(&name.as_str()) => Some(format!(
            "{platform} supplies only {}",
            attrs.iter().map(|a| format!("attr.{a}")).collect::<Vec<_>>().join(", ")
        )),
        Field::HasActivity if !own(&Field::LastActivity) => Some(format!(
            "{platform} reports neither activity counters nor a last activity"
        )),
        Field::NeverLoggedIn | Field::Inactive if !own(&Field::LastLogin) => {
            Some(format!("{platform} does not report logins"))
        }
        _ => None,
    }
}

/// The diagnostics of a policy against one connector.
pub fn against(policy: &Policy, c: &Connector, enriched: &[Field]) -> Vec<Diag> {
    let lets: HashMap<&str, &Expr> = policy
        .statements
        .iter()
        .filter_map(|s| match s {
            Stmt::Let(l) => Some((l.name.node.as_str(), &l.expr)),
            _ => None,
        })
        .collect();
    let mut diags = Vec::new();
    let mut reported = HashSet::new();
    for stmt in &policy.statements {
        let Stmt::Rule(rule) = stmt else { continue };
        let name = rule
            .name
            .as_ref()
            .map_or_else(|| "this rule".to_string(), |n| format!("rule `{}`", n.node));
        let mut fields = Vec::new();
        collect(&rule.cond, &lets, &mut HashSet::new(), &mut fields);
        for (field, span) in fields {
            let Some(resolved) = Field::lookup(&field) else {
                continue;
            };
            let Some(why) = never_supplied(c, &resolved, enriched) else {
                continue;
            };
            if !reported.insert((span.start, span.end)) {
                continue;
            }
            diags.push(
                Diag::warning(
                    Code::UnsuppliedField,
                    span,
                    format!("connector `{}` never supplies `{field}`: {why}", c.name),
                )
                .label(unsupplied_label(c, &resolved, &name))
                .help(supply_help(c, &resolved, enriched)),
            );
        }
        diags.extend(c.kind.platform().check_rule(
            c,
            &RuleCheck {
                rule,
                name: &name,
                lets: &lets,
            },
        ));
    }
    diags
}

/// What an unsupplied field does to the rule that reads it.
fn unsupplied_label(c: &Connector, field: &Field, rule: &str) -> String {
    if let Some(label) = c.kind.platform().unsupplied_label(c, field, rule) {
        return label;
    }
    format!("{rule} depends on it, so it is unknown for every user and they go to review")
}

/// How to give a rule a field connector `c` never supplies: an enrich file
/// with the field's column, or, for a derived field, with the columns it is
/// worked out from (a derived column is refused: dormant works it out); a
/// last login may also come from an identity provider.
fn supply_help(c: &Connector, field: &Field, enriched: &[Field]) -> String {
    const IDP: &str = ", or take last logins from an identity provider (`logins_from`)";
    let Some(d) = field.derivation() else {
        return format!(
            "add an `enrich` file with a `{field}` column to connector `{}`{}, or write the rule without it",
            c.name,
            if *field == Field::LastLogin { IDP } else { "" }
        );
    };
    if let Some(help) = c.kind.platform().supply_help(c, field) {
        return help;
    }
    // Only the columns the connector lacks: Bevy has `joined`, not `last_login`.
    let missing: Vec<&str> = d
        .from
        .iter()
        .copied()
        .filter(|col| Field::lookup(col).is_some_and(|f| never_supplied(c, &f, enriched).is_some()))
        .collect();
    let columns = match (field, missing.as_slice()) {
        (Field::HasActivity, _) => "a `last_activity` column or `activity.NAME` counters".to_string(),
        (_, [one]) => format!("a `{one}` column"),
        (_, []) => format!("{} columns", d.columns()),
        (_, some) => format!("{} columns", crate::fields::quoted_list(some, "and")),
    };
    format!(
        "`{field}` is worked out from {}: add an `enrich` file with {columns} to connector `{}`{}, or write the rule without it (no file can give `{field}` itself)",
        d.columns(),
        c.name,
        if missing.contains(&"last_login") { IDP } else { "" }
    )
}

/// Every field a condition reads, through `let` names, with where it is
/// written, in the order they are written. Its own stack, as above.
fn collect(
    e: &Expr,
    lets: &HashMap<&str, &Expr>,
    seen: &mut HashSet<String>,
    out: &mut Vec<(String, crate::source::Span)>,
) {
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        let name = match &e.kind {
            ExprKind::Or(es) | ExprKind::And(es) => {
                todo.extend(es.iter().rev());
                continue;
            }
            ExprKind::Not(e) | ExprKind::Paren(e) => {
                todo.push(e);
                continue;
            }
            ExprKind::Cmp { field, .. } | ExprKind::In { field, .. } | ExprKind::Matches { field, .. } => field,
            ExprKind::Ref(n) => n,
        };
        match lets.get(name.node.as_str()) {
            Some(inner) => {
                if seen.insert(name.node.clone()) {
                    todo.push(inner);
                }
            }
            None => out.push((name.node.clone(), name.span)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::source::Source;

    fn diags(policy: &str, config: &str, enriched: &[Field]) -> Vec<(String, String)> {
        let source = Source::new("p.policy", policy);
        let parsed = crate::parse::parse(&source).unwrap();
        let config = Config::parse(Source::new("dormant.toml", config), std::path::Path::new(".")).unwrap();
        let c = config.connectors.first().unwrap();
        against(&parsed.policy, c, enriched)
            .into_iter()
            .map(|d| {
                (
                    d.message,
                    policy.get(d.span.start..d.span.end).unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    const HUWISE: &str = "[connector.portal]\nkind = \"huwise\"\nurl = \"https://x.org\"\napi_key_env = \"K\"\n";
    const DOCSPACE: &str = "[connector.docs]\nkind = \"docspace\"\nurl = \"https://x.org\"\napi_key_env = \"K\"\n";
    const DOCEBO: &str =
        "[connector.lms]\nkind = \"docebo\"\nurl = \"https://x.org\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n";

    #[test]
    fn docebo_counts_enrollments_only_when_asked() {
        let policy = "d: activity.courses_completed == 0 -> delete\n";
        let d = diags(policy, DOCEBO, &[]);
        assert_eq!(d.len(), 1);
        assert!(d[0].0.contains("only with `enrollments = true`"), "{d:?}");
        assert_eq!(diags(policy, &format!("{DOCEBO}enrollments = true\n"), &[]), []);
    }

    #[test]
    fn fields_a_platform_never_supplies() {
        let policy = "let bots = is_service\nb: bots -> keep\nd: has_activity == false and attr.team == x -> delete\n";
        assert_eq!(
            diags(policy, HUWISE, &[]),
            [
                (
                    "connector `portal` never supplies `is_service`: Huwise has no flag for service or API accounts".to_string(),
                    "is_service".to_string()
                ),
                (
                    "connector `portal` never supplies `attr.team`: Huwise supplies only attr.is_ods, attr.account_type, attr.expires_at".to_string(),
                    "attr.team".to_string()
                ),
            ]
        );
        let d = diags(policy, DOCSPACE, &[]);
        assert_eq!(d.len(), 3);
        assert!(d[1].0.contains("`has_activity`: DocSpace reports neither"), "{d:?}");
        // An enrich file with the column supplies it.
        assert_eq!(diags("b: is_service -> keep\n", HUWISE, &[Field::IsService]), []);
        // Logins are supplied (where the audit allows): nothing to say.
        assert_eq!(diags("d: inactive > 1y -> delete\n", DOCSPACE, &[]), []);
    }

    /// The help of each warning, for a policy against a connector.
    fn helps(policy: &str, config: &str, enriched: &[Field]) -> Vec<String> {
        let source = Source::new("p.policy", policy);
        let parsed = crate::parse::parse(&source).unwrap();
        let config = Config::parse(Source::new("dormant.toml", config), std::path::Path::new(".")).unwrap();
        against(&parsed.policy, config.connectors.first().unwrap(), enriched)
            .into_iter()
            .map(|d| d.help.unwrap_or_default())
            .collect()
    }

    #[test]
    fn derived_fields_are_supplied_through_the_columns_that_feed_them() {
        const BEVY: &str = "[connector.events]\nkind = \"bevy\"\nurl = \"https://x.org\"\ntoken_env = \"T\"\n";
        const MI: &str =
            "[connector.bi]\nkind = \"metric_insights\"\nurl = \"https://x.org\"\ntoken_env = \"T\"\nuser = \"svc\"\n";
        let policy = "a: is_admin -> keep\ni: inactive > 1y -> delete\nn: never_logged_in -> delete\nh: not has_activity -> delete\n";
        // Bevy has `joined`: only `last_login` is asked for.
        insta::assert_debug_snapshot!(helps(policy, BEVY, &[]), @r#"
        [
            "`inactive` is worked out from `last_login` and `joined`: add an `enrich` file with a `last_login` column to connector `events`, or take last logins from an identity provider (`logins_from`), or write the rule without it (no file can give `inactive` itself)",
            "`never_logged_in` is worked out from `last_login`: add an `enrich` file with a `last_login` column to connector `events`, or take last logins from an identity provider (`logins_from`), or write the rule without it (no file can give `never_logged_in` itself)",
            "`has_activity` is worked out from `last_activity` or `activity.NAME`: add an `enrich` file with a `last_activity` column or `activity.NAME` counters to connector `events`, or write the rule without it (no file can give `has_activity` itself)",
        ]
        "#);
        // Metric Insights has neither a last login nor a creation date.
        insta::assert_debug_snapshot!(helps("i: inactive > 1y and not is_admin -> delete\n", MI, &[]), @r#"
        [
            "`inactive` is worked out from `last_login` and `joined`: add an `enrich` file with `last_login` and `joined` columns to connector `bi`, or take last logins from an identity provider (`logins_from`), or write the rule without it (no file can give `inactive` itself)",
        ]
        "#);
        // An enrich file with the feeding column supplies the derived field.
        assert_eq!(
            helps("i: inactive > 1y and not is_admin -> delete\n", MI, &[Field::LastLogin]),
            Vec::<String>::new()
        );
        // No help ever asks for a derived column.
        for help in helps(policy, BEVY, &[]) {
            for derived in ["inactive", "never_logged_in", "has_activity"] {
                assert!(!help.contains(&format!("a `{derived}` column")), "{help}");
            }
        }
        // A field that is not derived: its own column.
        assert_eq!(
            helps("s: is_service -> keep\n", HUWISE, &[]),
            ["add an `enrich` file with a `is_service` column to connector `portal`, or write the rule without it"]
        );
    }

    #[test]
    fn an_identity_provider_in_logins_from_supplies_the_last_login() {
        const BEVY: &str = "[connector.events]\nkind = \"bevy\"\nurl = \"https://x.org\"\ntoken_env = \"T\"\n";
        const OKTA: &str = "[connector.okta]\nkind = \"okta\"\nurl = \"https://x.okta.com\"\ntoken_env = \"O\"\n";
        let policy = "a: is_admin -> keep\ni: inactive > 90d -> delete\nn: never_logged_in -> delete\n";
        assert_eq!(diags(policy, &format!("{BEVY}{OKTA}"), &[]).len(), 2);
        let with = format!("{BEVY}logins_from = [\"okta\"]\n{OKTA}");
        assert_eq!(diags(policy, &with, &[]), []);
        // Only the last login: the activity still is not there.
        let d = diags("a: is_admin -> keep\nh: not has_activity -> delete\n", &with, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
    }

    #[test]
    fn docebo_has_activity_is_never_false_and_the_help_says_what_to_compare() {
        let policy = "a: is_admin -> keep\nh: not has_activity and not attr.awaiting_approval -> delete\n";
        let config = format!("{DOCEBO}enrollments = true\n");
        let d = diags(policy, &config, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            d[0].0,
            "connector `lms` never supplies `has_activity`: Docebo reports no last activity, so `has_activity` is never false: with enrollments counted it is true for a user with an enrollment and unknown for the rest"
        );
        let source = Source::new("p.policy", policy);
        let parsed = crate::parse::parse(&source).unwrap();
        let lms = Config::parse(Source::new("dormant.toml", config.as_str()), std::path::Path::new(".")).unwrap();
        assert_eq!(
            against(&parsed.policy, lms.connectors.first().unwrap(), &[])[0].label,
            "rule `h` depends on it, so every user without an enrollment goes to review"
        );
        insta::assert_snapshot!(helps(policy, &config, &[]).join("\n"), @"to tell users with no learning at all, compare the enrollment counters instead (`activity.courses_enrolled == 0`, with `enrollments = true` on connector `lms`), or give `last_activity` in an `enrich` file");
        // The counters themselves are supplied, and so is `has_activity`
        // once an enrich file gives the last activity.
        assert_eq!(
            diags(
                "a: is_admin -> keep\nh: activity.courses_enrolled == 0 -> delete\n",
                &config,
                &[]
            ),
            []
        );
        assert_eq!(diags(policy, &config, &[Field::LastActivity]), []);
    }

    #[test]
    fn group_names_where_the_platform_has_them_and_deactivated_everywhere() {
        let policy = "s: group_name in [Sales] -> keep\np: status == disabled and deactivated > 30d -> delete\n";
        // DocSpace and Huwise name their groups; the journal gives
        // `deactivated` on every platform.
        assert_eq!(diags(policy, DOCSPACE, &[]), []);
        assert_eq!(diags(policy, HUWISE, &[]), []);
        assert_eq!(
            diags(policy, DOCEBO, &[]),
            [(
                "connector `lms` never supplies `group_name`: Docebo's user list has no `group_name`".to_string(),
                "group_name".to_string()
            )]
        );
    }

    #[test]
    fn docebo_warns_that_deactivate_skips_temporary_users() {
        let policy = "idle: inactive > 1y -> deactivate\nold: inactive > 2y -> delete\n";
        let d = diags(policy, DOCEBO, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].1, "deactivate");
        assert!(
            d[0].0
                .starts_with("Docebo cannot deactivate temporary users (self-registrations awaiting approval"),
            "{d:?}"
        );
        let source = Source::new("p.policy", policy);
        let parsed = crate::parse::parse(&source).unwrap();
        let config = Config::parse(Source::new("dormant.toml", DOCEBO), std::path::Path::new(".")).unwrap();
        let full = against(&parsed.policy, config.connectors.first().unwrap(), &[]);
        assert_eq!(full[0].severity, crate::diagnostic::Severity::Warning);
        assert!(full[0].help.as_deref().unwrap().contains("`delete` rule"), "{full:?}");
        // The attribute is one Docebo supplies: rules may read it.
        assert_eq!(diags("p: attr.awaiting_approval -> delete\n", DOCEBO, &[]), []);
        assert_eq!(
            diags("p: attr.team == x -> delete\n", DOCEBO, &[])[0].0,
            "connector `lms` never supplies `attr.team`: Docebo supplies only attr.awaiting_approval"
        );
        // A rule that reaches only them is warned about: every one is skipped.
        assert_eq!(diags("p: attr.awaiting_approval -> deactivate\n", DOCEBO, &[]).len(), 1);
        // A rule that leaves them out, as the help says, is not warned about.
        assert_eq!(
            diags(
                "idle: inactive > 1y and not attr.awaiting_approval -> deactivate\n",
                DOCEBO,
                &[]
            ),
            []
        );
        // No other platform has temporary users.
        assert_eq!(diags(policy, DOCSPACE, &[]), []);
    }

    #[test]
    fn the_key_owner_is_known_only_when_user_names_them() {
        const BEVY: &str = "[connector.events]\nkind = \"bevy\"\nurl = \"https://x.org\"\ntoken_env = \"T\"\n";
        const MI: &str = "[connector.bi]\nkind = \"metric_insights\"\nurl = \"https://x.org\"\ntoken_env = \"T\"\n";
        let policy = "b: is_service -> keep\n";
        let d = diags(policy, BEVY, &[]);
        assert_eq!(d.len(), 1);
        assert!(
            d[0].0
                .contains("without `user` naming that admin, dormant cannot know whose key it is"),
            "{d:?}"
        );
        assert_eq!(diags(policy, &format!("{BEVY}user = \"ana@example.org\"\n"), &[]), []);
        let d = diags(policy, MI, &[]);
        assert!(d[0].0.contains("does not say whose a personal token is"), "{d:?}");
        assert_eq!(diags(policy, &format!("{MI}user = \"svc\"\n"), &[]), []);
    }

    #[test]
    fn huwise_deactivates_only_on_opt_in() {
        let policy = "d: inactive > 1y -> deactivate\n";
        let d = diags(policy, HUWISE, &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].1, "deactivate");
        assert!(d[0].0.contains("does not opt in to a revoke"), "{d:?}");
        let opted = format!("{HUWISE}deactivate = \"revoke\"\n");
        let d = diags(policy, &opted, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].0.contains("deactivate is a revoke")
                && d[0].0.contains("grants made on single datasets or pages stay"),
            "{d:?}"
        );
    }
}
