//! Reading the JSON platforms answer with: the small rules every connector
//! shares, so that each reads ids, text and names the same way.

use super::{Unreadable, Warning};
use crate::user::Text;
use serde_json::Value;

/// A key's text, trimmed; `None` when it is absent, not text, or empty.
pub fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An id, given as a number or as text, from the first of `keys` there.
pub fn id(v: &Value, keys: &[&'static str]) -> Result<String, Unreadable> {
    match keys.iter().find_map(|k| v.get(k)) {
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(Unreadable::NoId {
            key: keys.first().copied().unwrap_or("id"),
            json: Unreadable::json(v),
        }),
    }
}

/// `first last`, from what of the two there is.
pub fn full_name(v: &Value, first: &str, last: &str) -> Option<Text> {
    let name = [text(v, first), text(v, last)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then(|| name.into())
}

/// Whether `u` is the user `name` names (a connector's `user`: the account
/// its key or token acts as), by username or email, ignoring case: a near
/// miss is kept rather than acted on.
pub fn is_named(name: Option<&str>, u: &crate::user::User) -> bool {
    let Some(name) = name else { return false };
    [u.username.as_deref(), u.email.as_deref()]
        .into_iter()
        .flatten()
        .any(|n| n.eq_ignore_ascii_case(name))
}

/// Marks the key's owner (`name`) as the service account and everyone else
/// as not; warns when no user is the one named, whose account then has no
/// protection but the policy's.
pub fn mark_owner(name: Option<&str>, users: &mut [crate::user::User], connector: &str) -> Option<Warning> {
    let name = name?;
    let mut found = false;
    for u in users.iter_mut() {
        let me = is_named(Some(name), u);
        found |= me;
        u.is_service = Some(me);
    }
    (!found && !users.is_empty()).then(|| {
        Warning::new(
            "dormant::connector::owner_not_found",
            format!(
                "connector `{connector}`: `user = \"{name}\"` is no user's username or email: the key's own account cannot be told apart"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_text_and_names() {
        assert_eq!(id(&json!({"id": 7}), &["id"]).unwrap(), "7");
        assert_eq!(id(&json!({"user_id": " u7 "}), &["user_id", "id"]).unwrap(), "u7");
        assert_eq!(
            id(&json!({"name": "x"}), &["user_id"]).unwrap_err().to_string(),
            "a user without an `user_id`: {\"name\":\"x\"}"
        );
        assert_eq!(text(&json!({"a": "  "}), "a"), None);
        assert_eq!(
            full_name(&json!({"f": "Ana", "l": "Lima"}), "f", "l").as_deref(),
            Some("Ana Lima")
        );
        assert_eq!(full_name(&json!({"l": "Lima"}), "f", "l").as_deref(), Some("Lima"));
        assert_eq!(full_name(&json!({}), "f", "l"), None);
    }

    #[test]
    fn an_owner_named_by_no_user_is_a_warning_not_a_print() {
        let user = |id: &str, username: &str| crate::user::User {
            id: id.into(),
            username: Some(username.into()),
            ..Default::default()
        };
        let mut users = vec![user("1", "ana"), user("2", "bo")];
        assert_eq!(mark_owner(Some("ANA"), &mut users, "events"), None);
        assert_eq!(users[0].is_service, Some(true));
        assert_eq!(users[1].is_service, Some(false));
        let warning = mark_owner(Some("cy"), &mut users, "events").unwrap();
        assert_eq!(warning.code, "dormant::connector::owner_not_found");
        assert_eq!(
            warning.message,
            "connector `events`: `user = \"cy\"` is no user's username or email: the key's own account cannot be told apart"
        );
        assert_eq!(mark_owner(None, &mut users, "events"), None);
        assert_eq!(mark_owner(Some("cy"), &mut [], "events"), None);
    }
}
