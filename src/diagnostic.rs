//! Diagnostics: what the parser and the checker report, and how it is shown
//! (graphical with miette, one plain line each, or JSON for machines).

use crate::source::{LineIndex, Source, Span};
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use serde::Serialize;
use std::fmt;

/// How bad a diagnostic is: errors fail `check`, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Stable codes, one per kind of problem (`dormant::NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    Syntax,
    UnterminatedString,
    UnclosedDelimiter,
    UnmatchedDelimiter,
    UnknownField,
    UsedBeforeDefinition,
    DuplicateLet,
    LetShadowsField,
    DuplicateRule,
    UnknownAction,
    LimitOnKeep,
    DuplicateLimit,
    BadLimit,
    TypeMismatch,
    NotACondition,
    BadLiteral,
    UnknownStatus,
    BadNotice,
    BadExemption,
    UnreachableRule,
    UnprotectedAdmins,
    UnusedLet,
    ExpiredExemption,
    DuplicateExemption,
    Config,
    UnsuppliedField,
    UnsupportedAction,
    PartialAction,
    TooDeep,
    TooLarge,
    EmptyList,
    ExemptionNamesNobody,
    NoSuchValue,
    GroupNameNotId,
    PatternMatchesNobody,
    PatternLooksLikeRegex,
    TimeVsNever,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "dormant::syntax",
            Code::UnterminatedString => "dormant::unterminated_string",
            Code::UnclosedDelimiter => "dormant::unclosed_delimiter",
            Code::UnmatchedDelimiter => "dormant::unmatched_delimiter",
            Code::UnknownField => "dormant::unknown_field",
            Code::UsedBeforeDefinition => "dormant::used_before_definition",
            Code::DuplicateLet => "dormant::duplicate_let",
            Code::LetShadowsField => "dormant::let_shadows_field",
            Code::DuplicateRule => "dormant::duplicate_rule",
            Code::UnknownAction => "dormant::unknown_action",
            Code::LimitOnKeep => "dormant::limit_on_keep",
            Code::DuplicateLimit => "dormant::duplicate_limit",
            Code::BadLimit => "dormant::bad_limit",
            Code::TypeMismatch => "dormant::type_mismatch",
            Code::NotACondition => "dormant::not_a_condition",
            Code::BadLiteral => "dormant::bad_literal",
            Code::UnknownStatus => "dormant::unknown_status",
            Code::BadNotice => "dormant::bad_notice",
            Code::BadExemption => "dormant::bad_exemption",
            Code::UnreachableRule => "dormant::unreachable_rule",
            Code::UnprotectedAdmins => "dormant::unprotected_admins",
            Code::UnusedLet => "dormant::unused_let",
            Code::ExpiredExemption => "dormant::expired_exemption",
            Code::DuplicateExemption => "dormant::duplicate_exemption",
            Code::Config => "dormant::config",
            Code::UnsuppliedField => "dormant::unsupplied_field",
            Code::UnsupportedAction => "dormant::unsupported_action",
            Code::PartialAction => "dormant::partial_action",
            Code::EmptyList => "dormant::empty_list",
            Code::TooDeep => "dormant::too_deep",
            Code::TooLarge => "dormant::too_large",
            Code::ExemptionNamesNobody => "dormant::exemption_names_nobody",
            Code::NoSuchValue => "dormant::no_such_value",
            Code::GroupNameNotId => "dormant::group_name_not_id",
            Code::PatternMatchesNobody => "dormant::pattern_matches_nobody",
            Code::PatternLooksLikeRegex => "dormant::pattern_looks_like_regex",
            Code::TimeVsNever => "dormant::time_vs_never",
        }
    }
}

/// One problem found in a policy, located by byte span.
#[derive(Debug, Clone, PartialEq)]
pub struct Diag {
    pub code: Code,
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The main span and what its underline says.
    pub span: Span,
    pub label: String,
    /// Further spans that explain the problem ("first defined here").
    pub related: Vec<(Span, String)>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diag {
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diag {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            related: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(code, span, message)
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    pub fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// How diagnostics are printed (`--error-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ErrorFormat {
    /// Source excerpts with the problem underlined (colour on a terminal).
    Human,
    /// One line per diagnostic: `file:line:col: severity[code]: message`.
    Plain,
    /// A JSON array of objects, for machines.
    Json,
}

/// A diagnostic together with the source it points into, as miette wants it.
struct Located<'a> {
    diag: &'a Diag,
    source: &'a Indexed,
}

/// A source for miette that finds the lines around a span from an index of
/// where lines start. miette's own reading of a text counts the lines from
/// its start for every span, which makes a report of many diagnostics
/// quadratic; this reads the same lines, a few lines before the span on.
struct Indexed {
    name: String,
    text: std::sync::Arc<str>,
    /// Where each line starts, as miette counts lines (after `\n`, `\r\n`
    /// or a lone `\r`).
    starts: Vec<usize>,
}

impl Indexed {
    fn new(source: &Source) -> Self {
        let bytes = source.text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            if matches!(b, b'\r' | b'\n') {
                starts.push(i + 1);
            }
            i += 1;
        }
        Indexed {
            name: source.path.clone(),
            text: std::sync::Arc::clone(&source.text),
            starts,
        }
    }
}

impl SourceCode for Indexed {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        // The lines from `before` lines above the span's on read as miette
        // reads the whole text; then its numbers are moved by what was skipped.
        let line = self.starts.partition_point(|&s| s <= span.offset()).saturating_sub(1);
        let first = line.saturating_sub(before);
        let skip = self.starts.get(first).copied().unwrap_or(0);
        let rest = self.text.get(skip..).ok_or(miette::MietteError::OutOfBounds)?;
        let inner = (span.offset() - skip.min(span.offset()), span.len()).into();
        let contents = rest.read_span(&inner, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            (contents.span().offset() + skip, contents.span().len()).into(),
            contents.line() + first,
            contents.column(),
            contents.line_count() + first,
        )))
    }
}

impl fmt::Debug for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.diag.fmt(f)
    }
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Located<'_> {}

impl Diagnostic for Located<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = |text: &str| (!text.is_empty()).then(|| text.to_string());
        let main = LabeledSpan::new_primary_with_span(label(&self.diag.label), self.diag.span);
        let rest = self
            .diag
            .related
            .iter()
            .map(move |(span, text)| LabeledSpan::new_with_span(label(text), *span));
        Some(Box::new(std::iter::once(main).chain(rest)))
    }
}

/// Renders diagnostics of one source for a person. `color` picks the
/// coloured theme; tests and pipes get plain Unicode.
pub fn render_human(source: &Source, diags: &[Diag], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    let indexed = Indexed::new(source);
    for diag in diags {
        let located = Located { diag, source: &indexed };
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &located);
    }
    out
}

/// One line per diagnostic, plus an indented help line.
pub fn render_plain(source: &Source, diags: &[Diag]) -> String {
    let mut out = String::new();
    let index = LineIndex::new(&source.text);
    for d in diags {
        let (line, col) = index.line_col(&source.text, d.span.start);
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "{}:{line}:{col}: {sev}[{}]: {}\n",
            source.path,
            d.code.as_str(),
            d.message
        ));
        for (span, label) in d.related.iter().filter(|(_, label)| !label.is_empty()) {
            let (line, col) = index.line_col(&source.text, span.start);
            out.push_str(&format!("  note: {}:{line}:{col}: {label}\n", source.path));
        }
        if let Some(help) = &d.help {
            out.push_str(&format!("  help: {help}\n"));
        }
    }
    out
}

/// The machine form of one diagnostic.
#[derive(Debug, Serialize)]
pub struct JsonDiag<'a> {
    pub severity: Severity,
    pub code: &'static str,
    pub message: &'a str,
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub span: JsonSpan,
    pub label: &'a str,
    pub help: Option<&'a str>,
    /// The other places the diagnostic points at ("first defined here",
    /// "rule `x` wins first").
    pub related: Vec<JsonRelated<'a>>,
}

/// A further place of a diagnostic, 1-based.
#[derive(Debug, Serialize)]
pub struct JsonRelated<'a> {
    pub message: &'a str,
    pub line: usize,
    pub column: usize,
}

/// Byte offsets into the file.
#[derive(Debug, Serialize)]
pub struct JsonSpan {
    pub start: usize,
    pub end: usize,
}

/// A warning as the plan JSON and explain's JSON carry it (SPEC section 7):
/// `{code, message, line, column}`, line and column 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Brief {
    pub code: &'static str,
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// The diagnostics of one source in their short form.
pub fn briefs(source: &Source, diags: &[Diag]) -> Vec<Brief> {
    let index = LineIndex::new(&source.text);
    diags
        .iter()
        .map(|d| {
            let (line, column) = index.line_col(&source.text, d.span.start);
            Brief {
                code: d.code.as_str(),
                message: d.message.clone(),
                line,
                column,
            }
        })
        .collect()
}

pub fn to_json<'a>(source: &'a Source, diags: &'a [Diag]) -> Vec<JsonDiag<'a>> {
    let index = LineIndex::new(&source.text);
    diags
        .iter()
        .map(|d| {
            let (line, column) = index.line_col(&source.text, d.span.start);
            let (end_line, end_column) = index.line_col(&source.text, d.span.end);
            JsonDiag {
                severity: d.severity,
                code: d.code.as_str(),
                message: &d.message,
                file: &source.path,
                line,
                column,
                end_line,
                end_column,
                span: JsonSpan {
                    start: d.span.start,
                    end: d.span.end,
                },
                label: &d.label,
                help: d.help.as_deref(),
                related: d
                    .related
                    .iter()
                    .map(|(span, message)| {
                        let (line, column) = index.line_col(&source.text, span.start);
                        JsonRelated { message, line, column }
                    })
                    .collect(),
            }
        })
        .collect()
}
