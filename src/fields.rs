//! The user record's fields (SPEC section 2), the one catalogue that the
//! checker, the evaluator and the suggestions all read.

/// What kind of value a field holds, as far as a policy is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Free text: `email`, `username`, ...
    Text,
    /// One of the status words.
    Status,
    /// A point in time (possibly *never*): `joined`, `last_login`, `deactivated`.
    Time,
    /// A set of words: `group`, `group_name`, `role`, `permission`.
    Set,
    /// `true` or `false`.
    Bool,
    /// An `activity.*` counter.
    Number,
    /// An age: `inactive`.
    Duration,
    /// An `attr.*` attribute: text, number, bool or time, known only at run time.
    Any,
}

impl Type {
    /// How messages name a value of this type.
    pub fn describe(self) -> &'static str {
        match self {
            Type::Text => "text",
            Type::Status => "a status word",
            Type::Time => "a time",
            Type::Set => "a set of words",
            Type::Bool => "true or false",
            Type::Number => "a number",
            Type::Duration => "a duration",
            Type::Any => "an attribute",
        }
    }
}

/// A resolved field of the user record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    Id,
    Username,
    Email,
    Name,
    Status,
    Joined,
    LastLogin,
    LastActivity,
    Group,
    /// The display names of the user's groups, where the source knows them.
    GroupName,
    /// When the account was disabled: from the platform, else the journal.
    Deactivated,
    Role,
    Permission,
    IsAdmin,
    IsService,
    Source,
    NeverLoggedIn,
    Inactive,
    HasActivity,
    /// `activity.NAME`
    Activity(String),
    /// `attr.NAME`
    Attr(String),
}

/// Every plain field, by its policy name.
pub const FIELDS: &[(&str, Field)] = &[
    ("id", Field::Id),
    ("username", Field::Username),
    ("email", Field::Email),
    ("name", Field::Name),
    ("status", Field::Status),
    ("joined", Field::Joined),
    ("last_login", Field::LastLogin),
    ("last_activity", Field::LastActivity),
    ("group", Field::Group),
    ("group_name", Field::GroupName),
    ("deactivated", Field::Deactivated),
    ("role", Field::Role),
    ("permission", Field::Permission),
    ("is_admin", Field::IsAdmin),
    ("is_service", Field::IsService),
    ("source", Field::Source),
    ("never_logged_in", Field::NeverLoggedIn),
    ("inactive", Field::Inactive),
    ("has_activity", Field::HasActivity),
];

/// The prefixes of the open-ended field families.
pub const PREFIXES: &[&str] = &["activity", "attr"];

/// The values `status` can take.
pub const STATUSES: &[&str] = &["active", "invited", "disabled", "pending_delete"];

impl Field {
    /// Resolves a name as written in a policy (`group`, `activity.logins`).
    pub fn lookup(name: &str) -> Option<Field> {
        if let Some((prefix, rest)) = name.split_once('.') {
            let rest = rest.to_string();
            return match prefix {
                "activity" if !rest.is_empty() => Some(Field::Activity(rest)),
                "attr" if !rest.is_empty() => Some(Field::Attr(rest)),
                _ => None,
            };
        }
        FIELDS.iter().find(|(n, _)| *n == name).map(|(_, f)| f.clone())
    }

    pub fn ty(&self) -> Type {
        match self {
            Field::Id | Field::Username | Field::Email | Field::Name | Field::Source => Type::Text,
            Field::Status => Type::Status,
            Field::Joined | Field::LastLogin | Field::LastActivity | Field::Deactivated => Type::Time,
            Field::Group | Field::GroupName | Field::Role | Field::Permission => Type::Set,
            Field::IsAdmin | Field::IsService | Field::NeverLoggedIn | Field::HasActivity => Type::Bool,
            Field::Inactive => Type::Duration,
            Field::Activity(_) => Type::Number,
            Field::Attr(_) => Type::Any,
        }
    }

    /// The name a policy uses for this field.
    /// The name of a field that is not `activity.*` or `attr.*`.
    pub fn plain_name(&self) -> Option<&'static str> {
        Some(match self {
            Field::Id => "id",
            Field::Username => "username",
            Field::Email => "email",
            Field::Name => "name",
            Field::Status => "status",
            Field::Joined => "joined",
            Field::LastLogin => "last_login",
            Field::LastActivity => "last_activity",
            Field::Group => "group",
            Field::GroupName => "group_name",
            Field::Deactivated => "deactivated",
            Field::Role => "role",
            Field::Permission => "permission",
            Field::IsAdmin => "is_admin",
            Field::IsService => "is_service",
            Field::Source => "source",
            Field::NeverLoggedIn => "never_logged_in",
            Field::Inactive => "inactive",
            Field::HasActivity => "has_activity",
            Field::Activity(_) | Field::Attr(_) => return None,
        })
    }

    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Activity(n) => write!(f, "activity.{n}"),
            Field::Attr(n) => write!(f, "attr.{n}"),
            other => f.write_str(other.plain_name().unwrap_or("")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_the_table_s() {
        for (name, field) in FIELDS {
            assert_eq!(field.plain_name(), Some(*name));
        }
        assert_eq!(Field::Activity("x".into()).plain_name(), None);
    }

    #[test]
    fn lookup_plain_and_prefixed_names() {
        assert_eq!(Field::lookup("group"), Some(Field::Group));
        assert_eq!(Field::lookup("activity.logins"), Some(Field::Activity("logins".into())));
        assert_eq!(Field::lookup("attr.dept"), Some(Field::Attr("dept".into())));
        assert_eq!(Field::lookup("activity."), None);
        assert_eq!(Field::lookup("grop"), None);
        assert_eq!(Field::lookup("other.x"), None);
    }

    #[test]
    fn every_field_names_itself() {
        for (name, field) in FIELDS {
            assert_eq!(&field.name(), name);
            assert_eq!(Field::lookup(name).as_ref(), Some(field));
        }
    }
}
