//! Helpers shared by the IoT resource modules: tags.

use super::attrs::{Attrs, map_json, string_map};
use super::client::{Provider, aws_error};
use aws_sdk_iot::types::Tag;
use std::collections::BTreeMap;

pub fn tag_list(p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Vec<Tag>>> {
    let all = p.tags_all(&string_map(planned, "tags"));
    if all.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        all.into_iter()
            .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
            .collect::<anyhow::Result<Vec<_>>>()?,
    ))
}

/// Reads tags only when the configuration manages some: IoT tagging is an extra call per
/// object, and some emulators do not implement it.
pub async fn read_tags(
    p: &Provider,
    arn: &str,
    prior: &Attrs,
) -> anyhow::Result<serde_json::Value> {
    if string_map(prior, "tags").is_empty() && p.default_tags.is_empty() {
        return Ok(map_json(Vec::<(String, String)>::new()));
    }
    let out = match p
        .iot()
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            let err = aws_error("IoT ListTagsForResource", e);
            if err.downcast_ref::<super::client::NotSupported>().is_some() {
                // The endpoint cannot list IoT tags: tags are written but not checked for drift.
                p.warn_once("IoT tags cannot be read back from this endpoint (not supported); they are written but not checked for drift".into());
                return Ok(prior
                    .get("tags")
                    .cloned()
                    .unwrap_or_else(|| map_json(Vec::<(String, String)>::new())));
            }
            return Err(err);
        }
    };
    let live: BTreeMap<String, String> = out
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Ok(map_json(p.own_tags(&live)))
}

pub async fn update_tags(
    p: &Provider,
    arn: &str,
    prior: &Attrs,
    planned: &Attrs,
) -> anyhow::Result<()> {
    if prior.get("tags") == planned.get("tags") {
        return Ok(());
    }
    let (removed, _) = p.tag_changes(prior, planned);
    if !removed.is_empty() {
        p.iot()
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("IoT UntagResource", e))?;
    }
    if let Some(tags) = tag_list(p, planned)? {
        p.iot()
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| aws_error("IoT TagResource", e))?;
    }
    Ok(())
}
