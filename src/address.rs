//! Resource addresses: `aws_s3_bucket.archive`, `aws_iot_thing.node["node-01"]`,
//! `data.aws_region.current`, `aws_sns_topic.alerts[0]`, and inside module instances
//! `module.site["b1"].aws_iot_thing.node["n1"]`.

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

/// One step of a module instance path: the module call's name and, under count or
/// for_each, the instance key.
pub type ModuleStep = (String, Option<InstanceKey>);

/// A module instance: the root module (empty) or `module.site["b1"].module.node`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleInstance(pub Vec<ModuleStep>);

impl ModuleInstance {
    pub fn root() -> Self {
        ModuleInstance(vec![])
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    /// The instance `key` of the module call `name` inside this one.
    pub fn child(&self, name: &str, key: Option<InstanceKey>) -> Self {
        let mut v = self.0.clone();
        v.push((name.to_string(), key));
        ModuleInstance(v)
    }
    /// The module this one was called from, and the call step.
    pub fn parent(&self) -> Option<(ModuleInstance, &ModuleStep)> {
        let (last, rest) = self.0.split_last()?;
        Some((ModuleInstance(rest.to_vec()), last))
    }
    /// Whether `self` is `other` or inside it.
    pub fn starts_with(&self, other: &ModuleInstance) -> bool {
        self.0.starts_with(&other.0)
    }
    /// The module path without instance keys (`module.site.module.node`): one per
    /// module block, whatever its count/for_each.
    pub fn config_path(&self) -> Vec<String> {
        self.0.iter().map(|(n, _)| n.clone()).collect()
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, key)) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ".")?;
            }
            write!(f, "module.{name}")?;
            if let Some(k) = key {
                write!(f, "{k}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for ModuleInstance {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ModuleInstance {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for ModuleInstance {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Ok(ModuleInstance::root());
        }
        let mut p = Parser::new(s);
        let m = p.modules()?;
        if !p.rest().is_empty() || m.is_root() {
            return Err(format!(
                "invalid module address {s:?}: expected module.NAME, module.NAME[\"KEY\"] or module.NAME[INDEX], joined by dots"
            ));
        }
        Ok(m)
    }
}

/// A resource block in the configuration (before count/for_each expansion), in one
/// module instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceId {
    /// The module instance that declares it (root first in address order).
    #[serde(default, skip_serializing_if = "ModuleInstance::is_root")]
    pub module: ModuleInstance,
    pub mode: Mode,
    #[serde(rename = "type")]
    pub rtype: String,
    pub name: String,
}

impl ResourceId {
    pub fn managed(rtype: &str, name: &str) -> Self {
        ResourceId {
            module: ModuleInstance::root(),
            mode: Mode::Managed,
            rtype: rtype.into(),
            name: name.into(),
        }
    }
    pub fn data(rtype: &str, name: &str) -> Self {
        ResourceId {
            module: ModuleInstance::root(),
            mode: Mode::Data,
            rtype: rtype.into(),
            name: name.into(),
        }
    }
    /// The same resource declared in module instance `m`.
    pub fn in_module(mut self, m: &ModuleInstance) -> Self {
        self.module = m.clone();
        self
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
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
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

/// A small scanner for addresses: identifiers, dots and `[KEY]` (a quoted string with
/// JSON escapes, or an integer).
struct Parser<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser { s, at: 0 }
    }
    fn rest(&self) -> &'a str {
        &self.s[self.at..]
    }
    fn ident(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let n = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if n == 0 {
            return None;
        }
        self.at += n;
        Some(&rest[..n])
    }
    fn eat(&mut self, c: char) -> bool {
        if self.rest().starts_with(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }
    /// `[0]` or `["key"]`, if present; `Err` when malformed.
    fn key(&mut self) -> Result<Option<InstanceKey>, ()> {
        if !self.eat('[') {
            return Ok(None);
        }
        let rest = self.rest();
        let key = if rest.starts_with('"') {
            // The end of a JSON string: the first unescaped quote after the opening one.
            let bytes = rest.as_bytes();
            let mut i = 1;
            let mut escaped = false;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' if !escaped => escaped = true,
                    b'"' if !escaped => break,
                    _ => escaped = false,
                }
                i += 1;
            }
            if i >= bytes.len() {
                return Err(());
            }
            let s: String = serde_json::from_str(&rest[..=i]).map_err(|_| ())?;
            self.at += i + 1;
            InstanceKey::Str(s)
        } else {
            let n = rest.find(']').ok_or(())?;
            let i: i64 = rest[..n].trim().parse().map_err(|_| ())?;
            self.at += n;
            InstanceKey::Int(i)
        };
        if !self.eat(']') {
            return Err(());
        }
        Ok(Some(key))
    }
    /// Leading `module.NAME[KEY].` steps.
    fn modules(&mut self) -> Result<ModuleInstance, String> {
        let mut steps = vec![];
        loop {
            let save = self.at;
            if self.ident() != Some("module") || !self.eat('.') {
                self.at = save;
                break;
            }
            let Some(name) = self.ident() else {
                self.at = save;
                break;
            };
            let key = self
                .key()
                .map_err(|_| format!("invalid instance key in {:?}", self.s))?;
            steps.push((name.to_string(), key));
            if !self.eat('.') {
                break;
            }
        }
        Ok(ModuleInstance(steps))
    }
}

impl std::str::FromStr for Address {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "invalid resource address {s:?}: expected TYPE.NAME, TYPE.NAME[INDEX], TYPE.NAME[\"KEY\"] or data.TYPE.NAME, optionally after module.NAME[KEY]."
            )
        };
        let mut p = Parser::new(s);
        let module = p.modules().map_err(|_| bad())?;
        let save = p.at;
        let mode = if p.ident() == Some("data") && p.eat('.') {
            Mode::Data
        } else {
            p.at = save;
            Mode::Managed
        };
        let rtype = p.ident().ok_or_else(bad)?;
        if !p.eat('.') {
            return Err(bad());
        }
        let name = p.ident().ok_or_else(bad)?;
        let key = p.key().map_err(|_| bad())?;
        if !p.rest().is_empty() {
            return Err(bad());
        }
        Ok(Address {
            resource: ResourceId {
                module,
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
            "module.site.aws_iot_thing.n",
            "module.site[\"b1\"].aws_iot_thing.node[\"n1\"]",
            "module.a[0].module.b.data.aws_region.current",
            "aws_iot_thing.n[\"a.b[c]\\\"d\"]",
        ] {
            let a: Address = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
        let a: Address = "module.site[\"b1\"].aws_iot_thing.node[\"n1\"]"
            .parse()
            .unwrap();
        assert_eq!(
            a.resource.module,
            ModuleInstance(vec![("site".into(), Some(InstanceKey::Str("b1".into())))])
        );
        assert_eq!(a.resource.rtype, "aws_iot_thing");
        let m: ModuleInstance = "module.a[0].module.b".parse().unwrap();
        assert_eq!(m.to_string(), "module.a[0].module.b");
        assert!("module.a.aws_x".parse::<ModuleInstance>().is_err());
    }

    #[test]
    fn address_rejects_garbage() {
        assert!("nodot".parse::<Address>().is_err());
        assert!("a.b[x]".parse::<Address>().is_err());
        assert!("module.a".parse::<Address>().is_err());
        assert!("a.b[\"x]".parse::<Address>().is_err());
        assert!("a.b.c".parse::<Address>().is_err());
    }

    #[test]
    fn root_sorts_before_modules() {
        let root: Address = "aws_sns_topic.z".parse().unwrap();
        let m: Address = "module.a.aws_sns_topic.a".parse().unwrap();
        assert!(root < m);
    }
}
