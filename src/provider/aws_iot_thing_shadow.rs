//! aws_iot_thing_shadow (thingform's extension): the *desired* state of a classic or
//! named device shadow. Only the keys the stack sets in `desired` are compared and
//! written; the device-owned `reported` section is never touched.

use super::ResourceType;
use super::attrs::{Attrs, obj, req_str, str_of};
use super::client::{Provider, aws_error};
use super::not_found::{Service, absent, is_not_found_message};
use super::reread::reread;
use super::schema::{Block, Schema, json as json_attr, number, out, string};
use crate::value::canonical_json;
use async_trait::async_trait;
use aws_sdk_iotdataplane::primitives::Blob;
use serde_json::{Map, Value as Json, json};

pub struct IotThingShadow {
    schema: Schema,
}

impl Default for IotThingShadow {
    fn default() -> Self {
        IotThingShadow {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("thing_name").required().force_new())
                    .attr(string("shadow_name").force_new())
                    .attr(json_attr("desired").required())
                    .attr(out("id"))
                    .attr(number("version").computed()),
            },
        }
    }
}

fn desired_map(a: &Attrs) -> Map<String, Json> {
    a.get("desired")
        .and_then(Json::as_str)
        .and_then(|s| serde_json::from_str::<Json>(s).ok())
        .and_then(|j| j.as_object().cloned())
        .unwrap_or_default()
}

async fn write(
    p: &Provider,
    thing: &str,
    shadow: Option<&str>,
    desired: Map<String, Json>,
) -> anyhow::Result<()> {
    let payload = json!({"state": {"desired": desired}}).to_string();
    p.iotdata()
        .await?
        .update_thing_shadow()
        .thing_name(thing)
        .set_shadow_name(shadow.map(str::to_string))
        .payload(Blob::new(payload.into_bytes()))
        .send()
        .await
        .map_err(|e| aws_error("UpdateThingShadow", e))?;
    Ok(())
}

#[async_trait]
impl ResourceType for IotThingShadow {
    fn name(&self) -> &'static str {
        "aws_iot_thing_shadow"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    /// Import id: `THING` (classic shadow) or `THING/SHADOW_NAME`.
    fn import_attrs(&self, id: &str) -> Attrs {
        match id.split_once('/') {
            Some((t, s)) => obj([
                ("id", json!(id)),
                ("thing_name", json!(t)),
                ("shadow_name", json!(s)),
            ]),
            None => obj([("id", json!(id)), ("thing_name", json!(id))]),
        }
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let thing = req_str(prior, "thing_name")?;
        let shadow = str_of(prior, "shadow_name");
        let Some(out) = absent(
            Service::IotData,
            "GetThingShadow",
            p.iotdata()
                .await?
                .get_thing_shadow()
                .thing_name(thing)
                .set_shadow_name(shadow.map(str::to_string))
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        let doc: Json = out
            .payload()
            .map(|b| serde_json::from_slice(b.as_ref()).unwrap_or(Json::Null))
            .unwrap_or(Json::Null);
        let live = doc["state"]["desired"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        // Only the keys this stack manages; on import (no prior keys) all desired keys.
        let managed = desired_map(prior);
        let view: Map<String, Json> = if managed.is_empty() {
            live
        } else {
            managed
                .keys()
                .filter_map(|k| live.get(k).map(|v| (k.clone(), v.clone())))
                .collect()
        };
        let id = match shadow {
            Some(s) => format!("{thing}/{s}"),
            None => thing.to_string(),
        };
        Ok(Some(obj([
            ("id", json!(id)),
            ("thing_name", json!(thing)),
            ("shadow_name", json!(shadow)),
            (
                "desired",
                json!(canonical_json(&Json::Object(view).to_string())),
            ),
            ("version", doc.get("version").cloned().unwrap_or(Json::Null)),
        ])))
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let thing = req_str(planned, "thing_name")?;
        write(
            p,
            thing,
            str_of(planned, "shadow_name"),
            desired_map(planned),
        )
        .await?;
        reread(self, p, planned, || {
            format!("shadow of {thing} missing right after UpdateThingShadow")
        })
        .await
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let thing = req_str(planned, "thing_name")?;
        let mut desired = desired_map(planned);
        // Keys the stack no longer sets are removed from desired (null deletes a key).
        for k in desired_map(prior).keys() {
            desired.entry(k.clone()).or_insert(Json::Null);
        }
        write(p, thing, str_of(planned, "shadow_name"), desired).await?;
        reread(self, p, planned, || {
            format!("shadow of {thing} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let thing = req_str(prior, "thing_name")?;
        let cleared: Map<String, Json> = desired_map(prior)
            .keys()
            .map(|k| (k.clone(), Json::Null))
            .collect();
        match write(p, thing, str_of(prior, "shadow_name"), cleared).await {
            Ok(()) => Ok(()),
            // The Thing is already gone: so is its shadow.
            Err(e) if is_not_found_message(Service::IotData, &e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
