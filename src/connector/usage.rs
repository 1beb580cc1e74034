//! Requests per connector per day (UTC), kept in `dormant-usage.json` beside
//! the journal, so that `requests_per_day` holds across runs, not just
//! within one.

use super::Error;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Day {
    date: String,
    requests: u64,
}

type Usage = BTreeMap<String, Day>;

fn load(path: &Path) -> Result<Usage, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| Error::UsageDamaged {
            path: path.to_path_buf(),
            cause: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Usage::new()),
        Err(e) => Err(Error::UsageUnreadable {
            path: path.to_path_buf(),
            cause: e.to_string(),
        }),
    }
}

/// Requests `connector` made on `date` in earlier runs.
pub fn earlier(path: &Path, connector: &str, date: &str) -> Result<u64, Error> {
    Ok(load(path)?
        .get(connector)
        .filter(|d| d.date == date)
        .map_or(0, |d| d.requests))
}

/// Adds `requests` made on `date` by `connector`.
pub fn add(path: &Path, connector: &str, date: &str, requests: u64) -> Result<(), Error> {
    if requests == 0 {
        return Ok(());
    }
    // Read, add, write: two runs at once (two connectors' cron jobs) must
    // not each write back their own count over the other's.
    let _lock = crate::files::Lock::exclusive(path, "the request count", crate::files::Wait::Yes)?;
    let mut usage = load(path)?;
    let day = usage.entry(connector.to_string()).or_default();
    if day.date != date {
        *day = Day {
            date: date.to_string(),
            requests: 0,
        };
    }
    day.requests += requests;
    let text =
        serde_json::to_string_pretty(&usage).map_err(|e| crate::files::Error::write(path, std::io::Error::other(e)))?;
    crate::files::write_atomically(path, text.as_bytes(), crate::files::Mode::Private)
        .map_err(|e| crate::files::Error::write(path, e).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_connector_and_day() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dormant-usage.json");
        assert_eq!(earlier(&path, "a", "2026-11-23").unwrap(), 0);
        add(&path, "a", "2026-11-23", 5).unwrap();
        add(&path, "a", "2026-11-23", 2).unwrap();
        add(&path, "b", "2026-11-23", 1).unwrap();
        assert_eq!(earlier(&path, "a", "2026-11-23").unwrap(), 7);
        assert_eq!(earlier(&path, "a", "2026-11-24").unwrap(), 0);
        add(&path, "a", "2026-11-24", 3).unwrap();
        assert_eq!(earlier(&path, "a", "2026-11-24").unwrap(), 3);
        assert_eq!(earlier(&path, "b", "2026-11-23").unwrap(), 1);
        std::fs::write(&path, "{").unwrap();
        assert!(earlier(&path, "a", "2026-11-23")
            .unwrap_err()
            .to_string()
            .contains("is damaged"));
    }
}
