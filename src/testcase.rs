//! Policy test cases: `NAME.tests.toml` beside `NAME.policy`. Each case is a
//! user (fields as in the user record), an optional as-of and notices, and
//! the expected action and, optionally, rule. `[defaults]` holds the user
//! fields every case starts from (a case's own values win).
//!
//! ```toml
//! as_of = "2026-11-23"                 # default for every case
//!
//! [defaults]                           # optional: every case's user starts here
//! status = "active"
//!
//! [[case]]
//! name = "an invitation never accepted goes after 90 days"
//! expect = "delete"
//! rule = "stale_invites"                # or "none", or "exempt"
//! user = { id = "u1", status = "invited", joined = "2026-01-01", last_login = "never" }
//! notices = [{ rule = "dormant", at = "2026-10-01" }]   # optional
//! ```
//!
//! The file is read whole before any case runs, and every problem in it is
//! reported at once, each at its line and column (from toml's spans): a
//! file with problems runs no case.

use crate::connector::record;
use crate::decision::PlanAction;
use crate::time::Time;
use crate::user::User;

mod read;

/// The keys at the top of a tests file.
const TOP_KEYS: [&str; 3] = ["as_of", "defaults", "case"];
/// The keys of a case.
const CASE_KEYS: [&str; 6] = ["name", "expect", "rule", "as_of", "user", "notices"];
/// What `rule` may name besides the policy's rules.
const NO_RULE: [&str; 2] = ["none", "exempt"];

/// One test case, ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// The line of the case in its file (of `[[case]]`, or of its table).
    pub line: usize,
    pub expect: PlanAction,
    /// `Some(None)` expects no rule to match.
    pub rule: Option<Option<String>>,
    pub as_of: Time,
    pub user: User,
    pub notices: Vec<(String, Time)>,
}

/// A tests file read: the cases that are whole, and every problem found.
/// The cases are only to be run when there is no problem.
#[derive(Debug)]
pub struct Loaded {
    pub cases: Vec<Case>,
    /// Every rule a case names, whole case or not, to check against the
    /// policy's: so that a misspelt rule is reported with the rest.
    pub rules: Vec<RuleRef>,
    pub errors: Errors,
}

/// A rule named by a case, and where.
#[derive(Debug, Clone)]
pub struct RuleRef {
    pub name: String,
    pub at: (usize, usize),
    /// `case "NAME"`, or `case N`.
    pub case: String,
}

/// Every problem of a tests file, each where it is.
#[derive(Debug, Default, thiserror::Error, miette::Diagnostic)]
#[error("{} problems in a tests file", list.len())]
#[diagnostic(code(dormant::tests))]
pub struct Errors {
    list: Vec<Located>,
}

/// One problem: where (line, column), in which case, and what.
#[derive(Debug)]
pub struct Located {
    pub at: Option<(usize, usize)>,
    /// `case "NAME"`, or `case N` for a case without a name.
    pub case: Option<String>,
    pub problem: Problem,
}

impl Errors {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn push(&mut self, at: Option<(usize, usize)>, case: Option<String>, problem: Problem) {
        self.list.push(Located { at, case, problem });
    }

    /// One line per problem, in the order of the file, each after the
    /// file's name, with its help on a line of its own; then a line that
    /// says no case ran.
    pub fn render(&self, path: &str) -> String {
        let mut list: Vec<&Located> = self.list.iter().collect();
        list.sort_by_key(|l| l.at);
        let mut out = String::new();
        for l in list {
            let at = l.at.map(|(line, col)| format!("{line}:{col}:")).unwrap_or_default();
            let case = l.case.as_ref().map(|c| format!(" {c}:")).unwrap_or_default();
            out.push_str(&format!("{path}:{at}{case} {}\n", l.problem));
            if let Some(help) = l.problem.help() {
                out.push_str(&format!("  help: {help}\n"));
            }
        }
        let n = self.list.len();
        let s = if n == 1 { "" } else { "s" };
        out.push_str(&format!("{path}: {n} problem{s}, so none of its cases ran"));
        out
    }
}

/// What is wrong in a case, or at the top of the file.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Syntax(String),
    #[error("unknown key `{key}` {place}")]
    UnknownKey {
        key: String,
        place: &'static str,
        near: Option<String>,
    },
    #[error("no `{0}`: every case has one")]
    Missing(&'static str),
    #[error("no `user`: every case has one, unless the file has [defaults]")]
    NoUser,
    #[error("`{key}` must be {want}")]
    Type { key: &'static str, want: &'static str },
    #[error("`expect = \"{given}\"`: an action is keep, review, notify, wait, deactivate or delete")]
    Expect { given: String, near: Option<String> },
    #[error("`rule = \"{given}\"`: the policy has no rule of that name (nor is it \"none\" or \"exempt\")")]
    Rule { given: String, near: Option<String> },
    #[error("no `as_of`: give one in the case or at the top of the file, so the case means the same tomorrow")]
    NoAsOf,
    #[error("`{0}` must be a date (2026-11-23) or an RFC 3339 time")]
    Instant(&'static str),
    /// A `user` key that is no column of the user record.
    #[error("user: {0}")]
    Column(record::CellError),
    /// A `user` value the field cannot take.
    #[error("user.{key}: {detail}")]
    Value { key: String, detail: ValueProblem },
}

impl Problem {
    /// A likely fix: the name meant, for a misspelt one.
    pub fn help(&self) -> Option<String> {
        match self {
            Problem::UnknownKey { near, .. } | Problem::Expect { near, .. } | Problem::Rule { near, .. } => {
                near.as_ref().map(|n| format!("did you mean `{n}`?"))
            }
            _ => None,
        }
    }
}

/// Why a `user` value is not one the field takes.
#[derive(Debug, thiserror::Error)]
pub enum ValueProblem {
    #[error(transparent)]
    Cell(#[from] record::CellError),
    #[error("a list holds strings only")]
    NotStrings,
    #[error("a table is not a field value")]
    Table,
}
/// Reads the cases of a tests file, and every problem in it. A UTF-8 byte
/// order mark at the start is no part of the text (nor of any column).
pub fn load(text: &str) -> Loaded {
    read::load(text)
}

/// Adds a problem for every case whose `rule` the policy does not have,
/// with the nearest name it does.
pub fn check_rules<'a>(named: &[RuleRef], rules: impl IntoIterator<Item = &'a str> + Clone, errors: &mut Errors) {
    for c in named {
        let given = &c.name;
        let mut known = rules.clone().into_iter().chain(NO_RULE);
        if known.any(|r| r == given) {
            continue;
        }
        let near = crate::suggest::closest(given, rules.clone().into_iter().chain(NO_RULE)).map(str::to_string);
        errors.push(
            Some(c.at),
            Some(c.case.clone()),
            Problem::Rule {
                given: given.clone(),
                near,
            },
        );
    }
}
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests fail loudly")]

    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let loaded = load(text);
        let path = "t.tests.toml";
        loaded.errors.render(path).lines().map(str::to_string).collect()
    }

    #[test]
    fn a_case_reads_its_line_and_its_user() {
        let text = "as_of = \"2026-11-23\"\n\n[[case]]\nname = \"a\"\nexpect = \"keep\"\nrule = \"none\"\nuser = { is_admin = true }\n";
        let loaded = load(text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let case = &loaded.cases[0];
        assert_eq!((case.name.as_str(), case.line), ("a", 3));
        assert_eq!(case.rule, Some(None));
        assert_eq!(case.user.id, "case-1");
        assert!(loaded.rules.is_empty(), "`none` names no rule");
    }

    /// The mark is skipped, and no column: the same problem is at the same
    /// place with it and without.
    #[test]
    fn a_byte_order_mark_is_skipped() {
        let text = "as_of = \"2026-11-23\"\n[[case]]\nname = \"a\"\nexpect = \"kep\"\nuser = {}\n";
        let marked = format!("\u{feff}{text}");
        assert_eq!(problems(&marked), problems(text));
        assert!(problems(text)[0].starts_with("t.tests.toml:4:10: case \"a\": `expect = \"kep\"`"));
    }

    #[test]
    fn every_problem_is_reported_in_the_order_of_the_file() {
        let text = "[[case]]\nname = \"a\"\nexpect = \"kep\"\nuser = { last_logon = \"never\" }\n\n[[case]]\nexpect = \"keep\"\nusr = {}\n";
        let lines = problems(text);
        assert!(
            lines[0].starts_with("t.tests.toml:1:1: case \"a\": no `as_of`"),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("t.tests.toml:3:10: case \"a\": `expect"),
            "{lines:?}"
        );
        assert_eq!(lines[2], "  help: did you mean `keep`?");
        assert!(
            lines[3].starts_with("t.tests.toml:4:10: case \"a\": user: unknown column `last_logon`"),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("t.tests.toml:6:1: case 2: no `name`")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("t.tests.toml:8:1: case 2: unknown key `usr`")),
            "{lines:?}"
        );
        assert!(lines.contains(&"  help: did you mean `user`?".to_string()), "{lines:?}");
        assert_eq!(
            lines.last().unwrap(),
            "t.tests.toml: 7 problems, so none of its cases ran"
        );
    }

    /// Did-you-mean for a rule: a near name is offered, a far one is not.
    #[test]
    fn a_misspelt_rule_gets_the_nearest_name_and_a_strange_one_none() {
        let text = "as_of = \"2026-11-23\"\n[[case]]\nname = \"a\"\nexpect = \"keep\"\nrule = \"staf\"\nuser = {}\n[[case]]\nname = \"b\"\nexpect = \"keep\"\nrule = \"zzzzzz\"\nuser = {}\n";
        let loaded = load(text);
        let mut errors = loaded.errors;
        check_rules(&loaded.rules, ["staff", "dormant"], &mut errors);
        let lines: Vec<String> = errors.render("t").lines().map(str::to_string).collect();
        assert!(
            lines[0].starts_with("t:5:8: case \"a\": `rule = \"staf\"`"),
            "{lines:?}"
        );
        assert_eq!(lines[1], "  help: did you mean `staff`?");
        assert!(
            lines[2].starts_with("t:10:8: case \"b\": `rule = \"zzzzzz\"`"),
            "{lines:?}"
        );
        assert_eq!(lines[3], "t: 2 problems, so none of its cases ran");
        // Rules the policy has, and "exempt", are no problem.
        let mut none = Errors::default();
        let named = vec![RuleRef {
            name: "exempt".into(),
            at: (1, 1),
            case: "case 1".into(),
        }];
        check_rules(&named, ["staff"], &mut none);
        assert!(none.is_empty());
    }

    /// `[defaults]` is where each user starts: a case's values win, a
    /// case's list replaces the default list, and `user` may be left out.
    #[test]
    fn defaults_are_where_each_user_starts() {
        let text = "as_of = \"2026-11-23\"\n[defaults]\nis_admin = true\ngroup = [\"a\", \"b\"]\nstatus = \"active\"\n\n[[case]]\nname = \"own\"\nexpect = \"keep\"\nuser = { is_admin = false, group = [\"c\"] }\n\n[[case]]\nname = \"bare\"\nexpect = \"keep\"\n";
        let loaded = load(text);
        assert!(loaded.errors.is_empty(), "{}", loaded.errors.render("t"));
        let [own, bare] = &loaded.cases[..] else {
            panic!("two cases: {:?}", loaded.cases)
        };
        assert_eq!(own.user.is_admin, Some(false));
        assert_eq!(bare.user.is_admin, Some(true));
        let mut only_c = User::default();
        record::push_set_item(&mut only_c, &record::column("group").unwrap(), "c").unwrap();
        assert_eq!(own.user.group, only_c.group);
        assert_ne!(bare.user.group, only_c.group);
        assert!(bare.user.status.is_some());
        assert_eq!(bare.user.status, own.user.status);
        assert_eq!((own.user.id.as_str(), bare.user.id.as_str()), ("case-1", "case-2"));
        // Without defaults, a case needs its `user`.
        let lines = problems("as_of = \"2026-11-23\"\n[[case]]\nname = \"x\"\nexpect = \"keep\"\n");
        assert!(
            lines[0].ends_with("no `user`: every case has one, unless the file has [defaults]"),
            "{lines:?}"
        );
    }
}
