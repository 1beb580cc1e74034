//! `dormant fetch`: every user of a connector, normalized, as a users file.

use super::Failure;
use super::{fetch_users, write_output, Output};
use crate::cli::FetchArgs;
use crate::Exit;

pub fn run(args: &FetchArgs, out: &Output) -> Result<Exit, Failure> {
    let fetched = fetch_users(&args.connector, out)?;
    let bytes = crate::connector::snapshot::write(&fetched.users);
    write_output(args.output.as_deref(), &bytes)?;
    if args.output.is_some() {
        eprintln!(
            "{} users fetched from connector `{}` (sha256 {})",
            fetched.users.len(),
            args.connector,
            fetched.sha256
        );
    }
    Ok(Exit::Ok)
}
