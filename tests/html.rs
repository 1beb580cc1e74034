//! `plan --format html` and `forecast --format html` through the binary,
//! without a browser (tests/browser.rs opens them in one): the example's
//! reports as snapshots, and what every report must hold.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::Run;

const AS_OF: &str = "2026-11-23";
const POLICY: &str = "policies/example.policy";
const USERS: &str = "examples/users.csv";

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false, snapshot_path => "snapshots/html" }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn plan_html(users: &str) -> String {
    let done = Run::new(&["plan", POLICY, "--users", users, "--as-of", AS_OF, "--format", "html"]).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    done.stdout
}

#[test]
fn the_example_plan_as_html() {
    let html = plan_html(USERS);
    snapshot!("plan_html", &html);
    // Self-contained: nothing is fetched.
    for outside in ["<link", "src=", "http://", "https://", "@import", "url("] {
        assert!(!html.contains(outside), "{outside}");
    }
    // The provenance, the review and its unknown data, read without script.
    let policy = std::fs::read(POLICY).unwrap();
    assert!(html.contains(&dormant::connector::file::sha256_hex(&policy)));
    assert!(
        html.contains("<td>ivan &lt;ivan@example.org&gt; (u009)</td><td>never_used</td><td>last_login unknown</td>")
    );
    assert!(html.contains("<h2 id=\"h-review\">Sent to review (2)</h2>"));
}

#[test]
fn the_example_forecast_as_html() {
    let done = Run::new(&[
        "forecast", POLICY, "--users", USERS, "--as-of", AS_OF, "--days", "60", "--format", "html",
    ])
    .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    snapshot!("forecast_html", &done.stdout);
    assert!(done.stdout.contains("<table id=\"timeline\">"));
}

#[test]
fn hostile_user_text_is_escaped_in_html_and_in_the_script_data() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.csv");
    std::fs::write(
        &users,
        "id,username,email,status,joined,last_login\n\
         u1,\"</script><script>alert(1)</script><!--\",a&b@example.org,invited,2020-01-01,\n",
    )
    .unwrap();
    let html = plan_html(users.to_str().unwrap());
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<!--"));
    // The data reads back whole.
    let start = html.find("id=\"plan-data\">").unwrap() + "id=\"plan-data\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(
        data["rows"][0][0],
        "</script><script>alert(1)</script><!-- <a&b@example.org> (u1)"
    );
}
