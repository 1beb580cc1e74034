use clap::Parser;
use dormant::{cli::Cli, cmd, Exit};

fn main() -> Exit {
    // clap prints usage errors itself and exits with status 2.
    cmd::run(Cli::parse())
}
