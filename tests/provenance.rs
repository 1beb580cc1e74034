//! End-to-end tests of a plan's provenance (who wrote it, when, from what),
//! of `--output` choosing the format by its extension, and of CSV cells
//! escaped against formula injection.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::{Run, GENERATED_AT};
use std::path::Path;

const AS_OF: &str = "2026-11-23";
const POLICY: &str = "policies/example.policy";
const USERS: &str = "examples/users.csv";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn json_plan(extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["plan", POLICY, "--users", USERS, "--as-of", AS_OF, "--format", "json"];
    args.extend_from_slice(extra);
    let done = Run::new(&args).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    serde_json::from_str(&done.stdout).unwrap()
}

#[test]
fn the_plan_json_says_who_wrote_it_when_and_from_what() {
    let v = json_plan(&[]);
    assert_eq!(v["generated_by"]["name"], "dormant");
    assert_eq!(v["generated_by"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["generated_at"], GENERATED_AT);
    assert_eq!(v["as_of"], "2026-11-23T00:00:00Z");
    assert!(v["connector"].is_null(), "a users file has no connector");
    assert!(v["journal"].is_null(), "no journal was read");
    assert_eq!(v["users"]["count"], 14);
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn generated_at_is_the_clock_to_the_second_unless_fixed() {
    let args = ["plan", POLICY, "--users", USERS, "--as-of", AS_OF, "--format", "json"];
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let done = Run::new(&args).without("DORMANT_GENERATED_AT").run();
    let after = chrono::Utc::now();
    let v: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    let text = v["generated_at"].as_str().unwrap();
    assert!(
        text.ends_with('Z') && !text.contains('.'),
        "RFC 3339 UTC, to the second: {text}"
    );
    let at = chrono::DateTime::parse_from_rfc3339(text).unwrap();
    assert!(before <= at && at <= after, "{text} is not now");
    // A date or an RFC 3339 time fixes it; anything else is refused.
    let fixed = Run::new(&args).env("DORMANT_GENERATED_AT", "2027-01-02").run();
    assert!(fixed.stdout.contains("\"generated_at\":\"2027-01-02T00:00:00Z\""));
    let bad = Run::new(&args).env("DORMANT_GENERATED_AT", "yesterday").run();
    assert_eq!((bad.code, bad.stdout.as_str()), (1, ""));
    assert!(
        bad.stderr.contains("DORMANT_GENERATED_AT: `yesterday` is not a date"),
        "{}",
        bad.stderr
    );
}

/// `apply` reads plans with the new keys, and a plan written at another
/// time is the same plan: its identity leaves `generated_at` out.
#[test]
fn a_plan_written_later_is_the_same_plan_for_apply() {
    let now = Run::new(&["plan", POLICY, "--users", USERS, "--as-of", AS_OF, "--format", "json"]).run();
    let later = Run::new(&["plan", POLICY, "--users", USERS, "--as-of", AS_OF, "--format", "json"])
        .env("DORMANT_GENERATED_AT", "2027-06-01T08:30:00Z")
        .run();
    assert_ne!(now.stdout, later.stdout);
    let a: dormant::apply::PlanFile = serde_json::from_str(&now.stdout).unwrap();
    let b: dormant::apply::PlanFile = serde_json::from_str(&later.stdout).unwrap();
    assert_eq!(a.decisions.len(), 14);
    assert_eq!(a.identity(), b.identity());
}

#[test]
fn the_journal_read_is_named_with_its_head() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dormant.toml"), "journal = \"journal.jsonl\"\n").unwrap();
    let path = dir.path().join("journal.jsonl");
    {
        let (mut journal, _) = dormant::journal::Journal::open(&path, dormant::files::Wait::No, None).unwrap();
        let line = r#"{"event":"outcome","action":"notify","status":"done","user":"u007","rule":"dormant","at":"2026-10-01T00:00:00Z"}"#;
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        journal
            .append(&dormant::journal::Record::from_value(&v).unwrap())
            .unwrap();
    }
    let verified = dormant::journal::verify(&path, None).unwrap();
    let head = format!("{}:{}", verified.lines, verified.head);
    let (policy, users) = (root().join(POLICY), root().join(USERS));
    let args = |format: &'static str| {
        vec![
            "plan".to_string(),
            policy.display().to_string(),
            "--users".into(),
            users.display().to_string(),
            "--as-of".into(),
            AS_OF.into(),
            "--format".into(),
            format.into(),
        ]
    };
    let run = |format| {
        let args = args(format);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let done = Run::new(&args).in_dir(dir.path()).run();
        assert_eq!(done.code, 0, "{}", done.stderr);
        done.stdout
    };
    let v: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert!(v["journal"]["path"].as_str().unwrap().ends_with("journal.jsonl"), "{v}");
    assert_eq!(v["journal"]["head"], head.as_str());
    // What `journal verify` prints is what the plan says.
    let verify = Run::new(&["journal", "verify"]).in_dir(dir.path()).run();
    assert!(verify.stdout.contains(&format!("head {head}")), "{}", verify.stdout);
    let table = run("table");
    assert!(table.contains(&format!("  journal head   {head}\n")), "{table}");
    let markdown = run("markdown");
    assert!(markdown.contains(&format!("| journal head | {head} |")), "{markdown}");
}

#[test]
fn a_connector_is_named_with_its_kind_and_a_file_connector_has_no_url() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join(USERS), dir.path().join("users.csv")).unwrap();
    std::fs::write(
        dir.path().join("dormant.toml"),
        "[connector.local]\nkind = \"file\"\npath = \"users.csv\"\n",
    )
    .unwrap();
    let policy = root().join(POLICY);
    let policy = policy.to_str().unwrap();
    let done = Run::new(&[
        "plan",
        policy,
        "--connector",
        "local",
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ])
    .in_dir(dir.path())
    .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let v: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(
        v["connector"],
        serde_json::json!({"name": "local", "kind": "file", "url": null})
    );
    assert_eq!(v["users"]["source"], "connector:local");
    // explain --format json carries the same provenance.
    let done = Run::new(&[
        "explain",
        policy,
        "--connector",
        "local",
        "u003",
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ])
    .in_dir(dir.path())
    .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let e: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    for key in [
        "generated_by",
        "generated_at",
        "as_of",
        "policy",
        "users",
        "connector",
        "journal",
    ] {
        assert_eq!(e[key], v[key], "explain's `{key}`");
    }
    assert_eq!(e["user"]["id"], "u003");
}

#[test]
fn output_infers_the_format_from_its_extension_and_format_wins() {
    let dir = tempfile::tempdir().unwrap();
    let plan_to = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec![
            "plan",
            POLICY,
            "--users",
            USERS,
            "--as-of",
            AS_OF,
            "--output",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let done = Run::new(&args).run();
        assert_eq!((done.code, done.stdout.as_str()), (0, ""), "{}", done.stderr);
        std::fs::read_to_string(out).unwrap()
    };
    let json = plan_to("plan.json", &[]);
    let plan: dormant::apply::PlanFile = serde_json::from_str(&json).expect("apply reads it");
    assert_eq!(plan.decisions.len(), 14);
    assert!(plan_to("plan.JSON", &[]).starts_with("{\"as_of\""));
    let csv = plan_to("plan.csv", &[]);
    assert!(
        csv.starts_with("#generated by,dormant ") && csv.contains("\n\nid,username,email,action,rule,reason,due\n"),
        "{csv}"
    );
    assert!(plan_to("plan.html", &[]).starts_with("<!DOCTYPE html>"));
    assert!(plan_to("plan.md", &[]).starts_with("### dormant plan as of"));
    assert!(
        plan_to("plan.txt", &[]).starts_with("Plan as of"),
        "an unknown extension: the table"
    );
    assert!(plan_to("other.json", &["--format", "csv"]).starts_with("#generated by"));
}

#[test]
fn a_csv_plan_is_headed_by_its_provenance_which_readers_skip_as_comments() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.csv");
    let done = Run::new(&[
        "plan",
        POLICY,
        "--users",
        USERS,
        "--as-of",
        AS_OF,
        "--output",
        out.to_str().unwrap(),
    ])
    .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let plan = std::fs::read_to_string(&out).unwrap();
    // A reader that skips `#` lines sees the header row, then one row per user.
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(plan.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().next(), Some("id"));
    assert_eq!(reader.records().count(), 14, "{plan}");
    // The block above it: `#KEY,VALUE`, then an empty line.
    let (block, _) = plan.split_once("\n\n").unwrap();
    let rows: Vec<(String, String)> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(block.as_bytes())
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].trim_start_matches('#').to_string(), r[1].to_string())
        })
        .collect();
    assert!(
        !dir.path().join("plan.provenance.csv").exists(),
        "the provenance is in the plan"
    );
    let get = |k: &str| rows.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(get("generated at"), Some(GENERATED_AT));
    assert_eq!(get("users count"), Some("14"));
    assert_eq!(get("users"), Some("file:examples/users.csv"));
    assert_eq!(get("warnings"), Some("0"));
    let sha = dormant::connector::file::sha256_hex(&std::fs::read(POLICY).unwrap());
    assert_eq!(get("policy sha256"), Some(sha.as_str()));
    // --provenance names it, for any format, stdout included.
    let named = dir.path().join("where.csv");
    let done = Run::new(&[
        "plan",
        POLICY,
        "--users",
        USERS,
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--provenance",
        named.to_str().unwrap(),
    ])
    .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    // The same rows, as a CSV of their own under a `key,value` header row.
    let apart = std::fs::read_to_string(named).unwrap();
    let expected: String = std::iter::once("key,value\n".to_string())
        .chain(block.lines().map(|l| format!("{}\n", l.trim_start_matches('#'))))
        .collect();
    assert_eq!(apart, expected);
}

#[test]
fn csv_cells_a_spreadsheet_would_run_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.csv");
    std::fs::write(
        &users,
        "id,username,email,status,joined,last_login\n\
         u1,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",@a@example.org,invited,2020-01-01,\n\
         -2,+cmd,ok@example.org,invited,2020-01-01,\n",
    )
    .unwrap();
    let done = Run::new(&[
        "plan",
        POLICY,
        "--users",
        users.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
    ])
    .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    // Past the provenance block and the header row.
    let (_, table) = done.stdout.split_once("\n\n").unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[1].starts_with(r#"u1,"'=HYPERLINK(""http://evil.example"",""x"")","'@a@example.org",review,"#),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(r#""'-2","'+cmd",ok@example.org,review,"#),
        "{}",
        lines[2]
    );
    // A CSV reader gets the cell back with the quote before it.
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(done.stdout.as_bytes());
    let first = reader.records().next().unwrap().unwrap();
    assert_eq!(&first[1], "'=HYPERLINK(\"http://evil.example\",\"x\")");
}

/// A platform's address with a user and password in it (which config
/// allows): the plan names the connector, its kind and the address
/// without them, in every format.
#[test]
fn a_connector_url_is_named_without_its_credentials() {
    use common::sim::huwise::{start, Domain, KEY};
    let sim = start(&Domain::new(3));
    let dir = tempfile::tempdir().unwrap();
    let password = "pw-in-the-url-9z8y7x";
    let url = sim.url().replacen("://", &format!("://admin:{password}@"), 1);
    let keys = "api_key_env = \"HUWISE_API_KEY\"\nrequests_per_second = 1000\n";
    common::write_config(dir.path(), &common::connector_config("portal", "huwise", &url, keys));
    std::fs::write(dir.path().join("p.policy"), "idle: inactive > 12mo -> notify\n").unwrap();
    for format in ["json", "table", "markdown", "csv"] {
        let provenance = dir.path().join("provenance.csv");
        let done = Run::new(&[
            "plan",
            "p.policy",
            "--connector",
            "portal",
            "--as-of",
            AS_OF,
            "--format",
            format,
            "--provenance",
            provenance.to_str().unwrap(),
        ])
        .in_dir(dir.path())
        .secret("HUWISE_API_KEY", KEY)
        .never_shows(password)
        .run();
        assert_eq!(done.code, 0, "{}", done.stderr);
        let written = std::fs::read_to_string(&provenance).unwrap();
        assert!(!written.contains(password), "{written}");
        assert!(written.contains(&format!("connector url,{}\n", sim.url())), "{written}");
        if format == "json" {
            let v: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
            assert_eq!(
                v["connector"],
                serde_json::json!({"name": "portal", "kind": "huwise", "url": sim.url()})
            );
        }
    }
}
