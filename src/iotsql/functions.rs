//! The functions of the AWS IoT SQL reference that are decidable from one message: the
//! context functions, math, strings, regular expressions, cast and type tests, uuids,
//! time formatting and encodings. Functions that call other services (`aws_lambda`,
//! `get_dynamodb`, ...) parse, and say at evaluation that they are not evaluated locally.

use super::Version;
use super::eval::{Env, Res, cast, eval};
use super::parser::Expr;
use super::value::V;
use base64::Engine;
use sha2::Digest;

/// Functions that call other AWS services: valid in a statement, never evaluated here.
pub const EXTERNAL: &[&str] = &[
    "aws_lambda",
    "get_dynamodb",
    "get_secret",
    "get_thing_shadow",
    "get_registry_data",
    "get_user_properties",
    "get_mqtt_property",
    "machinelearning_predict",
    "sql",
];

/// (name, minimum arguments, maximum arguments).
const ARITY: &[(&str, usize, usize)] = &[
    ("timestamp", 0, 0),
    ("topic", 0, 1),
    ("clientid", 0, 0),
    ("principal", 0, 0),
    ("traceid", 0, 0),
    ("newuuid", 0, 0),
    ("get", 2, 2),
    ("abs", 1, 1),
    ("round", 1, 1),
    ("floor", 1, 1),
    ("ceil", 1, 1),
    ("sign", 1, 1),
    ("mod", 2, 2),
    ("power", 2, 2),
    ("sqrt", 1, 1),
    ("exp", 1, 1),
    ("ln", 1, 1),
    ("log", 1, 1),
    ("upper", 1, 1),
    ("lower", 1, 1),
    ("concat", 2, 64),
    ("substring", 2, 3),
    ("startswith", 2, 2),
    ("endswith", 2, 2),
    ("indexof", 2, 2),
    ("length", 1, 1),
    ("trim", 1, 1),
    ("ltrim", 1, 1),
    ("rtrim", 1, 1),
    ("lpad", 2, 2),
    ("rpad", 2, 2),
    ("replace", 3, 3),
    ("regexp_matches", 2, 2),
    ("regexp_replace", 3, 3),
    ("regexp_substring", 2, 2),
    ("isnull", 1, 1),
    ("isundefined", 1, 1),
    ("isboolean", 1, 1),
    ("isnumber", 1, 1),
    ("isstring", 1, 1),
    ("isarray", 1, 1),
    ("isobject", 1, 1),
    ("parse_time", 2, 3),
    ("encode", 2, 2),
    ("decode", 2, 2),
    ("md5", 1, 1),
    ("sha1", 1, 1),
    ("sha256", 1, 1),
    ("sha512", 1, 1),
];

/// Checks a call's name and argument count at parse time.
pub fn check_call(name: &str, n: usize, version: Version) -> Result<(), String> {
    if EXTERNAL.contains(&name) {
        return Ok(());
    }
    if name == "encode" && version == Version::V2015_10_08 {
        return Err("encode() needs sql_version 2016-03-23 (not in 2015-10-08)".into());
    }
    match ARITY.iter().find(|(f, _, _)| *f == name) {
        None => {
            let names: Vec<&str> = ARITY.iter().map(|(f, _, _)| *f).collect();
            Err(format!(
                "unknown function {name}(){}",
                crate::diag::did_you_mean(name, names)
            ))
        }
        Some((_, lo, hi)) if n < *lo || n > *hi => Err(if lo == hi {
            format!(
                "{name}() takes {lo} argument{}, found {n}",
                if *lo == 1 { "" } else { "s" }
            )
        } else {
            format!("{name}() takes {lo} to {hi} arguments, found {n}")
        }),
        Some(_) => Ok(()),
    }
}

fn s(v: &V) -> Option<&str> {
    match v {
        V::Str(s) => Some(s),
        _ => None,
    }
}

fn int_of(v: &V) -> Option<i64> {
    match v.as_num()? {
        V::Int(n) => Some(n),
        V::Dec(f) => Some(f.floor() as i64),
        _ => None,
    }
}

fn dec(f: f64) -> V {
    if f.is_finite() {
        V::Dec(f)
    } else {
        V::Undefined
    }
}

fn num1(v: &V, int: impl Fn(i64) -> V, d: impl Fn(f64) -> V) -> V {
    match v.as_num() {
        Some(V::Int(n)) => int(n),
        Some(V::Dec(f)) => d(f),
        _ => V::Undefined,
    }
}

fn text_arg(v: &V) -> Option<String> {
    match v {
        V::Undefined | V::Null | V::Arr(_) | V::Obj(_) => None,
        other => other.to_text(),
    }
}

fn hash<D: Digest>(v: &V) -> V {
    match text_arg(v) {
        Some(t) => V::Str(hex::encode(D::digest(t.as_bytes()))),
        None => V::Undefined,
    }
}

fn regex(p: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(p).map_err(|e| format!("invalid regular expression {p:?}: {e}"))
}

pub fn call(name: &str, args: &[Expr], env: &Env) -> Res {
    if EXTERNAL.contains(&name) {
        return Err(format!(
            "{name}() calls another AWS service and is not evaluated locally; test the rule without it, or against AWS"
        ));
    }
    let ctx = env.ctx;
    // encode(*, ...) and decode(*, ...) read the raw payload.
    let raw_star = matches!(args.first(), Some(Expr::Star));
    let a: Vec<V> = args
        .iter()
        .map(|x| eval(x, env))
        .collect::<Result<_, _>>()?;
    let arg = |i: usize| a.get(i).cloned().unwrap_or(V::Undefined);
    Ok(match name {
        "timestamp" => V::Int(ctx.timestamp_ms),
        "topic" => match a.first() {
            None => V::Str(ctx.topic.clone()),
            Some(n) => match int_of(n) {
                Some(i) if i >= 1 => ctx
                    .topic
                    .split('/')
                    .nth(i as usize - 1)
                    .map(|x| V::Str(x.to_string()))
                    .unwrap_or(V::Undefined),
                _ => V::Undefined,
            },
        },
        "clientid" => ctx.clientid.clone().map(V::Str).unwrap_or(V::Undefined),
        "principal" => ctx.principal.clone().map(V::Str).unwrap_or(V::Undefined),
        "traceid" => ctx.traceid.clone().map(V::Str).unwrap_or(V::Undefined),
        "newuuid" => V::Str(uuid::Uuid::new_v4().to_string()),
        "get" => arg(0).index(&match arg(1) {
            V::Dec(f) if f.fract() == 0.0 => V::Int(f as i64),
            other => other,
        }),
        "abs" => num1(
            &arg(0),
            |n| {
                n.checked_abs()
                    .map(V::Int)
                    .unwrap_or(V::Dec((n as f64).abs()))
            },
            |f| V::Dec(f.abs()),
        ),
        "round" => num1(&arg(0), V::Int, |f| V::Int(f.round() as i64)),
        "floor" => num1(&arg(0), V::Int, |f| V::Int(f.floor() as i64)),
        "ceil" => num1(&arg(0), V::Int, |f| V::Int(f.ceil() as i64)),
        "sign" => num1(
            &arg(0),
            |n| V::Int(n.signum()),
            |f| V::Int(if f == 0.0 { 0 } else { f.signum() as i64 }),
        ),
        "mod" => super::eval::binary(super::parser::BinOp::Mod, &arg(0), &arg(1)),
        "power" => match (arg(0).as_dec(), arg(1).as_dec()) {
            (Some(x), Some(y)) => dec(x.powf(y)),
            _ => V::Undefined,
        },
        "sqrt" => arg(0)
            .as_dec()
            .map(|x| dec(x.sqrt()))
            .unwrap_or(V::Undefined),
        "exp" => arg(0)
            .as_dec()
            .map(|x| dec(x.exp()))
            .unwrap_or(V::Undefined),
        "ln" => arg(0).as_dec().map(|x| dec(x.ln())).unwrap_or(V::Undefined),
        "log" => arg(0)
            .as_dec()
            .map(|x| dec(x.log10()))
            .unwrap_or(V::Undefined),
        "upper" => s(&arg(0))
            .map(|x| V::Str(x.to_uppercase()))
            .unwrap_or(V::Undefined),
        "lower" => s(&arg(0))
            .map(|x| V::Str(x.to_lowercase()))
            .unwrap_or(V::Undefined),
        "concat" => concat(&a),
        "substring" => substring(&a),
        "startswith" => match (s(&arg(0)), s(&arg(1))) {
            (Some(x), Some(y)) => V::Bool(x.starts_with(y)),
            _ => V::Undefined,
        },
        "endswith" => match (s(&arg(0)), s(&arg(1))) {
            (Some(x), Some(y)) => V::Bool(x.ends_with(y)),
            _ => V::Undefined,
        },
        "indexof" => match (s(&arg(0)), s(&arg(1))) {
            (Some(x), Some(y)) => V::Int(
                x.find(y)
                    .map(|b| x[..b].chars().count() as i64)
                    .unwrap_or(-1),
            ),
            _ => V::Undefined,
        },
        "length" => s(&arg(0))
            .map(|x| V::Int(x.chars().count() as i64))
            .unwrap_or(V::Undefined),
        "trim" => s(&arg(0))
            .map(|x| V::Str(x.trim().into()))
            .unwrap_or(V::Undefined),
        "ltrim" => s(&arg(0))
            .map(|x| V::Str(x.trim_start().into()))
            .unwrap_or(V::Undefined),
        "rtrim" => s(&arg(0))
            .map(|x| V::Str(x.trim_end().into()))
            .unwrap_or(V::Undefined),
        "lpad" | "rpad" => match (s(&arg(0)), int_of(&arg(1))) {
            // AWS caps the padding; thingform refuses more than 1000 characters of it.
            (Some(x), Some(n)) if (0..=1000).contains(&n) => {
                let pad = " ".repeat(n as usize);
                V::Str(if name == "lpad" {
                    format!("{pad}{x}")
                } else {
                    format!("{x}{pad}")
                })
            }
            _ => V::Undefined,
        },
        "replace" => match (s(&arg(0)), s(&arg(1)), s(&arg(2))) {
            (Some(x), Some(from), Some(to)) => V::Str(x.replace(from, to)),
            _ => V::Undefined,
        },
        "regexp_matches" => match (text_arg(&arg(0)), s(&arg(1))) {
            (Some(x), Some(p)) => V::Bool(regex(p)?.is_match(&x)),
            _ => V::Undefined,
        },
        "regexp_replace" => match (text_arg(&arg(0)), s(&arg(1)), s(&arg(2))) {
            (Some(x), Some(p), Some(r)) => V::Str(regex(p)?.replace_all(&x, r).into_owned()),
            _ => V::Undefined,
        },
        "regexp_substring" => match (text_arg(&arg(0)), s(&arg(1))) {
            (Some(x), Some(p)) => regex(p)?
                .find(&x)
                .map(|m| V::Str(m.as_str().to_string()))
                .unwrap_or(V::Undefined),
            _ => V::Undefined,
        },
        "isnull" => V::Bool(arg(0) == V::Null),
        "isundefined" => V::Bool(arg(0) == V::Undefined),
        "isboolean" => V::Bool(matches!(arg(0), V::Bool(_))),
        "isnumber" => V::Bool(matches!(arg(0), V::Int(_) | V::Dec(_))),
        "isstring" => V::Bool(matches!(arg(0), V::Str(_))),
        "isarray" => V::Bool(matches!(arg(0), V::Arr(_))),
        "isobject" => V::Bool(matches!(arg(0), V::Obj(_))),
        "parse_time" => parse_time(&a)?,
        "encode" => match s(&arg(1)) {
            Some("base64") => {
                let bytes = if raw_star {
                    ctx.payload.clone()
                } else {
                    match arg(0) {
                        V::Str(x) => x.into_bytes(),
                        V::Undefined => return Ok(V::Undefined),
                        other => other
                            .to_json()
                            .map(|j| j.to_string())
                            .unwrap_or_default()
                            .into_bytes(),
                    }
                };
                V::Str(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            Some(other) => {
                return Err(format!(
                    "encode(): unsupported encoding scheme {other:?}; AWS supports \"base64\""
                ));
            }
            None => V::Undefined,
        },
        "decode" => match (arg(0), s(&arg(1))) {
            (V::Str(x), Some("base64")) => base64::engine::general_purpose::STANDARD
                .decode(x.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .map(V::Str)
                .unwrap_or(V::Undefined),
            (_, Some("base64")) => V::Undefined,
            (_, Some(other)) => {
                return Err(format!(
                    "decode(): unsupported encoding scheme {other:?}; thingform decodes \"base64\""
                ));
            }
            _ => V::Undefined,
        },
        "md5" => hash::<md5::Md5>(&arg(0)),
        "sha1" => hash::<sha1::Sha1>(&arg(0)),
        "sha256" => hash::<sha2::Sha256>(&arg(0)),
        "sha512" => hash::<sha2::Sha512>(&arg(0)),
        "cast" => cast(&arg(0), "String"),
        other => return Err(format!("unknown function {other}()")),
    })
}

fn concat(a: &[V]) -> V {
    if a.contains(&V::Undefined) {
        return V::Undefined;
    }
    if let V::Arr(first) = &a[0] {
        let mut out = first.clone();
        for v in &a[1..] {
            match v {
                V::Arr(more) => out.extend(more.iter().cloned()),
                other => out.push(other.clone()),
            }
        }
        return V::Arr(out);
    }
    let mut out = String::new();
    for v in a {
        match v.to_text() {
            Some(t) => out.push_str(&t),
            None => return V::Undefined,
        }
    }
    V::Str(out)
}

fn substring(a: &[V]) -> V {
    let text = match &a[0] {
        V::Str(x) => x.clone(),
        V::Int(_) | V::Dec(_) | V::Bool(_) => a[0].to_text().unwrap_or_default(),
        _ => return V::Undefined,
    };
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len() as i64;
    let Some(start) = int_of(&a[1]) else {
        return V::Undefined;
    };
    let end = match a.get(2) {
        Some(e) => match int_of(e) {
            Some(e) => e,
            None => return V::Undefined,
        },
        None => len,
    };
    let start = start.clamp(0, len);
    let end = end.clamp(0, len);
    if end <= start {
        return V::Str(String::new());
    }
    V::Str(chars[start as usize..end as usize].iter().collect())
}

/// `parse_time(pattern, timestamp_ms [, timezone])`: a Joda-Time pattern, UTC or a fixed
/// offset (named zones need a time zone database and are refused with a message).
fn parse_time(a: &[V]) -> Res {
    let (Some(pattern), Some(ms)) = (s(&a[0]), a[1].as_num()) else {
        return Ok(V::Undefined);
    };
    let ms = match ms {
        V::Int(n) => n,
        V::Dec(f) => f as i64,
        _ => return Ok(V::Undefined),
    };
    let offset = match a.get(2).and_then(s) {
        None | Some("UTC") | Some("Z") | Some("GMT") => chrono::FixedOffset::east_opt(0),
        Some(z) => parse_offset(z).ok_or_else(|| {
            format!("parse_time(): time zone {z:?} is not evaluated locally (UTC and fixed offsets such as +02:00 are)")
        })?
        .into(),
    }
    .expect("zero offset");
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
        return Ok(V::Undefined);
    };
    let fmt = joda_to_strftime(pattern, offset.local_minus_utc() == 0)?;
    Ok(V::Str(t.with_timezone(&offset).format(&fmt).to_string()))
}

fn parse_offset(z: &str) -> Option<chrono::FixedOffset> {
    let (sign, rest) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
    chrono::FixedOffset::east_opt(sign * secs)
}

/// A Joda-Time pattern as a chrono format string.
/// Joda's `z` names the zone: "UTC" for UTC (`utc`).
fn joda_to_strftime(p: &str, utc: bool) -> Result<String, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut j = i + 1;
            if j < chars.len() && chars[j] == '\'' {
                out.push('\'');
                i += 2;
                continue;
            }
            while j < chars.len() && chars[j] != '\'' {
                if chars[j] == '%' {
                    out.push('%');
                }
                out.push(chars[j]);
                j += 1;
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if c == '%' {
                out.push('%');
            }
            out.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let spec = match (c, n) {
            ('y' | 'Y' | 'u', 2) => "%y",
            ('y' | 'Y' | 'u', _) => "%Y",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('D', _) => "%j",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('h', 1) => "%-I",
            ('h', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 1) => "%1f",
            ('S', 2) => "%2f",
            ('S', 3) => "%3f",
            ('S', 6) => "%6f",
            ('S', _) => "%9f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('Z', 1) => "%z",
            ('Z', _) => "%:z",
            ('z', _) if utc => "UTC",
            ('z', _) => "%:z",
            ('e', _) => "%u",
            ('w', _) => "%V",
            _ => {
                return Err(format!(
                    "parse_time(): pattern letter {c:?} in {p:?} is not supported"
                ));
            }
        };
        out.push_str(spec);
        i += n;
    }
    Ok(out)
}
