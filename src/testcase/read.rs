//! Reading a tests file: its TOML, with the place of every value, into
//! cases and every problem found, each at its line and column.

use super::{Case, Errors, Loaded, Problem, RuleRef, ValueProblem, CASE_KEYS, TOP_KEYS};
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

/// Reads the cases of a tests file, and every problem in it. A UTF-8 byte
/// order mark at the start is no part of the text (nor of any column).
pub(super) fn load(text: &str) -> Loaded {
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
        let label = match table.get("name").and_then(|n| n.get_ref().as_str()) {
            Some(name) => format!("case \"{name}\""),
            None => format!("case {}", index + 1),
        };
        let before = self.errors.len();
        let k = self.keys(table, &label);
        let l = Some(label.as_str());
        let name = self.string(k.name, "name", node, l);
        let expect = self.expect(k.expect, node, l);
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

    /// The keys of a case, each in its place; an unknown one is a problem.
    fn keys<'a, 'i>(&mut self, table: &'a DeTable<'i>, label: &str) -> Keys<'a, 'i> {
        let mut k = Keys::default();
        for (key, value) in table.iter() {
            let slot = match key.get_ref().as_ref() {
                "name" => &mut k.name,
                "expect" => &mut k.expect,
                "rule" => &mut k.rule,
                "as_of" => &mut k.as_of,
                "user" => &mut k.user,
                "notices" => &mut k.notices,
                other => {
                    self.unknown(key.span(), other, &CASE_KEYS, "in a case", Some(label));
                    continue;
                }
            };
            *slot = Some(value);
        }
        k
    }

    /// `expect`: an action, or a problem with the nearest action.
    fn expect(&mut self, node: Option<&Node<'_>>, case: &Node<'_>, l: Option<&str>) -> Option<PlanAction> {
        let given = self.string(node, "expect", case, l)?;
        let action = PlanAction::parse(&given);
        if action.is_none() {
            let near = crate::suggest::closest(&given, PlanAction::ALL.iter().map(|a| a.as_str()));
            let near = near.map(str::to_string);
            let span = node.map_or(case.span(), Spanned::span);
            self.error(span, l, Problem::Expect { given, near });
        }
        action
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
