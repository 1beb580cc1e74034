use super::*;
use crate::connector::bevy::BevyKeys;
use crate::connector::docebo::DoceboKeys;
use crate::connector::huwise::HuwiseKeys;
use crate::connector::metric_insights::MetricInsightsKeys;

fn parse(text: &str) -> Result<Config, (String, Span)> {
    Config::parse(Source::new("dormant.toml", text), Path::new("cfg")).map_err(|e| match e {
        ConfigError::Invalid(b) => (b.1.message.clone(), b.1.span),
        other => (other.to_string(), Span::default()),
    })
}

fn at(text: &str, (message, span): (String, Span)) -> (String, String) {
    (message, text.get(span.start..span.end).unwrap_or("").to_string())
}

#[test]
fn reads_connectors_with_their_kind_keys() {
    let c = parse(
        r#"
journal = "j.jsonl"
[connector.portal]
kind = "huwise"
url = "https://data.example.org/"
api_key_env = "HUWISE_API_KEY"
requests_per_second = 5
requests_per_day = 10000
enrich = ["logins.csv"]
deactivate = "revoke"

[connector.docs]
kind = "docspace"
url = "http://127.0.0.1:8080"
api_key_env = "DOCSPACE_KEY"
"#,
    )
    .unwrap();
    assert_eq!(c.journal, Path::new("cfg/j.jsonl"));
    assert_eq!(c.journal_key_env, None);
    let keyed = parse("journal_key_env = \"DORMANT_JOURNAL_KEY\"\n").unwrap();
    assert_eq!(keyed.journal_key_env.as_deref(), Some("DORMANT_JOURNAL_KEY"));
    let p = c.connector("portal").unwrap();
    assert_eq!(
        (p.kind.as_str(), p.url.as_str()),
        ("huwise", "https://data.example.org")
    );
    let own = p.own::<HuwiseKeys>();
    assert_eq!(own.api_key_env, "HUWISE_API_KEY");
    assert_eq!(p.limits.requests_per_second, Some(5.0));
    assert_eq!(p.enrich, vec![PathBuf::from("cfg/logins.csv")]);
    assert!(own.revoke());
    assert_eq!(c.connector("docs").unwrap().kind.as_str(), "docspace");
    let missing = c.connector("portl").unwrap_err().to_string();
    assert!(missing.contains("did you mean `portal`"), "{missing}");
}

#[test]
fn mistakes_are_reported_at_their_span() {
    let cases = [
        (
            "[connector.a]\nkind = \"huwsie\"\n",
            "unknown connector kind `huwsie`",
            "\"huwsie\"",
        ),
        (
            "[connector.a]\nkind = \"huwise\"\nurl = \"https://x.org\"\napi_key_env = \"K\"\ndeactivate = \"expire\"\n",
            "`deactivate` takes only \"revoke\", not `expire`",
            "\"expire\"",
        ),
        (
            "[connector.a]\nkind = \"huwise\"\nurl = \"https://x.org\"\napi_key_env = \"K\"\ndeactivate_via_expiry = true\n",
            "`deactivate_via_expiry` is gone: Huwise's `expires_at` is read-only, so an expiry set through the API changes nothing",
            "true",
        ),
        (
            "[connector.a]\nkind = \"huwise\"\nurl = \"https://x.org\"\napi_key_env = \"K\"\ntoken_env = \"T\"\n",
            "`token_env` is not a key of a `huwise` connector",
            "\"T\"",
        ),
        (
            "[connector.a]\nkind = \"huwise\"\nurl = \"http://data.example.org\"\napi_key_env = \"K\"\n",
            "plain http is refused for `http://data.example.org`: the secret would cross the network unencrypted",
            "\"http://data.example.org\"",
        ),
        (
            "[connector.a]\nkind = \"docspace\"\nurl = \"https://x.org\"\napi_key_env = \"my key\"\n",
            "`api_key_env` names an environment variable, not `my key`",
            "\"my key\"",
        ),
        (
            "journal_key_env = \"dormant journal key\"\n",
            "`journal_key_env` names an environment variable, not `dormant journal key`",
            "\"dormant journal key\"",
        ),
        (
            "[connector.a]\nkind = \"huwise\"\nurl = \"https://x.org\"\napi_key_env = \"K\"\nrequests_per_second = 0\n",
            "`requests_per_second` must be a number above 0",
            "0",
        ),
    ];
    for (text, message, spanned) in cases {
        let (m, s) = at(text, parse(text).unwrap_err());
        assert_eq!(m, message);
        assert_eq!(s, spanned, "{m}");
    }
    let text = "[connector.a]\nkind = \"huwise\"\nurl = \"https://x.org\"\napi_key = \"K\"\n";
    let (m, s) = at(text, parse(text).unwrap_err());
    assert!(m.starts_with("unknown field `api_key`"), "{m}");
    assert_eq!(s, "api_key");
    let text = "[connector.a]\nkind = \"huwise\"\nurl = \"https://x.org\"\n";
    let (m, _) = parse(text).unwrap_err();
    assert_eq!(m, "connector `a` (huwise) needs `api_key_env`");
}

#[test]
fn loopback_may_be_plain_http() {
    for url in ["http://localhost:1", "http://127.0.0.2:9", "http://[::1]:80"] {
        let text = format!("[connector.a]\nkind = \"scim\"\nurl = \"{url}\"\ntoken_env = \"T\"\n");
        assert!(parse(&text).is_ok(), "{url}");
    }
}

#[test]
fn bevy_names_its_keys_owner_and_its_page_size() {
    let c = parse(
        "[connector.events]\nkind = \"bevy\"\nurl = \"https://events.example.com\"\ntoken_env = \"BEVY_TOKEN\"\nuser = \"ana@example.org\"\npage_size = 1000\nbatch_size = 250\n\n[connector.bi]\nkind = \"metric_insights\"\nurl = \"https://bi.example.com\"\ntoken_env = \"MI_TOKEN\"\nuser = \"svc.dormant\"\n",
    )
    .unwrap();
    let e = c.connector("events").unwrap();
    assert_eq!(e.own::<BevyKeys>().user.as_deref(), Some("ana@example.org"));
    assert_eq!((e.limits.page_size, e.limits.batch_size), (Some(1000), Some(250)));
    let bi = c.connector("bi").unwrap();
    let own = bi.own::<MetricInsightsKeys>();
    assert_eq!(own.user.as_deref(), Some("svc.dormant"));
    assert_eq!(own.token_env.as_deref(), Some("MI_TOKEN"));
    let bevy = "[connector.a]\nkind = \"bevy\"\nurl = \"https://x.org\"\ntoken_env = \"T\"\n";
    for bad in ["0", "1001"] {
        let text = format!("{bevy}page_size = {bad}\n");
        let (m, s) = at(&text, parse(&text).unwrap_err());
        assert_eq!(m, "`page_size` must be between 1 and 1000");
        assert_eq!(s, bad);
    }
    let text = "[connector.a]\nkind = \"huwise\"\nurl = \"https://x.org\"\napi_key_env = \"K\"\npage_size = 10\n";
    let (m, s) = at(text, parse(text).unwrap_err());
    assert_eq!(m, "`page_size` is not a key of a `huwise` connector");
    assert_eq!(s, "10");
}

#[test]
fn a_value_of_the_wrong_type_is_named_at_its_span() {
    let docebo =
        "[connector.a]\nkind = \"docebo\"\nurl = \"https://x.org\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n";
    let cases = [
        (
            "enrollments = \"yes\"\n",
            "invalid type: string \"yes\", expected a boolean",
            "\"yes\"",
        ),
        (
            "retries = -1\n",
            "invalid type: integer `-1`, expected a whole number, 0 or more",
            "-1",
        ),
        (
            "enrich = \"a.csv\"\n",
            "invalid type: string \"a.csv\", expected a list of strings",
            "\"a.csv\"",
        ),
    ];
    for (extra, message, spanned) in cases {
        let text = format!("{docebo}{extra}");
        let (m, s) = at(&text, parse(&text).unwrap_err());
        assert_eq!((m.as_str(), s.as_str()), (message, spanned));
    }
    let ok = parse(&format!("{docebo}enrollments = true\ntimezone = \"Europe/Rome\"\n")).unwrap();
    let c = ok.connector("a").unwrap();
    let own = c.own::<DoceboKeys>();
    assert!(own.enrollments);
    assert_eq!(own.timezone, Some(chrono_tz::Tz::Europe__Rome));
}

/// What serde still refuses after the type checks (a key the struct
/// lacks, a value it cannot take, a key it needs) is a mistake at the
/// key's value, or at the table: never a panic.
#[test]
fn a_key_the_struct_refuses_is_named_at_its_span() {
    use crate::connector::platform::Table;
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "only deserialized")]
    struct Own {
        id: String,
        size: Option<u64>,
    }
    let at = |start, end| Span::new(start, end);
    let table = |values: &[(&str, Span, toml::Value)]| Table {
        span: at(0, 100),
        values: values
            .iter()
            .map(|(k, s, v)| (k.to_string(), (*s, v.clone())))
            .collect(),
    };
    let id = ("id", at(10, 13), toml::Value::from("a"));
    let cases = [
        (
            table(&[id.clone(), ("extra", at(20, 22), toml::Value::from(true))]),
            "unknown field `extra`, expected `id` or `size`",
            at(20, 22),
        ),
        (
            table(&[id.clone(), ("size", at(30, 33), toml::Value::from("ten"))]),
            "invalid type: string \"ten\", expected u64",
            at(30, 33),
        ),
        (table(&[]), "missing field `id`", at(0, 100)),
    ];
    for (t, message, span) in cases {
        let e = t.own::<Own>().unwrap_err();
        assert_eq!((e.message.as_str(), e.span), (message, span));
    }
    // The keys every platform shares are not its own: they never reach it.
    let shared = table(&[id, ("url", at(40, 45), toml::Value::from("https://x.org"))]);
    assert!(shared.own::<Own>().is_ok());
}

#[test]
fn logins_from_names_identity_providers_of_the_file_at_its_span() {
    const IDP: &str = "[connector.okta]\nkind = \"okta\"\nurl = \"https://x.okta.com\"\ntoken_env = \"O\"\n\
        [connector.corp]\nkind = \"graph\"\ntenant = \"t\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n";
    let app =
        |logins: &str| format!("{IDP}[connector.app]\nkind = \"file\"\npath = \"u.csv\"\nlogins_from = {logins}\n");
    let c = parse(&app(r#"["okta", "corp"]"#)).unwrap();
    let a = c.connector("app").unwrap();
    let names: Vec<&str> = a.logins_from.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["okta", "corp"]);
    // Graph's address unless `url` says.
    assert_eq!(a.logins_from[1].url, "https://graph.microsoft.com");
    for (logins, message) in [
        (r#"["otka"]"#, "no connector `otka` to take logins from"),
        (
            r#"["app"]"#,
            "connector `app` is of kind `file`, not an identity provider",
        ),
        (r#""okta""#, "invalid type: string \"okta\", expected a list of strings"),
    ] {
        let text = app(logins);
        assert_eq!(
            at(&text, parse(&text).unwrap_err()),
            (message.to_string(), logins.to_string())
        );
    }
    let text = format!("{IDP}logins_from = [\"okta\"]\n");
    assert_eq!(
        at(&text, parse(&text).unwrap_err()),
        (
            "connector `corp` is an identity provider: it takes no `logins_from`".to_string(),
            "[\"okta\"]".to_string()
        )
    );
}
