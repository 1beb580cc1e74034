//! The policy AST, as the parser builds it: every node carries its span, and
//! names are still plain text (the checker resolves fields, `let` names and
//! actions). Equality ignores spans so that round-trip tests can compare two
//! parses of differently laid out text.

use crate::source::{Span, Spanned};
use chrono::{DateTime, Utc};

/// A whole policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub statements: Vec<Stmt>,
}

/// One top-level statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `let NAME = EXPR`
    Let(Let),
    /// `[NAME:] EXPR -> ACTION [after notice DURATION]`
    Rule(Rule),
    /// `limit ACTION N` or `limit ACTION P%`
    Limit(Limit),
    /// `exempt "WHO" [until DATE] "REASON"`
    Exempt(Exempt),
}

impl Stmt {
    pub fn span(&self) -> Span {
        match self {
            Stmt::Let(s) => s.span,
            Stmt::Rule(s) => s.span,
            Stmt::Limit(s) => s.span,
            Stmt::Exempt(s) => s.span,
        }
    }
}

/// `let NAME = EXPR`
#[derive(Debug, Clone)]
pub struct Let {
    pub name: Spanned<String>,
    pub expr: Expr,
    pub span: Span,
}

/// `[NAME:] EXPR -> ACTION [after notice DURATION]`
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: Option<Spanned<String>>,
    pub cond: Expr,
    /// The action word as written; the checker resolves it.
    pub action: Spanned<String>,
    /// `after notice VALUE`: the value as written (the checker wants a duration).
    pub notice: Option<Spanned<Lit>>,
    pub span: Span,
}

/// `limit ACTION N` or `limit ACTION P%`
#[derive(Debug, Clone)]
pub struct Limit {
    pub action: Spanned<String>,
    pub amount: Spanned<f64>,
    pub percent: bool,
    pub span: Span,
}

/// `exempt "WHO" [until DATE] "REASON"`
#[derive(Debug, Clone)]
pub struct Exempt {
    pub who: Spanned<String>,
    pub until: Option<Spanned<Lit>>,
    pub reason: Spanned<String>,
    pub span: Span,
}

/// A condition.
#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `A or B or ...` (two or more operands; a chain of one operator)
    Or(Vec<Expr>),
    /// `A and B and ...`
    And(Vec<Expr>),
    /// `not A`
    Not(Box<Expr>),
    /// `( A )`, kept so that the formatter prints what was written
    Paren(Box<Expr>),
    /// `FIELD op VALUE`
    Cmp {
        field: Spanned<String>,
        op: Spanned<CmpOp>,
        value: Spanned<Lit>,
    },
    /// `FIELD in [A, B, ...]`
    In {
        field: Spanned<String>,
        list: Spanned<Vec<Spanned<Lit>>>,
    },
    /// `FIELD matches "GLOB"`
    Matches {
        field: Spanned<String>,
        pattern: Spanned<String>,
    },
    /// `NAME`: a bool field or a `let` name on its own
    Ref(Spanned<String>),
}

/// `==`, `!=`, `<`, `<=`, `>`, `>=`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A literal value as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// `3`, `2.5`
    Number(f64),
    /// `"text"`
    Str(String),
    /// `admins`, `data-stewards`: a bare word
    Word(String),
    /// `true`, `false`
    Bool(bool),
    /// `2024-01-31` (00:00 UTC) or an RFC 3339 time
    Time(TimeLit),
    /// `90d`, `12mo`
    Duration(Duration),
    /// Something that starts like a number but is none of the above
    /// (`90days`, `2024-02-30`, `1.5d`); the checker explains it.
    Bad(String),
}

/// A date or RFC 3339 time literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLit {
    pub at: DateTime<Utc>,
    /// Written as `YYYY-MM-DD`, so the formatter prints it that way again.
    pub date_only: bool,
}

/// `N` + unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration {
    pub count: u32,
    pub unit: Unit,
}

/// The units of a duration literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Unit {
    pub const ALL: [(&'static str, Unit); 5] = [
        ("h", Unit::Hour),
        ("d", Unit::Day),
        ("w", Unit::Week),
        ("mo", Unit::Month),
        ("y", Unit::Year),
    ];

    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Hour => "h",
            Unit::Day => "d",
            Unit::Week => "w",
            Unit::Month => "mo",
            Unit::Year => "y",
        }
    }

    pub fn parse(s: &str) -> Option<Unit> {
        Unit::ALL.iter().find(|(k, _)| *k == s).map(|(_, u)| *u)
    }
}

impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.count, self.unit.suffix())
    }
}

impl PartialEq for Let {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.expr == o.expr
    }
}

impl PartialEq for Rule {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.cond == o.cond && self.action == o.action && self.notice == o.notice
    }
}

impl PartialEq for Limit {
    fn eq(&self, o: &Self) -> bool {
        self.action == o.action && self.amount == o.amount && self.percent == o.percent
    }
}

impl PartialEq for Exempt {
    fn eq(&self, o: &Self) -> bool {
        self.who == o.who && self.until == o.until && self.reason == o.reason
    }
}

impl PartialEq for Expr {
    fn eq(&self, o: &Self) -> bool {
        self.kind == o.kind
    }
}

impl Expr {
    /// The expression with any outer parentheses removed.
    pub fn unparen(&self) -> &Expr {
        match &self.kind {
            ExprKind::Paren(inner) => inner.unparen(),
            _ => self,
        }
    }
}

/// The actions a rule can give (`keep`, `notify`, `deactivate`, `delete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Keep,
    Notify,
    Deactivate,
    Delete,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Keep, Action::Notify, Action::Deactivate, Action::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Keep => "keep",
            Action::Notify => "notify",
            Action::Deactivate => "deactivate",
            Action::Delete => "delete",
        }
    }

    /// Exact and case-sensitive, as keywords are.
    pub fn parse(word: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == word)
    }

    /// Deactivate and delete change accounts; keep and notify do not.
    pub fn is_destructive(self) -> bool {
        matches!(self, Action::Deactivate | Action::Delete)
    }
}
