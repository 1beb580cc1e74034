use super::*;
use crate::check::{check, Options};
use crate::parse::parse;
use crate::render::{age_note, CondText};
use crate::source::Source;
use crate::time::parse_time;
use crate::user::Status;

fn t(s: &str) -> Time {
    parse_time(s).unwrap()
}

fn program(text: &str, as_of: &str) -> Program {
    let source = Source::new("t.policy", text);
    let parsed = parse(&source).unwrap();
    let report = check(&parsed.policy, &Options { as_of: t(as_of) });
    assert!(!report.has_errors(), "{:?}", report.diagnostics);
    Program::compile(&parsed.policy, &source, t(as_of)).unwrap()
}

fn user() -> User {
    User {
        id: "u1".into(),
        username: Some("ana".into()),
        email: Some("Ana@Example.org".into()),
        status: Some(Status::Active),
        joined: Some(t("2020-01-01")),
        last_login: Known::Never,
        last_activity: Known::Never,
        group: Some(crate::user::Set::new()),
        is_admin: Some(false),
        is_service: Some(false),
        ..User::default()
    }
}

/// The one-line reason of decision `d`, as plans give it.
fn reason_of(p: &Program, u: &User, d: Decision) -> String {
    crate::render::reason(&crate::plan::explained(p, u, d))
}

/// (action, rule) for one user.
fn run(p: &Program, u: &User) -> (PlanAction, Option<String>) {
    let d = decide(p, u, &Notices::new());
    (d.action, crate::plan::rule_label(p, &d).map(str::to_string))
}

fn of(action: PlanAction, rule: &str) -> (PlanAction, Option<String>) {
    (action, (rule != "none").then(|| rule.to_string()))
}

#[test]
fn joined_exactly_90_days_ago_is_not_more_than_90_days() {
    let p = program("r: joined > 90d -> delete\ns: joined >= 90d -> notify", "2026-11-23");
    let mut u = user();
    u.joined = Some(t("2026-08-25")); // as-of minus 90 days
    assert_eq!(run(&p, &u), of(PlanAction::Notify, "s"));
    u.joined = Some(t("2026-08-24T23:59:59Z"));
    assert_eq!(run(&p, &u), of(PlanAction::Delete, "r"));
    u.joined = Some(t("2026-08-25T00:00:01Z"));
    assert_eq!(run(&p, &u), of(PlanAction::Keep, "none"));
}

#[test]
fn calendar_months_at_the_end_of_march() {
    // As of 2026-03-31, one month back is 2026-02-28.
    let p = program("r: inactive > 1mo -> delete", "2026-03-31");
    let mut u = user();
    u.last_login = Known::Value(t("2026-02-28"));
    assert_eq!(run(&p, &u).0, PlanAction::Keep);
    u.last_login = Known::Value(t("2026-02-27T23:59:59Z"));
    assert_eq!(run(&p, &u).0, PlanAction::Delete);
}

#[test]
fn leap_days() {
    // As of 2025-02-28, a year back is 2024-02-28 (2024-02-29 is younger).
    let p = program("r: joined > 1y -> delete", "2025-02-28");
    let mut u = user();
    u.joined = Some(t("2024-02-29"));
    assert_eq!(run(&p, &u).0, PlanAction::Keep);
    u.joined = Some(t("2024-02-27"));
    assert_eq!(run(&p, &u).0, PlanAction::Delete);
    // As of 2024-03-29, a month back is 2024-02-29.
    let p = program("r: joined >= 1mo -> delete", "2024-03-29");
    u.joined = Some(t("2024-02-29"));
    assert_eq!(run(&p, &u).0, PlanAction::Delete);
}

#[test]
fn never_and_unknown_are_different() {
    let p = program(
        "r: last_login < 2026-01-01 -> delete\ns: never_logged_in -> notify",
        "2026-11-23",
    );
    let mut u = user();
    // A comparison on a *never* time is unknown: review, not a later rule.
    u.last_login = Known::Never;
    assert_eq!(run(&p, &u), of(PlanAction::Review, "r"));
    u.last_login = Known::Unknown;
    assert_eq!(run(&p, &u), of(PlanAction::Review, "r"));
    let p = program("s: never_logged_in -> notify", "2026-11-23");
    u.last_login = Known::Never;
    assert_eq!(run(&p, &u), of(PlanAction::Notify, "s"));
    u.last_login = Known::Unknown;
    assert_eq!(run(&p, &u), of(PlanAction::Review, "s"));
}

#[test]
fn inactive_counts_from_joined_when_never_logged_in() {
    let p = program("r: inactive > 12mo -> delete", "2026-11-23");
    let mut u = user();
    u.last_login = Known::Never;
    assert_eq!(run(&p, &u).0, PlanAction::Delete);
    u.joined = None;
    assert_eq!(run(&p, &u).0, PlanAction::Review);
}

#[test]
fn an_unknown_protection_stops_later_rules() {
    let p = program("admins: is_admin -> keep\nold: joined > 1y -> delete", "2026-11-23");
    let mut u = user();
    u.is_admin = None;
    assert_eq!(run(&p, &u), of(PlanAction::Review, "admins"));
    // `or`: true wins over unknown; `and`: false wins over unknown.
    let p = program(
        "a: is_admin or is_service -> keep\nb: is_admin and is_service -> delete",
        "2026-11-23",
    );
    u.is_service = Some(true);
    assert_eq!(run(&p, &u), of(PlanAction::Keep, "a"));
    u.is_service = Some(false);
    assert_eq!(run(&p, &u), of(PlanAction::Review, "a"));
    let p = program("b: is_admin and is_service -> delete", "2026-11-23");
    assert_eq!(run(&p, &u), of(PlanAction::Keep, "none"));
}

#[test]
fn not_unknown_is_unknown() {
    let p = program("r: not is_admin -> delete", "2026-11-23");
    let mut u = user();
    u.is_admin = None;
    assert_eq!(run(&p, &u).0, PlanAction::Review);
}

#[test]
fn text_in_and_globs_ignore_case() {
    let p = program(
        "a: group in [Admins] -> keep\nb: email matches \"*@example.ORG\" -> notify\nc: status == ACTIVE -> delete",
        "2026-11-23",
    );
    let mut u = user();
    u.group = Some(crate::user::Set::from_iter(["ADMINS"]));
    assert_eq!(run(&p, &u), of(PlanAction::Keep, "a"));
    u.group = Some(crate::user::Set::new());
    assert_eq!(run(&p, &u), of(PlanAction::Notify, "b"));
    u.email = Some("x@other.org".into());
    assert_eq!(run(&p, &u), of(PlanAction::Delete, "c"));
    u.group = None;
    assert_eq!(run(&p, &u), of(PlanAction::Review, "a"));
}

#[test]
fn exemptions_come_first_and_expire_after_their_day() {
    let text = "exempt \"ANA\" until 2026-11-23 \"leave\"\nr: joined > 1y -> delete";
    let u = user();
    assert_eq!(
        run(&program(text, "2026-11-23T23:59:59Z"), &u),
        of(PlanAction::Keep, "exempt")
    );
    assert_eq!(run(&program(text, "2026-11-24"), &u), of(PlanAction::Delete, "r"));
}

#[test]
fn after_notice() {
    let p = program("r: joined > 1y -> delete after notice 30d", "2026-11-23");
    let mut u = user();
    u.last_login = Known::Value(t("2025-01-01"));
    let mut notices = Notices::new();
    let d = decide(&p, &u, &notices);
    assert_eq!((d.action, d.due), (PlanAction::Notify, Some(t("2026-12-23"))));
    notices.add("u1", "r", t("2026-11-01"));
    let d = decide(&p, &u, &notices);
    assert_eq!(
        (d.action, d.due, d.notified),
        (PlanAction::Wait, Some(t("2026-12-01")), Some(t("2026-11-01")))
    );
    notices.add("u1", "r", t("2026-10-24"));
    assert_eq!(
        decide(&p, &u, &notices).action,
        PlanAction::Wait,
        "the latest notice counts"
    );
    let mut old = Notices::new();
    old.add("u1", "r", t("2026-10-24"));
    assert_eq!(
        decide(&p, &u, &old).action,
        PlanAction::Delete,
        "exactly 30 days is enough"
    );
    // A notice under another rule does not count; nor one before the last login.
    let mut other = Notices::new();
    other.add("u1", "s", t("2026-01-01"));
    assert_eq!(decide(&p, &u, &other).action, PlanAction::Notify);
    u.last_login = Known::Value(t("2026-10-25"));
    let p = program("r: joined > 1y -> delete after notice 30d", "2026-11-23");
    assert_eq!(decide(&p, &u, &old).action, PlanAction::Notify);
    // An unknown last login: the notice cannot be shown to be after it.
    u.last_login = Known::Unknown;
    assert_eq!(decide(&p, &u, &old).action, PlanAction::Notify);
}

#[test]
fn attributes_are_read_as_their_comparison_needs() {
    let p = program(
        "a: attr.level > 2 -> delete\nb: attr.hold -> keep\nc: attr.end < 2026-01-01 -> notify",
        "2026-11-23",
    );
    let mut u = user();
    u.attr = vec![("level".into(), Attr::Text("3".into()))];
    assert_eq!(run(&p, &u), of(PlanAction::Delete, "a"));
    u.attr = vec![("level".into(), Attr::Text("high".into()))];
    assert_eq!(
        run(&p, &u),
        of(PlanAction::Review, "a"),
        "text that is not a number is unknown, not false"
    );
    u.attr = vec![
        ("level".into(), Attr::Number(1.0)),
        ("hold".into(), Attr::Text("yes".into())),
    ];
    assert_eq!(run(&p, &u), of(PlanAction::Keep, "b"));
    u.attr = vec![
        ("level".into(), Attr::Number(1.0)),
        ("hold".into(), Attr::Bool(false)),
        ("end".into(), Attr::Text("2025-06-30".into())),
    ];
    assert_eq!(run(&p, &u), of(PlanAction::Notify, "c"));
}

#[test]
fn let_names_and_bool_comparisons() {
    let p = program(
        "let staff = is_admin or group in [admins]\nr: staff == false and joined > 1y -> delete",
        "2026-11-23",
    );
    let mut u = user();
    assert_eq!(run(&p, &u).0, PlanAction::Delete);
    u.group = Some(crate::user::Set::from_iter(["admins"]));
    assert_eq!(run(&p, &u).0, PlanAction::Keep);
}

#[test]
fn explanations_say_which_conditions_decided() {
    let p = program(
        "let staff = is_admin or group in [admins]\nstaff_rule: staff -> keep\nold: never_logged_in and joined > 90d and not group in [vip] and (is_admin or joined > 1d) -> delete",
        "2026-11-23",
    );
    let u = user();
    let d = decide(&p, &u, &Notices::new());
    let e = explain(&p, &u, &d);
    let text = |i: &Item<'_>| CondText(&p, i.cond).to_string();
    let conds: Vec<(String, Truth)> = e.because.iter().map(|i| (text(i), i.result)).collect();
    assert_eq!(
        conds,
        [
            ("never_logged_in".to_string(), Truth::True),
            ("joined > 90d".to_string(), Truth::True),
            ("not group in [vip]".to_string(), Truth::True),
            // Inside a true `or`, only the true operands.
            ("joined > 1d".to_string(), Truth::True),
        ]
    );
    let mut age = crate::eval::Ages::new();
    ages(&p, e.because[1].cond, &u, &mut age);
    assert_eq!(
        age_note(&age[0]),
        "2518 days before as-of; > 90d means before 2026-08-25T00:00:00Z"
    );
    // A rule that did not match names its false `let`, which is not opened.
    assert_eq!(e.passed.len(), 1);
    assert_eq!(e.passed[0].rule, "staff_rule");
    let failed: Vec<String> = e.passed[0].items.iter().map(text).collect();
    assert_eq!(failed, ["staff"]);
    let mut seen = crate::eval::Seens::new();
    values(&p, e.passed[0].items[0].cond, &u, &mut seen);
    let fields: Vec<String> = seen.iter().map(|s| s.field.to_string()).collect();
    assert_eq!(fields, ["is_admin", "group"]);
    let reason = reason_of(&p, &u, d);
    assert!(
        reason.starts_with("old: never_logged_in (last_login never); joined > 90d (joined 2020-01-01T00:00:00Z, 2518 days before as-of)"),
        "{reason}"
    );
}

#[test]
fn a_deciding_let_is_opened_to_show_which_part_decided() {
    let p = program(
        "let staff = is_admin or group in [admins]\nstaff_rule: staff -> keep",
        "2026-11-23",
    );
    let mut u = user();
    u.group = Some(crate::user::Set::from_iter(["admins"]));
    let d = decide(&p, &u, &Notices::new());
    let e = explain(&p, &u, &d);
    let items: Vec<(String, Option<&str>)> = e
        .because
        .iter()
        .map(|i| (CondText(&p, i.cond).to_string(), i.via))
        .collect();
    assert_eq!(items, [("group in [admins]".to_string(), Some("staff"))]);
}

#[test]
fn review_explains_the_unknown_fields() {
    let p = program("r: never_logged_in and joined > 90d -> delete", "2026-11-23");
    let mut u = user();
    u.last_login = Known::Unknown;
    let d = decide(&p, &u, &Notices::new());
    assert_eq!(
        reason_of(&p, &u, d),
        "cannot tell whether r applies: never_logged_in (last_login unknown)"
    );
}

/// (action, already, cannot_notify) for one user under `notices`.
fn state(p: &Program, u: &User, notices: &Notices) -> (PlanAction, Option<Status>, Option<Status>) {
    let d = decide(p, u, notices);
    (d.action, d.already, d.cannot_notify)
}

#[test]
fn a_deactivate_for_a_disabled_account_is_already_done_and_never_a_notice() {
    let p = program("a: joined > 1y -> deactivate after notice 30d\n", "2026-11-23");
    let mut u = user();
    let none = Notices::new();
    assert_eq!(
        state(&p, &u, &none),
        (PlanAction::Notify, None, None),
        "active: notified"
    );
    for status in [Status::Disabled, Status::PendingDelete] {
        u.status = Some(status);
        assert_eq!(state(&p, &u, &none), (PlanAction::Deactivate, Some(status), None));
    }
    // Unknown is not taken for disabled: the rule goes on as written.
    u.status = None;
    assert_eq!(state(&p, &u, &none), (PlanAction::Notify, None, None));
    // Without a notice, the same.
    let p = program("a: joined > 1y -> deactivate\nb: joined > 1d -> notify\n", "2026-11-23");
    u.status = Some(Status::Disabled);
    let d = decide(&p, &u, &none);
    assert_eq!((d.action, d.already), (PlanAction::Deactivate, Some(Status::Disabled)));
    assert!(!d.sends());
    let reason = reason_of(&p, &u, d);
    assert!(
        reason.starts_with("already deactivated (status disabled), nothing is sent; a: joined > 1y"),
        "{reason}"
    );
    // A plain notice is not sent to a disabled account either.
    u.joined = Some(t("2026-11-01"));
    assert_eq!(state(&p, &u, &none), (PlanAction::Notify, Some(Status::Disabled), None));
    u.status = Some(Status::Active);
    assert_eq!(state(&p, &u, &none), (PlanAction::Notify, None, None));
    assert!(decide(&p, &u, &none).sends());
}

#[test]
fn a_delete_is_already_done_only_for_an_account_pending_deletion() {
    let p = program("a: joined > 1y -> delete\n", "2026-11-23");
    let mut u = user();
    u.status = Some(Status::PendingDelete);
    let none = Notices::new();
    assert_eq!(
        state(&p, &u, &none),
        (PlanAction::Delete, Some(Status::PendingDelete), None)
    );
    let d = decide(&p, &u, &none);
    let reason = reason_of(&p, &u, d);
    assert!(
        reason.starts_with("already pending deletion (status pending_delete)"),
        "{reason}"
    );
    // A disabled account is deleted: that is the second step of a
    // two-phase clean-up.
    u.status = Some(Status::Disabled);
    assert_eq!(state(&p, &u, &none), (PlanAction::Delete, None, None));
}

#[test]
fn a_delete_after_notice_for_a_disabled_account_needs_a_notice_given_before() {
    let p = program("a: joined > 1y -> delete after notice 30d\n", "2026-11-23");
    let mut u = user();
    u.status = Some(Status::Disabled);
    u.last_login = Known::Value(t("2025-01-01"));
    let none = Notices::new();
    // No notice: it cannot be sent, and the policy asks for one: a person decides.
    let d = decide(&p, &u, &none);
    assert_eq!(
        (d.action, d.already, d.cannot_notify, d.due),
        (PlanAction::Review, None, Some(Status::Disabled), None)
    );
    let reason = reason_of(&p, &u, d);
    assert_eq!(
        reason,
        "a notice is required but the account is disabled: it cannot be notified; a: joined > 1y (joined 2020-01-01T00:00:00Z, 2518 days before as-of)"
    );
    // A notice given before it was disabled counts as usual: wait, then delete.
    let mut young = Notices::new();
    young.add("u1", "a", t("2026-11-01"));
    assert_eq!(state(&p, &u, &young), (PlanAction::Wait, None, None));
    let mut old = Notices::new();
    old.add("u1", "a", t("2026-10-01"));
    assert_eq!(state(&p, &u, &old), (PlanAction::Delete, None, None));
    // A notice that no longer counts (a login after it) would mean another
    // notice: review again.
    u.last_login = Known::Value(t("2026-10-02"));
    assert_eq!(state(&p, &u, &old), (PlanAction::Review, None, Some(Status::Disabled)));
    // Pending deletion: the delete is already under way, notice or not.
    u.status = Some(Status::PendingDelete);
    assert_eq!(
        state(&p, &u, &none),
        (PlanAction::Delete, Some(Status::PendingDelete), None)
    );
}

#[test]
fn where_deactivating_is_a_revoke_a_disabled_account_is_still_revoked() {
    let mut p = program("a: joined > 1y -> deactivate\n", "2026-11-23");
    p.revoke = true;
    let mut u = user();
    u.status = Some(Status::Disabled);
    let none = Notices::new();
    assert_eq!(state(&p, &u, &none), (PlanAction::Deactivate, None, None));
    u.status = Some(Status::PendingDelete);
    assert_eq!(
        state(&p, &u, &none),
        (PlanAction::Deactivate, Some(Status::PendingDelete), None)
    );
    // It is not notified, though: without an earlier notice, a person decides.
    let mut p = program("a: joined > 1y -> deactivate after notice 30d\n", "2026-11-23");
    p.revoke = true;
    u.status = Some(Status::Disabled);
    assert_eq!(state(&p, &u, &none), (PlanAction::Review, None, Some(Status::Disabled)));
}

#[test]
fn deactivated_counts_from_its_time_and_the_reason_names_its_origin() {
    let p = program(
        "purge: status == disabled and deactivated > 30d -> delete",
        "2026-11-23",
    );
    let mut u = user();
    u.status = Some(Status::Disabled);
    // Unknown for a disabled user: review, never a delete.
    assert_eq!(run(&p, &u), of(PlanAction::Review, "purge"));
    u.deactivated = Some(crate::user::Deactivated {
        at: t("2026-10-01"),
        from: crate::user::Origin::Journal,
    });
    let d = decide(&p, &u, &Notices::new());
    assert_eq!(d.action, PlanAction::Delete);
    let reason = reason_of(&p, &u, d);
    assert_eq!(
        reason,
        "purge: status == disabled (status disabled); deactivated > 30d (deactivated 2026-10-01T00:00:00Z (from the journal), 53 days before as-of)"
    );
    // Ten days ago, from the platform: kept.
    u.deactivated = Some(crate::user::Deactivated::from_source(t("2026-11-13")));
    u.source = Some("docs".into());
    assert_eq!(run(&p, &u), of(PlanAction::Keep, "none"));
    let d = decide(&p, &u, &Notices::new());
    let e = explain(&p, &u, &d);
    let shown = {
        let mut seen = crate::eval::Seens::new();
        values(&p, e.passed[0].items[0].cond, &u, &mut seen);
        seen.iter()
            .map(|s| format!("{} {}", s.field, s.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(shown, ["deactivated 2026-11-13T00:00:00Z (from docs)"]);
    // An active user's unknown time is no matter: the status decides.
    u.status = Some(Status::Active);
    u.deactivated = None;
    assert_eq!(run(&p, &u), of(PlanAction::Keep, "none"));
}

#[test]
fn group_names_are_a_set_of_their_own() {
    let p = program(
        "staff: group_name in [Sales] -> keep\nr: joined > 90d -> delete",
        "2026-11-23",
    );
    let mut u = user();
    u.group = Some(crate::user::Set::from_iter(["g-1"]));
    assert_eq!(run(&p, &u), of(PlanAction::Review, "staff"));
    u.group_name = Some(crate::user::Set::from_iter(["sales"]));
    assert_eq!(run(&p, &u), of(PlanAction::Keep, "staff"));
    u.group_name = Some(crate::user::Set::from_iter(["Data team"]));
    assert_eq!(run(&p, &u), of(PlanAction::Delete, "r"));
}
