//! The normalized user record (SPEC section 2) that every connector yields,
//! with "known, never, unknown" kept apart.

use crate::time::Time;
use serde::Serialize;

/// Text of the record. Short values (ids, group names, most emails) are
/// kept inline rather than behind a pointer each: a plan reads millions
/// of them, and evaluation speed is the speed of reaching them.
pub type Text = compact_str::CompactString;

mod set;
pub use set::Set;

/// A value that may be known, known not to exist (*never*), or not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Known<T> {
    Value(T),
    /// The source says there is no such event.
    Never,
    /// The source cannot tell.
    #[default]
    Unknown,
}

impl<T: Copy> Known<T> {
    pub fn value(&self) -> Option<T> {
        match self {
            Known::Value(v) => Some(*v),
            _ => None,
        }
    }
}

/// `status`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Invited,
    Disabled,
    PendingDelete,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Active, Status::Invited, Status::Disabled, Status::PendingDelete];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Invited => "invited",
            Status::Disabled => "disabled",
            Status::PendingDelete => "pending_delete",
        }
    }

    /// Case-insensitive.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// An `attr.*` value: whatever the source provides.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Text(String),
    Number(f64),
    Bool(bool),
    Time(Time),
}

/// `deactivated`: when the account was disabled, with where that time
/// came from, so that an explanation can say it (SPEC section 2: the
/// platform where it says, else dormant's own journal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deactivated {
    pub at: Time,
    pub from: Origin,
}

/// Where a `deactivated` time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The users' source: the platform (or a users file, or a snapshot of
    /// the platform) said so.
    Source,
    /// Dormant's journal: the last confirmed deactivation, not undone since.
    Journal,
}

impl Deactivated {
    pub fn from_source(at: Time) -> Deactivated {
        Deactivated {
            at,
            from: Origin::Source,
        }
    }
}

/// One user. `None` means *unknown* (the source did not say).
///
/// The fields most policies compare come first and in this order (hence
/// `repr(C)`): deciding over a million users reads them from memory, not
/// cache, and a few neighbouring cache lines per user are read faster
/// than the same fields scattered over the record (measured: 78 → 72 ns
/// per user with `bench.policy`).
#[derive(Debug, Clone, Default, PartialEq)]
#[repr(C)]
pub struct User {
    pub status: Option<Status>,
    pub is_admin: Option<bool>,
    pub is_service: Option<bool>,
    pub joined: Option<Time>,
    pub last_login: Known<Time>,
    pub last_activity: Known<Time>,
    pub email: Option<Text>,
    pub group: Option<Set>,
    /// `group_name`: the display names of the groups in `group`, where the
    /// source knows them.
    pub group_name: Option<Set>,
    pub permission: Option<Set>,
    /// `activity.NAME` counters the source reported.
    pub activity: smallvec::SmallVec<[(Text, f64); 2]>,
    pub id: Text,
    pub username: Option<Text>,
    pub name: Option<Text>,
    pub role: Option<Set>,
    pub source: Option<Text>,
    /// `deactivated`: when the account was disabled, and who says so.
    pub deactivated: Option<Deactivated>,
    /// `attr.NAME` attributes the source reported.
    pub attr: Vec<(Text, Attr)>,
    /// The connector that supplied `last_login` when the user's own source
    /// did not (an identity provider the connector's `logins_from` names),
    /// so that an explanation can say it; `None` when the source said.
    pub last_login_from: Option<Text>,
}

impl User {
    /// `never_logged_in`: whether `last_login` is *never*.
    pub fn never_logged_in(&self) -> Option<bool> {
        match self.last_login {
            Known::Value(_) => Some(false),
            Known::Never => Some(true),
            Known::Unknown => None,
        }
    }

    /// The instant `inactive` counts from: the last login, or `joined` when
    /// the user never logged in.
    pub fn inactive_since(&self) -> Option<Time> {
        match self.last_login {
            Known::Value(t) => Some(t),
            Known::Never => self.joined,
            Known::Unknown => None,
        }
    }

    /// `has_activity`: true when a counter is above 0 or `last_activity` is a
    /// time; false when every counter is 0 (or there are none) and
    /// `last_activity` is never; unknown otherwise.
    pub fn has_activity(&self) -> Option<bool> {
        if self.activity.iter().any(|(_, n)| *n > 0.0) || matches!(self.last_activity, Known::Value(_)) {
            return Some(true);
        }
        match self.last_activity {
            Known::Never => Some(false),
            _ => None,
        }
    }

    /// `deactivated` as a time, unknown when no one says.
    pub fn deactivated_at(&self) -> Option<Time> {
        self.deactivated.map(|d| d.at)
    }

    pub fn activity(&self, name: &str) -> Option<f64> {
        self.activity.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attr.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Whether `who` (an id, username or email) names this user, ignoring case.
    pub fn is_named(&self, who: &str) -> bool {
        let who = who.trim();
        self.id.eq_ignore_ascii_case(who)
            || [&self.username, &self.email]
                .into_iter()
                .flatten()
                .any(|v| v.to_lowercase() == who.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_time;

    #[test]
    fn derived_fields_keep_never_and_unknown_apart() {
        let joined = parse_time("2024-01-01");
        let mut u = User {
            joined,
            ..User::default()
        };
        assert_eq!(u.never_logged_in(), None);
        assert_eq!(u.inactive_since(), None);
        assert_eq!(u.has_activity(), None);
        u.last_login = Known::Never;
        u.last_activity = Known::Never;
        assert_eq!(u.never_logged_in(), Some(true));
        assert_eq!(u.inactive_since(), joined);
        assert_eq!(u.has_activity(), Some(false));
        u.activity.push(("posts".into(), 0.0));
        assert_eq!(u.has_activity(), Some(false));
        u.activity.push(("courses".into(), 2.0));
        assert_eq!(u.has_activity(), Some(true));
        u.activity.clear();
        u.last_activity = Known::Unknown;
        assert_eq!(u.has_activity(), None);
    }

    #[test]
    fn named_by_id_username_or_email_ignoring_case() {
        let u = User {
            id: "U1".into(),
            username: Some("Ana".into()),
            email: Some("Ana@Example.org".into()),
            ..User::default()
        };
        assert!(u.is_named("u1") && u.is_named("ana") && u.is_named("ana@example.org"));
        assert!(!u.is_named("bob"));
    }
}
