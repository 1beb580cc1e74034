//! One function per subcommand: read the inputs, run the pure stages,
//! print, and return the exit status.

use crate::cli::{Cli, Command};
use crate::diagnostic::{self, Diag, ErrorFormat};
use crate::source::Source;
use crate::Exit;
use std::io::IsTerminal;
use std::path::Path;

mod check;
mod fmt;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Exit {
    let out = Output::new(cli.error_format);
    match cli.command {
        Command::Check(args) => check::run(&args, &out),
        Command::Fmt(args) => fmt::run(&args, &out),
    }
}

/// Where and how diagnostics and errors are printed.
pub struct Output {
    pub format: ErrorFormat,
    /// Colour only on a terminal, and never when NO_COLOR is set.
    pub color: bool,
}

impl Output {
    pub fn new(format: ErrorFormat) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Output {
            format,
            color: !no_color && std::io::stderr().is_terminal(),
        }
    }

    /// Prints the diagnostics of one file (JSON is collected by the caller).
    pub fn diagnostics(&self, source: &Source, diags: &[Diag]) {
        match self.format {
            ErrorFormat::Human => eprint!("{}", diagnostic::render_human(source, diags, self.color)),
            ErrorFormat::Plain => eprint!("{}", diagnostic::render_plain(source, diags)),
            ErrorFormat::Json => {}
        }
    }

    /// An error that is not about a span of a policy (a file that cannot be read).
    pub fn error(&self, message: &str) {
        match self.format {
            ErrorFormat::Json => {
                let value = serde_json::json!({ "severity": "error", "code": "dormant::io", "message": message });
                eprintln!("{value}");
            }
            _ => eprintln!("error: {message}"),
        }
    }
}

/// Reads a file as a `Source`, with an error message that names it.
pub fn read_source(path: &Path) -> Result<Source, String> {
    std::fs::read_to_string(path)
        .map(|text| Source::new(path.display().to_string(), text))
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}
