//! A platform simulator: an HTTP/1.1 server on 127.0.0.1 that a test
//! starts with a handler, and that stops when dropped. Each answer may be a
//! fault: a dropped connection, a body cut short, or a slow answer.

pub mod bevy;
pub mod docebo;
pub mod docspace;
pub mod graph;
pub mod huwise;
pub mod metric_insights;
pub mod okta;
pub mod scim;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then(|| v.to_string())
        })
    }
}

pub enum Reply {
    Json(u16, Value),
    /// JSON with extra headers.
    WithHeaders(u16, Value, Vec<(&'static str, String)>),
    /// JSON text as built by the handler: for large answers served often,
    /// which would cost more to build as a `Value` than to write.
    Raw(u16, String),
    /// Close the connection without answering.
    Drop,
    /// Announce the whole body, send half of it, close.
    Truncate(u16, Value),
    /// Wait, then answer.
    Slow(Duration, Box<Reply>),
    /// A redirect (301, 302, 303, 307, 308) to this `Location`, no body.
    Redirect(u16, String),
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

pub struct Sim {
    pub port: u16,
    pub log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Sim {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Sim {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("the platform simulator could not listen on 127.0.0.1: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the platform simulator has no local address: {e}"))
            .port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (stop2, log2) = (stop.clone(), log.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (handler, log) = (handler.clone(), log2.clone());
                std::thread::spawn(move || serve(stream, &*handler, &log));
            }
        });
        Sim {
            port,
            log,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let request = Request {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
        at: std::time::Instant::now(),
    };
    log.lock().unwrap().push(request.clone());
    let reply = handler(&request);
    respond(stream, reply);
}

fn respond(mut stream: TcpStream, reply: Reply) {
    let (status, body, extra, cut) = match reply {
        Reply::Drop => return,
        Reply::Slow(wait, inner) => {
            std::thread::sleep(wait);
            return respond(stream, *inner);
        }
        Reply::Json(s, v) => (s, v.to_string(), Vec::new(), false),
        Reply::Raw(s, body) => (s, body, Vec::new(), false),
        Reply::WithHeaders(s, v, h) => (s, v.to_string(), h, false),
        Reply::Truncate(s, v) => (s, v.to_string(), Vec::new(), true),
        Reply::Redirect(s, to) => (s, String::new(), vec![("location", to)], false),
    };
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let sent = if cut { &body[..body.len() / 2] } else { &body[..] };
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(sent.as_bytes());
    let _ = stream.flush();
}

/// A fault to answer one request with.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// 429 with `Retry-After` in seconds.
    TooMany(u64),
    ServerError,
    Drop,
    Truncate,
    /// The answer, this many milliseconds late.
    Slow(u64),
}

/// Faults by the number of the request they answer (0-based), or for every
/// request from some number on.
#[derive(Default)]
pub struct Faults {
    pub by_request: Mutex<std::collections::HashMap<usize, Fault>>,
    pub from: Mutex<Option<(usize, Fault)>>,
    pub count: std::sync::atomic::AtomicUsize,
}

impl Faults {
    pub fn at(&self, faults: impl IntoIterator<Item = (usize, Fault)>) {
        self.by_request.lock().unwrap().extend(faults);
    }

    /// The reply for the next request: `reply`, or a fault in its place.
    pub fn apply(&self, reply: Reply) -> Reply {
        let n = self.count.fetch_add(1, Ordering::SeqCst);
        let fault = self
            .by_request
            .lock()
            .unwrap()
            .remove(&n)
            .or_else(|| self.from.lock().unwrap().filter(|(from, _)| n >= *from).map(|(_, f)| f));
        match fault {
            None => reply,
            Some(Fault::TooMany(s)) => Reply::WithHeaders(
                429,
                serde_json::json!({"message": "slow down"}),
                vec![("retry-after", s.to_string())],
            ),
            Some(Fault::ServerError) => Reply::Json(500, serde_json::json!({"message": "oops"})),
            Some(Fault::Drop) => Reply::Drop,
            Some(Fault::Truncate) => match reply {
                Reply::Json(s, v) => Reply::Truncate(s, v),
                Reply::Raw(s, body) => Reply::Truncate(s, serde_json::from_str(&body).unwrap_or(Value::Null)),
                other => other,
            },
            Some(Fault::Slow(ms)) => Reply::Slow(Duration::from_millis(ms), Box::new(reply)),
        }
    }
}
