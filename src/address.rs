//! Resource addresses: `aws_s3_bucket.archive`, `aws_iot_thing.node["node-01"]`,
//! `data.aws_region.current`, `aws_sns_topic.alerts[0]`.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Managed,
    Data,
}

/// The key of one instance of a resource expanded by `count` or `for_each`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InstanceKey {
    Int(i64),
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", serde_json::Value::String(s.clone())),
        }
    }
}

/// A resource block in the configuration (before count/for_each expansion).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceId {
    pub mode: Mode,
    #[serde(rename = "type")]
    pub rtype: String,
    pub name: String,
}

impl ResourceId {
    pub fn managed(rtype: &str, name: &str) -> Self {
        ResourceId {
            mode: Mode::Managed,
            rtype: rtype.into(),
            name: name.into(),
        }
    }
    pub fn data(rtype: &str, name: &str) -> Self {
        ResourceId {
            mode: Mode::Data,
            rtype: rtype.into(),
            name: name.into(),
        }
    }
    pub fn instance(&self, key: Option<InstanceKey>) -> Address {
        Address {
            resource: self.clone(),
            key,
        }
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mode == Mode::Data {
            write!(f, "data.")?;
        }
        write!(f, "{}.{}", self.rtype, self.name)
    }
}

/// One resource instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub resource: ResourceId,
    pub key: Option<InstanceKey>,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.resource)?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Address {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "invalid resource address {s:?}: expected TYPE.NAME, TYPE.NAME[INDEX], TYPE.NAME[\"KEY\"] or data.TYPE.NAME"
            )
        };
        let (mode, rest) = match s.strip_prefix("data.") {
            Some(r) => (Mode::Data, r),
            None => (Mode::Managed, s),
        };
        let (head, key) = match rest.find('[') {
            Some(i) => {
                let inner = rest[i..]
                    .strip_prefix('[')
                    .and_then(|r| r.strip_suffix(']'))
                    .ok_or_else(bad)?;
                let key = if let Some(q) = inner.strip_prefix('"').and_then(|r| r.strip_suffix('"'))
                {
                    InstanceKey::Str(q.replace("\\\"", "\""))
                } else {
                    InstanceKey::Int(inner.parse().map_err(|_| bad())?)
                };
                (&rest[..i], Some(key))
            }
            None => (rest, None),
        };
        let (rtype, name) = head.split_once('.').ok_or_else(bad)?;
        let ident_ok = |x: &str| {
            !x.is_empty()
                && x.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !ident_ok(rtype) || !ident_ok(name) {
            return Err(bad());
        }
        Ok(Address {
            resource: ResourceId {
                mode,
                rtype: rtype.into(),
                name: name.into(),
            },
            key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_round_trips() {
        for s in [
            "aws_s3_bucket.b",
            "aws_iot_thing.n[\"node-01\"]",
            "aws_sns_topic.t[3]",
            "data.aws_region.current",
        ] {
            let a: Address = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn address_rejects_garbage() {
        assert!("nodot".parse::<Address>().is_err());
        assert!("a.b[x]".parse::<Address>().is_err());
    }
}
