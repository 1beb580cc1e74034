//! A compiled condition written back as policy text, as explanations,
//! reasons and the plan's JSON name it.

use crate::program::{Cond, Program};
use std::fmt::{self, Write as _};

/// A condition in policy syntax.
pub struct CondText<'p>(pub &'p Program, pub &'p Cond);

impl fmt::Display for CondText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_cond(self.0, self.1, false, f)
    }
}

fn write_cond(p: &Program, c: &Cond, nested: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let joined = |cs: &[Cond], op: &str, f: &mut fmt::Formatter<'_>| -> fmt::Result {
        if nested {
            f.write_char('(')?;
        }
        for (i, c) in cs.iter().enumerate() {
            if i > 0 {
                f.write_str(op)?;
            }
            write_cond(p, c, true, f)?;
        }
        if nested {
            f.write_char(')')?;
        }
        Ok(())
    };
    match c {
        Cond::Leaf(i) => f.write_str(p.leaves.get(*i).map_or("", |l| l.text.as_str())),
        Cond::Let(name, _) => f.write_str(name),
        Cond::Not(c) => {
            f.write_str("not ")?;
            write_cond(p, c, true, f)
        }
        Cond::And(cs) => joined(cs, " and ", f),
        Cond::Or(cs) => joined(cs, " or ", f),
    }
}
