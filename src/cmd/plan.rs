//! `dormant plan` and `dormant explain`.

use super::Failure;
use super::{as_of, compile, load_notices_at_head, load_policy_warned, load_users, write_output, Output};
use crate::check::data::{Collector, Summary};
use crate::cli::{ExplainArgs, PlanArgs, TextOrJson};
use crate::connector::file;
use crate::connector::file::sha256_hex;
use crate::diagnostic::briefs;
use crate::plan::{self, ConnectorRef, Entry, GeneratedBy, Header, PolicyRef, Tally, UsersRef};
use crate::render::{EntryCache, Format, Renderer};
use crate::Exit;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub fn plan(args: &PlanArgs, out: &Output) -> Result<Exit, Failure> {
    let as_of = as_of(&args.as_of);
    let generated_at = super::generated_at()?;
    let format = format_of(args.format, args.output.as_deref());
    let (source, policy, mut warnings) = load_policy_warned(&args.policy, out, as_of)?;
    let mut program = compile(&source, &policy, as_of)?;
    let (notices, journal) = load_notices_at_head(out)?;
    let mut header = header_for(&source, &program, generated_at);
    header.journal = journal;
    // A connector's users are fetched whole first; a file's are read on
    // another thread while this one decides and writes.
    let fetched = match (&args.users.users, &args.users.connector) {
        (None, Some(name)) => {
            let connector = super::connector_named(name, out)?;
            warnings.extend(super::connector_warnings(&source, &policy, &connector, out)?);
            header.revoke = connector.kind.revokes();
            header.connector = Some(connector_ref(&connector));
            program.revoke = header.revoke;
            Some(super::fetch_from(&connector, out)?)
        }
        _ => None,
    };
    let sink = Sink::open(args.output.as_deref())?;
    let mut run = Planning::new(format, sink, &header, &program, &policy, &notices);
    let (users_source, finished) = match fetched {
        Some(f) => run.fetched(f),
        None => run.file(args.users.users.as_deref().unwrap_or(Path::new("")))?,
    };
    header.users = UsersRef {
        source: users_source,
        count: finished.count,
        sha256: finished.sha256,
    };
    warnings.extend(super::data_warnings(&source, &policy, &run.summary(), out));
    // A plan with warnings is not written at all under --deny-warnings, so
    // that CI cannot go on to apply it.
    if let Err(denied) = super::denied(args.deny_warnings, warnings.len(), "the plan was not written") {
        run.r.into_inner().discard();
        return Err(denied);
    }
    header.warnings = briefs(&source, &warnings);
    run.r.set_warnings(header.warnings.clone());
    let tally = run.write(&header, args.output.as_deref())?;
    // Also apart from the plan, for whoever wants it as a file of its own.
    if let Some(path) = &args.provenance {
        super::write_atomically(path, &crate::render::provenance_csv(&header))?;
    }
    over_limits(&tally, &program)
}

/// `--format`, or else the format `--output`'s extension names, or else
/// the table: `--output plan.json` writes JSON, which `apply` reads.
fn format_of(format: Option<Format>, output: Option<&Path>) -> Format {
    let ext = output
        .and_then(Path::extension)
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    format
        .or_else(|| match ext.as_deref()? {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "md" | "markdown" => Some(Format::Markdown),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        })
        .unwrap_or(Format::Table)
}

/// A connector as the plan names it, without its secrets.
fn connector_ref(c: &crate::config::Connector) -> ConnectorRef {
    ConnectorRef {
        name: c.name.clone(),
        kind: c.kind.as_str().to_string(),
        url: public_url(&c.url),
    }
}

/// A platform's address as a plan may show it: a user, a password, a query
/// or a fragment could hold a secret, so they are left out. An address
/// that does not parse is left out whole, since nothing in it can be
/// told safe.
fn public_url(url: &str) -> Option<String> {
    let mut u = reqwest::Url::parse(url).ok()?;
    // Only an address that cannot have a user refuses these (`data:`): it
    // has none to leak.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    Some(u.as_str().trim_end_matches('/').to_string())
}

/// The plan's heading before its users are read: the users' part is
/// filled in once they all have been.
fn header_for(
    source: &crate::source::Source,
    program: &crate::program::Program,
    generated_at: crate::time::Time,
) -> Header {
    Header {
        generated_by: GeneratedBy::THIS,
        generated_at,
        connector: None,
        journal: None,
        warnings: Vec::new(),
        as_of: program.as_of,
        policy: PolicyRef {
            path: source.path.clone(),
            sha256: sha256_hex(source.text.as_bytes()),
        },
        users: UsersRef {
            source: String::new(),
            count: 0,
            sha256: String::new(),
        },
        revoke: false,
    }
}

/// One pass of planning: each user decided, counted, written, and looked
/// at for the warnings, as the users arrive.
struct Planning<'a> {
    program: &'a crate::program::Program,
    notices: &'a crate::notices::Notices,
    r: Renderer<Sink>,
    /// The first write error: the rest of the pass writes nothing.
    written: std::io::Result<()>,
    cache: EntryCache<'a>,
    tally: Tally,
    /// What the users hold, gathered in the same pass, for the warnings
    /// (taken once the pass is over).
    collector: Option<Collector>,
}

impl<'a> Planning<'a> {
    fn new(
        format: Format,
        sink: Sink,
        header: &Header,
        program: &'a crate::program::Program,
        policy: &crate::ast::Policy,
        notices: &'a crate::notices::Notices,
    ) -> Self {
        let mut r = Renderer::new(format, sink);
        let written = r.begin(header, program);
        Planning {
            program,
            notices,
            r,
            written,
            cache: EntryCache::default(),
            tally: Tally::default(),
            collector: Some(Collector::new(policy)),
        }
    }

    fn decide(&mut self, users: &mut [crate::user::User]) {
        let (program, notices) = (self.program, self.notices);
        notices.fill_deactivated(users);
        for u in users.iter() {
            if let Some(c) = &mut self.collector {
                c.add(u);
            }
            let d = crate::eval::decide(program, u, notices);
            self.tally.add_decision(plan::rule_label(program, &d), &d);
            let (r, cache) = (&mut self.r, &mut self.cache);
            self.written = std::mem::replace(&mut self.written, Ok(())).and_then(|()| match r.format() {
                Format::Json => r.json_entry(|buf| cache.write(buf, program, u, &d)),
                _ => r.entry(&plan::explained(program, u, d)),
            });
        }
    }

    /// What the users held, once they have all been decided.
    fn summary(&mut self) -> Summary {
        self.collector.take().map(Collector::finish).unwrap_or_default()
    }

    /// A connector's users, fetched whole.
    fn fetched(&mut self, mut f: file::UsersFile) -> (String, file::Finished) {
        self.decide(&mut f.users);
        let count = f.users.len();
        (
            f.source,
            file::Finished {
                count,
                sha256: f.sha256,
            },
        )
    }

    /// A users file's, batch by batch as another thread reads them; a file
    /// with errors plans nothing.
    fn file(&mut self, path: &Path) -> Result<(String, file::Finished), Failure> {
        let (batches, reader) = file::spawn(path);
        for mut batch in batches.iter() {
            self.decide(&mut batch);
            if self.written.is_err() {
                break;
            }
        }
        drop(batches);
        // On an error the renderer is dropped with `self`, and its
        // temporary with it.
        match reader.join() {
            Ok(Ok(f)) => Ok((format!("file:{}", path.display()), f)),
            Ok(Err(e)) => Err(Failure::UsersFile(e)),
            Err(_) => Err(Failure::ReaderStopped),
        }
    }

    /// Finishes the plan and puts it in place (or prints it), whole or not
    /// at all; the counts, for the limits.
    fn write(self, header: &Header, output: Option<&Path>) -> Result<Tally, crate::files::Error> {
        let Planning {
            program,
            mut r,
            written,
            tally,
            ..
        } = self;
        let done = written.and_then(|()| r.finish(header, &tally, program));
        // A CSV plan's provenance heads it, but is known only once every
        // user is read: it goes in front as the plan is put in place.
        let head = match r.format() {
            Format::Csv => crate::render::csv_provenance_block(header),
            _ => Vec::new(),
        };
        let committed = match done {
            Ok(()) => r.into_inner().commit(&head),
            Err(e) => {
                r.into_inner().discard();
                Err(e)
            }
        };
        committed.map(|()| tally).map_err(|e| match output {
            Some(path) => crate::files::Error::write(path, e),
            None => crate::files::Error::Stdout(e),
        })
    }
}

/// Exit 3 for a plan over a limit, saying which.
fn over_limits(tally: &Tally, program: &crate::program::Program) -> Result<Exit, Failure> {
    let over: Vec<String> = tally
        .limits(program)
        .into_iter()
        .filter(|l| l.exceeded)
        .map(|l| format!("{} ({} planned, limit {})", l.action.as_str(), l.count, l.limit))
        .collect();
    match over.is_empty() {
        true => Ok(Exit::Ok),
        false => Err(Failure::OverLimit { over }),
    }
}

/// Where a plan goes: a temporary file renamed over `--output` once the plan
/// is whole, or memory printed at the end, so that nobody ever reads half a
/// plan, or a plan of a users file that turned out to have errors.
enum Sink {
    File {
        path: PathBuf,
        w: BufWriter<tempfile::NamedTempFile>,
    },
    Memory(Vec<u8>),
}

impl Sink {
    fn open(path: Option<&Path>) -> Result<Sink, crate::files::Error> {
        let Some(path) = path else {
            return Ok(Sink::Memory(Vec::new()));
        };
        if path.is_dir() {
            return Err(crate::files::Error::write(path, std::io::Error::other("a folder")));
        }
        let tmp = crate::files::temporary_beside(path).map_err(|e| crate::files::Error::write(path, e))?;
        Ok(Sink::File {
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 20, tmp),
        })
    }

    /// Puts the finished plan in place, `head` before it.
    fn commit(self, head: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::File { path, w } => {
                // A plan can be made again, so it is not synced to disk
                // (the journal is).
                let mut tmp = w.into_inner().map_err(|e| e.into_error())?;
                if !head.is_empty() {
                    tmp = prepended(head, tmp, &path)?;
                }
                crate::files::persist(tmp, &path, crate::files::Mode::Shared)
            }
            Sink::Memory(bytes) => {
                let mut out = std::io::stdout().lock();
                out.write_all(head)?;
                out.write_all(&bytes)
            }
        }
    }

    /// Throws a plan away.
    fn discard(self) {
        // The temporary file removes itself when dropped.
        drop(self);
    }
}

/// A new temporary beside `path` holding `head` and then what `tmp` holds
/// (a CSV plan's rows are a small part of a JSON plan's size: copying them
/// once costs little).
fn prepended(head: &[u8], mut tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Seek;
    let mut whole = crate::files::temporary_beside(path)?;
    whole.write_all(head)?;
    tmp.as_file_mut().seek(std::io::SeekFrom::Start(0))?;
    std::io::copy(tmp.as_file_mut(), &mut whole)?;
    Ok(whole)
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::File { w, .. } => w.write(buf),
            Sink::Memory(v) => v.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::File { w, .. } => w.write_all(buf),
            Sink::Memory(v) => v.write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File { w, .. } => w.flush(),
            Sink::Memory(_) => Ok(()),
        }
    }
}

pub fn explain(args: &ExplainArgs, out: &Output) -> Result<Exit, Failure> {
    let as_of = as_of(&args.as_of);
    let generated_at = super::generated_at()?;
    let (source, policy, mut warnings) = load_policy_warned(&args.policy, out, as_of)?;
    let mut program = compile(&source, &policy, as_of)?;
    let (notices, journal) = load_notices_at_head(out)?;
    let mut users = load_users(&args.users, out)?;
    notices.fill_deactivated(&mut users.users);
    warnings.extend(super::data_warnings(
        &source,
        &policy,
        &Summary::of(&policy, &users.users),
        out,
    ));
    let connector = match &args.users.connector {
        Some(name) => Some(super::connector_named(name, out)?),
        None => None,
    };
    // On Huwise a deactivation is a revoke: say so, and decide so.
    let revoke = connector.as_ref().is_some_and(|c| c.kind.revokes());
    program.revoke = revoke;
    let user = named(&users, &args.user)?;
    let e = plan::entry(&program, user, &notices);
    let text = match args.format {
        TextOrJson::Json => {
            let mut header = header_for(&source, &program, generated_at);
            header.users = UsersRef {
                source: users.source.clone(),
                count: users.users.len(),
                sha256: users.sha256.clone(),
            };
            header.connector = connector.as_ref().map(connector_ref);
            header.journal = journal;
            header.warnings = briefs(&source, &warnings);
            explain_json(&header, &e)
        }
        TextOrJson::Text => crate::render::explanation_text(&e, revoke),
    };
    write_output(None, text.as_bytes())?;
    super::denied(args.deny_warnings, warnings.len(), "exit status 1")?;
    Ok(Exit::Ok)
}

/// `explain --format json`: the decision with its reason, and the
/// provenance a plan carries (as-of, policy and users with their hashes,
/// connector, journal, warnings).
fn explain_json(header: &Header, e: &Entry<'_>) -> String {
    #[derive(serde::Serialize)]
    struct Explained<'a> {
        #[serde(flatten)]
        header: &'a Header,
        reason: String,
        #[serde(flatten)]
        entry: &'a Entry<'a>,
        warnings: &'a [crate::diagnostic::Brief],
    }
    let explained = Explained {
        header,
        reason: crate::render::reason(e),
        entry: e,
        warnings: &header.warnings,
    };
    let mut s = serde_json::to_string_pretty(&explained).unwrap_or_default();
    s.push('\n');
    s
}

/// The one user `who` names: an id exactly, or a username or an email
/// ignoring case; an error names what was looked for, and where.
fn named<'u>(users: &'u file::UsersFile, who: &str) -> Result<&'u crate::user::User, Failure> {
    let who = who.trim();
    let found: Vec<_> = match users.users.iter().find(|u| u.id == who) {
        Some(u) => vec![u],
        None => users.users.iter().filter(|u| u.is_named(who)).collect(),
    };
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Failure::NoSuchUser {
            who: who.to_string(),
            users: users.source.clone(),
        }),
        many => Err(Failure::ManyUsers {
            who: who.to_string(),
            ids: many.iter().map(|u| u.id.to_string()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connector_url_shows_no_credentials() {
        for (url, shown) in [
            ("https://data.example.org", Some("https://data.example.org")),
            (
                "https://admin:s3cret@data.example.org/api?token=abc#k=1",
                Some("https://data.example.org/api"),
            ),
            (
                "https://key@data.example.org:8443",
                Some("https://data.example.org:8443"),
            ),
            ("http://127.0.0.1:9000/?api_key=x", Some("http://127.0.0.1:9000")),
            ("not an address", None),
            ("", None),
        ] {
            assert_eq!(public_url(url).as_deref(), shown, "{url}");
        }
    }

    #[test]
    fn the_format_comes_from_the_flag_then_the_extension() {
        let f = |format, out: Option<&str>| format_of(format, out.map(Path::new));
        assert_eq!(f(None, None), Format::Table);
        assert_eq!(f(None, Some("plan.json")), Format::Json);
        assert_eq!(f(None, Some("out/Plan.CSV")), Format::Csv);
        assert_eq!(f(None, Some("plan.md")), Format::Markdown);
        assert_eq!(f(None, Some("plan.txt")), Format::Table);
        assert_eq!(f(None, Some("plan")), Format::Table);
        assert_eq!(f(Some(Format::Csv), Some("plan.json")), Format::Csv);
    }
}
