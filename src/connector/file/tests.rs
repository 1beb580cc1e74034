use super::*;
use crate::time::parse_time;
use crate::user::{Known, Status};

fn ok(name: &str, text: &str) -> Vec<User> {
    parse(name, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn err(name: &str, text: &str) -> String {
    parse(name, text.as_bytes())
        .map(|u| format!("{u:?}"))
        .unwrap_err()
        .to_string()
}

const CSV: &str = "id,username,email,status,joined,last_login,group,is_admin,activity.posts,attr.dept\n\
                   u1,ana,ana@example.org,active,2024-01-31,2026-01-02T10:00:00Z,admins;readers,true,3,sales\n\
                   u2,bob,,invited,2025-06-01,,,,,\n";

#[test]
fn csv_keeps_never_and_unknown_apart() {
    let users = ok("u.csv", CSV);
    assert_eq!(users.len(), 2);
    let (ana, bob) = (&users[0], &users[1]);
    assert_eq!(
        ana.last_login,
        Known::Value(parse_time("2026-01-02T10:00:00Z").unwrap())
    );
    assert_eq!(ana.group.as_deref(), Some(&["admins".into(), "readers".into()][..]));
    assert_eq!(ana.is_admin, Some(true));
    assert_eq!(ana.activity("posts"), Some(3.0));
    assert_eq!(bob.status, Some(Status::Invited));
    // An empty cell: never for last_login, the empty set for a set, unknown otherwise.
    assert_eq!(bob.last_login, Known::Never);
    assert_eq!(bob.group.as_deref(), Some(&[][..]));
    assert_eq!(bob.email, None);
    assert_eq!(bob.is_admin, None);
    assert_eq!(bob.activity("posts"), None);
    // A column that is absent: unknown.
    assert_eq!(bob.last_activity, Known::Unknown);
    assert_eq!(bob.role, None);
}

#[test]
fn group_names_and_deactivated_read_like_group_and_joined() {
    let users = ok(
        "u.csv",
        "id,group,group_name,deactivated\n\
         u1,g1;g2,Sales; Data team ,2026-10-01\n\
         u2,,,\n",
    );
    let (ana, bob) = (&users[0], &users[1]);
    assert_eq!(
        ana.group_name.as_deref(),
        Some(&["Sales".into(), "Data team".into()][..])
    );
    assert_eq!(
        ana.deactivated,
        parse_time("2026-10-01").map(crate::user::Deactivated::from_source)
    );
    // An empty cell: the empty set, and an unknown time (never *never*).
    assert_eq!(bob.group_name.as_deref(), Some(&[][..]));
    assert_eq!(bob.deactivated, None);
    let json = ok(
        "u.json",
        r#"[{"id": "u1", "group": ["g1", "g2"], "group_name": ["Sales", "Data team"], "deactivated": "2026-10-01"},
            {"id": "u2", "group": [], "group_name": [], "deactivated": null}]"#,
    );
    assert_eq!(json, users);
    assert!(err("u.csv", "id,deactivated\nu1,soon\n").contains("`soon` is not a time"));
}

#[test]
fn json_array_and_json_lines_read_the_same() {
    let array = r#"[
      {"id": "u1", "username": "ana", "last_login": null, "group": ["admins"], "is_admin": false,
       "activity.posts": 0, "attr.level": 3},
      {"id": 2, "joined": "2024-01-31", "group": null}
    ]"#;
    let lines = "{\"id\": \"u1\", \"username\": \"ana\", \"last_login\": null, \"group\": [\"admins\"], \"is_admin\": false, \"activity.posts\": 0, \"attr.level\": 3}\n\
                 {\"id\": 2, \"joined\": \"2024-01-31\", \"group\": null}\n";
    let a = ok("u.json", array);
    assert_eq!(a, ok("u.jsonl", lines));
    assert_eq!(a[0].last_login, Known::Never);
    assert_eq!(a[1].last_login, Known::Unknown);
    assert_eq!(a[1].id, "2");
    assert_eq!(a[1].group, None);
    assert_eq!(a[0].attr("level"), Some(&crate::user::Attr::Number(3.0)));
}

#[test]
fn csv_errors_name_the_line_the_column_and_the_value() {
    let text = "id,joined,status\nu1,2024-13-01,active\nu2,2024-01-01,gone\n";
    assert_eq!(
        err("u.csv", text),
        "u.csv:2: column `joined`: `2024-13-01` is not a time (RFC 3339, such as 2024-01-31T08:00:00Z, or YYYY-MM-DD)\n\
         u.csv:3: column `status`: `gone` is not a status (active, invited, disabled or pending_delete)"
    );
}

#[test]
fn bad_columns_are_errors_with_suggestions() {
    assert_eq!(
        err("u.csv", "id,last_logon\nu1,2024-01-01\n"),
        "u.csv:1: column 2: unknown column `last_logon`: did you mean `last_login`?"
    );
    assert!(err("u.csv", "username\nana\n").contains("there is no `id` column"));
    assert!(err("u.csv", "id,inactive\nu1,3\n").contains("derived"));
}

#[test]
fn a_derived_column_names_the_columns_that_feed_it() {
    insta::assert_snapshot!(err("u.csv", "id,inactive,never_logged_in,has_activity\nu1,3,true,false\n"), @"
    u.csv:1: column 2: column `inactive` is derived, never read: it is the time since `last_login`, or since `joined` for a user who never logged in; remove it, and give `last_login` and `joined` instead
    u.csv:1: column 3: column `never_logged_in` is derived, never read: it is true when `last_login` is never (an empty cell, `never` or JSON `null`); remove it, and give `last_login` instead
    u.csv:1: column 4: column `has_activity` is derived, never read: it is true when an `activity.NAME` counter is above 0 or `last_activity` is a time, false when every counter is 0 and `last_activity` is never; remove it, and give `last_activity` or `activity.NAME` instead
    ");
    insta::assert_snapshot!(err("u.json", "[{\"id\": \"u1\", \"has_activity\": true}]"), @"u.json:1: user 1: column `has_activity` is derived, never read: it is true when an `activity.NAME` counter is above 0 or `last_activity` is a time, false when every counter is 0 and `last_activity` is never; remove it, and give `last_activity` or `activity.NAME` instead (column 27)");
}

#[test]
fn json_errors_name_the_line_and_the_key() {
    let text = "[\n {\"id\": \"u1\"},\n {\"id\": \"u2\", \"joined\": \"soon\"}\n]";
    assert_eq!(
        err("u.json", text),
        "u.json:3: user 2, key `joined`: `soon` is not a time (RFC 3339, such as 2024-01-31T08:00:00Z, or YYYY-MM-DD) (column 31)"
    );
    assert!(err("u.json", "[{\"username\": \"x\"}]").contains("user 1 has no `id`"));
    assert!(err("u.json", "[{\"id\": \"u1\"}").contains("u.json:1: "));
    assert!(err("u.jsonl", "{\"id\": \"u1\"}\nnot json\n").starts_with("u.jsonl:2: "));
}

#[test]
fn duplicate_ids_are_errors() {
    assert_eq!(
        err("u.csv", "id\nu1\nu2\nu1\n"),
        "u.csv:4: user 3: id `u1` appears again (first as user 1)"
    );
}

#[test]
fn every_bad_json_object_is_reported_and_counting_goes_on() {
    let text =
        "[\n{\"id\": \"a\", \"joined\": \"x\"},\n{\"id\": \"b\"},\n{\"id\": \"c\", \"is_admin\": \"maybe\"}\n]\n";
    let e = err("u.json", text);
    assert!(e.starts_with("u.json:2: user 1, key `joined`"), "{e}");
    assert!(
        e.contains("\nu.json:4: user 3, key `is_admin`: `maybe` is not true or false"),
        "{e}"
    );
}

#[test]
fn a_truncated_json_file_is_an_error() {
    assert_eq!(
        err("u.json", "[{\"id\": \"a\"},\n{\"id\": \"b\""),
        "u.json:2: the file ends inside a user object"
    );
    assert_eq!(
        err("u.json", "[{\"id\": \"a\"}"),
        "u.json:1: the file ends before the closing `]`"
    );
    assert_eq!(
        err("u.json", "[{\"id\": \"a\"}] x"),
        "u.json:1: unexpected text after the closing `]`"
    );
}

#[test]
fn objects_larger_than_a_read_chunk_are_read_whole() {
    let long = "x".repeat(super::CHUNK + 10);
    let text = format!("[{{\"id\": \"a\", \"name\": \"{long}\"}}, {{\"id\": \"b\"}}]");
    let users = ok("u.json", &text);
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].name.as_deref().map(str::len), Some(long.len()));
}

/// A byte order mark is skipped before CSV, a JSON array and JSON lines,
/// whole or handed over a byte at a time, and hashed with the rest.
#[test]
fn a_byte_order_mark_is_skipped_and_hashed() {
    /// A reader that gives one byte per read, as a slow pipe may.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some((first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            buf[0] = *first;
            self.0 = rest;
            Ok(1)
        }
    }
    for text in [
        "id,email\na,a@x.org\n",
        "[{\"id\": \"a\", \"email\": \"a@x.org\"}]",
        "{\"id\": \"a\", \"email\": \"a@x.org\"}\n",
    ] {
        let marked = format!("\u{feff}{text}");
        assert_eq!(ok("-", &marked), ok("-", text), "{text}");
        let mut users = Vec::new();
        let finished = read("stdin", Trickle(marked.as_bytes()), &mut |b| users.extend(b)).unwrap();
        assert_eq!(users, ok("-", text), "{text}");
        assert_eq!(finished.sha256, sha256_hex(marked.as_bytes()));
    }
}

#[test]
fn the_hash_is_of_the_whole_file() {
    let text = b"[{\"id\": \"a\"}]\n\n";
    let mut users = Vec::new();
    let finished = read("u.json", &text[..], &mut |b| users.extend(b)).unwrap();
    assert_eq!(finished.sha256, sha256_hex(text));
    assert_eq!(finished.count, 1);
}

#[test]
fn reading_on_threads_hashes_the_whole_file_too() {
    let dir = std::env::temp_dir().join(format!("dormant-spawn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("u.json");
    let text: String = std::iter::once("[".to_string())
        .chain((0..20_000).map(|i| {
            format!(
                "{}{{\"id\": \"u{i}\", \"email\": \"u{i}@example.org\"}}\n",
                if i > 0 { "," } else { "" }
            )
        }))
        .chain(std::iter::once("]\n".to_string()))
        .collect();
    std::fs::write(&path, &text).unwrap();
    let (batches, handle) = spawn(&path);
    let count: usize = batches.iter().map(|b| b.len()).sum();
    let finished = handle.join().unwrap().unwrap();
    assert_eq!((count, finished.count), (20_000, 20_000));
    assert_eq!(finished.sha256, sha256_hex(text.as_bytes()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn repeated_ids_are_found_in_file_order_whatever_their_number() {
    let mut ids = Ids::default();
    for (user, id) in ["a", "b", "a", "c", "a", "b"].iter().enumerate() {
        ids.add(id, user + 1, Some(user + 2));
    }
    let found = ids.repeats();
    assert_eq!(
        found,
        [
            (Some(4), "user 3: id `a` appears again (first as user 1)".to_string()),
            (Some(6), "user 5: id `a` appears again (first as user 1)".to_string()),
            (Some(7), "user 6: id `b` appears again (first as user 2)".to_string()),
        ]
    );
}

/// Names of one to four bytes a character, so that some character is cut
/// by every chunk boundary of a file this long.
#[test]
fn characters_cut_by_a_chunk_boundary_are_read_whole() {
    let names = ["Ana", "Élodie", "Zoë", "李雷", "𝔄lex"];
    let rows: Vec<String> = (0..20_000)
        .map(|i| format!(r#"{{"id":"u{i}","name":"{} {i}"}}"#, names[i % names.len()]))
        .collect();
    // The first read is of 64 KiB: white space before the users moves a
    // character across its end.
    let text = (0..4000)
        .map(|pad| format!("[{}\n{}\n]\n", " ".repeat(pad), rows.join(",\n")))
        .find(|t| !t.is_char_boundary(1 << 16))
        .unwrap();
    let users = ok("u.json", &text);
    assert_eq!(users.len(), 20_000);
    for (i, u) in users.iter().enumerate() {
        assert_eq!(
            u.name.as_deref(),
            Some(format!("{} {i}", names[i % names.len()]).as_str())
        );
    }
}

#[test]
fn text_that_is_not_utf8_is_an_error_on_its_line() {
    let mut bytes = b"[\n{\"id\":\"u1\"},\n{\"id\":\"u2\",\"name\":\"".to_vec();
    bytes.extend_from_slice(&[0xC3, 0x28]);
    bytes.extend_from_slice(b"\"}\n]\n");
    let e = parse("u.json", bytes.as_slice()).unwrap_err().to_string();
    assert!(e.contains("line 3: the text is not UTF-8"), "{e}");
    // Cut off at the very end of the file.
    let e = parse("u.json", &b"[{\"id\":\"u1\"}] \xE2\x82"[..])
        .unwrap_err()
        .to_string();
    assert!(e.contains("not UTF-8"), "{e}");
}

#[test]
fn a_quote_left_open_at_the_end_of_a_csv_file_is_an_error() {
    // The csv reader would take the rest of the file as the cell.
    assert_eq!(
        err("u.csv", "id,username\nu1,ana\nu2,\"bob\n"),
        "u.csv:3: column `username`: the quote that opens this cell is never closed: the file ends inside it (a quote in a cell is written twice: \"\")"
    );
    assert_eq!(
        err("u.csv", "id,username\nu1,\"ana\nu2,bob\n"),
        "u.csv:2: column `username`: the quote that opens this cell is never closed: the file ends inside it (a quote in a cell is written twice: \"\")"
    );
    // Closed quotes, doubled quotes, a quote inside a plain cell, and no
    // line feed at the end are all fine.
    for text in [
        "id,username\nu1,\"ana, \"\"the\"\" first\"\n",
        "id,username\nu1,\"ana\"",
        "id,username\nu1,an\"a\n",
        "id,username\r\nu1,\"a\r\nb\"\r\n",
    ] {
        assert_eq!(ok("u.csv", text).len(), 1, "{text}");
    }
}

#[test]
fn the_end_of_a_long_csv_file_is_read_for_an_open_quote() {
    let mut text = String::from("id,username\n");
    for i in 0..20_000 {
        text.push_str(&format!("u{i},user{i}\n"));
    }
    assert_eq!(ok("u.csv", &text).len(), 20_000);
    text.push_str("last,\"open\n");
    assert_eq!(
        err("u.csv", &text),
        "u.csv:20002: column `username`: the quote that opens this cell is never closed: the file ends inside it (a quote in a cell is written twice: \"\")"
    );
}

#[test]
fn a_key_given_twice_in_a_user_is_an_error() {
    for name in ["u.json", "u.jsonl"] {
        let (open, close) = if name == "u.json" { ("[", "]") } else { ("", "") };
        let text = format!(
            "{open}{{\"id\": \"u1\", \"is_admin\": false}}{}\n{{\"id\": \"u2\", \"is_admin\": false, \"is_admin\": true}}{close}\n",
            if name == "u.json" { "," } else { "" }
        );
        let e = err(name, &text);
        assert!(
            e.starts_with(&format!("{name}:2: user 2: key `is_admin` appears twice")),
            "{e}"
        );
    }
    let e = err("u.json", "[{\"id\": \"u1\", \" id\": \"u2\"}]");
    assert!(
        e.starts_with("u.json:1: user 1: key ` id` gives `id` again, after `id`"),
        "{e}"
    );
    // Keys in another order from one user to the next are no repeat.
    let users = ok(
        "u.json",
        r#"[{"id": "u1", "username": "a"}, {"username": "b", "id": "u2"}, {"id": "u3", "username": "c"}]"#,
    );
    assert_eq!(users.len(), 3);
}

#[test]
fn numbers_in_a_set_are_named_with_the_file_line_and_key() {
    assert_eq!(
        err("u.json", "[\n{\"id\": \"u1\", \"group\": [1, 2]}\n]"),
        "u.json:2: user 1, key `group`: `group` is a set of words, but this list holds a number where words are expected: write it as text, \"1\" (column 29)"
    );
    assert!(err("u.jsonl", "{\"id\": \"u1\", \"role\": [\"a\", true]}\n")
        .starts_with("u.jsonl:1: user 1, key `role`: `role` is a set of words, but this list holds true or false"));
}

#[test]
fn headers_are_limited_in_width() {
    let long = "x".repeat(crate::limits::MAX_COLUMN_NAME + 1);
    assert_eq!(
        err("u.csv", &format!("id,{long}\nu1,2\n")),
        format!(
            "u.csv:1: column 2: a column name has at most 256 characters, and this one has 257: `{}…`",
            "x".repeat(40)
        )
    );
    assert!(err("u.json", &format!("[{{\"id\": \"u1\", \"{long}\": 1}}]"))
        .starts_with("u.json:1: user 1: a column name has at most 256 characters, and this one has 257"));
    let many: Vec<String> = (0..=crate::limits::MAX_COLUMNS).map(|i| format!("attr.c{i}")).collect();
    assert_eq!(
        err("u.csv", &format!("id,{}\n", many.join(","))),
        "u.csv:1: the header has 4098 columns, and a users file has at most 4096"
    );
    let keys: Vec<String> = many.iter().map(|k| format!("\"{k}\": 1")).collect();
    assert!(err("u.json", &format!("[{{\"id\": \"u1\", {}}}]", keys.join(", ")))
        .starts_with("u.json:1: user 1: a user has at most 4096 keys"));
}

#[test]
fn huge_headers_are_refused_quickly() {
    let t = std::time::Instant::now();
    // 100,000 columns, and one column name of 20 MB.
    let many: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
    assert!(err("u.csv", &format!("id,{}\n", many.join(","))).contains("at most 4096"));
    let huge = "y".repeat(20 << 20);
    assert!(err("u.csv", &format!("id,{huge}\n")).contains("this one has 20971520"));
    assert!(err("u.json", &format!("[{{\"id\": \"u1\", \"{huge}\": 1}}]")).contains("this one has 20971520"));
    assert!(t.elapsed() < std::time::Duration::from_secs(20), "{:?}", t.elapsed());
}
