//! A pass over the raw text before the grammar runs. It finds comments (which
//! the grammar skips but the formatter keeps), and it reports unterminated
//! strings and unbalanced brackets precisely, at the character that opened
//! them, which a PEG parser can only report as "expected ... at end of file".
//! It also refuses conditions that nest deeper than [`MAX_NESTING`], before
//! the grammar (which recurses once per level, as does every stage after
//! it) meets them.

use crate::diagnostic::{Code, Diag};
use crate::limits::MAX_NESTING;
use crate::source::Span;

/// A `#` comment, from the `#` to the end of its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// Nothing but whitespace stands before it on its line.
    pub own_line: bool,
}

pub fn scan(text: &str) -> Result<Vec<Comment>, Diag> {
    let mut comments = Vec::new();
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut nesting = Nesting::default();
    let mut chars = text.char_indices().peekable();
    let mut line_start = 0;
    let mut prev = ' ';
    while let Some((i, c)) = chars.next() {
        if !c.is_whitespace() && c != '#' {
            nesting.token(c, i, prev, text)?;
        }
        prev = c;
        match c {
            '\n' => line_start = i + 1,
            '#' => {
                let end = text
                    .get(i..)
                    .and_then(|rest| rest.find('\n'))
                    .map_or(text.len(), |n| i + n);
                let before = text.get(line_start..i).unwrap_or("");
                // Trailing blanks are not part of the comment.
                let body = text.get(i..end).map_or(1, |c| c.trim_end().len());
                comments.push(Comment {
                    span: Span::new(i, i + body),
                    own_line: before.trim().is_empty(),
                });
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
            }
            '"' => skip_string(text, i, &mut chars)?,
            '(' | '[' => open.push((c, i)),
            ')' | ']' => close(c, i, &mut open)?,
            c if is_word_char(c) => {
                // The rest of the word: `not` is told from `nothing` by it.
                while chars
                    .peek()
                    .is_some_and(|&(j, d)| is_word_char(d) && !arrow_at(text, j))
                {
                    if let Some((_, d)) = chars.next() {
                        prev = d;
                    }
                }
            }
            _ => {}
        }
    }
    match open.pop() {
        Some((c, at)) => {
            let closer = if c == '(' { ')' } else { ']' };
            Err(Diag::error(
                Code::UnclosedDelimiter,
                Span::new(at, at + 1),
                format!("unclosed `{c}`"),
            )
            .label("opened here")
            .help(format!("add the matching `{closer}`")))
        }
        None => Ok(comments),
    }
}

fn skip_string(
    text: &str,
    start: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<(), Diag> {
    let mut escaped = false;
    for (i, c) in chars.by_ref() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Ok(()),
            '\n' => return Err(unterminated(start, i)),
            _ => {}
        }
    }
    Err(unterminated(start, text.len()))
}

fn unterminated(start: usize, end: usize) -> Diag {
    Diag::error(Code::UnterminatedString, Span::new(start, end), "unterminated string")
        .label("this string has no closing quote")
        .help("close it with `\"` on the same line (strings cannot span lines)")
}

fn close(c: char, at: usize, open: &mut Vec<(char, usize)>) -> Result<(), Diag> {
    let want = if c == ')' { '(' } else { '[' };
    match open.pop() {
        Some((o, _)) if o == want => Ok(()),
        Some((o, from)) => {
            let closer = if o == '(' { ')' } else { ']' };
            Err(Diag::error(
                Code::UnmatchedDelimiter,
                Span::new(at, at + 1),
                format!("mismatched `{c}`: `{o}` is still open"),
            )
            .label(format!("expected `{closer}` here"))
            .related(Span::new(from, from + 1), "opened here")
            .help(format!("close `{o}` with `{closer}` first")))
        }
        None => Err(Diag::error(
            Code::UnmatchedDelimiter,
            Span::new(at, at + 1),
            format!("unmatched `{c}`"),
        )
        .label("nothing to close here")
        .help(format!("remove it, or add the `{want}` that it closes"))),
    }
}

/// A character of a name, word or keyword (`-` too, unless it starts `->`).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '.'
}

fn arrow_at(text: &str, at: usize) -> bool {
    text.get(at..).is_some_and(|rest| rest.starts_with("->"))
}

/// How deep the condition being scanned nests: one level for each open
/// `(` and for each `not` still waiting for its operand. A `not` opens a
/// level over the operand after it, which closes with that operand; the
/// operand is a comparison (nothing nests inside one: lists hold values
/// only) or a parenthesised condition.
#[derive(Default)]
struct Nesting {
    /// For each open `(`, the `not`s waiting for the operand it starts.
    frames: Vec<usize>,
    /// The `not`s waiting for their operand outside any parentheses.
    nots: usize,
    depth: usize,
}

impl Nesting {
    /// The token starting with `c` at `at` (`prev` is the character before).
    fn token(&mut self, c: char, at: usize, prev: char, text: &str) -> Result<(), Diag> {
        match c {
            '(' => {
                self.frames.push(std::mem::take(&mut self.nots));
                self.open(Span::new(at, at + 1))
            }
            ')' => {
                // The group closes, and with it the `not`s that applied to
                // it and those inside it that were never followed by anything.
                let inside = std::mem::take(&mut self.nots);
                self.depth = self.depth.saturating_sub(inside);
                if let Some(waiting) = self.frames.pop() {
                    self.depth = self.depth.saturating_sub(1 + waiting);
                }
                Ok(())
            }
            _ if !is_word_char(prev) && text.get(at..).is_some_and(starts_with_not) => {
                self.nots += 1;
                self.open(Span::new(at, at + 3))
            }
            _ if is_word_char(prev) => Ok(()),
            // The operand of the `not`s waiting: they close with it.
            _ => {
                self.depth = self.depth.saturating_sub(std::mem::take(&mut self.nots));
                Ok(())
            }
        }
    }

    fn open(&mut self, span: Span) -> Result<(), Diag> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(too_deep(span));
        }
        Ok(())
    }
}

/// `not` as a keyword: not the start of a longer word.
fn starts_with_not(rest: &str) -> bool {
    rest.strip_prefix("not")
        .is_some_and(|after| !after.chars().next().is_some_and(is_word_char) || arrow_at(after, 0))
}

fn too_deep(span: Span) -> Diag {
    Diag::error(
        Code::TooDeep,
        span,
        format!("this condition nests more than {MAX_NESTING} deep"),
    )
    .label(format!("level {} opens here", MAX_NESTING + 1))
    .help(format!(
        "each `(` and each `not` opens a level, and conditions nest at most {MAX_NESTING} deep: \
         write it flatter (`not not x` is `x`, and a single comparison needs no parentheses)"
    ))
}
