//! An AWS-faithful proxy for tests: a loopback HTTP server between thingform and moto,
//! started by the test itself. Modes, combinable, from one [`Config`]:
//! - *faults* ([`faults::Faults`]): throttling, 5xx, resets and slow answers before a call
//!   reaches moto, and answers lost *after* the call took effect, each in the wire shape
//!   AWS uses for the service's protocol ([`wire::error`]);
//! - *latency* ([`faults::Latency`]): a fixed or random delay per call;
//! - *AWS's rules* ([`rules::Rules`]): the preconditions and delays moto skips.
//!
//! Each request goes to moto on a connection of its own (`Connection: close`), so the
//! proxy sees each answer whole before deciding its fate. `account` puts the run in a moto
//! account of its own (moto's `x-moto-account-id` header), so a test can list the whole
//! account afterwards. Decisions come from one RNG seeded by `seed`, printed when a run
//! fails (thread scheduling still varies which call draws which number).

pub mod faults;
pub mod rules;
pub mod wire;

use crate::harness::*;
use faults::{Fault, Faults, Latency};
use std::collections::BTreeMap;
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct Config {
    pub faults: Faults,
    pub latency: Latency,
    /// AWS's rules, with AWS's delays multiplied by this factor.
    pub rules: Option<f64>,
    /// The moto account the calls are made in.
    pub account: Option<String>,
    pub seed: u64,
}

struct Shared {
    upstream: String,
    config: Config,
    rng: Mutex<fastrand::Rng>,
    rules: Option<rules::Rules>,
    stats: Mutex<BTreeMap<String, u64>>,
}

impl Shared {
    fn count(&self, what: &str) {
        *self
            .stats
            .lock()
            .unwrap()
            .entry(what.to_string())
            .or_default() += 1;
    }
}

pub struct Proxy {
    endpoint: String,
    shared: Arc<Shared>,
}

/// A fresh random 12-digit moto account id.
pub fn fresh_account() -> String {
    format!("{:012}", fastrand::u64(100_000_000_000..999_999_999_999))
}

impl Proxy {
    pub fn start(config: Config) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            upstream: endpoint_addr(),
            rng: Mutex::new(fastrand::Rng::with_seed(config.seed)),
            rules: config.rules.map(rules::Rules::new),
            config,
            stats: Mutex::new(BTreeMap::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(client, &s));
            }
        });
        Proxy { endpoint, shared }
    }

    /// The proxy's address, for `AWS_ENDPOINT_URL` or an SDK client.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The moto account this proxy's calls are made in.
    pub fn account(&self) -> Option<String> {
        self.shared.config.account.clone()
    }

    pub fn seed(&self) -> u64 {
        self.shared.config.seed
    }

    /// Counters so far: `calls`, `op:NAME`, each fault by name, `rule:NAME` refusals,
    /// `already exists` answers from the emulator.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        self.shared.stats.lock().unwrap().clone()
    }

    pub fn stat(&self, key: &str) -> u64 {
        self.stats().get(key).copied().unwrap_or(0)
    }

    /// The counters without the per-operation ones, one per line.
    pub fn summary(&self) -> String {
        self.stats()
            .iter()
            .filter(|(k, _)| !k.starts_with("op:"))
            .map(|(k, v)| format!("  {k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `thingform ARGS...` in `dir`, through this proxy, with the retry backoff scaled
    /// down (first wait 50 ms instead of 1 s) and the run's account.
    pub fn command(&self, dir: &std::path::Path, args: &[String]) -> std::process::Command {
        let mut c = command(args, dir);
        c.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("THINGFORM_RETRY_BACKOFF_MS", "50")
            .env("THINGFORM_THING_TYPE_DELETE_SECS", "120")
            .env("THINGFORM_DETACH_SECS", "60");
        c
    }

    pub fn output(&self, dir: &std::path::Path, args: &[&str]) -> Output {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        self.command(dir, &args).output().expect("run thingform")
    }

    /// Runs and asserts success; a failure prints the seed and the counters.
    pub fn ok(&self, dir: &std::path::Path, args: &[&str]) -> String {
        let out = self.output(dir, args);
        assert!(
            out.status.success(),
            "thingform {args:?} failed through the fault proxy (seed {}; rerun with THINGFORM_FAULT_SEED={})\ncounters:\n{}\nstdout:\n{}\nstderr:\n{}",
            self.seed(),
            self.seed(),
            self.summary(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }
}

/// The seed for a test: `THINGFORM_FAULT_SEED`, else a random one (printed on failure).
pub fn seed() -> u64 {
    std::env::var("THINGFORM_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..))
}

fn endpoint_addr() -> String {
    endpoint().trim_start_matches("http://").to_string()
}

fn serve(client: TcpStream, s: &Shared) {
    let Ok(read_half) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut client = client;
    while let Some(mut req) = wire::read_request(&mut reader) {
        if let Some(account) = &s.config.account {
            req.head
                .push_str(&format!("x-moto-account-id: {account}\r\n"));
        }
        let op = req.operation();
        let protocol = req.protocol();
        s.count("calls");
        s.count(&format!("op:{op}"));
        let (fault, delay, unavailable) = {
            let mut rng = s.rng.lock().unwrap();
            let f = faults::draw(&s.config.faults, &mut rng, &req.method, &op);
            (f, faults::delay(&s.config.latency, &mut rng), rng.bool())
        };
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        if let Some(f) = fault {
            s.count(f.name());
        }
        let answer = match fault {
            Some(Fault::Throttle) => Some(faults::throttled(&protocol)),
            Some(Fault::ServerError) => Some(faults::server_error(&protocol, unavailable)),
            Some(Fault::Reset) => return wire::reset(client),
            Some(Fault::Slow) => {
                std::thread::sleep(s.config.faults.slow_by);
                None
            }
            _ => None,
        };
        let refusal = answer
            .is_none()
            .then(|| s.rules.as_ref().and_then(|r| r.check(&req, &op, &protocol)));
        let mut resp = match (answer, refusal.flatten()) {
            (Some(a), _) => a,
            (None, Some((rule, a))) => {
                s.count(&format!("rule: {rule}"));
                a
            }
            (None, None) => {
                let Ok(mut resp) = wire::forward(&s.upstream, &req) else {
                    return wire::reset(client);
                };
                if let Some(r) = &s.rules {
                    r.observe(&req, &op, &mut resp);
                }
                if resp.status >= 400 && already_exists(&resp) {
                    s.count("already exists (emulator)");
                }
                match fault {
                    Some(Fault::LostReset) => return wire::reset(client),
                    Some(Fault::LostError) => faults::server_error(&protocol, unavailable),
                    _ => resp,
                }
            }
        };
        if req.method == "HEAD" && resp.status >= 400 {
            resp.body.clear();
        }
        if !wire::write_response(&mut client, &resp, req.method == "HEAD") {
            return;
        }
    }
}

fn already_exists(r: &wire::Response) -> bool {
    let text = String::from_utf8_lossy(&r.body);
    let code = r.header("x-amzn-ErrorType").unwrap_or("");
    [code, &text].iter().any(|t| {
        t.contains("AlreadyExists")
            || t.contains("ResourceInUse")
            || t.contains("already exist")
            || t.contains("AlreadyOwnedByYou")
    })
}
