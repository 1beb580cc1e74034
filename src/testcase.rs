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

use crate::connector::record::{self, Cell};
use crate::decision::PlanAction;
use crate::fields::Field;
use crate::source::LineIndex;
use crate::time::{self, Time};
use crate::user::User;
use serde::Deserialize;
use std::ops::Range;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

/// A value of the file, with its place.
type Node<'i> = Spanned<DeValue<'i>>;

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
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = Reader {
        text,
        lines: LineIndex::new(text),
        errors: Errors::default(),
        rules: Vec::new(),
    };
    let (root, syntax) = DeTable::parse_recoverable(text);
    for e in &syntax {
        r.error(e.span().unwrap_or(0..0), None, Problem::Syntax(e.message().to_string()));
    }
    // What follows a syntax error is guesswork: say only what is sure.
    if !syntax.is_empty() {
        return Loaded {
            cases: Vec::new(),
            rules: Vec::new(),
            errors: r.errors,
        };
    }
    let root = root.into_inner();
    let (mut as_of, mut defaults, mut cases) = (None, None, None);
    for (key, value) in root.iter() {
        match key.get_ref().as_ref() {
            "as_of" => as_of = r.instant(value, "as_of", None),
            "defaults" => defaults = Some(value),
            "case" => cases = Some(value),
            other => r.unknown(key.span(), other, &TOP_KEYS, "at the top of the file", None),
        }
    }
    let base = defaults.map(|d| r.defaults(d, &mut as_of));
    let mut out = Vec::new();
    match cases.map(|c| (c, c.get_ref())) {
        None => {}
        Some((_, DeValue::Array(items))) => {
            for (i, item) in items.iter().enumerate() {
                out.extend(r.case(item, i, base.as_ref(), as_of));
            }
        }
        Some((c, _)) => r.error(
            c.span(),
            None,
            Problem::Type {
                key: "case",
                want: "a list of tables ([[case]])",
            },
        ),
    }
    Loaded {
        cases: out,
        rules: r.rules,
        errors: r.errors,
    }
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

/// The file being read, and the problems found so far.
struct Reader<'t> {
    text: &'t str,
    lines: LineIndex,
    errors: Errors,
    rules: Vec<RuleRef>,
}

/// A case's keys, found.
#[derive(Default)]
struct Keys<'a, 'i> {
    name: Option<&'a Node<'i>>,
    expect: Option<&'a Node<'i>>,
    rule: Option<&'a Node<'i>>,
    as_of: Option<&'a Node<'i>>,
    user: Option<&'a Node<'i>>,
    notices: Option<&'a Node<'i>>,
}

impl Reader<'_> {
    fn at(&self, span: &Range<usize>) -> (usize, usize) {
        self.lines.line_col(self.text, span.start)
    }

    fn error(&mut self, span: Range<usize>, case: Option<&str>, problem: Problem) {
        let at = Some(self.at(&span));
        self.errors.push(at, case.map(str::to_string), problem);
    }

    fn unknown(&mut self, span: Range<usize>, key: &str, keys: &[&str], place: &'static str, case: Option<&str>) {
        let near = crate::suggest::closest(key, keys.iter().copied()).map(str::to_string);
        let problem = Problem::UnknownKey {
            key: key.to_string(),
            place,
            near,
        };
        self.error(span, case, problem);
    }

    /// `[defaults]`: the user every case starts from, and perhaps the as-of.
    fn defaults(&mut self, node: &Node<'_>, as_of: &mut Option<Time>) -> User {
        let mut user = User::default();
        let Some(table) = node.get_ref().as_table() else {
            self.error(
                node.span(),
                None,
                Problem::Type {
                    key: "defaults",
                    want: "a table",
                },
            );
            return user;
        };
        for (key, value) in table.iter() {
            if key.get_ref() == "as_of" {
                *as_of = self.instant(value, "as_of", Some("[defaults]")).or(*as_of);
            } else {
                self.field(&mut user, key, value, Some("[defaults]"));
            }
        }
        user
    }

    /// One `[[case]]`; `None` when it has a problem (reported).
    /// With `[defaults]` (`base`), a case may leave out `user`.
    fn case(&mut self, node: &Node<'_>, index: usize, base: Option<&User>, as_of: Option<Time>) -> Option<Case> {
        let line = self.at(&node.span()).0;
        let Some(table) = node.get_ref().as_table() else {
            self.error(
                node.span(),
                None,
                Problem::Type {
                    key: "case",
                    want: "a table",
                },
            );
            return None;
        };
        let mut k = Keys::default();
        let label = match table.get("name").and_then(|n| n.get_ref().as_str()) {
            Some(name) => format!("case \"{name}\""),
            None => format!("case {}", index + 1),
        };
        let before = self.errors.len();
        for (key, value) in table.iter() {
            let slot = match key.get_ref().as_ref() {
                "name" => &mut k.name,
                "expect" => &mut k.expect,
                "rule" => &mut k.rule,
                "as_of" => &mut k.as_of,
                "user" => &mut k.user,
                "notices" => &mut k.notices,
                other => {
                    self.unknown(key.span(), other, &CASE_KEYS, "in a case", Some(&label));
                    continue;
                }
            };
            *slot = Some(value);
        }
        let l = Some(label.as_str());
        let name = self.string(k.name, "name", node, l);
        let expect = self.string(k.expect, "expect", node, l).and_then(|given| {
            let action = PlanAction::parse(&given);
            if action.is_none() {
                let near = crate::suggest::closest(&given, PlanAction::ALL.iter().map(|a| a.as_str()));
                let near = near.map(str::to_string);
                let span = k.expect.map_or(node.span(), Spanned::span);
                self.error(span, l, Problem::Expect { given, near });
            }
            action
        });
        let rule = k
            .rule
            .map(|r| (self.string(Some(r), "rule", node, l), self.at(&r.span())));
        let as_of = match k.as_of {
            Some(v) => self.instant(v, "as_of", l),
            None if as_of.is_none() => {
                self.error(node.span(), l, Problem::NoAsOf);
                None
            }
            None => as_of,
        };
        let mut user = User {
            id: compact_str::format_compact!("case-{}", index + 1),
            ..base.cloned().unwrap_or_default()
        };
        match k.user.map(|u| (u, u.get_ref().as_table())) {
            None if base.is_some() => {}
            None => self.error(node.span(), l, Problem::NoUser),
            Some((_, Some(fields))) => fields
                .iter()
                .for_each(|(key, value)| self.field(&mut user, key, value, l)),
            Some((u, None)) => self.error(
                u.span(),
                l,
                Problem::Type {
                    key: "user",
                    want: "a table",
                },
            ),
        }
        let notices = k.notices.map(|n| self.notices(n, l)).unwrap_or_default();
        if let Some((Some(name), at)) = rule.as_ref().filter(|(r, _)| r.as_deref() != Some("none")) {
            self.rules.push(RuleRef {
                name: name.clone(),
                at: *at,
                case: label.clone(),
            });
        }
        if self.errors.len() > before {
            return None;
        }
        let rule = match rule {
            Some((r, _)) => Some(r.map(|r| if r == "none" { None } else { Some(r) })?),
            None => None,
        };
        Some(Case {
            name: name?,
            line,
            expect: expect?,
            rule,
            as_of: as_of?,
            user,
            notices,
        })
    }

    /// A string-valued key of a case; a missing one or another type is a problem.
    fn string(
        &mut self,
        node: Option<&Node<'_>>,
        key: &'static str,
        case: &Node<'_>,
        l: Option<&str>,
    ) -> Option<String> {
        match node.map(|n| (n, n.get_ref().as_str())) {
            Some((_, Some(s))) => Some(s.to_string()),
            Some((n, None)) => {
                self.error(n.span(), l, Problem::Type { key, want: "a string" });
                None
            }
            None => {
                self.error(case.span(), l, Problem::Missing(key));
                None
            }
        }
    }

    /// A user field: a column of the user record, and a value it takes.
    fn field(&mut self, user: &mut User, key: &Spanned<toml::de::DeString<'_>>, value: &Node<'_>, l: Option<&str>) {
        let field = match record::column(key.get_ref()) {
            Ok(f) => f,
            Err(e) => return self.error(key.span(), l, Problem::Column(e)),
        };
        let result = match plain(value) {
            Some(v) => set(user, &field, &v),
            None => Err(ValueProblem::Table),
        };
        if let Err(detail) = result {
            let key = key.get_ref().to_string();
            self.error(value.span(), l, Problem::Value { key, detail });
        }
    }

    fn notices(&mut self, node: &Node<'_>, l: Option<&str>) -> Vec<(String, Time)> {
        const WANT: &str = "a list of { rule = \"NAME\", at = \"DATE\" }";
        let Some(items) = node.get_ref().as_array() else {
            self.error(
                node.span(),
                l,
                Problem::Type {
                    key: "notices",
                    want: WANT,
                },
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let table = item.get_ref().as_table();
            let rule = table.and_then(|t| t.get("rule")).and_then(|r| r.get_ref().as_str());
            let at = table.and_then(|t| t.get("at"));
            match (rule, at, table.map_or(0, |t| t.len())) {
                (Some(rule), Some(at), 2) => {
                    if let Some(at) = self.instant(at, "notices.at", l) {
                        out.push((rule.to_string(), at));
                    }
                }
                _ => self.error(
                    item.span(),
                    l,
                    Problem::Type {
                        key: "notices",
                        want: WANT,
                    },
                ),
            }
        }
        out
    }

    fn instant(&mut self, node: &Node<'_>, key: &'static str, l: Option<&str>) -> Option<Time> {
        let found = plain(node).and_then(|v| instant(&v));
        if found.is_none() {
            self.error(node.span(), l, Problem::Instant(key));
        }
        found
    }
}

/// A value of the file as a plain TOML value (without its places).
fn plain(node: &Node<'_>) -> Option<toml::Value> {
    toml::Value::deserialize(ValueDeserializer::from(node.clone())).ok()
}

fn set(user: &mut User, field: &Field, value: &toml::Value) -> Result<(), ValueProblem> {
    let datetime;
    let cell = match value {
        toml::Value::String(s) => Cell::Text(s),
        toml::Value::Integer(n) => Cell::Number(*n as f64),
        toml::Value::Float(n) => Cell::Number(*n),
        toml::Value::Boolean(b) => Cell::Bool(*b),
        toml::Value::Datetime(d) => {
            datetime = d.to_string();
            Cell::Text(&datetime)
        }
        toml::Value::Array(items) => {
            // A case's list replaces the default's, not adds to it.
            match field {
                Field::Group => user.group = None,
                Field::GroupName => user.group_name = None,
                Field::Role => user.role = None,
                Field::Permission => user.permission = None,
                _ => {}
            }
            record::empty_set(user, field);
            return items.iter().try_for_each(|item| match item {
                toml::Value::String(s) => Ok(record::push_set_item(user, field, s)?),
                _ => Err(ValueProblem::NotStrings),
            });
        }
        toml::Value::Table(_) => return Err(ValueProblem::Table),
    };
    Ok(record::set(user, field, cell)?)
}

fn instant(v: &toml::Value) -> Option<Time> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => String::new(),
    };
    time::parse_time(&text)
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
