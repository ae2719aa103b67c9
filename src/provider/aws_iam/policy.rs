//! aws_iam_policy: a customer-managed policy. A changed document becomes a new default
//! version (the oldest non-default version is deleted first when IAM's limit of five is
//! reached); delete removes the non-default versions, then the policy, as the provider does.

use super::super::ResourceType;
use super::super::attrs::{Attrs, generated_name, map_json, obj, req_name_or_id, req_str, str_of};
use super::super::client::{Provider, aws_error};
use super::super::not_found::{Service, absent, gone, is_not_found};
use super::super::reread::reread;
use super::super::retry::url_decode;
use super::super::schema::{Block, Schema, json as json_attr, number, out, string, string_map};
use super::iam_tags;
use crate::value::canonical_json;
use async_trait::async_trait;
use aws_sdk_iam::types::PolicyScopeType;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// IAM keeps at most this many versions of a managed policy.
const MAX_VERSIONS: usize = 5;

pub struct IamPolicy {
    schema: Schema,
}

impl Default for IamPolicy {
    fn default() -> Self {
        let mut attachment_count = number("attachment_count").computed();
        attachment_count.output = true;
        IamPolicy {
            schema: Schema {
                id_attr: "arn",
                block: Block::new()
                    .attr(string("name").computed().force_new())
                    .attr(string("name_prefix").force_new())
                    .attr(string("path").default(json!("/")).force_new())
                    .attr(string("description").force_new())
                    .attr(json_attr("policy").required())
                    .attr(string_map("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("policy_id"))
                    .attr(attachment_count),
            },
        }
    }
}

impl IamPolicy {
    /// The versions of a policy, (version id, is default), oldest first; `None` when the
    /// policy is gone.
    async fn versions(p: &Provider, arn: &str) -> anyhow::Result<Option<Vec<(String, bool)>>> {
        let mut pages = p
            .iam()
            .list_policy_versions()
            .policy_arn(arn)
            .into_paginator()
            .send();
        let mut all = vec![];
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) if is_not_found(Service::Iam, &e) => return Ok(None),
                Err(e) => return Err(aws_error("ListPolicyVersions", e)),
            };
            for v in page.versions() {
                let created = v.create_date().map(|d| (d.secs(), d.subsec_nanos()));
                let id = v.version_id().unwrap_or_default();
                // Ties (dates to the second) fall back to the version number (v2 < v10).
                let number = id.trim_start_matches('v').parse::<u64>().unwrap_or(0);
                all.push((created, number, id.to_string(), v.is_default_version()));
            }
        }
        all.sort();
        Ok(Some(
            all.into_iter().map(|(_, _, id, def)| (id, def)).collect(),
        ))
    }

    async fn delete_version(p: &Provider, arn: &str, id: &str) -> anyhow::Result<()> {
        gone(
            Service::Iam,
            "DeletePolicyVersion",
            p.iam()
                .delete_policy_version()
                .policy_arn(arn)
                .version_id(id)
                .send()
                .await,
        )
    }
}

#[async_trait]
impl ResourceType for IamPolicy {
    fn name(&self) -> &'static str {
        "aws_iam_policy"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    /// Import id: the policy's ARN, as in Terraform.
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("arn", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let arn = req_name_or_id(prior, "arn", "policy has no ARN")?;
        let Some(out) = absent(
            Service::Iam,
            "GetPolicy",
            p.iam().get_policy().policy_arn(arn).send().await,
        )?
        else {
            return Ok(None);
        };
        let Some(pol) = out.policy() else {
            return Ok(None);
        };
        let version = pol.default_version_id().unwrap_or("v1");
        let Some(v) = absent(
            Service::Iam,
            "GetPolicyVersion",
            p.iam()
                .get_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        let document = v
            .policy_version()
            .and_then(|v| v.document())
            .map(|d| canonical_json(&url_decode(d)));
        let live: BTreeMap<String, String> = pol
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(arn));
        a.insert("arn".into(), json!(pol.arn().unwrap_or(arn)));
        a.insert("name".into(), json!(pol.policy_name()));
        a.insert(
            "name_prefix".into(),
            prior.get("name_prefix").cloned().unwrap_or(Json::Null),
        );
        a.insert("path".into(), json!(pol.path().unwrap_or("/")));
        a.insert(
            "description".into(),
            json!(pol.description().filter(|d| !d.is_empty())),
        );
        a.insert("policy".into(), json!(document));
        a.insert("policy_id".into(), json!(pol.policy_id()));
        a.insert(
            "attachment_count".into(),
            json!(pol.attachment_count().unwrap_or(0)),
        );
        a.insert("tags".into(), map_json(p.own_tags(&live)));
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = match str_of(planned, "name") {
            Some(n) => n.to_string(),
            None => generated_name(str_of(planned, "name_prefix"), 26),
        };
        let req = p
            .iam()
            .create_policy()
            .policy_name(&name)
            .policy_document(req_str(planned, "policy")?)
            .set_path(str_of(planned, "path").map(str::to_string))
            .set_description(str_of(planned, "description").map(str::to_string))
            .set_tags(iam_tags(p, planned)?);
        let out = super::super::attempts::adopt(p, "CreatePolicy", req.send().await).map_err(
            |e| match e.code() {
                Some("EntityAlreadyExists") => anyhow::Error::new(crate::provider::AlreadyExists(
                    format!("IAM policy {name:?} already exists; import it or choose another name"),
                )),
                _ => aws_error("CreatePolicy", e),
            },
        )?;
        let arn = match out {
            Some(out) => out
                .policy()
                .and_then(|p| p.arn())
                .ok_or_else(|| anyhow::anyhow!("CreatePolicy returned no ARN for {name}"))?
                .to_string(),
            // Adopted after a lost answer: the ARN is the account's, path and name.
            None => format!(
                "arn:aws:iam::{}:policy{}{name}",
                p.account_id().await?,
                str_of(planned, "path").unwrap_or("/")
            ),
        };
        let mut known = planned.clone();
        known.insert("name".into(), json!(name));
        known.insert("arn".into(), json!(arn));
        known.insert("id".into(), json!(arn));
        super::super::created(
            self.read(p, &known).await,
            &known,
            format!("policy {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let arn = req_name_or_id(prior, "arn", "policy has no ARN")?;
        let iam = p.iam();
        let before = prior
            .get("policy")
            .and_then(Json::as_str)
            .map(canonical_json);
        let after = planned
            .get("policy")
            .and_then(Json::as_str)
            .map(canonical_json);
        if before != after {
            let versions = Self::versions(p, arn).await?.unwrap_or_default();
            if versions.len() >= MAX_VERSIONS
                && let Some((oldest, _)) = versions.iter().find(|(_, default)| !default)
            {
                Self::delete_version(p, arn, oldest).await?;
            }
            iam.create_policy_version()
                .policy_arn(arn)
                .policy_document(req_str(planned, "policy")?)
                .set_as_default(true)
                .send()
                .await
                .map_err(|e| aws_error("CreatePolicyVersion", e))?;
        }
        if prior.get("tags") != planned.get("tags") {
            let (removed, _) = p.tag_changes(prior, planned);
            if !removed.is_empty() {
                iam.untag_policy()
                    .policy_arn(arn)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| aws_error("UntagPolicy", e))?;
            }
            if let Some(tags) = iam_tags(p, planned)? {
                iam.tag_policy()
                    .policy_arn(arn)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| aws_error("TagPolicy", e))?;
            }
        }
        reread(self, p, prior, || format!("policy {arn} no longer exists")).await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let arn = req_name_or_id(prior, "arn", "policy has no ARN")?;
        let Some(versions) = Self::versions(p, arn).await? else {
            return Ok(());
        };
        for (id, default) in versions {
            if !default {
                Self::delete_version(p, arn, &id).await?;
            }
        }
        match p.iam().delete_policy().policy_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("DeleteConflict") => Err(anyhow::anyhow!(
                "IAM policy {arn} is still attached to roles, users or groups outside this stack; detach it first"
            )),
            r => gone(Service::Iam, "DeletePolicy", r.map(|_| ())),
        }
    }

    /// Finds a policy created by an interrupted apply by its name (and path).
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let Some(name) = str_of(planned, "name") else {
            return Ok(None);
        };
        let mut pages = p
            .iam()
            .list_policies()
            .scope(PolicyScopeType::Local)
            .set_path_prefix(str_of(planned, "path").map(str::to_string))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("ListPolicies", e))?;
            if let Some(arn) = page
                .policies()
                .iter()
                .find(|pol| pol.policy_name() == Some(name))
                .and_then(|pol| pol.arn())
            {
                let mut known = planned.clone();
                known.insert("arn".into(), json!(arn));
                return self.read(p, &known).await;
            }
        }
        Ok(None)
    }
}
