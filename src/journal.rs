//! The journal: append-only JSON lines that record what was done. Planning
//! reads one thing from it: the notices already sent, for `after notice`.
//!
//! A notice is a record with `"event": "outcome"`, `"action": "notify"` and
//! `"status": "done"`, naming the `user` (id), the `rule` it was sent under
//! and when (`at`, RFC 3339). Other records are skipped here.

use crate::time::{self, Time};
use std::collections::HashMap;
use std::path::Path;

/// The latest notice sent to each user under each rule.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    /// user id → rule → when.
    latest: HashMap<String, HashMap<String, Time>>,
}

impl Notices {
    pub fn new() -> Self {
        Notices::default()
    }

    /// Records a notice (keeping the latest per user and rule).
    pub fn add(&mut self, user: &str, rule: &str, at: Time) {
        let slot = self
            .latest
            .entry(user.to_string())
            .or_default()
            .entry(rule.to_string())
            .or_insert(at);
        if at > *slot {
            *slot = at;
        }
    }

    pub fn latest(&self, user: &str, rule: &str) -> Option<Time> {
        self.latest.get(user)?.get(rule).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }

    /// Reads the notices of a journal file. A line that is not a JSON object
    /// is an error naming the file and line: a damaged journal is never read
    /// as if it had fewer notices.
    pub fn read(path: &Path) -> Result<Notices, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read journal `{}`: {e}", path.display()))?;
        let mut notices = Notices::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let record: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| format!("{}:{}: not a journal record: {e}", path.display(), n + 1))?;
            let field = |k: &str| record.get(k).and_then(|v| v.as_str());
            if field("event") != Some("outcome") || field("action") != Some("notify") || field("status") != Some("done")
            {
                continue;
            }
            let (Some(user), Some(rule), Some(at)) =
                (field("user"), field("rule"), field("at").and_then(time::parse_time))
            else {
                return Err(format!(
                    "{}:{}: a notice needs `user`, `rule` and an RFC 3339 `at`",
                    path.display(),
                    n + 1
                ));
            };
            notices.add(user, rule, at);
        }
        Ok(notices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_latest_notice_per_user_and_rule() {
        let dir = std::env::temp_dir().join(format!("dormant-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.jsonl");
        std::fs::write(
            &path,
            r#"{"event":"outcome","action":"notify","status":"done","user":"u1","rule":"dormant","at":"2026-10-01T00:00:00Z"}
{"event":"outcome","action":"notify","status":"done","user":"u1","rule":"dormant","at":"2026-10-05T00:00:00Z"}
{"event":"outcome","action":"notify","status":"failed","user":"u1","rule":"dormant","at":"2026-10-09T00:00:00Z"}
{"event":"intent","action":"notify","user":"u2","rule":"dormant","at":"2026-10-01T00:00:00Z"}
"#,
        )
        .unwrap();
        let n = Notices::read(&path).unwrap();
        assert_eq!(n.latest("u1", "dormant"), time::parse_time("2026-10-05"));
        assert_eq!(n.latest("u2", "dormant"), None);
        std::fs::write(&path, "{\"event\":\"outcome\"}\nnot json\n").unwrap();
        assert!(Notices::read(&path)
            .unwrap_err()
            .ends_with(":2: not a journal record: expected ident at line 1 column 2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
