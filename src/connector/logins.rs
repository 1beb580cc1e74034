//! Last logins from identity providers: a connector's `logins_from` names
//! Okta or Microsoft Graph connectors, whose users' last logins fill in
//! the ones the connector's platform leaves unknown. Users join by email
//! or username, ignoring case (an identity provider's login name is often
//! the email an application knows the user by).
//!
//! Like an enrich file, an identity provider only fills in: a platform's
//! own `last_login` wins, a user the identity provider does not know (or
//! whose last login it cannot tell) stays *unknown*, and each value taken
//! records the connector it came from (`User::last_login_from`), for
//! explanations to show.

use crate::user::{Known, Text, User};
use std::collections::HashMap;

/// What one identity provider gave, for the message after a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Filled {
    /// Users whose unknown last login it filled in.
    pub filled: usize,
    /// Users with no last login that it does not know, or knows under an
    /// email or username that two of its users share.
    pub unmatched: usize,
}

/// Fills in `users`' unknown last logins from `idp`'s users, recording
/// connector `from` as their source.
pub fn fill(from: &str, idp: &[User], users: &mut [User]) -> Filled {
    let index = index(idp);
    let origin: Text = from.into();
    let mut done = Filled::default();
    for u in users.iter_mut().filter(|u| matches!(u.last_login, Known::Unknown)) {
        let found = [&u.email, &u.username]
            .into_iter()
            .flatten()
            .find_map(|k| index.get(&k.trim().to_lowercase()).copied().flatten());
        match found.map(|i| i.last_login) {
            Some(login @ (Known::Value(_) | Known::Never)) => {
                u.last_login = login;
                u.last_login_from = Some(origin.clone());
                done.filled += 1;
            }
            // Known to the identity provider, which cannot tell: unknown.
            Some(Known::Unknown) => {}
            None => done.unmatched += 1,
        }
    }
    done
}

/// The identity provider's users by lower-case email and username. A key
/// two users share names neither (`None`): a login must not be given to
/// the wrong person.
fn index(idp: &[User]) -> HashMap<String, Option<&User>> {
    let mut index: HashMap<String, Option<&User>> = HashMap::with_capacity(idp.len() * 2);
    for u in idp {
        let keys = [&u.email, &u.username]
            .into_iter()
            .flatten()
            .map(|k| k.trim().to_lowercase());
        let mut mine: Vec<String> = keys.collect();
        mine.dedup();
        for k in mine {
            index.entry(k).and_modify(|e| *e = None).or_insert(Some(u));
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_time;

    fn user(id: &str, email: Option<&str>, username: Option<&str>, login: Known<crate::time::Time>) -> User {
        User {
            id: id.into(),
            email: email.map(Into::into),
            username: username.map(Into::into),
            last_login: login,
            ..User::default()
        }
    }

    #[test]
    fn fills_only_what_the_platform_left_unknown_by_email_or_username() {
        let t = |s| parse_time(s).map_or(Known::Unknown, Known::Value);
        let idp = [
            user("o1", Some("Ana@Example.org"), Some("ana@example.org"), t("2026-10-01")),
            user("o2", Some("bo@example.org"), Some("BO"), Known::Never),
            user("o3", Some("cy@example.org"), None, Known::Unknown),
            // Two users share `shared@example.org`: it names neither.
            user("o4", Some("shared@example.org"), Some("d1"), t("2026-01-01")),
            user("o5", Some("shared@example.org"), Some("d2"), t("2026-01-02")),
        ];
        let mut users = [
            user("1", Some("ana@EXAMPLE.org"), None, Known::Unknown),
            user("2", None, Some("bo"), Known::Unknown),
            user("3", Some("cy@example.org"), None, Known::Unknown),
            user("4", Some("shared@example.org"), None, Known::Unknown),
            user("5", Some("ed@example.org"), None, Known::Unknown),
            user("6", Some("ana@example.org"), None, t("2026-11-01")),
        ];
        let done = fill("okta", &idp, &mut users);
        assert_eq!(
            done,
            Filled {
                filled: 2,
                unmatched: 2
            }
        );
        let [ana, bo, cy, shared, ed, own] = &users;
        assert_eq!(
            (ana.last_login, ana.last_login_from.as_deref()),
            (t("2026-10-01"), Some("okta"))
        );
        assert_eq!(
            (bo.last_login, bo.last_login_from.as_deref()),
            (Known::Never, Some("okta"))
        );
        // Known to the identity provider, which cannot tell; not known to it; ambiguous.
        for u in [cy, shared, ed] {
            assert_eq!(
                (u.last_login, u.last_login_from.as_deref()),
                (Known::Unknown, None),
                "{}",
                u.id
            );
        }
        // The platform's own value wins.
        assert_eq!(
            (own.last_login, own.last_login_from.as_deref()),
            (t("2026-11-01"), None)
        );
    }
}
