//! Reviewing a policy change in a pull request, as
//! `examples/github-actions.yml` does it: the workflow runs
//! `examples/review.sh`, and these tests run that script in a sample git
//! repository (a base branch with a policy, a branch that changes it), so
//! that they fail when the workflow's commands break. They need `git` and
//! `bash`, as the workflow does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const AS_OF: &str = "2026-11-23";

const BASE_POLICY: &str = "\
staff:         is_admin -> keep
stale_invites: status == invited and joined > 90d -> delete
dormant:       inactive > 12mo -> deactivate after notice 30d
";

const TESTS: &str = r#"as_of = "2026-11-23"

[[case]]
name = "an admin is kept"
expect = "keep"
rule = "staff"
user = { is_admin = true, joined = "2020-01-01", last_login = "never" }

[[case]]
name = "two idle years are noticed"
expect = "notify"
rule = "dormant"
user = { is_admin = false, status = "active", joined = "2020-01-01", last_login = "2024-06-01" }
"#;

/// ann is an admin; bob and fay are idle over a year (their deadline moves
/// when the notice shortens); cat is idle eight months (notified once the
/// threshold is six); dan logged in last month; eve is a stale invitation.
const USERS: &str = "\
id,username,email,status,joined,last_login,is_admin
a1,ann,ann@example.org,active,2020-01-01,2021-01-01,true
b1,bob,bob@example.org,active,2020-01-01,2024-06-01,false
c1,cat,cat@example.org,active,2020-01-01,2026-03-01,false
d1,dan,dan@example.org,active,2020-01-01,2026-10-01,false
e1,eve,eve@example.org,invited,2026-01-01,never,false
f1,fay,fay@example.org,active,2020-01-01,2025-01-01,false
";

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=Reviewer", "-c", "user.email=reviewer@example.org"])
        .args(["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository whose `main` (also fetched as `origin/main`) holds
/// `BASE_POLICY`, checked out on a branch `change` that commits `changed`.
fn sample_repo(changed: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("policies")).unwrap();
    std::fs::create_dir_all(root.join("users")).unwrap();
    std::fs::write(root.join("policies/x.policy"), BASE_POLICY).unwrap();
    std::fs::write(root.join("policies/x.tests.toml"), TESTS).unwrap();
    std::fs::write(root.join("users/snapshot.csv"), USERS).unwrap();
    git(root, &["init", "-q"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "policy"]);
    git(root, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    git(root, &["checkout", "-q", "-b", "change"]);
    std::fs::write(root.join("policies/x.policy"), changed).unwrap();
    git(root, &["commit", "-q", "-am", "change the policy"]);
    dir
}

/// Runs `examples/review.sh` in `dir` as the workflow does.
fn review(dir: &Path) -> Output {
    let script: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/review.sh");
    Command::new("bash")
        .arg(script)
        .current_dir(dir)
        .env("BASE", "main")
        .env("POLICY", "policies/x.policy")
        .env("USERS", "users/snapshot.csv")
        .env("DORMANT", env!("CARGO_BIN_EXE_dormant"))
        .env("AS_OF", AS_OF)
        .env("NO_COLOR", "1")
        .output()
        .expect("bash runs")
}

/// The users a Markdown diff lists: the ids in its `<summary>` lines.
fn listed(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter_map(|l| l.strip_prefix("<details><summary>"))
        .filter_map(|l| l.split_once("):").map(|(who, _)| who))
        .filter_map(|who| who.rsplit_once('(').map(|(_, id)| id.to_string()))
        .collect()
}

#[test]
fn a_policy_change_lists_exactly_the_users_whose_action_or_due_date_changes() {
    let changed = BASE_POLICY
        .replace("inactive > 12mo", "inactive > 6mo")
        .replace("notice 30d", "notice 14d");
    let repo = sample_repo(&changed);
    let done = review(repo.path());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr),
    );
    assert!(done.status.success(), "{stderr}\n{stdout}");
    // bob and fay: the same notice, due 16 days sooner; cat: newly noticed.
    assert_eq!(
        listed(&stdout),
        BTreeSet::from(["b1", "c1", "f1"].map(String::from)),
        "{stdout}"
    );
    assert!(stdout.contains("| keep (no rule) | notify (dormant) | 1 |"), "{stdout}");
    assert!(
        stdout.contains("| notify (dormant) | notify (dormant), dates move | 2 |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("due 2026-12-23T00:00:00Z → 2026-12-07T00:00:00Z"),
        "{stdout}"
    );
    assert!(
        !repo.path().join("base.policy").exists(),
        "the base policy is cleaned up"
    );
    // The README shows this output's beginning, up to the first user.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let shown = stdout
        .split_inclusive('\n')
        .take_while(|l| !l.starts_with("Before"))
        .collect::<String>();
    assert!(
        readme.contains(&shown),
        "the README's diff example is out of date:\n{shown}"
    );
    insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false, snapshot_path => "snapshots/review" }, {
        insta::assert_snapshot!("review_markdown", stdout);
    });
}

#[test]
fn no_change_says_so() {
    let repo = sample_repo(&format!("# Reviewed.\n{BASE_POLICY}"));
    let done = review(repo.path());
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(stdout.ends_with("No decision changes.\n"), "{stdout}");
    assert!(listed(&stdout).is_empty());
}

/// Each of the workflow's gates stops it before anything is posted.
#[test]
fn a_warning_a_layout_or_a_failing_test_fails_the_review() {
    // A rule that can never decide: a warning, denied.
    let unreachable = format!("{BASE_POLICY}idle: inactive > 24mo -> delete\n");
    // Not in fmt's layout.
    let unformatted = BASE_POLICY.replace("staff:         is_admin", "staff:   is_admin");
    // Clean and in layout, but two idle years are no longer noticed.
    let failing = BASE_POLICY.replace("inactive > 12mo", "inactive > 36mo");
    for (what, policy) in [("warning", unreachable), ("layout", unformatted), ("tests", failing)] {
        let repo = sample_repo(&policy);
        let done = review(repo.path());
        assert!(
            !done.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&done.stdout)
        );
        assert_eq!(String::from_utf8_lossy(&done.stdout), "", "{what}: nothing to post");
    }
}

/// The workflow is valid YAML for GitHub Actions as far as these lines go,
/// and runs the script the tests above run, with the variables it reads,
/// then posts what the script wrote.
#[test]
fn the_workflow_runs_the_script_and_posts_its_output() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github-actions.yml");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(!text.contains('\t'), "YAML is indented with spaces");
    let runs: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("run: "))
        .collect();
    assert!(runs.contains(&"examples/review.sh > diff.md"), "{runs:?}");
    assert!(runs.contains(&"gh pr comment \"$PR\" --body-file diff.md"), "{runs:?}");
    for var in [
        "BASE: ${{ github.base_ref }}",
        "POLICY: ",
        "USERS: ",
        "PR: ${{ github.event.pull_request.number }}",
    ] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(var)), "{var} is set");
    }
    assert!(text.contains("fetch-depth: 0"), "the base branch is fetched");
    // The workflow runs the script itself, not through bash.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/review.sh");
        let mode = std::fs::metadata(script).unwrap().permissions().mode();
        assert_ne!(mode & 0o111, 0, "examples/review.sh is executable");
    }
    assert!(text.contains("pull-requests: write"), "the token may comment");
}

fn dormant(args: &[&str], dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dormant"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("dormant runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The example policy with its notice shortened from 30 to 14 days, in a
/// temporary directory: gus and jo are notified either way, their
/// deactivation 16 days sooner.
fn shorter_notice() -> (tempfile::TempDir, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root.join("policies/example.policy")).unwrap();
    let new = dir.path().join("new.policy");
    std::fs::write(&new, text.replace("after notice 30d", "after notice 14d")).unwrap();
    (dir, new.to_str().unwrap().to_string())
}

const EXAMPLE: [&str; 4] = ["--users", "examples/users.csv", "--as-of", AS_OF];

#[test]
fn a_shorter_notice_is_a_change_and_the_json_names_every_input() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_dir, new) = shorter_notice();
    let mut args = vec!["diff", "policies/example.policy", &new];
    args.extend(EXAMPLE);
    let text = dormant(&args, root);
    assert!(text.contains("notify (dormant), dates move: 2"), "{text}");
    assert!(
        text.contains("    due 2026-12-23T00:00:00Z -> 2026-12-07T00:00:00Z"),
        "{text}"
    );
    args.extend(["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&dormant(&args, root)).unwrap();
    let mut plan_args = vec!["plan", "policies/example.policy", "--format", "json"];
    plan_args.extend(EXAMPLE);
    let plan = dormant(&plan_args, root);
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(v["as_of"], "2026-11-23T00:00:00Z");
    assert_eq!(v["users"]["source"], "file:examples/users.csv");
    assert_eq!(v["users"]["count"], 14);
    assert_eq!(v["users"]["sha256"], plan["users"]["sha256"]);
    assert_eq!(v["old"]["sha256"], plan["policy"]["sha256"]);
    assert_eq!(v["new"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(v["changed"], 2);
    let change = &v["changes"][0];
    assert_eq!(change["from"], change["to"]);
    let ids: Vec<_> = change["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["user"]["id"])
        .collect();
    assert_eq!(ids, ["u007", "u010"]);
    assert_eq!(
        change["users"][0]["moved"],
        serde_json::json!([{"date": "due", "from": "2026-12-23T00:00:00Z", "to": "2026-12-07T00:00:00Z"}])
    );
    assert_eq!(change["users"][0]["new"]["due"], "2026-12-07T00:00:00Z");
}

#[test]
fn markdown_lists_at_most_max_users_per_change_and_says_how_to_see_the_rest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_dir, new) = shorter_notice();
    let mut args = vec!["diff", "policies/example.policy", &new, "--format", "markdown"];
    args.extend(EXAMPLE);
    assert_eq!(
        listed(&dormant(&args, root)),
        BTreeSet::from(["u007", "u010"].map(String::from))
    );
    args.extend(["--max-users", "1"]);
    let md = dormant(&args, root);
    assert_eq!(listed(&md), BTreeSet::from(["u007".to_string()]), "{md}");
    assert!(md.contains("\n1 of 2 not listed.\n"), "{md}");
    assert!(md.contains("1 of the 2 users who change are not listed here"), "{md}");
    assert!(md.contains("`--format json` lists every user"), "{md}");
}

/// However many users change, the Markdown stays within what a GitHub
/// comment holds, with the complete counts first.
#[test]
fn markdown_of_many_changes_fits_in_a_comment() {
    let dir = tempfile::tempdir().unwrap();
    let mut users = String::from("id,username,email,status,joined,last_login,is_admin\n");
    for i in 0..3000 {
        users.push_str(&format!(
            "u{i},user{i},user{i}@example.org,active,2020-01-01,2024-06-01,false\n"
        ));
    }
    std::fs::write(dir.path().join("users.csv"), users).unwrap();
    std::fs::write(dir.path().join("old.policy"), BASE_POLICY).unwrap();
    std::fs::write(
        dir.path().join("new.policy"),
        BASE_POLICY.replace("-> deactivate after notice 30d", "-> delete"),
    )
    .unwrap();
    let args = [
        "diff",
        "old.policy",
        "new.policy",
        "--users",
        "users.csv",
        "--as-of",
        AS_OF,
    ];
    let md = dormant(&[&args[..], &["--format", "markdown"]].concat(), dir.path());
    assert!(md.contains("| notify (dormant) | delete (dormant) | 3000 |"), "{md}");
    assert!((1..=50).contains(&listed(&md).len()), "{md}");
    assert!(md.chars().count() <= 65_536, "{} characters", md.chars().count());
    let all = dormant(
        &[&args[..], &["--format", "markdown", "--max-users", "3000"]].concat(),
        dir.path(),
    );
    assert!(all.chars().count() <= 65_536, "{} characters", all.chars().count());
    assert!(listed(&all).len() < 3000);
    assert!(all.contains("users who change are not listed here"));
}
