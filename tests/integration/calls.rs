//! A loopback HTTP proxy in front of the emulator that records every AWS call a
//! thingform run makes, so tests count calls instead of timing them.

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
}

impl CallLog {
    pub fn start() -> CallLog {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = endpoint_addr();
        let calls = Arc::new(Mutex::new(vec![]));
        let log = calls.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, log) = (upstream.clone(), log.clone());
                std::thread::spawn(move || relay(client, &upstream, &log));
            }
        });
        CallLog { endpoint, calls }
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

/// Copies one client connection to the emulator, recording each request line.
fn relay(client: TcpStream, upstream: &str, log: &Mutex<Vec<String>>) {
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
        if server.write_all(head.as_bytes()).is_err() {
            return;
        }
        if chunked {
            // Not used by the calls under test: relay the rest unparsed.
            log.lock().unwrap().push(format!("{method} {path}"));
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
        log.lock().unwrap().push(match op {
            Some(op) => format!("op:{op}"),
            None => format!("{method} {path}"),
        });
        if server.write_all(&body).is_err() {
            return;
        }
    }
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
