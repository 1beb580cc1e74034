//! A value seen by a condition, and the field it is of, as people read
//! them in explanations and reasons (`json.rs` writes the same values as
//! JSON).

use crate::eval::{FieldRef, Val};
use crate::time;
use std::fmt::{self, Write as _};

impl fmt::Display for FieldRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldRef::Field(field) => field.fmt(f),
            FieldRef::Activity(name) => write!(f, "activity.{name}"),
        }
    }
}

impl fmt::Display for Val<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Text(s) => f.write_str(s),
            Val::Texts(v) => {
                f.write_char('[')?;
                for (i, t) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(t)?;
                }
                f.write_char(']')
            }
            Val::Number(n) => write!(f, "{n}"),
            Val::Bool(b) => write!(f, "{b}"),
            Val::Time(t) => f.write_str(time::Rfc3339::new(*t).as_str()),
            Val::TimeFrom(t, from) => write!(f, "{} (from {from})", time::Rfc3339::new(*t).as_str()),
            Val::Never => f.write_str("never"),
            Val::NeverFrom(from) => write!(f, "never (from {from})"),
            Val::Unknown => f.write_str("unknown"),
        }
    }
}
