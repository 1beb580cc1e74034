//! The fast path held to the definition, on every policy the project has.
//!
//! `eval::decide` skips the rules that a user's cheap comparisons rule out
//! and runs the others as compiled kernels (`program/fast/`); explanations
//! read comparisons from the same kernels; `render::EntryCache` writes a
//! plan's JSON from cached shapes. Each has a plain definition beside it:
//! `eval::decide_by_definition`, `eval::eval` and `eval::leaf`, and the
//! `Serialize` of `plan::Entry` (in `render/json.rs`). Here every policy of
//! `policies/`, of the corpus's `ok` and `warn` directories, every fixture
//! that checks clean and the benchmark policy are compiled at several as-of
//! instants (at the first also for a platform where deactivating is a
//! revoke), and generated users (every field known, unknown, or *never*
//! where it can be, with the policies' own words, names, numbers and
//! instants, and a second either side of each) are decided both ways.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails loudly"
)]

use dormant::check::{check, Options};
use dormant::eval::{self, Decision};
use dormant::fields::Field;
use dormant::journal::Notices;
use dormant::plan;
use dormant::program::{Operand, Program, Test};
use dormant::render;
use dormant::source::Source;
use dormant::time::{parse_time, Time};
use dormant::user::{Attr, Deactivated, Known, Origin, Set, Status, Text, User};
use dormant::value::Truth;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// The instants every policy is compiled at: the benchmark's, a later one
/// in mid-day, a leap day, and an earlier one.
const AS_OF: [&str; 4] = ["2026-11-23", "2027-07-01T12:00:00Z", "2028-02-29", "2025-01-01"];

/// Every kind of comparison, each connective, a `let` and comparisons
/// the fast path leaves to the definition (`attr.*`, `matches` on a status).
const EVERY_KIND: &str = r#"
let staff = group in [admins, "Équipe", k] or group_name in [ana, "hr-1"] or permission in [edit_domain] or is_admin
a: staff and not is_service -> keep
b: status == invited and joined > 90d -> delete
c: status != active or status in [disabled, pending_delete] -> notify
d: never_logged_in == false and has_activity != true -> notify
e: inactive > 12mo or last_login < 2025-01-01 or last_activity >= 2026-01-01T00:00:00Z or deactivated > 30d -> deactivate
f: email matches "*@vendor.example" and not (username == Ana or name != "K") -> delete
g: id in [u1, "İ"] or source matches "h?r*" or role matches "*ad*" -> notify
h: activity.posts >= 3 and activity.posts != 7 -> delete
i: attr.level > 2 or attr.team == "x" or status matches "inv*" -> notify
j: staff == false and (joined <= 2024-02-29 or not (is_service or never_logged_in)) -> keep
"#;

/// A deactivated account deleted after a while, and notices on disabled
/// and pending accounts: the already-done and cannot-notify decisions.
const TWO_PHASE: &str = "admins: is_admin -> keep\n\
    purge: status == disabled and deactivated > 30d -> delete\n\
    warn: group_name in [ops] and inactive > 30d -> deactivate after notice 14d\n";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `*.policy` files under `dir`, sorted, through subdirectories.
fn policy_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for path in entries.map(|e| e.unwrap().path()) {
        if path.is_dir() {
            found.extend(policy_files(&path));
        } else if path.extension().is_some_and(|e| e == "policy") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The policies, each with whether it must check clean: all of them but
/// the fixtures, some of which are there to fail.
fn policies() -> Vec<(String, String, bool)> {
    let read = |path: PathBuf, must: bool| {
        let name = path.strip_prefix(root()).unwrap_or(&path).display().to_string();
        (name, std::fs::read_to_string(&path).unwrap(), must)
    };
    let mut all: Vec<_> = policy_files(&root().join("policies"))
        .into_iter()
        .map(|p| read(p, true))
        .collect();
    let corpus = std::fs::read_dir(root().join("tests/corpus")).unwrap();
    let mut stages: Vec<PathBuf> = corpus.map(|e| e.unwrap().path()).collect();
    stages.sort();
    for stage in stages {
        for kind in ["ok", "warn"] {
            all.extend(policy_files(&stage.join(kind)).into_iter().map(|p| read(p, true)));
        }
    }
    all.extend(
        policy_files(&root().join("tests/fixtures"))
            .into_iter()
            .map(|p| read(p, false)),
    );
    all.push(read(root().join(BENCH_POLICY), true));
    all.push(("every kind".into(), EVERY_KIND.into(), true));
    all.push(("two phase".into(), TWO_PHASE.into(), true));
    all
}

/// A copy of the benchmark policy (`../shared/bench/bench.policy`, what
/// `bench/run` and `benches/plan.rs` plan), so that this test has it
/// wherever the repository is.
const BENCH_POLICY: &str = "tests/fast_path/bench.policy";

struct Fixture {
    programs: Vec<(String, Program)>,
    words: Vec<String>,
    times: Vec<Time>,
    numbers: Vec<f64>,
    activities: Vec<String>,
    attrs: Vec<String>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(fixture);

fn fixture() -> Fixture {
    let mut programs = Vec::new();
    let mut words: Vec<String> = [
        "admins",
        "ÉQUIPE",
        "\u{212A}",
        "ana",
        "K",
        "u1",
        "\u{130}",
        "hr-1",
        "bob@Vendor.Example",
        "Edit_DOMAIN",
        "",
    ]
    .map(String::from)
    .into();
    for (name, text, must) in policies() {
        words.extend(
            text.split(|c: char| c.is_whitespace() || "[],\"()=<>!".contains(c))
                .map(|w| {
                    // A glob's own text, with its wildcards filled in, matches it.
                    w.replace('*', "x").replace('?', "y")
                }),
        );
        let source = Source::new(name.clone(), text);
        let Ok(parsed) = dormant::parse::parse(&source) else {
            assert!(!must, "{name} does not parse");
            continue;
        };
        for day in AS_OF {
            let as_of = parse_time(day).unwrap();
            if check(&parsed.policy, &Options { as_of }).has_errors() {
                assert!(!must, "{name} has errors at {day}");
                continue;
            }
            let p = Program::compile(&parsed.policy, &source, as_of).unwrap();
            if day == AS_OF[0] {
                // Where deactivating is a revoke, a disabled account is not
                // already deactivated.
                let revoking = Program {
                    revoke: true,
                    ..p.clone()
                };
                programs.push((format!("{name} at {day}, revoking"), revoking));
            }
            programs.push((format!("{name} at {day}"), p));
        }
    }
    words.sort();
    words.dedup();
    let mut f = Fixture {
        programs,
        words,
        times: AS_OF.iter().map(|d| parse_time(d).unwrap()).collect(),
        numbers: vec![0.0, 0.5, 1.0, 7.0, 1e3],
        activities: vec!["posts".into()],
        attrs: vec!["level".into(), "team".into()],
    };
    let leaves: Vec<_> = f.programs.iter().flat_map(|(_, p)| p.leaves.clone()).collect();
    for l in &leaves {
        match &l.field {
            Field::Activity(name) => f.activities.push(name.clone()),
            Field::Attr(name) => f.attrs.push(name.clone()),
            _ => {}
        }
        let operands = match &l.test {
            Test::Age { cutoff, .. } => vec![Operand::Time(*cutoff)],
            Test::Cmp(_, o) => vec![o.clone()],
            Test::In(items, _) => items.clone(),
            _ => Vec::new(),
        };
        for o in operands {
            match o {
                Operand::Time(t) => {
                    let second = chrono::Duration::seconds(1);
                    f.times.extend([t - second, t, t + second]);
                }
                Operand::Number(n) => f.numbers.extend([n - 1.0, n, n + 0.5, n + 1.0]),
                Operand::Text(t) => f.words.push(t),
                Operand::Bool(_) => {}
            }
        }
    }
    for list in [&mut f.activities, &mut f.attrs, &mut f.words] {
        list.sort();
        list.dedup();
    }
    f.times.sort();
    f.times.dedup();
    f
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(FIXTURE.words.clone()),
        1 => "[a-zA-Z\u{130}\u{212A}@._-]{0,6}",
    ]
}

fn time() -> impl Strategy<Value = Time> {
    // 2015 .. 2030, or one of the instants the policies compare with.
    prop_oneof![
        1 => (1_420_070_400_i64..1_893_456_000).prop_map(|s| Time::from_timestamp(s, 0).unwrap()),
        3 => proptest::sample::select(FIXTURE.times.clone()),
    ]
}

fn known_time() -> impl Strategy<Value = Known<Time>> {
    prop_oneof![3 => time().prop_map(Known::Value), 1 => Just(Known::Never), 1 => Just(Known::Unknown)]
}

fn set() -> impl Strategy<Value = Option<Set>> {
    proptest::option::of(proptest::collection::vec(word(), 0..5).prop_map(|v| v.into_iter().collect()))
}

fn text() -> impl Strategy<Value = Option<Text>> {
    proptest::option::of(word().prop_map(Into::into))
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![proptest::sample::select(FIXTURE.numbers.clone()), -2.0..1e4_f64]
}

fn attr() -> impl Strategy<Value = Attr> {
    prop_oneof![
        word().prop_map(Attr::Text),
        number().prop_map(|n| Attr::Text(n.to_string())),
        proptest::sample::select(vec!["true", "No", " 1 ", "2026-01-01"]).prop_map(|w| Attr::Text(w.into())),
        time().prop_map(|t| Attr::Text(dormant::time::Rfc3339::new(t).as_str().into())),
        number().prop_map(Attr::Number),
        any::<bool>().prop_map(Attr::Bool),
        time().prop_map(Attr::Time),
    ]
}

fn deactivated() -> impl Strategy<Value = Option<Deactivated>> {
    let origin = prop_oneof![Just(Origin::Source), Just(Origin::Journal)];
    proptest::option::of((time(), origin).prop_map(|(at, from)| Deactivated { at, from }))
}

prop_compose! {
    fn user()(
        id in word(),
        (username, email, name, source) in (text(), text(), text(), text()),
        status in proptest::option::of(proptest::sample::select(Status::ALL.to_vec())),
        joined in proptest::option::of(time()),
        (last_login, last_activity) in (known_time(), known_time()),
        (group, group_name, role, permission) in (set(), set(), set(), set()),
        deactivated in deactivated(),
        (is_admin, is_service) in (proptest::option::of(any::<bool>()), proptest::option::of(any::<bool>())),
        // The identity provider a last login came from, shown beside it.
        last_login_from in proptest::option::of(proptest::sample::select(vec!["okta", "corp"])),
        activity in proptest::collection::vec((proptest::sample::select(FIXTURE.activities.clone()), number()), 0..3),
        attr in proptest::collection::vec((proptest::sample::select(FIXTURE.attrs.clone()), attr()), 0..3),
    ) -> User {
        User {
            id: if id.is_empty() { "u".into() } else { id.into() },
            username, email, name, source, status, joined, last_login, last_activity,
            group, group_name, role, permission, is_admin, is_service, deactivated,
            last_login_from: last_login_from.map(Into::into),
            activity: activity.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            attr: attr.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }
}

/// A notice under every rule that asks for one, when `at` is some.
fn notices(p: &Program, u: &User, at: Option<Time>) -> Notices {
    let mut notices = Notices::new();
    for rule in p.rules.iter().filter(|r| r.notice.is_some()) {
        if let Some(at) = at {
            notices.add(&u.id, &rule.name, at);
        }
    }
    notices
}

/// The fast path and the definition agree for `u` under `p`: the
/// decision, every comparison, every rule, and the plan's JSON.
fn agree(name: &str, p: &Program, u: &User, notices: &Notices) -> Result<(), TestCaseError> {
    let fast = eval::decide(p, u, notices);
    let definition = eval::decide_by_definition(p, u, notices);
    prop_assert_eq!(fast, definition, "{}: the decision", name);
    let kernels: Vec<Truth> = p.flat.leaf_truths(&p.leaves, u, dormant::eval::leaf).collect();
    let leaves: Vec<Truth> = p.leaves.iter().map(|l| eval::leaf(l, u)).collect();
    prop_assert_eq!(kernels, leaves, "{}: the comparisons", name);
    let facts = p.flat.facts(u);
    for (i, rule) in p.rules.iter().enumerate() {
        if let Some(t) = p.flat.rule(i, &p.leaves, u, &facts, dormant::eval::leaf) {
            prop_assert_eq!(t, eval::eval(p, &rule.cond, u), "{}: rule {}", name, rule.name);
        }
    }
    Ok(())
}

/// `EntryCache` writes what `Entry` serializes, with its cache warm (each
/// decision is written twice).
fn same_json<'p>(
    name: &str,
    p: &'p Program,
    u: &User,
    d: Decision,
    cache: &mut render::EntryCache<'p>,
) -> Result<(), TestCaseError> {
    let slow = String::from_utf8(serde_json::to_vec(&plan::explained(p, u, d)).unwrap()).unwrap();
    for _ in 0..2 {
        let mut fast = Vec::new();
        cache.write(&mut fast, p, u, &d).unwrap();
        prop_assert_eq!(
            String::from_utf8(fast).unwrap(),
            slow.clone(),
            "{}: the plan's JSON",
            name
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_fast_path_decides_as_the_definition(u in user(), notice in proptest::option::of(time())) {
        for (name, p) in &FIXTURE.programs {
            agree(name, p, &u, &notices(p, &u, notice))?;
        }
    }

    /// Several users in a row, so that later ones may be written from the
    /// cache of earlier ones.
    #[test]
    fn the_fast_writer_writes_what_entries_serialize(
        users in proptest::collection::vec(user(), 1..4),
        notice in proptest::option::of(time()),
    ) {
        for (name, p) in &FIXTURE.programs {
            let mut cache = render::EntryCache::default();
            for u in &users {
                let notices = notices(p, u, notice);
                let d = eval::decide(p, u, &notices);
                same_json(name, p, u, d, &mut cache)?;
            }
        }
    }
}

/// Every kind of policy is there, at every instant: none was skipped on
/// the way for failing to read.
#[test]
fn every_policy_is_held_to_the_definition() {
    let names: Vec<&str> = FIXTURE.programs.iter().map(|(n, _)| n.as_str()).collect();
    for prefix in [
        "policies/",
        "tests/corpus/check/ok/",
        "tests/corpus/check/warn/",
        "tests/fixtures/",
        BENCH_POLICY,
    ] {
        let n = names.iter().filter(|n| n.starts_with(prefix)).count();
        assert!(n > AS_OF.len(), "{prefix}: {n} programs");
        assert_eq!(n % (AS_OF.len() + 1), 0, "{prefix}: some instants missing");
    }
    assert!(
        FIXTURE.programs.len() >= 30 * (AS_OF.len() + 1),
        "{}",
        FIXTURE.programs.len()
    );
}

/// The copy of the benchmark policy is the benchmark's, where that is at hand.
#[test]
fn the_benchmark_policy_is_the_benchmarks() {
    let shared = root().join("../shared/bench/bench.policy");
    if let Ok(text) = std::fs::read_to_string(&shared) {
        assert_eq!(std::fs::read_to_string(root().join(BENCH_POLICY)).unwrap(), text);
    }
}

/// The fast JSON writer and `Entry`'s `Serialize` write the same bytes,
/// for every example policy over the example users, at several dates:
/// users read from files, with strings that need escapes, and deactivation
/// times from the platform and from the journal.
#[test]
fn shapes_write_what_entries_serialize() {
    let mut users = dormant::connector::file::load(&root().join("examples/users.csv"))
        .unwrap()
        .users;
    // Strings that need escapes, and numbers with fractions.
    let odd = r#"[{"id":"q\"1","username":"a\\b","email":"tab\there@x.org","name":"\u0001é","status":"active",
        "joined":"2020-01-01","last_login":null,"last_activity":null,"group":["ad\"mins","é"],"role":[],
        "permission":["x\ny"],"is_admin":false,"is_service":false,"source":"s\"","activity.po\"sts":2.5,
        "activity.logins":0,"activity.courses_completed":1e3},
        {"id":"gone","status":"pending_delete","joined":"2020-01-01","last_login":null,"last_activity":null,
        "group":[],"role":[],"permission":[],"is_admin":false,"is_service":false}]"#
        .as_bytes();
    users.extend(dormant::connector::file::parse("odd.json", odd).unwrap());
    // Deactivation times from the platform and from the journal.
    let deactivated =
        r#"[{"id":"d1","status":"disabled","deactivated":"2026-10-01","source":"do\"cs","is_admin":false},
        {"id":"d2","status":"disabled","is_admin":false},
        {"id":"d3","status":"disabled","deactivated":"2026-11-20","is_admin":false}]"#
            .as_bytes();
    let mut deactivated = dormant::connector::file::parse("d.json", deactivated).unwrap();
    let journal = [
        serde_json::json!({"event": "outcome", "action": "deactivate", "status": "done", "user": "d2",
        "at": "2026-09-01T00:00:00Z"}),
    ];
    Notices::from_records("j", &dormant::journal::Record::read_all("j", &journal).unwrap())
        .unwrap()
        .fill_deactivated(&mut deactivated);
    users.extend(deactivated);
    let mut notices = Notices::new();
    notices.add("u007", "dormant", parse_time("2026-10-01").unwrap());
    let two_phase = (
        "two-phase.policy".into(),
        "admins: is_admin -> keep\npurge: status == disabled and deactivated > 30d -> delete\n".to_string(),
    );
    let files = policy_files(&root().join("policies"))
        .into_iter()
        .map(|path| (path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
    let mut sourced = 0;
    for (name, text) in files.chain([two_phase]) {
        let source = Source::new(name, text);
        let policy = dormant::parse::parse(&source).unwrap().policy;
        for day in ["2026-11-23", "2027-07-01", "2028-02-29"] {
            let as_of = parse_time(day).unwrap();
            assert!(!check(&policy, &Options { as_of }).has_errors());
            let p = Program::compile(&policy, &source, as_of).unwrap();
            let mut cache = render::EntryCache::default();
            // Twice over, so that the second pass copies cached cache.
            for u in users.iter().chain(users.iter()) {
                let d = eval::decide(&p, u, &notices);
                let mut fast = Vec::new();
                cache.write(&mut fast, &p, u, &d).unwrap();
                let slow = serde_json::to_vec(&plan::explained(&p, u, d)).unwrap();
                let fast = String::from_utf8(fast).unwrap();
                sourced += usize::from(fast.contains(r#""sources":{"deactivated":"the journal"}"#));
                assert_eq!(fast, String::from_utf8(slow).unwrap());
            }
        }
    }
    // d2, by the two-phase policy, at three dates, written twice.
    assert_eq!(sourced, 6);
}
