//! `dormant journal verify`.

use super::{load_config, Output};
use crate::cli::{JournalArgs, JournalCommand};
use crate::Exit;

pub fn run(args: &JournalArgs, out: &Output) -> Result<Exit, Exit> {
    let JournalCommand::Verify { journal } = &args.command;
    let path = match journal {
        Some(p) => p.clone(),
        None => match load_config(out)? {
            Some(c) => c.journal,
            None => std::path::PathBuf::from("dormant-journal.jsonl"),
        },
    };
    if !path.exists() {
        out.error(&format!("no journal at `{}`", path.display()));
        return Err(Exit::Errors);
    }
    match crate::journal::verify(&path) {
        Ok(v) => {
            println!(
                "journal `{}`: {} lines, every one intact and in order; last line sha256 {}",
                path.display(),
                v.lines,
                v.head
            );
            if v.past_head > 0 {
                println!(
                    "note: the last {} lines came after the head was written: a run stopped there; the next apply records them",
                    v.past_head
                );
            }
            Ok(Exit::Ok)
        }
        Err(e) => {
            out.error(&e);
            Err(Exit::Errors)
        }
    }
}
