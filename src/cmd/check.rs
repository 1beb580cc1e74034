//! `dormant check POLICY...`

use super::{read_source, Output};
use crate::check::{self, Options};
use crate::cli::CheckArgs;
use crate::diagnostic::{self, ErrorFormat};
use crate::parse;
use crate::Exit;
use chrono::Utc;

pub fn run(args: &CheckArgs, out: &Output) -> Exit {
    let options = Options {
        as_of: args.as_of.unwrap_or_else(Utc::now),
    };
    let connector = match &args.connector {
        Some(name) => match super::connector_named(name, out)
            .map_err(super::Failure::from)
            .and_then(|c| super::enriched_fields(&c).map(|fields| (c, fields)))
        {
            Ok(c) => Some(c),
            Err(failure) => return out.fail(&failure),
        },
        None => None,
    };
    let mut failed = false;
    let mut json = Vec::new();
    let (mut errors, mut warnings) = (0, 0);
    for path in &args.policies {
        let source = match read_source(path) {
            Ok(s) => s,
            Err(message) => {
                out.error(&message);
                failed = true;
                continue;
            }
        };
        let diags = match parse::parse(&source) {
            Ok(parsed) => {
                let mut diags = check::check(&parsed.policy, &options).diagnostics;
                if let Some((c, enriched)) = &connector {
                    diags.extend(check::connector::against(&parsed.policy, c, enriched));
                }
                diags
            }
            Err(diag) => vec![diag],
        };
        errors += diags.iter().filter(|d| d.is_error()).count();
        warnings += diags.iter().filter(|d| !d.is_error()).count();
        out.diagnostics(&source, &diags);
        if out.format == ErrorFormat::Json {
            json.extend(
                diagnostic::to_json(&source, &diags)
                    .into_iter()
                    .filter_map(|d| serde_json::to_value(d).ok()),
            );
        }
    }
    if out.format == ErrorFormat::Json {
        println!("{}", serde_json::Value::Array(json));
    } else if errors + warnings > 0 {
        eprintln!("{}, {}", plural(errors, "error"), plural(warnings, "warning"));
    }
    if failed || errors > 0 || (args.deny_warnings && warnings > 0) {
        Exit::Errors
    } else {
        Exit::Ok
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
