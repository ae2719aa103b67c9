//! Time and identity: `formatdate`, and the impure `timestamp` and `uuid`.
//!
//! Terraform evaluates impure functions only during apply: in a plan (and validate) they
//! are unknown, shown as "(known after apply)", and an apply gets a fresh value.
//! The engine's apply calls [`evaluate_impure`] before it evaluates anything.
//! https://developer.hashicorp.com/terraform/language/functions/timestamp
//! https://developer.hashicorp.com/terraform/language/functions/uuid
//! https://developer.hashicorp.com/terraform/language/functions/formatdate

use super::{arity, str_arg};
use crate::value::Value;
use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use std::sync::atomic::{AtomicBool, Ordering};

static IMPURE_KNOWN: AtomicBool = AtomicBool::new(false);

/// From now on `timestamp()` and `uuid()` return values (apply) instead of unknown (plan).
pub fn evaluate_impure(known: bool) {
    IMPURE_KNOWN.store(known, Ordering::SeqCst);
}

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>, String> {
    let impure = IMPURE_KNOWN.load(Ordering::SeqCst);
    let v = match name {
        "timestamp" => {
            arity(args, 0)?;
            match impure {
                true => Value::String(Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                false => Value::Unknown,
            }
        }
        "uuid" => {
            arity(args, 0)?;
            match impure {
                true => Value::String(uuid::Uuid::new_v4().to_string()),
                false => Value::Unknown,
            }
        }
        "formatdate" => {
            arity(args, 2)?;
            let ts = str_arg(&args[1], "timestamp")?;
            let t = DateTime::parse_from_rfc3339(&ts)
                .map_err(|e| format!("not a valid RFC3339 timestamp: {e}: {ts:?}"))?;
            Value::String(formatdate(&str_arg(&args[0], "format")?, &t)?)
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Terraform's format spec: runs of one letter are verbs (`YYYY`, `MMM`, `DD`, `EEE`,
/// `hh`, `HH`, `mm`, `ss`, `aa`, `ZZZ`, ...), text in single quotes is literal (`''` is
/// a quote), anything else that is not a letter is copied.
fn formatdate(spec: &str, t: &DateTime<FixedOffset>) -> Result<String, String> {
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            // A quoted literal; `''` inside it is a quote too.
            i += 1;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (None, _) => return Err("unterminated literal '".into()),
                    (Some('\''), Some('\'')) => {
                        out.push('\'');
                        i += 2;
                    }
                    (Some('\''), _) => {
                        i += 1;
                        break;
                    }
                    (Some(&x), _) => {
                        out.push(x);
                        i += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let n = chars[i..].iter().take_while(|&&x| x == c).count();
        i += n;
        let verb: String = std::iter::repeat_n(c, n).collect();
        let bad = || format!("invalid date format verb {verb:?}");
        let offset = t.offset().local_minus_utc();
        let (sign, oh, om) = (
            if offset < 0 { '-' } else { '+' },
            offset.abs() / 3600,
            offset.abs() % 3600 / 60,
        );
        let h12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        out.push_str(&match (c, n) {
            ('Y', 4) => format!("{:04}", t.year()),
            ('Y', 2) => format!("{:02}", t.year().rem_euclid(100)),
            ('M', 4) => MONTHS[t.month0() as usize].to_string(),
            ('M', 3) => MONTHS[t.month0() as usize][..3].to_string(),
            ('M', 2) => format!("{:02}", t.month()),
            ('M', 1) => t.month().to_string(),
            ('D', 2) => format!("{:02}", t.day()),
            ('D', 1) => t.day().to_string(),
            ('E', 4) => DAYS[t.weekday().num_days_from_monday() as usize].to_string(),
            ('E', 3) => DAYS[t.weekday().num_days_from_monday() as usize][..3].to_string(),
            ('h', 2) => format!("{:02}", t.hour()),
            ('h', 1) => t.hour().to_string(),
            ('H', 2) => format!("{h12:02}"),
            ('H', 1) => h12.to_string(),
            ('A', 2) => (if t.hour() < 12 { "AM" } else { "PM" }).to_string(),
            ('a', 2) => (if t.hour() < 12 { "am" } else { "pm" }).to_string(),
            ('m', 2) => format!("{:02}", t.minute()),
            ('m', 1) => t.minute().to_string(),
            ('s', 2) => format!("{:02}", t.second()),
            ('s', 1) => t.second().to_string(),
            ('Z', 1) if offset == 0 => "Z".to_string(),
            ('Z', 1) | ('Z', 5) => format!("{sign}{oh:02}:{om:02}"),
            ('Z', 3) if offset == 0 => "UTC".to_string(),
            ('Z', 3) | ('Z', 4) => format!("{sign}{oh:02}{om:02}"),
            _ => return Err(bad()),
        });
    }
    Ok(out)
}

/// The apply-time value of an impure function, for tests that must not flip the
/// process-wide flag.
#[cfg(test)]
pub(super) fn call_known(name: &str) -> Option<Value> {
    match name {
        "timestamp" => Some(Value::String(
            Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )),
        "uuid" => Some(Value::String(uuid::Uuid::new_v4().to_string())),
        _ => None,
    }
}
