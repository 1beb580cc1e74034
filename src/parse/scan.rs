//! A pass over the raw text before the grammar runs. It finds comments (which
//! the grammar skips but the formatter keeps), and it reports unterminated
//! strings and unbalanced brackets precisely, at the character that opened
//! them, which a PEG parser can only report as "expected ... at end of file".

use crate::diagnostic::{Code, Diag};
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
    let mut chars = text.char_indices().peekable();
    let mut line_start = 0;
    while let Some((i, c)) = chars.next() {
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
