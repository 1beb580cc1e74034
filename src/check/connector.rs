//! `check --connector NAME`: what a policy asks of a connector that the
//! connector cannot give. A rule that depends on a field the platform never
//! supplies sees *unknown* for every user, so it sends everyone it reaches
//! to review; an action the platform cannot carry out cannot be applied.

use crate::ast::{Expr, ExprKind, Policy, Stmt};
use crate::config::{Connector, Kind};
use crate::diagnostic::{Code, Diag};
use crate::fields::Field;
use std::collections::{HashMap, HashSet};

/// Why connector `c` never supplies `field`, if it never does. `enriched`
/// are the columns of the connector's enrich files, which supply what they
/// hold.
pub fn never_supplied(c: &Connector, field: &Field, enriched: &[Field]) -> Option<String> {
    if enriched.contains(field) {
        return None;
    }
    let kind = c.kind;
    let own = |f: &Field| never_supplied(c, f, enriched).is_none();
    let attrs: &[&str] = match kind {
        Kind::Huwise => &["is_ods", "account_type", "expires_at"],
        Kind::Docspace => &["is_ldap", "is_sso", "activation_status"],
        Kind::Bevy => &["deletion_date"],
        Kind::MetricInsights => &["ldap"],
        Kind::Docebo => &[crate::connector::docebo::AWAITING_APPROVAL],
        _ => return None,
    };
    let platform = match kind {
        Kind::Huwise => "Huwise",
        Kind::Bevy => "Bevy",
        Kind::MetricInsights => "Metric Insights",
        Kind::Docebo => "Docebo",
        _ => "DocSpace",
    };
    let docebo_counters = ["courses_enrolled", "courses_completed"];
    match (kind, field) {
        (Kind::Docebo, Field::Activity(name)) if docebo_counters.contains(&name.as_str()) => {
            (!c.enrollments).then(|| {
                format!(
                    "connector `{}` counts enrollments only with `enrollments = true`",
                    c.name
                )
            })
        }
        (Kind::Docebo, Field::LastActivity | Field::Group | Field::GroupName | Field::Permission) => {
            Some(format!("Docebo's user list has no `{field}`"))
        }
        // The key's (or token's) own account is the one service account
        // these platforms have, known only when `user` names it.
        (Kind::Bevy | Kind::MetricInsights, Field::IsService) if c.settings.contains_key("user") => None,
        (Kind::Bevy, Field::IsService) => Some(
            "a Bevy API key is an HQ admin's own and Bevy does not say whose: without `user` naming that admin, dormant cannot know whose key it is".to_string(),
        ),
        (Kind::MetricInsights, Field::IsService) => Some(
            "Metric Insights does not say whose a personal token is: without `user` naming its owner, dormant cannot know".to_string(),
        ),
        (_, Field::IsService) => Some(format!("{platform} has no flag for service or API accounts")),
        (_, Field::Activity(_)) => Some(format!("{platform} reports no activity counters")),
        (_, Field::Attr(_)) if attrs.is_empty() => Some(format!("{platform} supplies no `attr.*`")),
        (_, Field::Attr(name)) if !attrs.contains(&name.as_str()) => Some(format!(
            "{platform} supplies only {}",
            attrs.iter().map(|a| format!("attr.{a}")).collect::<Vec<_>>().join(", ")
        )),
        (Kind::Docspace, Field::LastActivity) => Some("DocSpace reports no activity".to_string()),
        (Kind::Bevy, Field::LastLogin) => Some("Bevy's user list has no last login".to_string()),
        (Kind::MetricInsights, Field::LastLogin | Field::LastActivity | Field::Joined) => {
            Some(format!("Metric Insights' user list has no `{field}`"))
        }
        (Kind::MetricInsights, Field::Permission) => Some("Metric Insights' user list has no permissions".to_string()),
        (Kind::Bevy, Field::LastActivity) => Some("Bevy reports no activity".to_string()),
        (Kind::Bevy, Field::Group | Field::GroupName | Field::Permission) => {
            Some(format!("Bevy's user list has no `{field}`"))
        }
        (_, Field::HasActivity) if !own(&Field::LastActivity) => Some(format!(
            "{platform} reports neither activity counters nor a last activity"
        )),
        (_, Field::NeverLoggedIn | Field::Inactive) if !own(&Field::LastLogin) => {
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
        // A rule that leaves temporary users out has taken them into account.
        let reads_awaiting = leaves_out_awaiting(&rule.cond, &lets, &mut HashSet::new());
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
                .label(format!(
                    "{name} depends on it, so it is unknown for every user and they go to review"
                ))
                .help(format!(
                    "add an `enrich` file with a `{field}` column to connector `{}`, or write the rule without it",
                    c.name
                )),
            );
        }
        if c.kind == Kind::Huwise && rule.action.node == "deactivate" {
            diags.push(if c.revoke {
                Diag::warning(
                    Code::PartialAction,
                    rule.action.span,
                    format!(
                        "on connector `{}`, deactivate is a revoke: the user's domain permissions and group memberships are taken away (undo gives them back), but grants made on single datasets or pages stay",
                        c.name
                    ),
                )
                .label(format!("{name} revokes through connector `{}`", c.name))
                .help("Huwise has no deactivation (`is_active` and `expires_at` are read-only); remove grants on single datasets or pages in the back office, or use `delete` to remove the user from the domain")
            } else {
                Diag::error(
                    Code::UnsupportedAction,
                    rule.action.span,
                    format!("Huwise cannot deactivate users, and connector `{}` does not opt in to a revoke", c.name),
                )
                .label(format!("{name} cannot be applied through connector `{}`", c.name))
                .help(format!(
                    "set `deactivate = \"revoke\"` on connector `{}` to deactivate by taking the user's domain permissions and groups away (undo gives them back), or use `delete`",
                    c.name
                ))
            });
        }
        if c.kind == Kind::Docebo && rule.action.node == "deactivate" && !reads_awaiting {
            diags.push(temporary_users_skipped(&c.name, &name, rule.action.span));
        }
    }
    diags
}

/// A `deactivate` rule on Docebo: temporary users (self-registrations
/// awaiting approval) have no account to deactivate, so apply skips those
/// the rule reaches; only `delete` removes them, by rejecting them.
fn temporary_users_skipped(connector: &str, rule: &str, span: crate::source::Span) -> Diag {
    Diag::warning(
        Code::UnsupportedAction,
        span,
        format!(
            "Docebo cannot deactivate temporary users (self-registrations awaiting approval, `attr.awaiting_approval`): apply skips those this rule reaches through connector `{connector}`"
        ),
    )
    .label(format!("{rule} skips users awaiting approval"))
    .help(
        "to remove users awaiting approval, give them a `delete` rule before this one (for example `pending: attr.awaiting_approval and joined > 30d -> delete`, which rejects their registration); or add `and not attr.awaiting_approval` to this rule to leave them out",
    )
}

/// Whether a condition is false for every temporary user: one of its `and`
/// terms is `not attr.awaiting_approval` (or `attr.awaiting_approval ==
/// false`, `!= true`), through `let` names and parentheses. A policy checked
/// here may have errors, `let` names deeper than the nesting limit among
/// them: the walk keeps its own stack rather than recursing.
fn leaves_out_awaiting(e: &Expr, lets: &HashMap<&str, &Expr>, seen: &mut HashSet<String>) -> bool {
    let is_attr = |f: &str| Field::lookup(f) == Some(Field::Attr(crate::connector::docebo::AWAITING_APPROVAL.into()));
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        let found = match &e.kind {
            ExprKind::And(es) => {
                todo.extend(es.iter().rev());
                false
            }
            ExprKind::Paren(e) => {
                todo.push(e);
                false
            }
            ExprKind::Not(inner) => matches!(&without_parens(inner).kind, ExprKind::Ref(n) if is_attr(&n.node)),
            ExprKind::Cmp { field, op, value } if is_attr(&field.node) => matches!(
                (op.node, &value.node),
                (crate::ast::CmpOp::Eq, crate::ast::Lit::Bool(false))
                    | (crate::ast::CmpOp::Ne, crate::ast::Lit::Bool(true))
            ),
            ExprKind::Ref(n) => {
                if let Some(inner) = lets.get(n.node.as_str()).filter(|_| seen.insert(n.node.clone())) {
                    todo.push(inner);
                }
                false
            }
            _ => false,
        };
        if found {
            return true;
        }
    }
    false
}

fn without_parens(mut e: &Expr) -> &Expr {
    while let ExprKind::Paren(inner) = &e.kind {
        e = inner;
    }
    e
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
