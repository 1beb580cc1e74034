//! Users written back out in the users-file format (a JSON array, one
//! object a line): what `fetch` prints, so that `--users` reads a snapshot
//! of a platform with no special case. Unknown values are left out, as the
//! users file reads an absent key; *never* is `null`.

use crate::time::Time;
use crate::user::{Attr, Known, Origin, User};
use serde_json::{Map, Value};

fn time(t: Time) -> Value {
    Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// One user as a users-file object.
pub fn object(u: &User) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    let text = |t: &Option<crate::user::Text>| t.as_ref().map(|t| Value::String(t.to_string()));
    let event = |k: Known<Time>| match k {
        Known::Value(t) => Some(time(t)),
        Known::Never => Some(Value::Null),
        Known::Unknown => None,
    };
    let set = |s: &Option<crate::user::Set>| {
        s.as_ref()
            .map(|s| Value::Array(s.iter().map(|v| Value::String(v.to_string())).collect()))
    };
    put("id", Some(Value::String(u.id.to_string())));
    put("username", text(&u.username));
    put("email", text(&u.email));
    put("name", text(&u.name));
    put("status", u.status.map(|s| Value::String(s.as_str().to_string())));
    put("joined", u.joined.map(time));
    put("last_login", event(u.last_login));
    put("last_activity", event(u.last_activity));
    put("group", set(&u.group));
    put("group_name", set(&u.group_name));
    // What the platform said: a time taken from the journal is the
    // journal's to give, at each plan, not the snapshot's.
    put(
        "deactivated",
        u.deactivated.filter(|d| d.from == Origin::Source).map(|d| time(d.at)),
    );
    put("role", set(&u.role));
    put("permission", set(&u.permission));
    put("is_admin", u.is_admin.map(Value::Bool));
    put("is_service", u.is_service.map(Value::Bool));
    put("source", text(&u.source));
    for (name, n) in &u.activity {
        put(
            &format!("activity.{name}"),
            serde_json::Number::from_f64(*n).map(Value::Number),
        );
    }
    for (name, a) in &u.attr {
        let v = match a {
            Attr::Text(s) => Value::String(s.clone()),
            Attr::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            Attr::Bool(b) => Value::Bool(*b),
            Attr::Time(t) => time(*t),
        };
        put(&format!("attr.{name}"), Some(v));
    }
    m
}

/// Users as a users file: a JSON array, one user a line.
pub fn write(users: &[User]) -> Vec<u8> {
    let mut out = b"[\n".to_vec();
    for (i, u) in users.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        out.extend_from_slice(Value::Object(object(u)).to_string().as_bytes());
    }
    out.extend_from_slice(b"\n]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_time;
    use crate::user::Status;

    #[test]
    fn a_snapshot_reads_back_as_the_same_users() {
        let users = vec![
            User {
                id: "ana".into(),
                email: Some("ana@example.org".into()),
                status: Some(Status::Disabled),
                joined: parse_time("2021-03-02T10:11:12Z"),
                last_login: Known::Never,
                last_activity: Known::Value(parse_time("2024-11-20T08:00:00.5Z").unwrap()),
                group: Some(crate::user::Set::from_iter(["gr_1"])),
                group_name: Some(crate::user::Set::from_iter(["Editors", "Data team"])),
                deactivated: parse_time("2026-10-01T09:30:00Z").map(crate::user::Deactivated::from_source),
                permission: Some(crate::user::Set::new()),
                is_admin: Some(true),
                source: Some("portal".into()),
                activity: smallvec::smallvec![("posts".into(), 3.0)],
                attr: vec![
                    ("account_type".into(), Attr::Text("local".into())),
                    ("is_ods".into(), Attr::Bool(false)),
                ],
                ..User::default()
            },
            User {
                id: "bob".into(),
                ..User::default()
            },
        ];
        let bytes = write(&users);
        let mut read = Vec::new();
        crate::connector::file::read("snapshot.json", bytes.as_slice(), &mut |b| read.extend(b)).unwrap();
        assert_eq!(read, users);
    }
}
