//! Source text and spans: the one location model every stage shares.
//!
//! A `Source` is read once per file; every AST node carries a byte `Span`
//! into it, and line/column are computed from the offset only when a
//! diagnostic is rendered.

use std::fmt;
use std::sync::Arc;

/// One policy (or other input) file: its display path and its whole text.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: Arc<str>,
}

impl Source {
    pub fn new(path: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Source {
            path: path.into(),
            text: text.into(),
        }
    }

    /// The text a span covers (empty when the span is out of range, which
    /// cannot happen for spans the parser made from this source).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.text, offset)
    }

    pub fn named(&self) -> miette::NamedSource<Arc<str>> {
        miette::NamedSource::new(&self.path, Arc::clone(&self.text))
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or_else(|| bom_len(before), |i| i + 1);
    let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, col)
}

/// The length of the UTF-8 byte order mark `text` starts with, if it
/// does: the mark is no character of the first line, so columns there
/// are counted after it.
pub fn bom_len(text: &str) -> usize {
    if text.starts_with(BOM) {
        BOM.len_utf8()
    } else {
        0
    }
}

/// The UTF-8 byte order mark, which some editors put at the start of a file.
pub const BOM: char = '\u{feff}';

/// Where the lines of a text start, for line and column numbers of many
/// offsets: each is found by bisection, rather than by counting the line
/// feeds before it (which makes a report of many diagnostics quadratic).
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// The offset just after each line feed.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        LineIndex {
            starts: text
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1)
                .collect(),
        }
    }

    /// As [`line_col`], for `text`, the text this index was made from.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let before = self.starts.partition_point(|&s| s <= offset);
        let line_start = before
            .checked_sub(1)
            .and_then(|i| self.starts.get(i))
            .copied()
            .unwrap_or_else(|| bom_len(text.get(..offset).unwrap_or("")));
        let col = text.get(line_start..offset).map_or(0, |s| s.chars().count()) + 1;
        (before + 1, col)
    }
}

/// A byte range in a source text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

/// A value with the span it was written at. Equality ignores the span, so
/// that two parses of differently laid out text compare equal.
#[derive(Clone)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.node
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "ab\ncdé f\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        // "é" is two bytes; the column after it is 4, not 5.
        assert_eq!(line_col(text, 7), (2, 4));
        assert_eq!(line_col(text, 100), (3, 1));
    }

    #[test]
    fn the_index_agrees_with_counting() {
        let text = "ab\ncdé f\n\n\r\nx";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            if text.is_char_boundary(offset.min(text.len())) {
                assert_eq!(index.line_col(text, offset), line_col(text, offset), "{offset}");
            }
        }
    }

    /// A byte order mark is no column: the first character after it is
    /// in column 1, by counting and by the index alike.
    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let text = "\u{feff}rule x\nab";
        let index = LineIndex::new(text);
        assert_eq!(line_col(text, 3), (1, 1));
        assert_eq!(line_col(text, 8), (1, 6));
        assert_eq!(line_col(text, 11), (2, 2));
        for offset in [0, 3, 8, 11] {
            assert_eq!(index.line_col(text, offset), line_col(text, offset), "{offset}");
        }
    }

    #[test]
    fn spanned_equality_ignores_spans() {
        assert_eq!(Spanned::new(1, Span::new(0, 1)), Spanned::new(1, Span::new(5, 9)));
    }
}
