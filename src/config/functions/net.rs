//! Network and URL functions: `cidrsubnet` (IPv4 and IPv6), `urlencode`.
//! https://developer.hashicorp.com/terraform/language/functions/cidrsubnet
//! https://developer.hashicorp.com/terraform/language/functions/urlencode

use super::{arity, num_arg, str_arg};
use crate::value::Value;
use ipnet::IpNet;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What Go's `url.QueryEscape` leaves as it is (besides letters and digits); a space
/// becomes `+`.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b' ');

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>, String> {
    let v = match name {
        "urlencode" => {
            arity(args, 1)?;
            let s = str_arg(&args[0], "string")?;
            Value::String(utf8_percent_encode(&s, QUERY).to_string().replace(' ', "+"))
        }
        "cidrsubnet" => {
            arity(args, 3)?;
            let prefix = str_arg(&args[0], "prefix")?;
            let net: IpNet = prefix
                .parse()
                .map_err(|e| format!("invalid CIDR expression {prefix:?}: {e}"))?;
            let newbits = num_arg(&args[1], "newbits")?;
            let netnum = num_arg(&args[2], "netnum")?;
            if newbits < 0.0 || newbits.fract() != 0.0 || netnum < 0.0 || netnum.fract() != 0.0 {
                return Err("newbits and netnum must be non-negative whole numbers".into());
            }
            Value::String(cidrsubnet(net.trunc(), newbits as u32, netnum as u128)?)
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn cidrsubnet(net: IpNet, newbits: u32, netnum: u128) -> Result<String, String> {
    let (bits, len) = match net {
        IpNet::V4(n) => (32, n.prefix_len() as u32),
        IpNet::V6(n) => (128, n.prefix_len() as u32),
    };
    let new_len = len + newbits;
    if new_len > bits {
        return Err(format!(
            "insufficient address space to extend prefix of {len} by {newbits}"
        ));
    }
    if newbits < 128 && netnum >> newbits != 0 {
        return Err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        ));
    }
    // netnum lands just below the new prefix length.
    let shift = bits - new_len;
    let add = if shift >= 128 { 0 } else { netnum << shift };
    let addr = match net.network() {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) | add as u32)),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) | add)),
    };
    Ok(format!("{addr}/{new_len}"))
}
