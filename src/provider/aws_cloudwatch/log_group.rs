//! aws_cloudwatch_log_group.

use super::super::ResourceType;
use super::super::attrs::{
    Attrs, bool_of, i64_of, map_json, name_or_id, obj, req_name_or_id, req_str, str_of, string_map,
};
use super::super::client::{Provider, aws_error};
use super::super::not_found::{Service, gone};
use super::super::reread::reread;
use super::super::schema::{Block, Schema, boolean, number, out, string, string_map as map_attr};
use async_trait::async_trait;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

pub struct LogGroup {
    schema: Schema,
}

impl Default for LogGroup {
    fn default() -> Self {
        LogGroup {
            schema: Schema {
                id_attr: "name",
                block: Block::new()
                    .attr(string("name").computed().force_new())
                    .attr(string("name_prefix").force_new())
                    .attr(number("retention_in_days"))
                    .attr(string("kms_key_id"))
                    .attr(string("log_group_class").computed().force_new())
                    .attr(boolean("skip_destroy").default(json!(false)).local_only())
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn")),
            },
        }
    }
}

#[allow(deprecated)] // ListTagsLogGroup / TagLogGroup: what every emulator implements
async fn log_tags(p: &Provider, name: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let out = p
        .logs()
        .list_tags_log_group()
        .log_group_name(name)
        .send()
        .await
        .map_err(|e| aws_error("ListTagsLogGroup", e))?;
    Ok(out
        .tags()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// The attributes `read` returns for a listed log group (its tags are one more call).
async fn log_group_attrs(
    p: &Provider,
    prior: &Attrs,
    name: &str,
    g: &aws_sdk_cloudwatchlogs::types::LogGroup,
) -> anyhow::Result<Attrs> {
    let arn = g
        .arn()
        .unwrap_or_default()
        .trim_end_matches(":*")
        .to_string();
    let mut a = Attrs::new();
    a.insert("id".into(), json!(name));
    a.insert("name".into(), json!(name));
    a.insert(
        "name_prefix".into(),
        prior.get("name_prefix").cloned().unwrap_or(Json::Null),
    );
    a.insert("arn".into(), json!(arn));
    a.insert("retention_in_days".into(), json!(g.retention_in_days()));
    a.insert("kms_key_id".into(), json!(g.kms_key_id()));
    a.insert(
        "log_group_class".into(),
        json!(
            g.log_group_class()
                .map(|c| c.as_str())
                .unwrap_or("STANDARD")
        ),
    );
    a.insert(
        "skip_destroy".into(),
        prior.get("skip_destroy").cloned().unwrap_or(json!(false)),
    );
    a.insert(
        "tags".into(),
        map_json(p.own_tags(&log_tags(p, name).await?)),
    );
    Ok(a)
}

fn log_group_name(prior: &Attrs) -> Option<&str> {
    name_or_id(prior, "name")
}

/// DescribeLogGroups pages under the names' common prefix. Paging stops once every group
/// was seen, or after as many pages as groups unseen (a prefix shared by far more groups
/// than the stack's): those are then read one by one, as are groups not listed.
async fn list_log_groups(
    t: &LogGroup,
    p: &Provider,
    priors: &[&Attrs],
) -> anyhow::Result<Vec<Option<Attrs>>> {
    let mut single: Vec<usize> = vec![];
    let mut wanted: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (i, prior) in priors.iter().enumerate() {
        match log_group_name(prior) {
            Some(name) => wanted.entry(name).or_default().push(i),
            None => single.push(i),
        }
    }
    let prefix = common_prefix(wanted.keys().copied());
    let mut found: Vec<(usize, aws_sdk_cloudwatchlogs::types::LogGroup)> = vec![];
    let mut token: Option<String> = None;
    let mut pages = 0;
    while !wanted.is_empty() && pages < wanted.len() {
        let out = p
            .logs()
            .describe_log_groups()
            .set_log_group_name_prefix((!prefix.is_empty()).then(|| prefix.to_string()))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| aws_error("DescribeLogGroups", e))?;
        pages += 1;
        for g in out.log_groups() {
            if let Some(is) = g.log_group_name().and_then(|n| wanted.remove(n)) {
                found.extend(is.into_iter().map(|i| (i, g.clone())));
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    single.extend(wanted.into_values().flatten());
    let attrs = super::super::batch::per_key(p, found, |(i, g)| async move {
        let prior = &priors[i];
        log_group_attrs(p, prior, log_group_name(prior).unwrap_or_default(), &g).await
    })
    .await?;
    let mut out: Vec<Option<Attrs>> = vec![None; priors.len()];
    for ((i, _), a) in attrs {
        out[i] = Some(a);
    }
    super::super::batch::read_each(t, p, priors, single, &mut out).await?;
    Ok(out)
}

/// The longest prefix of all `names` (on char boundaries).
fn common_prefix<'a>(mut names: impl Iterator<Item = &'a str>) -> &'a str {
    let Some(first) = names.next() else {
        return "";
    };
    let mut len = first.len();
    for n in names {
        len = first
            .char_indices()
            .zip(n.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map(|((i, a), _)| i + a.len_utf8())
            .unwrap_or(0)
            .min(len);
    }
    &first[..len]
}

#[async_trait]
impl ResourceType for LogGroup {
    fn name(&self) -> &'static str {
        "aws_cloudwatch_log_group"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("name", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "name", "log group has no name")?;
        let out = p
            .logs()
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .map_err(|e| aws_error("DescribeLogGroups", e))?;
        let Some(g) = out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
        else {
            return Ok(None);
        };
        Ok(Some(log_group_attrs(p, prior, name, g).await?))
    }

    /// Log groups are listed with DescribeLogGroups pages (50 a page) under the longest
    /// prefix all their names share, instead of one DescribeLogGroups each; their tags
    /// are still one ListTagsLogGroup each.
    async fn read_many(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> Option<anyhow::Result<Vec<Option<Attrs>>>> {
        if !p.lists(priors.len(), 3) {
            return None;
        }
        Some(list_log_groups(self, p, priors).await)
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = match str_of(planned, "name") {
            Some(n) => n.to_string(),
            None => super::super::attrs::generated_name(str_of(planned, "name_prefix"), 16),
        };
        let tags: std::collections::HashMap<String, String> = p
            .tags_all(&string_map(planned, "tags"))
            .into_iter()
            .collect();
        let req = p
            .logs()
            .create_log_group()
            .log_group_name(&name)
            .set_kms_key_id(str_of(planned, "kms_key_id").map(str::to_string))
            .set_log_group_class(
                str_of(planned, "log_group_class")
                    .map(aws_sdk_cloudwatchlogs::types::LogGroupClass::from),
            )
            .set_tags((!tags.is_empty()).then_some(tags));
        super::super::attempts::adopt(p, "CreateLogGroup", req.send().await).map_err(
            |e| match e.code() {
                Some("ResourceAlreadyExistsException") => {
                    anyhow::Error::new(crate::provider::AlreadyExists(format!(
                        "log group {name:?} already exists; import it or choose another name"
                    )))
                }
                _ => aws_error("CreateLogGroup", e),
            },
        )?;
        let mut state = planned.clone();
        state.insert("name".into(), json!(name));
        if let Some(days) = i64_of(planned, "retention_in_days")
            && let Err(e) = p
                .logs()
                .put_retention_policy()
                .log_group_name(&name)
                .retention_in_days(days as i32)
                .send()
                .await
        {
            return Err(super::super::partial(
                state,
                aws_error("PutRetentionPolicy", e),
            ));
        }
        super::super::created(
            self.read(p, &state).await,
            &state,
            format!("log group {name} vanished after creation"),
        )
    }

    #[allow(deprecated)]
    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "name")?;
        if i64_of(prior, "retention_in_days") != i64_of(planned, "retention_in_days") {
            match i64_of(planned, "retention_in_days") {
                Some(d) => p
                    .logs()
                    .put_retention_policy()
                    .log_group_name(name)
                    .retention_in_days(d as i32)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error("PutRetentionPolicy", e))?,
                None => p
                    .logs()
                    .delete_retention_policy()
                    .log_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error("DeleteRetentionPolicy", e))?,
            }
        }
        if prior.get("kms_key_id") != planned.get("kms_key_id") {
            match str_of(planned, "kms_key_id") {
                Some(k) => p
                    .logs()
                    .associate_kms_key()
                    .log_group_name(name)
                    .kms_key_id(k)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error("AssociateKmsKey", e))?,
                None => p
                    .logs()
                    .disassociate_kms_key()
                    .log_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error("DisassociateKmsKey", e))?,
            }
        }
        if prior.get("tags") != planned.get("tags") {
            let (removed, want) = p.tag_changes(prior, planned);
            if !removed.is_empty() {
                p.logs()
                    .untag_log_group()
                    .log_group_name(name)
                    .set_tags(Some(removed))
                    .send()
                    .await
                    .map_err(|e| aws_error("UntagLogGroup", e))?;
            }
            if !want.is_empty() {
                p.logs()
                    .tag_log_group()
                    .log_group_name(name)
                    .set_tags(Some(want.into_iter().collect()))
                    .send()
                    .await
                    .map_err(|e| aws_error("TagLogGroup", e))?;
            }
        }
        reread(self, p, prior, || {
            format!("log group {name} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "name")?;
        if bool_of(prior, "skip_destroy") == Some(true) {
            p.warn(format!(
                "log group {name} is kept in AWS (skip_destroy = true) and no longer managed"
            ));
            return Ok(());
        }
        gone(
            Service::Logs,
            "DeleteLogGroup",
            p.logs()
                .delete_log_group()
                .log_group_name(name)
                .send()
                .await,
        )
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        if str_of(planned, "name").is_none() {
            return Ok(None);
        }
        self.read(p, planned).await
    }
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn common_prefix_of_log_group_names() {
        assert_eq!(
            common_prefix(["/iot/a-1", "/iot/a-2", "/iot/b"].into_iter()),
            "/iot/"
        );
        assert_eq!(common_prefix(["/iot/x"].into_iter()), "/iot/x");
        assert_eq!(common_prefix(["/iot/x", "/iot/x"].into_iter()), "/iot/x");
        assert_eq!(common_prefix(["/iot/x", "/iot"].into_iter()), "/iot");
        assert_eq!(common_prefix(["a", "b"].into_iter()), "");
        assert_eq!(common_prefix(["/é1", "/é2"].into_iter()), "/é");
        assert_eq!(common_prefix(std::iter::empty()), "");
    }
}
