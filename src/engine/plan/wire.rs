//! The saved form of a [`ResourceChange`]: the planned object as JSON with unknowns as
//! null, beside its unknown mask (`after`, `after_unknown`), as Terraform writes it.

use super::{Action, ResourceChange, with_unknowns};
use crate::address::{Address, ResourceId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;

#[derive(Serialize)]
struct WireRef<'a> {
    address: &'a Address,
    #[serde(rename = "type")]
    rtype: &'a str,
    action: Action,
    before: &'a Json,
    after: Json,
    after_unknown: Json,
    changed: &'a [String],
    replace_paths: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: &'a Option<String>,
    depends_on: &'a [ResourceId],
    #[serde(skip_serializing_if = "Option::is_none")]
    importing: &'a Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deposed: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: &'a Option<String>,
}

#[derive(Deserialize)]
struct Wire {
    address: Address,
    #[serde(rename = "type")]
    rtype: String,
    action: Action,
    before: Json,
    after: Json,
    after_unknown: Json,
    changed: Vec<String>,
    replace_paths: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
    depends_on: Vec<ResourceId>,
    #[serde(default)]
    importing: Option<String>,
    #[serde(default)]
    deposed: bool,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    provider: Option<String>,
}

impl Serialize for ResourceChange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        WireRef {
            address: &self.address,
            rtype: &self.rtype,
            action: self.action,
            before: &self.before,
            after: self.after.to_json(),
            after_unknown: self.after.unknown_mask(),
            changed: &self.changed,
            replace_paths: &self.replace_paths,
            reason: &self.reason,
            depends_on: &self.depends_on,
            importing: &self.importing,
            deposed: self.deposed,
            notes: &self.notes,
            provider: &self.provider,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ResourceChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        Ok(ResourceChange {
            after: with_unknowns(&w.after, &w.after_unknown),
            address: w.address,
            rtype: w.rtype,
            action: w.action,
            before: w.before,
            changed: w.changed,
            replace_paths: w.replace_paths,
            reason: w.reason,
            depends_on: w.depends_on,
            importing: w.importing,
            deposed: w.deposed,
            notes: w.notes,
            provider: w.provider,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use serde_json::json;

    #[test]
    fn a_change_keeps_its_saved_shape_and_round_trips() {
        let mut m = std::collections::BTreeMap::new();
        m.insert("name".to_string(), Value::String("t".into()));
        m.insert("arn".to_string(), Value::Unknown);
        let c = ResourceChange {
            address: "aws_sns_topic.t".parse().unwrap(),
            rtype: "aws_sns_topic".into(),
            action: Action::Create,
            before: Json::Null,
            after: Value::Map(m),
            changed: vec![],
            replace_paths: vec![],
            reason: None,
            depends_on: vec![],
            importing: None,
            deposed: false,
            notes: vec![],
            provider: None,
        };
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(j["after"], json!({"arn": null, "name": "t"}));
        assert_eq!(j["after_unknown"], json!({"arn": true}));
        assert_eq!(j["type"], json!("aws_sns_topic"));
        assert!(j.get("reason").is_none() && j.get("deposed").is_none());
        let back: ResourceChange = serde_json::from_value(j).unwrap();
        assert_eq!(back.after, c.after);
        assert_eq!(back.address, c.address);
    }
}
