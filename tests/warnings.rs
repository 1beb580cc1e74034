//! The well-formed mistakes that must not pass in silence, through the
//! binary: each shows its warning at the right line and column in every
//! error format, the plan JSON carries them, and `--deny-warnings` turns
//! them into exit 1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::{Done, Run};

const DIR: &str = "tests/fixtures/warnings";
const AS_OF: &str = "2026-12-01";

fn policy(name: &str) -> String {
    format!("{DIR}/{name}.policy")
}

fn users() -> String {
    format!("{DIR}/users.csv")
}

/// `plan POLICY --users users.csv` in an error format.
fn plan(name: &str, format: &str, extra: &[&str]) -> Done {
    plan_of(name, &users(), format, extra)
}

/// `plan POLICY --users USERS` in an error format.
fn plan_of(name: &str, users: &str, format: &str, extra: &[&str]) -> Done {
    let policy = policy(name);
    let mut args = vec![
        "--error-format",
        format,
        "plan",
        &policy,
        "--users",
        users,
        "--as-of",
        AS_OF,
    ];
    args.extend_from_slice(extra);
    Run::new(&args).run()
}

/// The JSON objects among stderr's lines.
fn json_lines(stderr: &str) -> Vec<serde_json::Value> {
    stderr.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// The warning `code` is at `line`:`column` of the policy `name`, in the
/// human, plain and JSON error formats of `plan`; the human rendering is
/// returned for a snapshot.
fn warns_everywhere(name: &str, code: &str, line: usize, column: usize, says: &str) -> String {
    warns_everywhere_with(name, &users(), code, line, column, says)
}

/// As [`warns_everywhere`], with another users file.
fn warns_everywhere_with(name: &str, users: &str, code: &str, line: usize, column: usize, says: &str) -> String {
    let path = policy(name);
    let plan = |name: &str, format: &str, extra: &[&str]| plan_of(name, users, format, extra);
    let plain = plan(name, "plain", &[]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let at = format!("{path}:{line}:{column}: warning[{code}]: ");
    let found = plain.stderr.lines().find(|l| l.starts_with(&at));
    assert!(
        found.is_some_and(|l| l.contains(says)),
        "{at} … {says} in:\n{}",
        plain.stderr
    );

    let json = plan(name, "json", &[]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let lines = json_lines(&json.stderr);
    let found = lines
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("{}", json.stderr));
    assert_eq!(found["severity"], "warning");
    assert_eq!(found["file"], path.as_str());
    assert_eq!(
        (found["line"].as_u64(), found["column"].as_u64()),
        (Some(line as u64), Some(column as u64))
    );
    assert!(found["message"].as_str().unwrap().contains(says), "{found}");

    let human = plan(name, "human", &[]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human.stderr.contains(&format!("[{path}:{line}:{column}]")),
        "{}",
        human.stderr
    );
    assert!(
        human.stderr.contains(code) && human.stderr.contains(says),
        "{}",
        human.stderr
    );
    assert!(!human.stderr.contains('\u{1b}'), "no colour off a terminal");
    human.stderr
}

#[test]
fn a_misspelt_exemption_names_nobody() {
    let human = warns_everywhere(
        "exemption_typo",
        "dormant::exemption_names_nobody",
        1,
        8,
        "`hugo@city.exmple` names none of the 4 users",
    );
    assert!(human.contains("did you mean `hugo@city.example`?"), "{human}");
    insta::assert_snapshot!("exemption_typo", human);
}

#[test]
fn a_misspelt_group_matches_no_user() {
    let human = warns_everywhere(
        "group_typo",
        "dormant::no_such_value",
        2,
        18,
        "no user has `publisher` in `group`",
    );
    assert!(human.contains("did you mean `publishers`?"), "{human}");
    insta::assert_snapshot!("group_typo", human);
}

#[test]
fn a_group_s_display_name_is_not_its_id() {
    let users = format!("{DIR}/users_ids.csv");
    let human = warns_everywhere_with(
        "group_name",
        &users,
        "dormant::group_name_not_id",
        2,
        24,
        "`contractors` is the display name of a group, but `group` holds group ids",
    );
    insta::assert_snapshot!("group_name", human);
    // The id its members share, and the field that holds names.
    let plain = plan_of("group_name", &users, "plain", &[]).stderr;
    assert!(
        plain.contains(
            "help: its id is `c0a8-17`: write `group in [c0a8-17]`, or match the name with `group_name in [contractors]`"
        ),
        "{plain}"
    );
}

#[test]
fn a_regular_expression_is_not_a_glob() {
    let human = warns_everywhere(
        "regex",
        "dormant::pattern_looks_like_regex",
        2,
        24,
        "looks like a regular expression",
    );
    // The help wraps in the human format: read it whole in the plain one.
    let plain = plan("regex", "plain", &[]).stderr;
    assert!(plain.contains("`email matches \"*@vendor.example\"`"), "{plain}");
    insta::assert_snapshot!("regex", human);
}

#[test]
fn a_pattern_that_matches_nobody_is_offered_the_users_domain() {
    let human = warns_everywhere(
        "pattern_nobody",
        "dormant::pattern_matches_nobody",
        2,
        24,
        "matches the `email` of none of the 4 users",
    );
    assert!(human.contains("did you mean \"*@vendor.example\"?"), "{human}");
}

#[test]
fn last_login_against_a_duration_points_to_inactive() {
    let human = warns_everywhere(
        "last_login",
        "dormant::time_vs_never",
        2,
        8,
        "unknown for users who never logged in",
    );
    assert!(human.contains("write `inactive > 90d`"), "{human}");
    insta::assert_snapshot!("last_login", human);
    // And the user who never logged in is told why, not "data is missing".
    let (p, u) = (policy("last_login"), users());
    let explained = Run::new(&["explain", &p, "hugo", "--users", &u, "--as-of", AS_OF]).run();
    assert_eq!(explained.code, 0, "{}", explained.stderr);
    assert!(
        explained
            .stdout
            .contains("Why `stale` cannot be decided (a time it compares is never)"),
        "{}",
        explained.stdout
    );
    assert!(
        explained.stdout.contains("`last_login` is never, not missing"),
        "{}",
        explained.stdout
    );
}

/// The unreachable rule's warning names the winner in every format of
/// `check`, and gives its place in plain and JSON.
fn unreachable_everywhere(name: &str, line: usize, loser: &str, winner: &str, winner_line: usize) -> String {
    let path = policy(name);
    let says = format!("rule `{loser}` can never match: rule `{winner}` wins first");
    let plain = Run::new(&["--error-format", "plain", "check", &path]).run();
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(
        plain.stderr.contains(&format!(
            "{path}:{line}:1: warning[dormant::unreachable_rule]: {says}\n"
        )),
        "{}",
        plain.stderr
    );
    assert!(
        plain
            .stderr
            .contains(&format!("  note: {path}:{winner_line}:1: rule `{winner}` wins first\n")),
        "{}",
        plain.stderr
    );

    let json = Run::new(&["--error-format", "json", "check", &path]).run();
    assert_eq!(json.code, 0, "{}", json.stderr);
    let all: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let d = &all.as_array().unwrap()[0];
    assert_eq!(d["code"], "dormant::unreachable_rule");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(line as u64), Some(1)));
    assert_eq!(d["message"], says.as_str());
    assert_eq!(d["related"][0]["line"].as_u64(), Some(winner_line as u64));
    assert_eq!(
        d["related"][0]["message"],
        format!("rule `{winner}` wins first").as_str()
    );

    let human = Run::new(&["check", &path]).run();
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(human.stderr.contains(&says), "{}", human.stderr);
    assert!(human.stderr.contains(&format!("[{path}:{line}:1]")), "{}", human.stderr);
    // And plan shows it too, before planning.
    let planned = plan(name, "plain", &[]);
    assert!(planned.stderr.contains(&says), "{}", planned.stderr);
    human.stderr
}

#[test]
fn inactive_shadows_never_logged_in_and_joined() {
    let human = unreachable_everywhere("derived_shadow", 3, "never_used", "dormant", 2);
    insta::assert_snapshot!("derived_shadow", human);
}

#[test]
fn twelve_months_shadow_four_hundred_days() {
    let human = unreachable_everywhere("months_days", 3, "long_gone", "dormant", 2);
    insta::assert_snapshot!("months_days", human);
}

#[test]
fn the_plan_json_carries_every_warning() {
    let done = plan("group_typo", "plain", &["--format", "json"]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let json: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(
        json["warnings"],
        serde_json::json!([{
            "code": "dormant::no_such_value",
            "message": "no user has `publisher` in `group`",
            "line": 2,
            "column": 18,
        }])
    );
    // Markdown, for the pull request, lists them too.
    let done = plan("group_typo", "plain", &["--format", "markdown"]);
    assert!(
        done.stdout.contains(
            "**1 warning**\n\n- line 2, column 18: no user has `publisher` in `group` (`dormant::no_such_value`)\n"
        ),
        "{}",
        done.stdout
    );
    // The check's own warnings are there too.
    let done = plan("last_login", "plain", &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(json["warnings"][0]["code"], "dormant::time_vs_never");
    assert_eq!(json["warnings"][0]["line"], 2);
    // And none is an empty list, not a missing key.
    let done = plan("clean", "plain", &["--format", "json"]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(done.stderr, "");
    let json: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(json["warnings"], serde_json::json!([]));
}

#[test]
fn explain_json_carries_the_warnings() {
    let (p, u) = (policy("exemption_typo"), users());
    let done = Run::new(&[
        "explain", &p, "hugo", "--users", &u, "--as-of", AS_OF, "--format", "json",
    ])
    .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let explained: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(explained["warnings"][0]["code"], "dormant::exemption_names_nobody");
    assert_eq!(explained["warnings"][0]["line"], 1);
    assert_eq!(explained["warnings"][0]["column"], 8);
    // The typo left hugo unprotected.
    assert_eq!(explained["action"], "delete");
}

#[test]
fn deny_warnings_refuses_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.json");
    let out_arg = out.to_string_lossy().to_string();
    let denied = plan("group_typo", "plain", &["--deny-warnings", "--output", &out_arg]);
    assert_eq!(denied.code, 1, "{}", denied.stderr);
    assert!(
        denied.stderr.contains("warning[dormant::no_such_value]"),
        "{}",
        denied.stderr
    );
    assert!(denied.stderr.contains("the plan was not written"), "{}", denied.stderr);
    assert!(!out.exists());
    assert_eq!(denied.stdout, "");
    // To stdout, nothing either.
    let denied = plan("group_typo", "plain", &["--deny-warnings", "--format", "json"]);
    assert_eq!((denied.code, denied.stdout.as_str()), (1, ""));

    let allowed = plan("group_typo", "plain", &["--output", &out_arg]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert!(out.exists());
    let clean = plan("clean", "plain", &["--deny-warnings"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert!(clean.stdout.contains("Plan as of"), "{}", clean.stdout);
}

#[test]
fn deny_warnings_fails_check_explain_and_forecast() {
    let p = policy("derived_shadow");
    assert_eq!(Run::new(&["check", &p]).run().code, 0);
    assert_eq!(Run::new(&["check", "--deny-warnings", &p]).run().code, 1);
    assert_eq!(Run::new(&["check", "--deny-warnings", &policy("clean")]).run().code, 0);

    let (p, u) = (policy("regex"), users());
    let explain = |extra: &[&str]| {
        let mut args = vec!["explain", p.as_str(), "olga", "--users", u.as_str(), "--as-of", AS_OF];
        args.extend_from_slice(extra);
        Run::new(&args).run()
    };
    assert_eq!(explain(&[]).code, 0);
    let denied = explain(&["--deny-warnings"]);
    assert_eq!(denied.code, 1, "{}", denied.stderr);
    assert!(denied.stdout.contains("olga"), "the explanation is still printed");

    let forecast = |extra: &[&str]| {
        let mut args = vec![
            "forecast",
            p.as_str(),
            "--users",
            u.as_str(),
            "--as-of",
            AS_OF,
            "--days",
            "5",
        ];
        args.extend_from_slice(extra);
        Run::new(&args).run()
    };
    let allowed = forecast(&[]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert!(
        allowed.stderr.contains("dormant::pattern_looks_like_regex"),
        "{}",
        allowed.stderr
    );
    assert_eq!(forecast(&["--deny-warnings"]).code, 1);
}

/// `last_login` older than a threshold after `inactive` past a smaller one:
/// it never matches, and says that it can only send to review those who
/// never logged in, in every format.
#[test]
fn inactive_shadows_an_older_last_login() {
    let path = policy("last_login_shadow");
    let says = "rule `old_login` can never match: rule `dormant` wins first; \
                it only sends to review the users whose last login is never or unknown";
    let plain = Run::new(&["--error-format", "plain", "check", &path]).run();
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(
        plain
            .stderr
            .contains(&format!("{path}:3:1: warning[dormant::unreachable_rule]: {says}\n")),
        "{}",
        plain.stderr
    );
    assert!(
        plain
            .stderr
            .contains(&format!("  note: {path}:2:1: rule `dormant` wins first\n")),
        "{}",
        plain.stderr
    );
    let json = Run::new(&["--error-format", "json", "check", &path]).run();
    assert_eq!(json.code, 0, "{}", json.stderr);
    let all: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let d = all
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "dormant::unreachable_rule")
        .unwrap_or_else(|| panic!("{all}"));
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(3), Some(1)));
    assert_eq!(d["message"], says);
    assert_eq!(d["related"][0]["line"].as_u64(), Some(2));
    let human = Run::new(&["check", &path]).run();
    assert_eq!(human.code, 0, "{}", human.stderr);
    // The graphical format wraps the message.
    assert!(
        human
            .stderr
            .contains("rule `old_login` can never match: rule `dormant` wins first; it only sends to review"),
        "{}",
        human.stderr
    );
    assert!(human.stderr.contains(&format!("[{path}:3:1]")), "{}", human.stderr);
    // A smaller last-login threshold is not shadowed: it can match.
    std::fs::write(
        std::env::temp_dir().join("dormant-last-login-not-shadowed.policy"),
        "dormant: inactive > 90d -> deactivate\nrecent: last_login > 30d -> delete\n",
    )
    .unwrap();
    let not = Run::new(&[
        "--error-format",
        "plain",
        "check",
        std::env::temp_dir()
            .join("dormant-last-login-not-shadowed.policy")
            .to_str()
            .unwrap(),
    ])
    .run();
    assert!(!not.stderr.contains("unreachable_rule"), "{}", not.stderr);
}
