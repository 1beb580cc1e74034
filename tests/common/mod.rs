//! A builder for runs of the `dormant` binary, like just's `Test`.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `generated_at` of every run's output, unless the run is `without`
/// `DORMANT_GENERATED_AT`.
pub const GENERATED_AT: &str = "2026-11-23T12:00:00Z";

/// One run of the binary, built up like just's `Test`.
pub struct Run {
    args: Vec<String>,
    dir: PathBuf,
    env: Vec<(String, String)>,
    /// Variables the run must not inherit.
    unset: Vec<String>,
    /// Values that must appear nowhere in the output.
    secrets: Vec<String>,
    /// What the run reads on its standard input (none: an empty input).
    input: Option<Vec<u8>>,
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
            env: Vec::new(),
            unset: Vec::new(),
            secrets: Vec::new(),
            input: None,
        }
    }

    /// Gives the run these bytes on its standard input.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.input = Some(bytes.into());
        self
    }

    pub fn in_dir(mut self, dir: &Path) -> Self {
        self.dir = dir.to_path_buf();
        self
    }

    /// Sets an environment variable holding a secret: the run's output must
    /// not contain it.
    pub fn secret(mut self, var: &str, value: &str) -> Self {
        self.env.push((var.to_string(), value.to_string()));
        self.secrets.push(value.to_string());
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, var: &str, value: &str) -> Self {
        self.env.push((var.to_string(), value.to_string()));
        self
    }

    /// Runs without this variable, whatever the environment has.
    pub fn without(mut self, var: &str) -> Self {
        self.unset.push(var.to_string());
        self
    }

    /// Another value that must appear nowhere in the output.
    pub fn never_shows(mut self, value: &str) -> Self {
        self.secrets.push(value.to_string());
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dormant"));
        // Outputs say when they were written: a fixed time keeps snapshots
        // still (`without` it, the clock).
        cmd.args(&self.args)
            .current_dir(&self.dir)
            .env_remove("NO_COLOR")
            .env("DORMANT_GENERATED_AT", GENERATED_AT);
        for k in &self.unset {
            cmd.env_remove(k);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts it, and kills it (SIGKILL) once `until` holds, or after 60 s
    /// (generous: a loaded machine may be slow to get there).
    pub fn kill_when(self, until: impl Fn() -> bool) {
        let mut child = self
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary runs");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !until() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().expect("it can be killed");
        child.wait().expect("it ends");
    }

    pub fn run(self) -> Done {
        let out = match &self.input {
            None => self.command().output().expect("the binary runs"),
            Some(bytes) => {
                let mut child = self
                    .command()
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("the binary runs");
                let mut stdin = child.stdin.take().expect("a piped stdin");
                let bytes = bytes.clone();
                // Written on a thread of its own: the run may write its
                // output before it has read all of its input.
                let writer = std::thread::spawn(move || {
                    let _ = std::io::Write::write_all(&mut stdin, &bytes);
                });
                let out = child.wait_with_output().expect("it ends");
                writer.join().expect("the input is written");
                out
            }
        };
        let done = Done {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        for s in &self.secrets {
            assert!(
                !done.stdout.contains(s.as_str()) && !done.stderr.contains(s.as_str()),
                "a secret leaked into the output of {:?}",
                self.args
            );
        }
        done
    }
}
pub mod sim;
pub mod smtp;

/// A dormant.toml enforcing `p.policy` with one connector, `name`, of kind
/// `kind` at `url` (a simulator's), its other keys in `keys` (TOML lines).
pub fn connector_config(name: &str, kind: &str, url: &str, keys: &str) -> String {
    format!("policy = \"p.policy\"\n[connector.{name}]\nkind = \"{kind}\"\nurl = \"{url}\"\n{keys}")
}

/// Writes `text` as the dormant.toml of a test's folder.
pub fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("dormant.toml"), text).unwrap_or_else(|e| panic!("cannot write dormant.toml: {e}"));
}
