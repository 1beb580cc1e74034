//! `dormant diff --format markdown`: the diff as a pull request comment. It
//! stays readable however many users change: the counts come first, then
//! at most `max_users` users per change, each with both explanations
//! folded away, within what a GitHub comment holds, and a line saying how
//! to see the rest.

use super::{Change, Changed, DiffReport};
use crate::render::explanation_text;
use crate::time::format_time;
use std::fmt::Write as _;

/// The diff in Markdown: a summary table (from, to, users), then each
/// change's users, at most `max_users` of them, with the old and the new
/// explanation in a `<details>` each.
pub fn diff_markdown(r: &DiffReport<'_>, max_users: usize, revoke: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "### dormant diff as of {}\n", format_time(r.as_of));
    let _ = writeln!(
        s,
        "Policy {} (sha256 {}) → {} (sha256 {}), over {}: {} users (sha256 {}).\n",
        code(&r.old.path),
        code(short_hash(&r.old.sha256)),
        code(&r.new.path),
        code(short_hash(&r.new.sha256)),
        code(&r.users.source),
        r.users.count,
        code(short_hash(&r.users.sha256)),
    );
    if r.changes.is_empty() {
        let _ = writeln!(s, "No decision changes.");
        return s;
    }
    let _ = writeln!(s, "**{} of {} users change.**\n", r.changed, r.users.count);
    let _ = writeln!(s, "| from | to | users |\n|---|---|---:|");
    for c in &r.changes {
        let to = if c.from == c.to {
            format!("{}, dates move", c.to.text())
        } else {
            c.to.text()
        };
        let _ = writeln!(s, "| {} | {} | {} |", cell(&c.from.text()), cell(&to), c.count);
    }
    let mut room = BUDGET.saturating_sub(s.len());
    let mut hidden = 0;
    for (i, c) in r.changes.iter().enumerate() {
        // Each change gets an equal share of the room left, so that a large
        // change cannot crowd out the ones after it.
        let share = room / (r.changes.len() - i).max(1);
        let mut left = share;
        hidden += change_section(&mut s, r, c, max_users.min(c.users.len()), revoke, &mut left);
        room -= share - left;
    }
    if hidden > 0 {
        let _ = writeln!(
            s,
            "\n{hidden} of the {} users who change are not listed here: `dormant diff` with \
             `--format json` lists every user, or `--max-users N` lists up to N per change.",
            r.changed
        );
    }
    s
}

/// What the summary, the headings and the users' details may take in all:
/// a GitHub comment holds at most 65,536 characters, and the last lines
/// need some room.
const BUDGET: usize = 60_000;

/// One change's heading and its first `shown` users, as many as `room`
/// still holds (less what they take); returns how many were left out.
fn change_section(
    s: &mut String,
    r: &DiffReport<'_>,
    c: &Change<'_>,
    shown: usize,
    revoke: bool,
    room: &mut usize,
) -> usize {
    let users = if c.count == 1 { "user" } else { "users" };
    let heading = format!("\n#### {}: {} {users}\n", html(&c.title().replace("->", "→")), c.count);
    *room = room.saturating_sub(heading.len());
    s.push_str(&heading);
    let mut listed = 0;
    for u in c.users.iter().take(shown) {
        let details = user_details(r, u, revoke);
        if details.len() > *room {
            // Once one does not fit, none after it is listed either, so
            // that what is listed is always each change's first users.
            *room = 0;
            break;
        }
        *room -= details.len();
        s.push_str(&details);
        listed += 1;
    }
    let hidden = c.count.saturating_sub(listed);
    if hidden > 0 {
        let _ = writeln!(s, "\n{hidden} of {} not listed.", c.count);
    }
    hidden
}

/// A user's line, and both explanations folded beneath it.
fn user_details(r: &DiffReport<'_>, u: &Changed<'_>, revoke: bool) -> String {
    let mut s = String::new();
    let mut line = format!("{}: {}", u.user.display(), u.reason);
    for m in &u.moved {
        let _ = write!(line, "; {}", m.text().replace("->", "→"));
    }
    let _ = writeln!(s, "\n<details><summary>{}</summary>\n", html(&line));
    for (side, path, e) in [("Before", &r.old.path, &u.old), ("After", &r.new.path, &u.new)] {
        let _ = writeln!(s, "{side} ({}):\n", code(path));
        let _ = writeln!(s, "{}", fenced(&explanation_text(e, revoke)));
    }
    let _ = writeln!(s, "</details>");
    s
}

/// Text in a fenced block, its fence longer than any run of backticks in it.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

/// Inline code, with a longer delimiter when the text holds backticks.
fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// Text inside HTML (`<summary>`) or a heading: no tag can open.
fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Markdown table cell: pipes and newlines would break the table.
fn cell(text: &str) -> String {
    html(text).replace('|', "\\|").replace('\n', " ")
}

fn short_hash(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_is_longer_than_the_backticks_inside() {
        assert_eq!(fenced("a"), "```text\na\n```\n");
        assert_eq!(fenced("x ```` y\n"), "`````text\nx ```` y\n`````\n");
    }

    #[test]
    fn names_cannot_open_tags_or_break_cells() {
        assert_eq!(html("ana <a@x> & b"), "ana &lt;a@x&gt; &amp; b");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(code("a`b"), "`` a`b ``");
    }
}
