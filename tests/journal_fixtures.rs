//! Journals written by dormant before the journal had a type of its own
//! (`tests/fixtures/journals/`): they must verify, resume, feed notices
//! and deactivation times to a plan, and be undone, as they always did.
//! `plan.json` is the plan they journal (`plan` is its identity).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::Run;
use dormant::apply::{self, Outcome, PlanFile};
use dormant::decision::PlanAction;
use dormant::journal::{self, Key, Notices, Record};
use dormant::user::{Status, User};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const KEY: &[u8] = b"fixture-key-0123456789abcdef0123456789abcdef";
const JOURNALS: [&str; 7] = [
    "plain.jsonl",
    "keyed.jsonl",
    "notice.jsonl",
    "settled.jsonl",
    "step.jsonl",
    "revoke.jsonl",
    "deferred.jsonl",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/journals")
        .join(name)
}

fn key_of(name: &str) -> Option<Key> {
    (name == "keyed.jsonl").then(|| Key::new(KEY).unwrap())
}

fn plan() -> PlanFile {
    serde_json::from_str(&std::fs::read_to_string(fixture("plan.json")).unwrap()).unwrap()
}

fn at(s: &str) -> dormant::time::Time {
    dormant::time::parse_time(s).unwrap()
}

fn set(items: &[(&str, &str)]) -> HashSet<(String, String)> {
    items.iter().map(|(u, a)| (u.to_string(), a.to_string())).collect()
}

#[test]
fn every_fixture_verifies_with_its_lines_and_head() {
    let lines = [7, 7, 11, 5, 5, 4, 5];
    for (name, n) in JOURNALS.iter().zip(lines) {
        let v = journal::verify(&fixture(name), key_of(name).as_ref()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (v.lines, v.past_head, v.keyed),
            (n, 0, *name == "keyed.jsonl"),
            "{name}"
        );
    }
    // The keyed one is refused without its key.
    assert!(journal::verify(&fixture("keyed.jsonl"), None).is_err());
}

/// Each line read as a record and written again is the line it was: the
/// journal writes today what it wrote before it had a type.
#[test]
fn every_line_read_and_written_again_is_the_same_bytes() {
    for name in JOURNALS {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let v = journal::verify(&fixture(name), key_of(name).as_ref()).unwrap();
        let records = Record::read_all(name, &v.records).unwrap();
        let mut prev = "0".repeat(64);
        for ((n, line), record) in (1..).zip(text.lines()).zip(&records) {
            assert_eq!(journal::line(record, n, v.keyed, &prev), line, "{name}:{n}");
            prev = v.links[n as usize - 1].clone();
        }
    }
}

#[test]
fn the_plan_is_the_one_the_journals_name() {
    let v = journal::verify(&fixture("plain.jsonl"), None).unwrap();
    assert_eq!(v.records[0]["plan"], plan().identity().as_str());
}

/// The journal's progress on the fixture plan: (finished, in doubt, started).
fn progress_of(name: &str) -> apply::Resume {
    let (_, records) = open_copy(name);
    apply::resume(&records, &plan().identity())
}

/// A journal opened as apply opens it, from a copy (opening locks it).
fn open_copy(name: &str) -> (tempfile::TempDir, Vec<Record>) {
    let dir = tempfile::tempdir().unwrap();
    let path = copy(name, dir.path());
    let (_, records) = journal::Journal::open(&path, dormant::files::Wait::No, key_of(name)).unwrap();
    (dir, records)
}

fn copy(name: &str, dir: &Path) -> PathBuf {
    let path = dir.join("j.jsonl");
    std::fs::copy(fixture(name), &path).unwrap();
    std::fs::copy(fixture(&format!("{name}.head")), dir.join("j.jsonl.head")).unwrap();
    path
}

#[test]
fn each_journal_s_progress_on_its_plan() {
    let done_three = set(&[("u1", "deactivate"), ("u2", "delete"), ("u3", "deactivate")]);
    for name in ["plain.jsonl", "keyed.jsonl"] {
        let p = progress_of(name);
        assert_eq!(p.finished, done_three, "{name}");
        assert!(p.in_doubt.is_empty() && p.started.is_empty(), "{name}");
    }
    let p = progress_of("notice.jsonl");
    assert_eq!(
        p.finished,
        set(&[("u4", "notify"), ("u1", "deactivate"), ("u3", "deactivate")])
    );
    assert!(p.in_doubt.is_empty() && p.started.is_empty());
    let p = progress_of("settled.jsonl");
    assert_eq!(p.finished, set(&[("u1", "deactivate")]));
    assert_eq!(p.in_doubt, set(&[("u2", "delete")]));
    let p = progress_of("step.jsonl");
    assert_eq!(p.finished, set(&[("u6", "delete")]));
    assert_eq!(p.in_doubt, set(&[("u5", "delete")]));
    assert_eq!(p.started, set(&[("u5", "delete")]));
    let p = progress_of("revoke.jsonl");
    assert_eq!(p.finished, set(&[("u1", "deactivate"), ("u3", "deactivate")]));
    let p = progress_of("deferred.jsonl");
    assert_eq!(p.finished, set(&[("u2", "delete")]));
    assert!(p.in_doubt.is_empty() && p.started.is_empty());
}

fn program() -> dormant::program::Program {
    let text = "warned: is_admin == false and status == invited -> notify\ndormant: is_admin == false and status == active -> deactivate\nnever_used: is_admin == false -> delete\n";
    let source = dormant::source::Source::new("journal.policy", text);
    let policy = dormant::parse::parse(&source).unwrap().policy;
    dormant::program::Program::compile(&policy, &source, at("2026-11-23")).unwrap()
}

fn active(id: &str) -> User {
    User {
        id: id.into(),
        status: Some(Status::Active),
        is_admin: Some(false),
        ..User::default()
    }
}

/// A rerun of the plan over every journal repeats nothing an earlier run
/// finished, and settles what was in doubt by the platform.
#[test]
fn a_rerun_of_the_same_plan_repeats_nothing() {
    let plan = plan();
    let targets = plan.targets();
    let program = program();
    for name in JOURNALS {
        let (_, records) = open_copy(name);
        let progress = apply::resume(&records, &plan.identity());
        let notices = Notices::from_records(name, &records).unwrap();
        let mut fresh: Vec<User> = ["u1", "u3", "u4", "u5", "u6"].into_iter().map(active).collect();
        // u2 is gone (deleted), u5 disabled half way to deletion.
        fresh[3].status = Some(Status::Disabled);
        let (work, skipped) = apply::recheck(&targets, &fresh, &program, &notices, &progress, |a, u| {
            a == PlanAction::Delete && u.is_some_and(|u| u.status == Some(Status::Disabled))
        });
        for w in &work {
            let key = (w.planned.user.id.clone(), w.planned.action.as_str().to_string());
            assert!(!progress.finished.contains(&key), "{name}: {key:?} done again");
        }
        for (d, o) in &skipped {
            let key = (d.user.id.clone(), d.action.as_str().to_string());
            if progress.finished.contains(&key) {
                assert_eq!(
                    o,
                    &Outcome::Skipped("already done by an earlier run of this plan".into()),
                    "{name}"
                );
            }
        }
        let skipped_as = |id: &str| skipped.iter().find(|(d, _)| d.user.id == id).map(|(_, o)| o.clone());
        if name == "settled.jsonl" {
            assert_eq!(
                skipped_as("u2"),
                Some(Outcome::Settled("the user is gone from the platform".into()))
            );
        }
        if name == "step.jsonl" {
            assert_eq!(
                skipped_as("u5"),
                Some(Outcome::Settled("the user is pending deletion on the platform".into()))
            );
        }
    }
}

#[test]
fn notices_and_deactivation_times_read_from_the_journals() {
    let notices = |name: &str| {
        let (_, records) = open_copy(name);
        Notices::from_records(name, &records).unwrap()
    };
    let n = notices("notice.jsonl");
    assert_eq!(n.latest("u4", "warned"), Some(at("2026-11-20T09:00:01Z")));
    // Reactivated by undo: no longer deactivated; u3's undo failed.
    assert_eq!(n.deactivated("u1"), None);
    assert_eq!(n.deactivated("u3"), Some(at("2026-11-23T10:00:03Z")));
    let n = notices("step.jsonl");
    assert_eq!(n.deactivated("u5"), Some(at("2026-11-23T10:00:10Z")));
    assert_eq!(n.deactivated("u6"), Some(at("2026-11-23T10:00:20Z")));
    let n = notices("settled.jsonl");
    assert_eq!(n.deactivated("u1"), Some(at("2026-11-24T10:00:00Z")));
    assert_eq!(n.deactivated("u2"), None);
    let n = notices("revoke.jsonl");
    assert_eq!(n.deactivated("u3"), Some(at("2026-11-23T10:00:01Z")));
    assert_eq!(n.latest("u4", "warned"), None);
    // Read as planning reads them: only from a journal that verifies.
    let n = Notices::read(&fixture("keyed.jsonl"), Some(&Key::new(KEY).unwrap())).unwrap();
    assert_eq!(n.deactivated("u1"), Some(at("2026-11-23T10:00:01Z")));
}

/// `undo` over a copy of a journal, through a Bevy connector: Bevy has no
/// reactivation, so each user undo picks fails by name without a request,
/// and its deletions ended their 7 days long ago.
fn undo(name: &str) -> (common::Done, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let path = copy(name, dir.path());
    let mut config =
        "[connector.events]\nkind = \"bevy\"\nurl = \"http://127.0.0.1:9\"\ntoken_env = \"BEVY_TOKEN\"\n".to_string();
    if key_of(name).is_some() {
        config.insert_str(0, "journal_key_env = \"JOURNAL_KEY\"\n");
    }
    std::fs::write(dir.path().join("dormant.toml"), config).unwrap();
    let out = Run::new(&["undo", "j.jsonl", "--yes"])
        .in_dir(dir.path())
        .secret("BEVY_TOKEN", "bevy-token-123456")
        .secret("JOURNAL_KEY", std::str::from_utf8(KEY).unwrap())
        .run();
    let v = journal::verify(&path, key_of(name).as_ref()).unwrap();
    (out, v.records)
}

#[test]
fn undo_picks_the_same_users_from_every_journal() {
    let failed = |who: &str| {
        format!("FAILED to reactivate {who} on `events`: Bevy's API has no reactivation: reactivate the user in Bevy's admin dashboard")
    };
    let gone = "cannot undo: u2 (ben) on `events` deleted for good: the 7 days of pending deletion ended";
    for (name, reactivated, deleted) in [
        ("plain.jsonl", vec!["u1 (ana)"], true),
        ("keyed.jsonl", vec!["u1 (ana)"], true),
        ("notice.jsonl", vec!["u3"], false),
        ("settled.jsonl", vec!["u1 (ana)"], false),
        ("step.jsonl", vec!["u5 (eve)"], false),
        ("revoke.jsonl", vec!["u1 (ana)", "u3"], false),
        ("deferred.jsonl", vec![], true),
    ] {
        let (out, records) = undo(name);
        for who in &reactivated {
            assert!(
                out.stdout.contains(&failed(who)),
                "{name}: {}\n{}",
                out.stdout,
                out.stderr
            );
        }
        assert_eq!(out.stdout.contains(gone), deleted, "{name}: {}", out.stdout);
        assert_eq!(
            out.stdout.matches("FAILED").count(),
            reactivated.len(),
            "{name}: {}",
            out.stdout
        );
        assert_eq!(
            out.code,
            if reactivated.is_empty() { 0 } else { 1 },
            "{name}: {}",
            out.stderr
        );
        // Each reactivation asked is journaled, intent then outcome.
        let fresh: Vec<_> = records
            .iter()
            .skip_while(|r| r["at"].as_str() < Some("2026-12"))
            .collect();
        assert_eq!(fresh.len(), 2 * reactivated.len(), "{name}");
        for r in fresh {
            assert_eq!(
                (r["plan"].as_str(), r["action"].as_str()),
                (Some("undo"), Some("reactivate"))
            );
            assert!(r.get("rule").is_none(), "{name}: {r}");
        }
    }
}
