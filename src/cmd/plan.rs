//! `dormant plan` and `dormant explain`.

use super::{as_of, compile, load_notices, load_policy, load_users, write_output, Output};
use crate::cli::{ExplainArgs, PlanArgs, TextOrJson};
use crate::connector::file::sha256_hex;
use crate::eval::{CondTrace, RuleTrace};
use crate::plan::{self, Entry, Header, PolicyRef, Tally, UsersRef};
use crate::render::Renderer;
use crate::Exit;
use std::fmt::Write as _;

pub fn plan(args: &PlanArgs, out: &Output) -> Result<Exit, Exit> {
    let as_of = as_of(&args.as_of);
    let (source, policy) = load_policy(&args.policy, out, as_of)?;
    let program = compile(&source, &policy, as_of, out)?;
    let notices = load_notices(out)?;
    let users = load_users(&args.users.users, out)?;
    let header = Header {
        as_of,
        policy: PolicyRef {
            path: source.path.clone(),
            sha256: sha256_hex(source.text.as_bytes()),
        },
        users: UsersRef {
            source: users.source.clone(),
            count: users.users.len(),
            sha256: users.sha256.clone(),
        },
    };
    let mut tally = Tally::default();
    let mut r = Renderer::new(args.format, Vec::new());
    let written = (|| {
        r.begin(&header)?;
        for u in &users.users {
            let e = plan::entry(&program, u, &notices);
            tally.add(e.rule, e.action);
            r.entry(&e, &program)?;
        }
        r.finish(&header, &tally, &program)
    })();
    let bytes = written.map_err(|e| {
        out.error(&format!("cannot write the plan: {e}"));
        Exit::Errors
    })?;
    write_output(args.output.as_deref(), &bytes, out)?;
    let over: Vec<String> = tally
        .limits(&program)
        .into_iter()
        .filter(|l| l.exceeded)
        .map(|l| format!("{} ({} planned, limit {})", l.action.as_str(), l.count, l.limit))
        .collect();
    if over.is_empty() {
        Ok(Exit::Ok)
    } else {
        eprintln!(
            "error: the plan is over its limits: {}; apply will refuse these actions",
            over.join(", ")
        );
        Ok(Exit::OverLimit)
    }
}

pub fn explain(args: &ExplainArgs, out: &Output) -> Result<Exit, Exit> {
    let as_of = as_of(&args.as_of);
    let (source, policy) = load_policy(&args.policy, out, as_of)?;
    let program = compile(&source, &policy, as_of, out)?;
    let notices = load_notices(out)?;
    let users = load_users(&args.users.users, out)?;
    let who = args.user.trim();
    // An id is exact; a username or an email ignores case.
    let found: Vec<_> = match users.users.iter().find(|u| u.id == who) {
        Some(u) => vec![u],
        None => users.users.iter().filter(|u| u.is_named(who)).collect(),
    };
    let user = match found.as_slice() {
        [one] => *one,
        [] => {
            out.error(&format!(
                "no user `{who}` in {}: name them by id, username or email",
                users.source
            ));
            return Err(Exit::Errors);
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|u| u.id.as_str()).collect();
            out.error(&format!(
                "`{who}` names {} users ({}): use an id",
                many.len(),
                ids.join(", ")
            ));
            return Err(Exit::Errors);
        }
    };
    let e = plan::entry(&program, user, &notices);
    let text = match args.format {
        TextOrJson::Json => {
            #[derive(serde::Serialize)]
            struct Explained<'a> {
                reason: String,
                #[serde(flatten)]
                entry: &'a Entry<'a>,
            }
            let explained = Explained {
                reason: e.reason(&program),
                entry: &e,
            };
            let mut s = serde_json::to_string_pretty(&explained).unwrap_or_default();
            s.push('\n');
            s
        }
        TextOrJson::Text => explanation_text(&e, &program),
    };
    write_output(None, text.as_bytes(), out)?;
    Ok(Exit::Ok)
}

/// The explanation for a person who never wrote a policy.
pub fn explanation_text(e: &Entry<'_>, p: &crate::program::Program) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", e.user.display());
    let _ = writeln!(s, "  decision  {}", e.action.as_str());
    let _ = writeln!(
        s,
        "  rule      {}",
        e.rule.unwrap_or("none (no rule matched)")
    );
    let _ = writeln!(s, "  as of     {}", crate::time::format_time(p.as_of));
    if let Some(due) = e.due {
        let _ = writeln!(s, "  due       {}", crate::time::format_time(due));
    }
    if let Some(at) = e.notified {
        let _ = writeln!(s, "  notified  {}", crate::time::format_time(at));
    }
    let _ = writeln!(s, "  reason    {}", e.reason(p));
    if !e.because.is_empty() {
        let title = match e.rule {
            Some("exempt") => "Exempted:".to_string(),
            Some(rule) if e.action == crate::eval::PlanAction::Review => {
                format!("Why `{rule}` cannot be decided (data is missing):")
            }
            Some(rule) => format!("Why `{rule}` decided:"),
            None => String::new(),
        };
        let _ = writeln!(s, "\n{title}");
        conditions(&mut s, &e.because, "  ");
    }
    if !e.passed.is_empty() {
        let title = if e.rule.is_some() {
            "Earlier rules, and why they did not decide:"
        } else {
            "Every rule, and why it did not match:"
        };
        let _ = writeln!(s, "\n{title}");
        for r in &e.passed {
            rule_text(&mut s, r);
        }
    }
    s
}

fn rule_text(s: &mut String, r: &RuleTrace) {
    let _ = writeln!(s, "  {}: {}", r.rule, r.result.as_str());
    conditions(s, &r.because, "    ");
}

fn conditions(s: &mut String, traces: &[CondTrace<'_>], indent: &str) {
    for c in traces {
        let via = c.via.map(|v| format!(" (in `{v}`)")).unwrap_or_default();
        let _ = writeln!(s, "{indent}{}{via}: {}", c.condition, c.result.as_str());
        let last = c.values.len().saturating_sub(1);
        for (i, v) in c.values.iter().enumerate() {
            // The age belongs to the time shown last (`joined` when `inactive`
            // counts from it).
            match &c.age {
                Some(age) if i == last => {
                    let _ = writeln!(s, "{indent}    {} {}, {}", v.field, v.value, age.note());
                }
                _ => {
                    let _ = writeln!(s, "{indent}    {} {}", v.field, v.value);
                }
            }
        }
    }
}
