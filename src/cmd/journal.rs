//! `dormant journal verify [JOURNAL] [--head LINES:HASH]`.

use super::Failure;
use super::{load_config, Output};
use crate::cli::{JournalArgs, JournalCommand};
use crate::Exit;

pub fn run(args: &JournalArgs, out: &Output) -> Result<Exit, Failure> {
    let JournalCommand::Verify { journal, head } = &args.command;
    // The config is read even for a journal named on the command line: it
    // says whether journals are keyed, and with which key.
    let config = load_config(out)?;
    let path = match (journal, &config) {
        (Some(p), _) => p.clone(),
        (None, Some(c)) => c.journal.clone(),
        (None, None) => std::path::PathBuf::from("dormant-journal.jsonl"),
    };
    let key = match &config {
        Some(c) => c.journal_key().map_err(|source| Failure::Unverifiable {
            path: path.clone(),
            source,
        })?,
        None => None,
    };
    if !path.exists() {
        return Err(Failure::NoJournal { path });
    }
    let v = crate::journal::verify(&path, key.as_ref())?;
    // Checked before anything is printed: a journal that fails against the
    // kept head is not reported intact first.
    let kept = match head {
        Some(kept) => Some(v.find(kept).map_err(|source| Failure::KeptHead {
            path: path.clone(),
            source,
        })?),
        None => None,
    };
    report(&path, &v, kept);
    Ok(Exit::Ok)
}

/// Prints what the check found, and what a pass does not prove.
fn report(path: &std::path::Path, v: &crate::journal::Verified, kept: Option<u64>) {
    let chain = if v.keyed {
        "every line's HMAC-SHA256 checked with the key"
    } else {
        "SHA-256 chain"
    };
    println!(
        "journal `{}`: {} lines, every one intact and in order ({chain}); head {}:{}",
        path.display(),
        v.lines,
        v.lines,
        v.head
    );
    if v.past_head > 0 {
        println!(
            "note: the last {} lines came after the head was written: a run stopped there; the next apply records them",
            v.past_head
        );
    }
    match kept {
        Some(at) => {
            let since = match v.lines.saturating_sub(at) {
                0 => String::new(),
                1 => "; the 1 line after it was added since".to_string(),
                n => format!("; the {n} lines after it were added since"),
            };
            println!("the kept head is line {at}: nothing up to it changed since it was kept{since}");
        }
        // Say what a pass does not prove, where it matters most.
        None if !v.keyed => println!(
            "note: without a key this shows damage and edits, but a rewrite of the whole journal and its head passes too: keep the head above elsewhere and check against it with `--head {}:{}`",
            v.lines, v.head
        ),
        None => println!(
            "note: keep the head above elsewhere too: a `.head` put back from an earlier run hides lines cut after it, and only `--head {}:{}` shows that",
            v.lines, v.head
        ),
    }
}
