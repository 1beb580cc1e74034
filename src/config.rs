//! `dormant.toml`: where the journal is (and, for platform connectors, how
//! to reach them). Read once by `cmd`; mistakes are reported at their span.

use crate::diagnostic::{Code, Diag};
use crate::source::{Source, Span};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The default config file, looked for in the current folder.
pub const DEFAULT: &str = "dormant.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    journal: Option<String>,
    /// Platform connectors; read by the connectors themselves.
    #[allow(dead_code, reason = "validated by the connectors that read it")]
    connector: Option<toml::Table>,
    /// Notification channels; read by `apply`.
    #[allow(dead_code, reason = "validated by the notifiers that read it")]
    notify: Option<toml::Table>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The journal file (it may not exist yet).
    pub journal: PathBuf,
}

/// A config file that cannot be used: unreadable, or with a mistake at a span.
#[derive(Debug)]
pub enum ConfigError {
    Read(String),
    Invalid(Box<(Source, Diag)>),
}

impl Config {
    /// Reads the config. A missing default file is no config at all (commands
    /// that need none work without one); a missing file named with
    /// `--config` is an error.
    pub fn load(path: Option<&Path>) -> Result<Option<Config>, ConfigError> {
        let (path, explicit) = match path {
            Some(p) => (p, true),
            None => (Path::new(DEFAULT), false),
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
            Err(e) => return Err(ConfigError::Read(format!("cannot read `{}`: {e}", path.display()))),
        };
        let source = Source::new(path.display().to_string(), text);
        let file: File = toml::from_str(&source.text).map_err(|e| {
            let span = e.span().map_or(Span::default(), |r| Span::new(r.start, r.end));
            let diag = Diag::error(Code::Config, span, e.message().to_string())
                .label("here")
                .help("see the README's \"Configuration\" section for the keys dormant.toml takes");
            ConfigError::Invalid(Box::new((source.clone(), diag)))
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let journal = dir.join(file.journal.as_deref().unwrap_or("dormant-journal.jsonl"));
        Ok(Some(Config { journal }))
    }
}
