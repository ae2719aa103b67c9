//! Transient faults and latency: which call fails how, from a seeded RNG, each in the
//! wire shape AWS uses for that service's protocol.

use super::wire::{Protocol, Response, error};
use std::time::Duration;

/// Rates (0.0..=1.0) of each fault, per call.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Throttled before reaching the emulator: `ThrottlingException` (IoT 400, IoT data
    /// 429, DynamoDB/Logs 400), `Throttling` (IAM/SNS/STS/CloudWatch 400), Lambda's 429
    /// `TooManyRequestsException`, S3's 503 `SlowDown`.
    pub throttle: f64,
    /// A 500 or 503 before reaching the emulator (`InternalFailure`, `ServiceUnavailable`,
    /// DynamoDB's `InternalServerError`, Lambda's `ServiceException`, S3's `InternalError`).
    pub server_error: f64,
    /// The connection reset before the call reaches the emulator.
    pub reset: f64,
    /// The answer delayed by `slow_by`.
    pub slow: f64,
    pub slow_by: Duration,
    /// A changing call's answer lost *after it took effect*: the emulator answered, and
    /// thingform gets a 500 (half the time) or a reset instead.
    pub lost: f64,
    /// Only these operations are faulted (all when empty).
    pub only: Vec<String>,
}

impl Faults {
    /// `rate` of transient faults spread over throttling, 5xx and resets (2:2:1), plus
    /// `lost` answers.
    pub fn transient(rate: f64, lost: f64) -> Faults {
        Faults {
            throttle: rate * 0.4,
            server_error: rate * 0.4,
            reset: rate * 0.2,
            lost,
            ..Faults::default()
        }
    }
}

/// A delay added to every call.
#[derive(Clone, Debug, Default)]
pub enum Latency {
    #[default]
    None,
    Fixed(Duration),
    /// Uniform between the two.
    Random(Duration, Duration),
}

/// What happens to one call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    Throttle,
    ServerError,
    Reset,
    Slow,
    LostError,
    LostReset,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::Throttle => "throttled",
            Fault::ServerError => "5xx before the call",
            Fault::Reset => "reset before the call",
            Fault::Slow => "slow answer",
            Fault::LostError => "answer lost after effect (5xx)",
            Fault::LostReset => "answer lost after effect (reset)",
        }
    }
}

/// Whether `op` changes something (only those can lose an answer after taking effect).
pub fn changes(method: &str, op: &str) -> bool {
    !(method == "GET"
        || method == "HEAD"
        || ["Get", "List", "Describe", "Head", "Search"]
            .iter()
            .any(|p| op.starts_with(p)))
}

/// Draws the fault for one call (at most one).
pub fn draw(f: &Faults, rng: &mut fastrand::Rng, method: &str, op: &str) -> Option<Fault> {
    if !f.only.is_empty() && !f.only.iter().any(|o| o == op) {
        return None;
    }
    let x = rng.f64();
    let mut edge = 0.0;
    for (rate, fault) in [
        (f.throttle, Fault::Throttle),
        (f.server_error, Fault::ServerError),
        (f.reset, Fault::Reset),
        (f.slow, Fault::Slow),
    ] {
        edge += rate;
        if x < edge {
            return Some(fault);
        }
    }
    if changes(method, op) && rng.f64() < f.lost {
        return Some(if rng.bool() {
            Fault::LostError
        } else {
            Fault::LostReset
        });
    }
    None
}

/// The delay `l` adds to one call.
pub fn delay(l: &Latency, rng: &mut fastrand::Rng) -> Duration {
    match l {
        Latency::None => Duration::ZERO,
        Latency::Fixed(d) => *d,
        Latency::Random(lo, hi) => {
            let span = hi.saturating_sub(*lo).as_micros() as u64;
            *lo + Duration::from_micros(rng.u64(0..=span))
        }
    }
}

/// AWS's throttling answer for the call's service and protocol.
pub fn throttled(p: &Protocol) -> Response {
    match p {
        Protocol::Json(_) => error(p, 400, "ThrottlingException", "Rate exceeded"),
        Protocol::Query | Protocol::Cbor => error(p, 400, "Throttling", "Rate exceeded"),
        Protocol::RestJson(s) if s == "lambda" => {
            let mut r = error(p, 429, "TooManyRequestsException", "Rate exceeded");
            r.headers.push(("Retry-After".into(), "1".into()));
            r
        }
        Protocol::RestJson(s) if s == "iotdata" => {
            error(p, 429, "ThrottlingException", "Rate exceeded")
        }
        Protocol::RestJson(_) => error(p, 400, "ThrottlingException", "Rate exceeded"),
        Protocol::S3 => error(p, 503, "SlowDown", "Please reduce your request rate."),
    }
}

/// AWS's internal-error answer (500, or 503 when `unavailable`).
pub fn server_error(p: &Protocol, unavailable: bool) -> Response {
    let msg = "We encountered an internal error. Please try again.";
    if unavailable {
        let code = match p {
            Protocol::RestJson(s) if s == "iot" || s == "iotdata" => "ServiceUnavailableException",
            Protocol::Json(s) if s == "logs" => "ServiceUnavailableException",
            _ => "ServiceUnavailable",
        };
        return error(p, 503, code, "Service is unavailable. Please try again.");
    }
    let code = match p {
        Protocol::Json(s) if s == "dynamodb" => "InternalServerError",
        Protocol::Json(_) => "InternalFailure",
        Protocol::RestJson(s) if s == "lambda" => "ServiceException",
        Protocol::RestJson(_) => "InternalFailureException",
        Protocol::S3 => "InternalError",
        Protocol::Query | Protocol::Cbor => "InternalFailure",
    };
    error(p, 500, code, msg)
}
