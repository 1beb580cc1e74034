//! `plan --format html` and `forecast --format html`: one self-contained
//! file for an auditor (styles and script inline, nothing fetched). The
//! summary, charts (inline SVG), provenance, warnings and the users sent
//! to review read without JavaScript; the decisions table is drawn by a
//! small script from compact inline JSON, a page at a time.
//!
//! What it holds stays bounded at a million users: every user not kept
//! (who, action, rule), their full explanations up to a budget of bytes,
//! kept users counted by rule with a small sample explained. The JSON plan
//! has everything.

use super::{already_text, cannot_notify_text, explanation_text, never_note};
use crate::decision::PlanAction;
use crate::eval::{self, Val};
use crate::plan::{Already, Entry, Header, LimitStatus, RuleCount, Summary};
use crate::value::Truth;
use std::io::{self, Write};

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// The CSS custom properties of each text colour and the backgrounds it is
/// drawn on: each pair must reach a contrast ratio of 4.5:1 (a test holds it).
pub const CONTRAST_PAIRS: &[(&str, &str)] = &[
    ("--fg", "--bg"),
    ("--muted", "--bg"),
    ("--accent", "--bg"),
    ("--fg", "--panel"),
    ("--muted", "--panel"),
    ("--fg", "--warn-bg"),
    ("--fg", "--keep"),
    ("--fg", "--review"),
    ("--fg", "--notify"),
    ("--fg", "--wait"),
    ("--fg", "--deactivate"),
    ("--fg", "--delete"),
    ("--bar", "--bg"),
];

/// The stylesheet, for the contrast test.
pub fn stylesheet() -> &'static str {
    CSS
}

/// The bytes of explanation text the report carries in all: past it, rows
/// say the explanation is in the JSON plan. About 12 MB, which with a row
/// for every user not kept keeps a million users' report under 50 MB.
const EXPLANATION_BUDGET: usize = 12 << 20;
/// Users sent to review listed (with the data that was unknown) in the part
/// that reads without JavaScript; all are in the table.
const REVIEW_LISTED: usize = 1000;
/// Kept users explained as a sample.
const KEPT_SAMPLE: usize = 20;
/// Forecast changes listed one by one.
const FORECAST_LISTED: usize = 5000;

/// A user sent to review, and why nothing could be decided.
struct Review {
    who: String,
    rule: String,
    unknown: String,
}

/// What the report keeps of the users as they stream by.
#[derive(Default)]
pub struct Collect {
    actions: Vec<String>,
    rules: Vec<String>,
    /// (who, action index, rule index, explanation)
    rows: Vec<(String, usize, usize, Option<String>)>,
    explained: usize,
    reviews: Vec<Review>,
    review_count: usize,
    kept_sample: Vec<(String, String)>,
}

fn intern(list: &mut Vec<String>, s: &str) -> usize {
    match list.iter().position(|x| x == s) {
        Some(i) => i,
        None => {
            list.push(s.to_string());
            list.len() - 1
        }
    }
}

impl Collect {
    pub fn entry(&mut self, e: &Entry<'_>, revoke: bool) {
        if e.action == PlanAction::Keep {
            if self.kept_sample.len() < KEPT_SAMPLE {
                self.kept_sample.push((e.user.display(), explanation_text(e, revoke)));
            }
            return;
        }
        let who = e.user.display();
        if e.action == PlanAction::Review {
            self.review_count += 1;
            if self.reviews.len() < REVIEW_LISTED {
                self.reviews.push(Review {
                    who: who.clone(),
                    rule: e.rule.unwrap_or("-").to_string(),
                    unknown: unknown_data(e),
                });
            }
        }
        let action = match e.decision.already {
            Some(state) => already_text(state).to_string(),
            None => e.action.word(revoke).to_string(),
        };
        let a = intern(&mut self.actions, &action);
        let r = intern(&mut self.rules, e.rule.unwrap_or("-"));
        let explanation = (self.explained < EXPLANATION_BUDGET).then(|| explanation_text(e, revoke));
        if let Some(x) = &explanation {
            self.explained += x.len();
        }
        self.rows.push((who, a, r, explanation));
    }
}

/// What was unknown for a user sent to review: the fields whose value was
/// missing, or a time that is *never*; or why a notice cannot be sent.
fn unknown_data(e: &Entry<'_>) -> String {
    if let Some(state) = e.decision.cannot_notify {
        return cannot_notify_text(state).to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    for item in e.explanation.because.iter().filter(|i| i.result == Truth::Unknown) {
        if let Some(note) = never_note(e.program, e.record, item) {
            parts.push(note);
            continue;
        }
        let mut seen = eval::Seens::new();
        eval::values(e.program, item.cond, e.record, &mut seen);
        for s in seen.iter().filter(|s| s.value == Val::Unknown) {
            let text = format!("{} unknown", s.field);
            if !parts.contains(&text) {
                parts.push(text);
            }
        }
    }
    if parts.is_empty() {
        "unknown".to_string()
    } else {
        parts.join("; ")
    }
}

/// Text escaped for HTML, in element content and in quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON made safe inside `<script>`: no `<`, `>` or `&` is left as such (so
/// neither `</script>` nor `<!--` can appear), and JSON reads the escapes back.
fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// What `finish` writes besides the users.
pub struct Totals<'a> {
    pub header: &'a Header,
    pub summary: &'a Summary,
    pub already: &'a Already,
    pub by_rule: &'a [RuleCount],
    pub limits: &'a [LimitStatus],
    pub warnings: &'a [crate::diagnostic::Brief],
}

fn head(out: &mut impl Write, title: &str) -> io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"dormant {}\">\n<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>",
        env!("CARGO_PKG_VERSION"),
        esc(title)
    )
}

/// A horizontal bar chart in SVG, each bar labelled with its name and count.
fn bar_chart(out: &mut impl Write, id: &str, title: &str, bars: &[(String, usize)]) -> io::Result<()> {
    let label_w = bars
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 40)
        * 8
        + 10;
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bar_w = 320usize;
    let row = 24usize;
    let width = label_w + bar_w + 90;
    let height = row * bars.len().max(1) + 8;
    writeln!(
        out,
        "<figure class=\"chart\"><svg role=\"img\" aria-labelledby=\"{id}\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\"><title id=\"{id}\">{}</title>",
        esc(title)
    )?;
    for (i, (label, n)) in bars.iter().enumerate() {
        let y = i * row + 4;
        let w = if *n == 0 { 0 } else { (n * bar_w / max).max(2) };
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect class=\"bar\" x=\"{label_w}\" y=\"{y}\" width=\"{w}\" height=\"{}\"></rect>\
             <text x=\"{}\" y=\"{}\">{n}</text>",
            label_w - 6,
            y + 15,
            esc(label),
            row - 6,
            label_w + w + 6,
            y + 15
        )?;
    }
    writeln!(
        out,
        "</svg><figcaption class=\"muted\">{}</figcaption></figure>",
        esc(title)
    )
}

/// The whole plan report, once every user has gone by.
pub fn write_plan(out: &mut impl Write, t: &Totals<'_>, c: &Collect) -> io::Result<()> {
    let h = t.header;
    head(
        out,
        &format!("dormant plan as of {}", crate::time::format_time(h.as_of)),
    )?;
    writeln!(
        out,
        "<header><h1>dormant plan as of {}</h1></header>\n<main>",
        esc(&crate::time::format_time(h.as_of))
    )?;
    summary_section(out, t)?;
    writeln!(
        out,
        "<section aria-labelledby=\"h-prov\"><h2 id=\"h-prov\">Provenance</h2><dl class=\"prov\">"
    )?;
    for (k, v) in h.provenance() {
        writeln!(out, "<dt>{}</dt><dd class=\"mono\">{}</dd>", esc(k), esc(&v))?;
    }
    writeln!(out, "</dl></section>")?;
    warnings_section(out, t.warnings)?;
    review_section(out, c)?;
    decisions_section(out, c)?;
    kept_section(out, t, c)?;
    writeln!(
        out,
        "<section aria-labelledby=\"h-left\"><h2 id=\"h-left\">What this report leaves out</h2>\
         <p>Kept users are counted by rule above and a sample of {KEPT_SAMPLE} is explained; every user \
         not kept is in the table, with the full explanation for as many as fit in about {} MB. \
         The JSON plan (<code>--format json</code>) has every user's decision and explanation.</p></section>",
        EXPLANATION_BUDGET >> 20
    )?;
    writeln!(out, "</main>\n<script>\n{JS}</script>\n</body>\n</html>")?;
    out.flush()
}

fn summary_section(out: &mut impl Write, t: &Totals<'_>) -> io::Result<()> {
    let revoke = t.header.revoke;
    writeln!(out, "<section aria-labelledby=\"h-sum\"><h2 id=\"h-sum\">Summary</h2>")?;
    let actions: Vec<(String, usize)> = super::summary_rows(t.summary, revoke)
        .into_iter()
        .map(|(a, n)| (a.to_string(), n))
        .collect();
    let rules: Vec<(String, usize)> = t
        .by_rule
        .iter()
        .map(|r| {
            (
                format!("{} ({})", super::rule_name(r), super::rule_action(r, revoke)),
                r.users,
            )
        })
        .collect();
    writeln!(out, "<div class=\"charts\">")?;
    bar_chart(out, "chart-actions", "Users by action", &actions)?;
    bar_chart(out, "chart-rules", "Users by rule", &rules)?;
    writeln!(out, "</div>")?;
    writeln!(
        out,
        "<table id=\"by-action\" class=\"counts\"><caption class=\"muted\">Users by action</caption>\
         <thead><tr><th scope=\"col\">action</th><th scope=\"col\" class=\"num\">users</th></tr></thead><tbody>"
    )?;
    for (a, n) in &actions {
        writeln!(out, "<tr><td>{}</td><td class=\"num\">{n}</td></tr>", esc(a))?;
    }
    writeln!(out, "</tbody></table>")?;
    if let Some(line) = super::already_line(t.already, revoke) {
        writeln!(out, "<p>{}</p>", esc(&line))?;
    }
    writeln!(
        out,
        "<h3>By rule</h3><table id=\"by-rule\" class=\"counts\"><thead><tr><th scope=\"col\">rule</th><th scope=\"col\">action</th>\
         <th scope=\"col\" class=\"num\">users</th></tr></thead><tbody>"
    )?;
    for r in t.by_rule {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(super::rule_name(r)),
            esc(&super::rule_action(r, revoke)),
            r.users
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    if !t.limits.is_empty() {
        writeln!(out, "<h3>Limits</h3><ul>")?;
        for l in t.limits {
            writeln!(out, "<li>{}</li>", esc(&super::limit_line(l, "EXCEEDED")))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</section>")
}

fn warnings_section(out: &mut impl Write, warnings: &[crate::diagnostic::Brief]) -> io::Result<()> {
    writeln!(
        out,
        "<section aria-labelledby=\"h-warn\"><h2 id=\"h-warn\">Warnings</h2>"
    )?;
    if warnings.is_empty() {
        return writeln!(out, "<p>No warnings.</p></section>");
    }
    writeln!(out, "<ul class=\"warnings\">")?;
    for w in warnings {
        writeln!(
            out,
            "<li>line {}, column {}: {} (<code>{}</code>)</li>",
            w.line,
            w.column,
            esc(&w.message),
            esc(w.code)
        )?;
    }
    writeln!(out, "</ul></section>")
}

fn review_section(out: &mut impl Write, c: &Collect) -> io::Result<()> {
    writeln!(
        out,
        "<section aria-labelledby=\"h-review\"><h2 id=\"h-review\">Sent to review ({})</h2>",
        c.review_count
    )?;
    if c.reviews.is_empty() {
        return writeln!(out, "<p>Nobody: every rule could be decided.</p></section>");
    }
    writeln!(
        out,
        "<table id=\"reviews\"><thead><tr><th scope=\"col\">user</th><th scope=\"col\">rule</th>\
         <th scope=\"col\">unknown data</th></tr></thead><tbody>"
    )?;
    for r in &c.reviews {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.who),
            esc(&r.rule),
            esc(&r.unknown)
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    if c.review_count > c.reviews.len() {
        writeln!(
            out,
            "<p class=\"muted\">The first {} are listed here; all are in the decisions table.</p>",
            c.reviews.len()
        )?;
    }
    writeln!(out, "</section>")
}

fn decisions_section(out: &mut impl Write, c: &Collect) -> io::Result<()> {
    writeln!(
        out,
        "<section aria-labelledby=\"h-dec\"><h2 id=\"h-dec\">Users not kept ({})</h2>\n\
         <noscript><p>The decisions table needs JavaScript; the JSON plan has every decision.</p></noscript>\n\
         <div id=\"decisions-ui\" hidden>\n<div class=\"filters\" role=\"search\">\n\
         <label for=\"f-text\">Search users, rules, reasons<input id=\"f-text\" type=\"search\" autocomplete=\"off\"></label>\n\
         <label for=\"f-action\">Action<select id=\"f-action\"><option value=\"\">every action</option></select></label>\n\
         <label for=\"f-rule\">Rule<select id=\"f-rule\"><option value=\"\">every rule</option></select></label>\n\
         </div>\n<p id=\"f-count\" aria-live=\"polite\"></p>\n\
         <table id=\"decisions\"><thead><tr><th scope=\"col\">user</th><th scope=\"col\">action</th>\
         <th scope=\"col\">rule</th><th scope=\"col\">explanation</th></tr></thead><tbody id=\"decisions-body\"></tbody></table>\n\
         <div class=\"pager\"><button type=\"button\" id=\"f-prev\">Previous page</button>\
         <button type=\"button\" id=\"f-next\">Next page</button></div>\n</div>",
        c.rows.len()
    )?;
    write!(out, "<script type=\"application/json\" id=\"plan-data\">{{\"actions\":")?;
    out.write_all(script_json(&serde_json::to_string(&c.actions)?).as_bytes())?;
    write!(out, ",\"rules\":")?;
    out.write_all(script_json(&serde_json::to_string(&c.rules)?).as_bytes())?;
    write!(out, ",\"rows\":[")?;
    for (i, (who, a, r, x)) in c.rows.iter().enumerate() {
        let row = match x {
            Some(x) => serde_json::to_string(&(who, a, r, x))?,
            None => serde_json::to_string(&(who, a, r, 0))?,
        };
        if i > 0 {
            out.write_all(b",\n")?;
        }
        out.write_all(script_json(&row).as_bytes())?;
    }
    writeln!(out, "]}}</script>\n</section>")
}

fn kept_section(out: &mut impl Write, t: &Totals<'_>, c: &Collect) -> io::Result<()> {
    writeln!(
        out,
        "<section aria-labelledby=\"h-kept\"><h2 id=\"h-kept\">Kept ({} users): a sample</h2>",
        t.summary.keep
    )?;
    if c.kept_sample.is_empty() {
        return writeln!(out, "<p>Nobody is kept.</p></section>");
    }
    writeln!(
        out,
        "<p class=\"muted\">The first {} kept users, each with the full explanation.</p>",
        c.kept_sample.len()
    )?;
    for (who, x) in &c.kept_sample {
        writeln!(
            out,
            "<details class=\"kept\"><summary>{}</summary><pre>{}</pre></details>",
            esc(who),
            esc(x)
        )?;
    }
    writeln!(out, "</section>")
}

/// `forecast --format html`: a timeline, week by week, of who crosses which
/// rule's threshold, then each change.
pub fn forecast_html(as_of: crate::time::Time, days: u32, found: &[super::Forecast<'_>], users: usize) -> String {
    let mut out = Vec::new();
    // Writing into memory cannot fail.
    let _ = write_forecast(&mut out, as_of, days, found, users);
    String::from_utf8_lossy(&out).into_owned()
}

fn write_forecast(
    out: &mut Vec<u8>,
    as_of: crate::time::Time,
    days: u32,
    found: &[super::Forecast<'_>],
    users: usize,
) -> io::Result<()> {
    let from = crate::time::format_time(as_of);
    head(out, &format!("dormant forecast from {from}"))?;
    writeln!(
        out,
        "<header><h1>dormant forecast from {} for {days} days</h1></header>\n<main>\n\
         <p>{} of {users} users change.</p>",
        esc(&from),
        found.len()
    )?;
    // Week k holds the days 7k+1 ..= 7k+7 after as-of.
    let start = as_of.date_naive();
    let weeks = days.div_ceil(7).max(1) as usize;
    let mut by_week: Vec<Vec<(String, usize)>> = vec![Vec::new(); weeks];
    for f in found {
        let day = chrono::NaiveDate::parse_from_str(&f.date, "%Y-%m-%d")
            .map(|d| (d - start).num_days())
            .unwrap_or(1);
        let week = usize::try_from((day - 1).max(0) / 7).unwrap_or(0).min(weeks - 1);
        let label = f.to.text();
        if let Some(w) = by_week.get_mut(week) {
            match w.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => w.push((label, 1)),
            }
        }
    }
    writeln!(
        out,
        "<section aria-labelledby=\"h-time\"><h2 id=\"h-time\">Timeline</h2>"
    )?;
    let bars: Vec<(String, usize)> = by_week
        .iter()
        .enumerate()
        .map(|(k, w)| {
            let first = start + chrono::Days::new(7 * k as u64 + 1);
            (
                format!("week of {}", first.format("%Y-%m-%d")),
                w.iter().map(|(_, n)| n).sum(),
            )
        })
        .collect();
    bar_chart(out, "chart-weeks", "Users whose decision changes, by week", &bars)?;
    writeln!(
        out,
        "<table id=\"timeline\"><thead><tr><th scope=\"col\">week</th><th scope=\"col\">becomes</th>\
         <th scope=\"col\" class=\"num\">users</th></tr></thead><tbody>"
    )?;
    for ((label, _), w) in bars.iter().zip(&by_week) {
        for (to, n) in w {
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{n}</td></tr>",
                esc(label),
                esc(to)
            )?;
        }
    }
    writeln!(out, "</tbody></table></section>")?;
    writeln!(
        out,
        "<section aria-labelledby=\"h-changes\"><h2 id=\"h-changes\">Changes</h2>\
         <table id=\"changes\"><thead><tr><th scope=\"col\">date</th><th scope=\"col\">user</th>\
         <th scope=\"col\">from</th><th scope=\"col\">to</th><th scope=\"col\">reason</th></tr></thead><tbody>"
    )?;
    for f in found.iter().take(FORECAST_LISTED) {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.date),
            esc(&f.user.display()),
            esc(&f.from.text()),
            esc(&f.to.text()),
            esc(&f.reason)
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    if found.len() > FORECAST_LISTED {
        writeln!(
            out,
            "<p class=\"muted\">The first {FORECAST_LISTED} changes are listed; \
             <code>--format json</code> has them all.</p>"
        )?;
    }
    writeln!(out, "</section></main>\n</body>\n</html>")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `#rrggbb` to its relative luminance (WCAG 2).
    fn luminance(hex: &str) -> f64 {
        let hex = hex.trim_start_matches('#');
        let channel = |i: usize| {
            let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
    }

    fn ratio(a: &str, b: &str) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    fn colour(name: &str) -> String {
        let at = stylesheet().find(&format!("{name}:")).unwrap();
        let rest = &stylesheet()[at + name.len() + 1..];
        rest[..rest.find(';').unwrap()].trim().to_string()
    }

    #[test]
    fn every_text_colour_has_a_contrast_of_at_least_4_5_to_1() {
        assert!((ratio("#000000", "#ffffff") - 21.0).abs() < 1e-9);
        for (fg, bg) in CONTRAST_PAIRS {
            let r = ratio(&colour(fg), &colour(bg));
            assert!(r >= 4.5, "{fg} on {bg}: {r:.2}:1");
        }
        // Every colour the stylesheet uses is one of its custom properties.
        let rules = stylesheet().split("*/").nth(1).unwrap();
        let body = rules.split_once('}').unwrap().1;
        assert!(!body.contains('#'), "a colour outside the custom properties");
    }

    #[test]
    fn user_text_cannot_close_the_script_or_open_a_tag() {
        let hostile = "</script><script>alert(1)</script><!-- & \u{2028}";
        let json = script_json(&serde_json::to_string(hostile).unwrap());
        assert!(!json.contains('<') && !json.contains('>'));
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), hostile);
        assert_eq!(
            esc("<b a=\"x\" b='y'>&</b>"),
            "&lt;b a=&quot;x&quot; b=&#39;y&#39;&gt;&amp;&lt;/b&gt;"
        );
    }
}
