//! The limits dormant puts on its input, in one place. Each is far beyond
//! what a person writes, and each keeps a hostile or broken input from
//! exhausting the stack, the memory or the time of a run: past a limit the
//! input is refused with a message that names the limit and where it was
//! exceeded, never a crash.

/// How deep a condition may nest. Each `(`, each `not` and each use of a
/// `let` name opens a level (a `let` name counts the levels of its own
/// condition too). The parser, the checker, the formatter, the compiled
/// program, evaluation and explanations all recurse over conditions; at
/// this depth all of them fit with room to spare in a 2 MiB thread stack
/// of a debug build (the test threads'), and the default 8 MiB main
/// thread.
pub const MAX_NESTING: usize = 256;

/// How many parts (comparisons, `and`, `or`, `not`, `let` names) the
/// conditions of a policy may have once every `let` name is written out
/// as its condition, which is how they are compiled and evaluated. A
/// chain of `let`s that each use the one before twice doubles at every
/// step; this keeps such a chain from filling the memory.
pub const MAX_EXPANDED: usize = 1_000_000;

/// The longest column name (CSV) or key (JSON) of a users file, in
/// characters.
pub const MAX_COLUMN_NAME: usize = 256;

/// The most columns a users file's header (or keys a user object) may have.
pub const MAX_COLUMNS: usize = 4096;

/// The longest duration a policy may write, in years: ages and notices are
/// worked out as times, which must stay within the calendar's range.
pub const MAX_DURATION_YEARS: u32 = 10_000;

/// The largest number a `limit` may give (it counts users).
pub const MAX_LIMIT: f64 = 1_000_000_000.0;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check, Options};
    use crate::diagnostic::Code;
    use crate::notices::Notices;
    use crate::parse::parse;
    use crate::plan::{self, GeneratedBy, Header, PolicyRef, Tally, UsersRef};
    use crate::program::Program;
    use crate::render::{EntryCache, Format, Renderer};
    use crate::source::Source;
    use crate::time::parse_time;
    use crate::user::{Known, User};

    /// `(is_admin or is_service and (...))`, `levels` parentheses deep: each
    /// level is a parenthesis, an `or` and an `and`, the deepest tree a
    /// level allows.
    fn parens(levels: usize) -> String {
        around(levels, "is_admin")
    }

    /// `inner` at the bottom of `levels` parentheses, as in [`parens`].
    fn around(levels: usize, inner: &str) -> String {
        let mut text = inner.to_string();
        for _ in 0..levels {
            text = format!("(is_admin or is_service and {text})");
        }
        text
    }

    /// Every stage, on a thread with `stack` bytes: parse, check, format,
    /// compile, decide, explain, and write the plan in every format.
    fn every_stage(policy: String, stack: usize) -> Vec<Code> {
        let run = move || {
            let as_of = parse_time("2026-11-23").unwrap_or_default();
            let source = Source::new("deep.policy", policy.as_str());
            eprintln!("parse");
            let parsed = match parse(&source) {
                Ok(p) => p,
                Err(d) => return vec![d.code],
            };
            eprintln!("check");
            let report = check(&parsed.policy, &Options { as_of });
            eprintln!("fmt");
            if report.has_errors() {
                return report.errors().map(|d| d.code).collect();
            }
            let formatted = crate::fmt::format(&source.text, &parsed);
            assert!(parse(&Source::new("again.policy", formatted.as_str())).is_ok());
            eprintln!("compile");
            let Ok(program) = Program::compile(&parsed.policy, &source, as_of) else {
                return vec![Code::Syntax];
            };
            let mut users = vec![User::default()];
            for (admin, service) in [(false, true), (true, false), (false, false)] {
                users.push(User {
                    id: "u".into(),
                    is_admin: Some(admin),
                    is_service: Some(service),
                    last_login: Known::Never,
                    ..User::default()
                });
            }
            let header = Header {
                as_of,
                policy: PolicyRef {
                    path: String::new(),
                    sha256: String::new(),
                },
                users: UsersRef {
                    source: String::new(),
                    count: 0,
                    sha256: String::new(),
                },
                revoke: false,
                generated_by: GeneratedBy::THIS,
                generated_at: as_of,
                connector: None,
                journal: None,
                warnings: Vec::new(),
            };
            let notices = Notices::new();
            for format in [Format::Table, Format::Json, Format::Csv, Format::Markdown, Format::Html] {
                let mut r = Renderer::new(format, std::io::sink());
                let mut tally = Tally::default();
                let mut cache = EntryCache::default();
                assert!(r.begin(&header, &program).is_ok());
                for u in &users {
                    eprintln!("decide");
                    let d = crate::eval::decide(&program, u, &notices);
                    eprintln!("explain");
                    tally.add_decision(plan::rule_label(&program, &d), &d);
                    let e = plan::explained(&program, u, d);
                    let _ = crate::render::reason(&e);
                    eprintln!("write {format:?}");
                    let written = match format {
                        Format::Json => r.json_entry(|buf| cache.write(buf, &program, u, &d)),
                        _ => r.entry(&e),
                    };
                    assert!(written.is_ok());
                }
                assert!(r.finish(&header, &tally, &program).is_ok());
            }
            Vec::new()
        };
        match std::thread::Builder::new().stack_size(stack).spawn(run) {
            Ok(handle) => handle.join().unwrap_or_else(|_| vec![Code::Syntax]),
            Err(_) => vec![Code::Syntax],
        }
    }

    const TEST_STACK: usize = 2 << 20;

    #[test]
    fn the_deepest_conditions_allowed_go_through_every_stage_on_a_small_stack() {
        let deepest = [
            format!("r: {} -> delete", parens(MAX_NESTING)),
            format!("r: {}is_admin -> delete", "not ".repeat(MAX_NESTING)),
            // `let` names count a level each, and the levels of their condition.
            format!(
                "let a = {}\nlet b = {}\nr: {} -> delete",
                parens(MAX_NESTING / 2 - 1),
                around(MAX_NESTING / 4 - 1, "a"),
                around(MAX_NESTING / 4 - 1, "b == false"),
            ),
        ];
        for policy in deepest {
            eprintln!("POLICY {}", &policy[..40]);
            assert_eq!(every_stage(policy.clone(), TEST_STACK), vec![], "{}", &policy[..60]);
        }
    }

    #[test]
    fn a_stack_too_small_for_the_parser_is_an_error_not_a_crash() {
        // Pest guards its own recursion: on a stack too small for the
        // deepest condition allowed, it stops, and that is a diagnostic.
        let policy = format!("r: {} -> delete", parens(MAX_NESTING));
        let parsed = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || parse(&Source::new("deep.policy", policy.as_str())).map(|_| ()));
        let result = parsed.ok().and_then(|h| h.join().ok());
        match result {
            Some(Err(d)) => {
                assert_eq!(d.code, Code::TooDeep);
                assert!(
                    d.message.starts_with("the policy is too complex to read here"),
                    "{}",
                    d.message
                );
            }
            other => assert!(matches!(other, Some(Ok(()))), "{other:?}"),
        }
    }

    #[test]
    fn one_level_more_is_refused() {
        for policy in [
            format!("r: {} -> delete", parens(MAX_NESTING + 1)),
            format!("r: {}is_admin -> delete", "not ".repeat(MAX_NESTING + 1)),
            format!(
                "r: {}is_admin{} -> delete",
                "not (".repeat(MAX_NESTING / 2 + 1),
                ")".repeat(MAX_NESTING / 2 + 1)
            ),
            format!(
                "let a = {}\nr: {} -> delete",
                parens(MAX_NESTING / 2),
                around(MAX_NESTING / 2, "a")
            ),
            format!(
                "let a = {}\nlet b = not a\nr: b -> delete",
                "not ".repeat(MAX_NESTING - 1) + "is_admin"
            ),
        ] {
            assert_eq!(
                every_stage(policy.clone(), TEST_STACK),
                vec![Code::TooDeep],
                "{}",
                &policy[..60]
            );
        }
    }
}
