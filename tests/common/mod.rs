//! A builder for runs of the `dormant` binary, like just's `Test`.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::path::{Path, PathBuf};
use std::process::Command;

/// One run of the binary, built up like just's `Test`.
pub struct Run {
    args: Vec<String>,
    dir: PathBuf,
}

pub struct Done {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn new(args: &[&str]) -> Self {
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        }
    }

    pub fn in_dir(mut self, dir: &Path) -> Self {
        self.dir = dir.to_path_buf();
        self
    }

    pub fn run(self) -> Done {
        let out = Command::new(env!("CARGO_BIN_EXE_dormant"))
            .args(&self.args)
            .current_dir(&self.dir)
            .env_remove("NO_COLOR")
            .output()
            .expect("the binary runs");
        Done {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }
}
pub mod sim;
