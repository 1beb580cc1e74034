//! The SMTP test server: a real SMTP server on 127.0.0.1 that keeps every
//! message it accepts, and stops when dropped. The protocol (EHLO/HELO,
//! MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT, and the replies
//! to commands out of order) is the `mailin` crate's session, the engine of
//! `mailin-embedded`; only the accept loop is here, because
//! `mailin-embedded` brings rustls with its default crypto provider (a C
//! build) for STARTTLS the notice tests never use. Being Rust, it needs
//! nothing beyond the toolchain: `cargo test` passes on a fresh machine.

use mailin::{Action, Handler, Response, SessionBuilder};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the server may take to greet its first client. Generous: a
/// machine running several test binaries on two cores can be slow to
/// schedule a new thread, and a start that fails stops the whole binary.
const START: Duration = Duration::from_secs(60);

/// One message as delivered: the envelope and the DATA, dot-unstuffed.
#[derive(Debug, Clone)]
pub struct Message {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

type Inbox = Arc<Mutex<Vec<Message>>>;

pub struct Smtp {
    pub port: u16,
    inbox: Inbox,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Smtp {
    /// Starts the server on a free loopback port and returns once it has
    /// greeted a client, or panics saying why it did not.
    pub fn start() -> Smtp {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("the SMTP test server could not listen on 127.0.0.1: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the SMTP test server has no local address: {e}"))
            .port();
        let stop = Arc::new(AtomicBool::new(false));
        let inbox = Inbox::default();
        let (stop2, inbox2) = (stop.clone(), inbox.clone());
        let thread = std::thread::Builder::new()
            .name("smtp-test-server".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop2.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let inbox = inbox2.clone();
                    std::thread::spawn(move || serve(stream, inbox));
                }
            })
            .unwrap_or_else(|e| panic!("the SMTP test server's thread could not start: {e}"));
        let smtp = Smtp {
            port,
            inbox,
            stop,
            thread: Some(thread),
        };
        smtp.wait_for_greeting();
        smtp
    }

    /// Polls until the server answers a connection with its 220 greeting.
    fn wait_for_greeting(&self) {
        let deadline = Instant::now() + START;
        let mut last = String::from("no attempt made");
        while Instant::now() < deadline {
            match greeting(self.port) {
                Ok(line) if line.starts_with("220") => return,
                Ok(line) => last = format!("it greeted with {line:?}, not 220"),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the SMTP test server on 127.0.0.1:{} did not greet a client within {} s: {last}",
            self.port,
            START.as_secs()
        );
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<Message> {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The DATA of every message, one after the other.
    pub fn mail(&self) -> String {
        self.messages()
            .into_iter()
            .map(|m| m.data)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Connects, reads the greeting line, and leaves politely.
fn greeting(port: u16) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new(stream.try_clone()?).read_line(&mut line)?;
    let _ = stream.write_all(b"QUIT\r\n");
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    Ok(line.trim_end().to_string())
}

/// The state of one connection: the message being received, if any.
#[derive(Clone)]
struct Session {
    inbox: Inbox,
    current: Option<(String, Vec<String>, Vec<u8>)>,
}

impl Handler for Session {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some((from.to_string(), to.to_vec(), Vec::new()));
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some((_, _, data)) = &mut self.current {
            data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some((from, to, data)) = self.current.take() {
            let message = Message {
                from,
                to,
                data: String::from_utf8_lossy(&data).into_owned(),
            };
            self.inbox.lock().unwrap_or_else(|e| e.into_inner()).push(message);
        }
        mailin::response::OK
    }
}

/// One SMTP session, line by line, until the client quits or goes away.
fn serve(stream: TcpStream, inbox: Inbox) {
    // A client that stops talking must not hold a thread past the test.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let remote = stream.peer_addr().map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |a| a.ip());
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    let handler = Session { inbox, current: None };
    let mut session = SessionBuilder::new("dormant-test-smtp").build(remote, handler);
    if session.greeting().write_to(&mut writer).is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let reply = session.process(&line);
        match reply.action {
            Action::NoReply => {}
            Action::Reply => {
                if reply.write_to(&mut writer).is_err() {
                    return;
                }
            }
            // STARTTLS is never offered, so an upgrade is only a closing reply.
            Action::Close | Action::UpgradeTls => {
                let _ = reply.write_to(&mut writer);
                return;
            }
        }
    }
}
