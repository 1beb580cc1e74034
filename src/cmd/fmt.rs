//! `dormant fmt [--check] POLICY...`

use super::{read_source, write_atomically, Output};
use crate::cli::FmtArgs;
use crate::{fmt, parse, Exit};

pub fn run(args: &FmtArgs, out: &Output) -> Exit {
    let mut failed = false;
    let mut would_change = false;
    for path in &args.policies {
        let source = match read_source(path) {
            Ok(s) => s,
            Err(message) => {
                out.error(&message);
                failed = true;
                continue;
            }
        };
        let parsed = match parse::parse(&source) {
            Ok(p) => p,
            Err(diag) => {
                // Never rewrite a file that does not parse: the layout of a
                // broken file is the author's to fix.
                out.diagnostics(&source, &[diag]);
                failed = true;
                continue;
            }
        };
        let mut formatted = fmt::format(&source.text, &parsed);
        // A byte order mark is kept: it is the editor's, not the layout's.
        if source.text.starts_with(crate::source::BOM) {
            formatted.insert(0, crate::source::BOM);
        }
        if formatted == *source.text {
            continue;
        }
        if args.check {
            println!("{}", path.display());
            would_change = true;
        } else if let Err(e) = write_atomically(path, formatted.as_bytes()) {
            out.error(&e);
            failed = true;
        } else {
            eprintln!("formatted {}", path.display());
        }
    }
    if failed || would_change {
        Exit::Errors
    } else {
        Exit::Ok
    }
}
