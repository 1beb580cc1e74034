//! dormant: find dormant user accounts and clean them up under a policy.
//!
//! The pipeline, one module per stage: `parse` → `check` → (`eval` → `plan`).
#![forbid(unsafe_code)]

pub mod apply;
pub mod ast;
pub mod check;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod connector;
pub mod decision;
pub mod diagnostic;
pub mod digest;
pub mod eval;
pub mod evidence;
pub mod fields;
pub mod files;
pub mod fmt;
pub mod http;
pub mod journal;
pub mod limits;
pub mod notices;
pub mod notify;
pub mod parse;
pub mod plan;
pub mod program;
pub mod progress;
pub mod render;
pub mod source;
pub mod suggest;
pub mod testcase;
pub mod time;
pub mod user;
pub mod value;

/// The process exit status (SPEC section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Errors = 1,
    Usage = 2,
    OverLimit = 3,
}

impl std::process::Termination for Exit {
    fn report(self) -> std::process::ExitCode {
        std::process::ExitCode::from(self as u8)
    }
}
