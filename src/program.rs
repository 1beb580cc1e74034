//! A checked policy made ready to evaluate at one instant: fields resolved,
//! literals lower-cased, globs split into characters, and every age
//! comparison turned into a comparison with a cut-off time, computed once.

pub mod fast;

use crate::ast::{self, Action, CmpOp, Duration, ExprKind, Lit, Policy, Stmt};
use crate::fields::{Field, Type};
use crate::source::{Source, Span};
use crate::time::{self, Time};
use std::collections::HashMap;

/// What a rule is called in plans: its name, or `line N`.
pub type RuleName = String;

#[derive(Debug, Clone)]
pub struct Program {
    pub as_of: Time,
    pub rules: Vec<Rule>,
    pub exempts: Vec<Exempt>,
    pub limits: Vec<Limit>,
    /// Every comparison of the policy; conditions refer to them by index.
    pub leaves: Vec<Leaf>,
    /// The rules' conditions compiled for deciding fast.
    pub flat: fast::Flat,
    /// Deactivating is a revoke of permissions and groups on the users'
    /// platform (Huwise): a disabled account is then not already
    /// deactivated (see `decision::already`). Set by who knows the connector.
    pub revoke: bool,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: RuleName,
    pub cond: Cond,
    pub action: Action,
    pub notice: Option<Duration>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Exempt {
    pub who: String,
    /// The exemption holds before this instant (the day after `until`).
    pub ends: Option<Time>,
    pub until: Option<Time>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub action: Action,
    pub amount: f64,
    pub percent: bool,
}

impl Limit {
    /// Whether `count` users of `total` exceed the limit (SPEC section 4).
    pub fn exceeded(&self, count: usize, total: usize) -> bool {
        if self.percent {
            count as f64 * 100.0 > self.amount * total as f64
        } else {
            count as f64 > self.amount
        }
    }

    pub fn describe(&self) -> String {
        if self.percent {
            format!("{}%", self.amount)
        } else {
            format!("{}", self.amount)
        }
    }
}

/// A condition tree over leaves.
#[derive(Debug, Clone)]
pub enum Cond {
    Or(Vec<Cond>),
    And(Vec<Cond>),
    Not(Box<Cond>),
    /// A `let` name, kept so that explanations can say which one.
    Let(String, Box<Cond>),
    Leaf(usize),
}

/// One comparison, as written and as evaluated.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The condition in canonical form, for explanations.
    pub text: String,
    /// `text` as a JSON string, escaped once here rather than in every
    /// decision of a plan.
    pub json: Box<serde_json::value::RawValue>,
    pub field: Field,
    pub test: Test,
}

#[derive(Debug, Clone)]
pub enum Test {
    /// A bool field on its own.
    IsTrue,
    /// `FIELD op VALUE` with the value prepared for comparison.
    Cmp(CmpOp, Operand),
    /// An age comparison: the time compared with `cutoff` by `op`, written
    /// as `written_op duration`.
    Age {
        op: CmpOp,
        cutoff: Time,
        written_op: CmpOp,
        duration: Duration,
    },
    /// `FIELD in [...]`, with the text items prepared to compare text with.
    In(Vec<Operand>, crate::value::Folded),
    /// `FIELD matches "GLOB"`, lower-cased.
    Matches(crate::value::Glob),
}

/// A literal ready to compare: text is lower-cased.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Text(String),
    Number(f64),
    Bool(bool),
    Time(Time),
}

/// A policy that passed `check` with errors cannot be compiled; this is the
/// error for that (a bug in the caller, not in the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotChecked(pub Span);

impl Program {
    /// Compiles a policy that `check` found free of errors, for evaluation as of `as_of`.
    pub fn compile(policy: &Policy, source: &Source, as_of: Time) -> Result<Program, NotChecked> {
        let mut c = Compiler {
            source,
            lines: crate::source::LineIndex::new(&source.text),
            as_of,
            lets: HashMap::new(),
            leaves: Vec::new(),
        };
        let mut program = Program {
            as_of,
            rules: Vec::new(),
            exempts: Vec::new(),
            limits: Vec::new(),
            leaves: Vec::new(),
            flat: fast::Flat::default(),
            revoke: false,
        };
        for stmt in &policy.statements {
            match stmt {
                Stmt::Let(l) => {
                    let cond = c.cond(&l.expr)?;
                    c.lets.insert(l.name.node.clone(), cond);
                }
                Stmt::Rule(r) => program.rules.push(c.rule(r)?),
                Stmt::Limit(l) => program.limits.push(Limit {
                    action: Action::parse(&l.action.node).ok_or(NotChecked(l.span))?,
                    amount: l.amount.node,
                    percent: l.percent,
                }),
                Stmt::Exempt(e) => program.exempts.push(c.exempt(e)?),
            }
        }
        program.leaves = c.leaves;
        program.flat = fast::Flat::compile(program.rules.iter().map(|r| &r.cond), &program.leaves);
        Ok(program)
    }

    pub fn limit(&self, action: Action) -> Option<&Limit> {
        self.limits.iter().find(|l| l.action == action)
    }
}

struct Compiler<'a> {
    source: &'a Source,
    /// For the line numbers that name unnamed rules.
    lines: crate::source::LineIndex,
    as_of: Time,
    lets: HashMap<String, Cond>,
    leaves: Vec<Leaf>,
}

impl Compiler<'_> {
    fn rule(&mut self, r: &ast::Rule) -> Result<Rule, NotChecked> {
        let name = match &r.name {
            Some(n) => n.node.clone(),
            None => format!("line {}", self.lines.line_col(&self.source.text, r.span.start).0),
        };
        let notice = match &r.notice {
            Some(n) => match n.node {
                Lit::Duration(d) => Some(d),
                _ => return Err(NotChecked(n.span)),
            },
            None => None,
        };
        Ok(Rule {
            name,
            cond: self.cond(&r.cond)?,
            action: Action::parse(&r.action.node).ok_or(NotChecked(r.action.span))?,
            notice,
            span: r.span,
        })
    }

    fn exempt(&mut self, e: &ast::Exempt) -> Result<Exempt, NotChecked> {
        let until = match &e.until {
            Some(u) => match u.node {
                Lit::Time(t) => Some(t.at),
                _ => return Err(NotChecked(u.span)),
            },
            None => None,
        };
        // `until DATE` holds through the end of that day (UTC).
        let ends = until
            .and_then(|t| t.date_naive().succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc());
        Ok(Exempt {
            who: e.who.node.trim().to_string(),
            ends,
            until,
            reason: e.reason.node.clone(),
        })
    }

    /// A condition. Conditions nest up to `limits::MAX_NESTING` levels
    /// (more with `let` names written out), so the recursive part is kept
    /// to the connectives, whose frames are small; comparisons are compiled
    /// apart.
    fn cond(&mut self, e: &ast::Expr) -> Result<Cond, NotChecked> {
        match &e.kind {
            ExprKind::Or(ops) => self.conds(ops).map(Cond::Or),
            ExprKind::And(ops) => self.conds(ops).map(Cond::And),
            ExprKind::Not(inner) => Ok(Cond::Not(Box::new(self.cond(inner)?))),
            ExprKind::Paren(inner) => self.cond(inner),
            _ => self.comparison(e),
        }
    }

    fn conds(&mut self, ops: &[ast::Expr]) -> Result<Vec<Cond>, NotChecked> {
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            out.push(self.cond(op)?);
        }
        Ok(out)
    }

    /// A comparison, a bool field or a `let` name.
    fn comparison(&mut self, e: &ast::Expr) -> Result<Cond, NotChecked> {
        Ok(match &e.kind {
            ExprKind::Or(_) | ExprKind::And(_) | ExprKind::Not(_) | ExprKind::Paren(_) => self.cond(e)?,
            ExprKind::Ref(name) => match self.lets.get(&name.node) {
                Some(c) => Cond::Let(name.node.clone(), Box::new(c.clone())),
                None => {
                    let field = Field::lookup(&name.node).ok_or(NotChecked(name.span))?;
                    self.leaf(e, field, Test::IsTrue)
                }
            },
            ExprKind::Cmp { field, op, value } => {
                if let Some(c) = self.lets.get(&field.node) {
                    // `staff == false` on a `let` name.
                    let c = Cond::Let(field.node.clone(), Box::new(c.clone()));
                    let Lit::Bool(b) = value.node else {
                        return Err(NotChecked(value.span));
                    };
                    return Ok(if b == (op.node == CmpOp::Eq) {
                        c
                    } else {
                        Cond::Not(Box::new(c))
                    });
                }
                let f = Field::lookup(&field.node).ok_or(NotChecked(field.span))?;
                let test = match &value.node {
                    Lit::Duration(d) => {
                        let (cmp, cutoff) = time::age_test(op.node, *d, self.as_of).ok_or(NotChecked(value.span))?;
                        Test::Age {
                            op: cmp,
                            cutoff,
                            written_op: op.node,
                            duration: *d,
                        }
                    }
                    lit => Test::Cmp(op.node, operand(lit).ok_or(NotChecked(value.span))?),
                };
                self.leaf(e, f, test)
            }
            ExprKind::In { field, list } => {
                let f = Field::lookup(&field.node).ok_or(NotChecked(field.span))?;
                let items: Vec<Operand> = list
                    .node
                    .iter()
                    .map(|i| operand(&i.node).ok_or(NotChecked(i.span)))
                    .collect::<Result<_, _>>()?;
                let texts = crate::value::Folded::new(items.iter().filter_map(|i| match i {
                    Operand::Text(t) => Some(t.as_str()),
                    _ => None,
                }));
                self.leaf(e, f, Test::In(items, texts))
            }
            ExprKind::Matches { field, pattern } => {
                let f = Field::lookup(&field.node).ok_or(NotChecked(field.span))?;
                self.leaf(e, f, Test::Matches(crate::value::Glob::new(&pattern.node)))
            }
        })
    }

    fn leaf(&mut self, e: &ast::Expr, field: Field, test: Test) -> Cond {
        // A bool field alone is a condition whatever its type says; attr.*
        // may hold anything.
        debug_assert!(!matches!(test, Test::IsTrue) || matches!(field.ty(), Type::Bool | Type::Any));
        let text = crate::fmt::expr(e);
        let json = serde_json::value::to_raw_value(&text).unwrap_or_else(|_| {
            // Serializing a string cannot fail; keep a valid value regardless.
            serde_json::value::RawValue::from_string("\"\"".to_string()).unwrap_or_default()
        });
        self.leaves.push(Leaf {
            text,
            json,
            field,
            test,
        });
        Cond::Leaf(self.leaves.len() - 1)
    }
}

fn operand(lit: &Lit) -> Option<Operand> {
    Some(match lit {
        Lit::Number(n) => Operand::Number(*n),
        Lit::Str(s) | Lit::Word(s) => Operand::Text(s.to_lowercase()),
        Lit::Bool(b) => Operand::Bool(*b),
        Lit::Time(t) => Operand::Time(t.at),
        Lit::Duration(_) | Lit::Bad(_) => return None,
    })
}
