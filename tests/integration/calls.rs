//! A loopback HTTP proxy in front of the emulator that records every AWS call a
//! thingform run makes, so tests count calls instead of timing them; armed with a
//! [`Trap`], it also signals the thingform process at the k-th call (tests/integration/crash.rs).

use crate::harness::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::sync::{Arc, Mutex};

/// A loopback HTTP proxy in front of the emulator that records each request as
/// `METHOD /path` (query string dropped; IoT's REST calls), or `op:Name` for the RPC
/// protocols (X-Amz-Target, `Action=` form bodies, `/operation/Name` paths).
pub struct CallLog {
    endpoint: String,
    calls: Arc<Mutex<Vec<String>>>,
    trap: Arc<Mutex<Trap>>,
}

/// How the proxy stops the process at the trapped call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGKILL: the request is held, the process killed (and seen dead), then the request
    /// is dropped unsent — the machine died just before this call.
    Kill,
    /// SIGINT (a first Ctrl-C): sent, then the request is forwarded as usual.
    Interrupt,
}

/// "Signal process `pid` when the call count reaches `at`".
#[derive(Default)]
struct Trap {
    at: Option<(usize, Signal)>,
    pid: Option<u32>,
    /// The call the trap fired at, once it has.
    fired: Option<String>,
}

impl CallLog {
    pub fn start() -> CallLog {
        CallLog::start_to(&endpoint_addr())
    }

    /// A proxy in front of `upstream` (`127.0.0.1:PORT`).
    pub fn start_to(upstream: &str) -> CallLog {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_string();
        let calls = Arc::new(Mutex::new(vec![]));
        let trap = Arc::new(Mutex::new(Trap::default()));
        let (log, traps) = (calls.clone(), trap.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, log, trap) = (upstream.clone(), log.clone(), traps.clone());
                std::thread::spawn(move || relay(client, &upstream, &log, &trap));
            }
        });
        CallLog {
            endpoint,
            calls,
            trap,
        }
    }

    /// Arms the trap: the `k`-th call from now (1-based) signals the process given to
    /// [`CallLog::watch`]. Clears the log.
    pub fn arm(&self, k: usize, signal: Signal) {
        let mut calls = self.calls.lock().unwrap();
        calls.clear();
        *self.trap.lock().unwrap() = Trap {
            at: Some((k, signal)),
            pid: None,
            fired: None,
        };
    }

    /// The process the armed trap signals.
    pub fn watch(&self, pid: u32) {
        self.trap.lock().unwrap().pid = Some(pid);
    }

    /// Disarms the trap, returning the call it fired at (None: the run made fewer calls).
    pub fn disarm(&self) -> Option<String> {
        std::mem::take(&mut *self.trap.lock().unwrap()).fired
    }

    /// The proxy's address, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The calls recorded so far, and a fresh log.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    /// Runs `thingform ARGS... STACK_DIR` with this proxy as its AWS endpoint.
    pub fn output(&self, stack: &TestStack, args: &[&str]) -> Output {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.push(stack.path().display().to_string());
        command(&all, stack.path())
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .output()
            .expect("run thingform")
    }

    /// Runs as [`CallLog::output`] and asserts success.
    pub fn run(&self, stack: &TestStack, args: &[&str]) -> Output {
        let out = self.output(stack, args);
        assert!(
            out.status.success(),
            "thingform {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn plan_json(&self, stack: &TestStack) -> serde_json::Value {
        let out = self.run(stack, &["plan", "-json"]);
        serde_json::from_slice(&out.stdout).expect("plan -json is JSON")
    }
}

fn endpoint_addr() -> String {
    endpoint().trim_start_matches("http://").to_string()
}

/// Copies one client connection to the emulator, recording each request line; a request
/// the trap fires at under [`Signal::Kill`] is never sent.
fn relay(client: TcpStream, upstream: &str, log: &Mutex<Vec<String>>, trap: &Mutex<Trap>) {
    let Ok(mut server) = TcpStream::connect(upstream) else {
        return;
    };
    let (Ok(mut back), Ok(mut to_client)) = (server.try_clone(), client.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut back, &mut to_client);
        let _ = to_client.shutdown(std::net::Shutdown::Write);
    });
    let mut reader = BufReader::new(client);
    loop {
        let mut head = String::new();
        let mut line = String::new();
        let mut length = 0usize;
        let mut chunked = false;
        let mut target = None;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => {
                    let _ = server.shutdown(std::net::Shutdown::Write);
                    return;
                }
                Ok(_) => {}
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("x-amz-target:") {
                target = line.split_once(':').map(|(_, v)| v.trim().to_string());
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut parts = head.split_whitespace();
        let (method, uri) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let path = uri.split('?').next().unwrap_or("").to_string();
        let method = method.to_string();
        if chunked {
            // Not used by the calls under test: relay the rest unparsed.
            if record(log, trap, format!("{method} {path}")) {
                return;
            }
            if server.write_all(head.as_bytes()).is_err() {
                return;
            }
            let _ = std::io::copy(&mut reader, &mut server);
            return;
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let action = std::str::from_utf8(&body)
            .ok()
            .and_then(|b| b.strip_prefix("Action="))
            .map(|b| b.split('&').next().unwrap_or_default().to_string());
        let op = target
            .and_then(|t| t.rsplit('.').next().map(str::to_string))
            .or(action)
            .or_else(|| path.split_once("/operation/").map(|(_, op)| op.to_string()));
        let call = match op {
            Some(op) => format!("op:{op}"),
            None => format!("{method} {path}"),
        };
        // The trap decides before anything of this request reaches the emulator.
        if record(log, trap, call) {
            return;
        }
        if server.write_all(head.as_bytes()).is_err() || server.write_all(&body).is_err() {
            return;
        }
    }
}

/// Records one call and fires the trap if this is its call. True when the request must be
/// dropped unsent (the process was killed).
fn record(log: &Mutex<Vec<String>>, trap: &Mutex<Trap>, call: String) -> bool {
    let n = {
        let mut calls = log.lock().unwrap();
        calls.push(call.clone());
        calls.len()
    };
    let signal = {
        let mut t = trap.lock().unwrap();
        match t.at {
            Some((k, signal)) if k == n && t.fired.is_none() => {
                t.fired = Some(format!("#{n} {call}"));
                signal
            }
            _ => return false,
        }
    };
    // The test registers the process right after spawning it; a call can only come
    // after the spawn, so the pid is about to be there.
    let pid = loop {
        if let Some(pid) = trap.lock().unwrap().pid {
            break pid;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    };
    let name = match signal {
        Signal::Kill => "-KILL",
        Signal::Interrupt => "-INT",
    };
    let _ = std::process::Command::new("kill")
        .args([name, &pid.to_string()])
        .status();
    if signal == Signal::Kill {
        // Dead means a zombie (its parent, the test, has not reaped it yet) or gone.
        while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, r)| !r.starts_with('Z'))
        }) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    signal == Signal::Kill
}

/// How many recorded calls satisfy `f` (given the method and the path's segments).
pub fn count(calls: &[String], f: impl Fn(&str, &[&str]) -> bool) -> usize {
    calls
        .iter()
        .filter(|c| {
            let (method, path) = c.split_once(' ').unwrap_or((c, ""));
            let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            f(method, &segs)
        })
        .count()
}

/// How many recorded calls are the RPC operation `name`.
pub fn ops(calls: &[String], name: &str) -> usize {
    calls.iter().filter(|c| *c == &format!("op:{name}")).count()
}
