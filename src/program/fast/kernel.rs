//! The kernels: one comparison each, specialised for its field and test.
//! Each mirrors what [`crate::eval::leaf`] does for its field and test, and
//! only those; everything else is left to `leaf` itself.

use crate::ast::CmpOp;
use crate::fields::Field;
use crate::program::{Leaf, Operand, Test};
use crate::time::{self, Time};
use crate::user::{Known, Set, Status, User};
use crate::value::{Folded, Glob, Truth};

/// A truth value as a number, so that the connectives are arithmetic:
/// `and` is the least, `or` the greatest, `not` the mirror image.
pub(super) type T = u8;
pub(super) const FALSE: T = 0;
pub(super) const UNKNOWN: T = 1;
pub(super) const TRUE: T = 2;

pub(super) fn of(b: bool) -> T {
    if b {
        TRUE
    } else {
        FALSE
    }
}

pub(super) fn known(b: Option<bool>) -> T {
    b.map_or(UNKNOWN, of)
}

pub(super) fn truth(t: T) -> Truth {
    match t {
        FALSE => Truth::False,
        TRUE => Truth::True,
        _ => Truth::Unknown,
    }
}

/// One comparison, specialised. Each mirrors what `eval::leaf` does for
/// its field and test, and only those; everything else is `Other`.
#[derive(Debug, Clone)]
pub(super) enum Kernel {
    /// A bool field equal to `want`.
    Bool(BoolField, bool),
    /// `status` among the statuses of a mask (bit `Status as u8`), or not.
    Status {
        mask: u8,
        negate: bool,
    },
    /// A time field compared with an instant (an age's cut-off, or a time).
    Time(TimeField, CmpOp, Time),
    SetIn(SetField, Folded),
    SetMatches(SetField, Glob),
    /// `==`, `!=` (negated) or `in` on a text field.
    TextIn {
        field: TextField,
        list: Folded,
        negate: bool,
    },
    TextMatches(TextField, Glob),
    Activity(String, CmpOp, f64),
    /// The leaf at this index, compared by the definition, [`crate::eval::leaf`].
    Other(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum BoolField {
    IsAdmin,
    IsService,
    NeverLoggedIn,
    HasActivity,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum TimeField {
    Joined,
    LastLogin,
    LastActivity,
    Inactive,
    Deactivated,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum SetField {
    Group,
    GroupName,
    Role,
    Permission,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum TextField {
    Id,
    Username,
    Email,
    Name,
    Source,
}

pub(super) fn specialise(l: &Leaf, index: usize) -> Kernel {
    let other = Kernel::Other(index);
    let bool_field = match l.field {
        Field::IsAdmin => Some(BoolField::IsAdmin),
        Field::IsService => Some(BoolField::IsService),
        Field::NeverLoggedIn => Some(BoolField::NeverLoggedIn),
        Field::HasActivity => Some(BoolField::HasActivity),
        _ => None,
    };
    let time_field = match l.field {
        Field::Joined => Some(TimeField::Joined),
        Field::LastLogin => Some(TimeField::LastLogin),
        Field::LastActivity => Some(TimeField::LastActivity),
        Field::Inactive => Some(TimeField::Inactive),
        Field::Deactivated => Some(TimeField::Deactivated),
        _ => None,
    };
    let set_field = match l.field {
        Field::Group => Some(SetField::Group),
        Field::GroupName => Some(SetField::GroupName),
        Field::Role => Some(SetField::Role),
        Field::Permission => Some(SetField::Permission),
        _ => None,
    };
    let text_field = match l.field {
        Field::Id => Some(TextField::Id),
        Field::Username => Some(TextField::Username),
        Field::Email => Some(TextField::Email),
        Field::Name => Some(TextField::Name),
        Field::Source => Some(TextField::Source),
        _ => None,
    };
    let eq_ne = |op: CmpOp| matches!(op, CmpOp::Eq | CmpOp::Ne).then_some(op == CmpOp::Ne);
    match (&l.field, &l.test) {
        (_, Test::IsTrue) => bool_field.map_or(other, |f| Kernel::Bool(f, true)),
        (_, Test::Cmp(op, Operand::Bool(b))) => match (bool_field, eq_ne(*op)) {
            (Some(f), Some(negate)) => Kernel::Bool(f, *b != negate),
            _ => other,
        },
        (_, Test::Age { op, cutoff, .. }) | (_, Test::Cmp(op, Operand::Time(cutoff))) => {
            time_field.map_or(other, |f| Kernel::Time(f, *op, *cutoff))
        }
        (Field::Status, Test::Cmp(op, Operand::Text(lit))) => match eq_ne(*op) {
            Some(negate) => Kernel::Status {
                mask: status_mask(|s| s == lit),
                negate,
            },
            None => other,
        },
        (Field::Status, Test::In(_, list)) => Kernel::Status {
            mask: status_mask(|s| list.contains(s)),
            negate: false,
        },
        (_, Test::In(_, list)) => match (set_field, text_field) {
            (Some(f), _) => Kernel::SetIn(f, list.clone()),
            (_, Some(field)) => Kernel::TextIn {
                field,
                list: list.clone(),
                negate: false,
            },
            _ => other,
        },
        (_, Test::Cmp(op, Operand::Text(lit))) => match (text_field, eq_ne(*op)) {
            (Some(field), Some(negate)) => Kernel::TextIn {
                field,
                list: Folded::new([lit.as_str()]),
                negate,
            },
            _ => other,
        },
        (_, Test::Matches(glob)) => match (set_field, text_field) {
            (Some(f), _) => Kernel::SetMatches(f, glob.clone()),
            (_, Some(f)) => Kernel::TextMatches(f, glob.clone()),
            _ => other,
        },
        (Field::Activity(name), Test::Cmp(op, Operand::Number(n))) => Kernel::Activity(name.clone(), *op, *n),
        _ => other,
    }
}

pub(super) fn status_mask(f: impl Fn(&str) -> bool) -> u8 {
    Status::ALL
        .into_iter()
        .filter(|s| f(s.as_str()))
        .fold(0, |mask, s| mask | 1 << s as u8)
}

/// A comparison's rough cost, to run the cheap ones first.
pub(super) fn cost(k: &Kernel) -> u8 {
    match k {
        Kernel::Bool(..) | Kernel::Status { .. } => 0,
        Kernel::Time(..) => 1,
        Kernel::Activity(..) => 2,
        Kernel::TextIn { .. } => 3,
        Kernel::SetIn(..) => 4,
        Kernel::TextMatches(..) | Kernel::SetMatches(..) => 5,
        Kernel::Other(_) => 6,
    }
}

#[inline(always)]
pub(super) fn kernel(k: &Kernel, leaves: &[Leaf], u: &User, other: impl Fn(&Leaf, &User) -> Truth) -> T {
    match k {
        Kernel::Bool(f, want) => {
            let v = match f {
                BoolField::IsAdmin => u.is_admin,
                BoolField::IsService => u.is_service,
                BoolField::NeverLoggedIn => u.never_logged_in(),
                BoolField::HasActivity => u.has_activity(),
            };
            known(v.map(|v| v == *want))
        }
        Kernel::Status { mask, negate } => known(u.status.map(|s| ((mask >> s as u8) & 1 == 1) != *negate)),
        Kernel::Time(f, op, at) => {
            let known_time = |k: Known<Time>| k.value();
            let t = match f {
                TimeField::Joined => u.joined,
                TimeField::LastLogin => known_time(u.last_login),
                TimeField::LastActivity => known_time(u.last_activity),
                TimeField::Inactive => u.inactive_since(),
                TimeField::Deactivated => u.deactivated_at(),
            };
            known(t.map(|t| time::compare(&t, *op, at)))
        }
        Kernel::SetIn(f, list) => known(set_in(u, *f, list)),
        Kernel::SetMatches(f, glob) => known(set(u, *f).map(|s| s.iter().any(|v| glob.matches(v)))),
        Kernel::TextIn { field, list, negate } => known(text(u, *field).map(|v| list.contains(v) != *negate)),
        Kernel::TextMatches(f, glob) => known(text(u, *f).map(|v| glob.matches(v))),
        Kernel::Activity(name, op, n) => known(u.activity(name).map(|v| time::compare(&v, *op, n))),
        Kernel::Other(i) => match leaves.get(*i).map(|l| other(l, u)) {
            Some(Truth::True) => TRUE,
            Some(Truth::False) => FALSE,
            _ => UNKNOWN,
        },
    }
}

/// `f in list`: unknown when the set is.
#[inline]
pub(super) fn set_in(u: &User, f: SetField, list: &Folded) -> Option<bool> {
    set(u, f).map(|s| list.may_hold_any(s.bits()) && holds_any(s, list))
}

/// Whether `list` holds a value of `s`, once their bits could not tell:
/// out of line, so that the common case stays small enough to inline.
#[inline(never)]
pub(super) fn holds_any(s: &Set, list: &Folded) -> bool {
    s.iter().any(|v| list.contains(v))
}

pub(super) fn set(u: &User, f: SetField) -> Option<&Set> {
    match f {
        SetField::Group => u.group.as_ref(),
        SetField::GroupName => u.group_name.as_ref(),
        SetField::Role => u.role.as_ref(),
        SetField::Permission => u.permission.as_ref(),
    }
}

pub(super) fn text(u: &User, f: TextField) -> Option<&str> {
    match f {
        TextField::Id => Some(&u.id),
        TextField::Username => u.username.as_deref(),
        TextField::Email => u.email.as_deref(),
        TextField::Name => u.name.as_deref(),
        TextField::Source => u.source.as_deref(),
    }
}
