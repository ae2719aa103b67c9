//! aws_iot_policy, aws_iot_policy_attachment, aws_iot_thing_principal_attachment.
//!
//! A policy document change is a new default policy version; AWS keeps at most 5, so
//! the oldest non-default version is deleted first when the limit is reached.

use super::ResourceType;
use super::attrs::{Attrs, obj, req_name_or_id, req_str, str_of};
use super::batch;
use super::client::{Provider, aws_error};
use super::iot_common::{read_tags, tag_list, update_tags};
use super::not_found::{Service, absent, gone};
use super::reread::reread;
use super::schema::{Block, Schema, json as json_attr, out, string, string_map as map_attr};
use crate::value::canonical_json;
use async_trait::async_trait;
use aws_sdk_iot::types::ThingPrincipalType;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};

pub struct IotPolicy {
    schema: Schema,
}

impl Default for IotPolicy {
    fn default() -> Self {
        IotPolicy {
            schema: Schema {
                id_attr: "name",
                block: Block::new()
                    .attr(string("name").required().force_new())
                    .attr(json_attr("policy").required())
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("default_version_id")),
            },
        }
    }
}

/// Deletes the oldest non-default versions so that one more fits under AWS's limit of 5.
async fn make_room_for_version(p: &Provider, name: &str) -> anyhow::Result<()> {
    let out = p
        .iot()
        .list_policy_versions()
        .policy_name(name)
        .send()
        .await
        .map_err(|e| aws_error("ListPolicyVersions", e))?;
    let mut old: Vec<(i64, String)> = out
        .policy_versions()
        .iter()
        .filter(|v| !v.is_default_version())
        .filter_map(|v| {
            v.version_id()
                .map(|id| (id.parse::<i64>().unwrap_or(i64::MAX), id.to_string()))
        })
        .collect();
    old.sort();
    let total = out.policy_versions().len();
    let excess = (total + 1).saturating_sub(5);
    for (_, id) in old.into_iter().take(excess) {
        p.iot()
            .delete_policy_version()
            .policy_name(name)
            .policy_version_id(&id)
            .send()
            .await
            .map_err(|e| aws_error("DeletePolicyVersion", e))?;
    }
    Ok(())
}

#[async_trait]
impl ResourceType for IotPolicy {
    fn name(&self) -> &'static str {
        "aws_iot_policy"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("name", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "name", "policy has no name")?;
        let Some(out) = absent(
            Service::Iot,
            "GetPolicy",
            p.iot().get_policy().policy_name(name).send().await,
        )?
        else {
            return Ok(None);
        };
        let arn = out.policy_arn().unwrap_or_default().to_string();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert("arn".into(), json!(arn));
        a.insert(
            "policy".into(),
            json!(out.policy_document().map(canonical_json)),
        );
        a.insert("default_version_id".into(), json!(out.default_version_id()));
        a.insert("tags".into(), read_tags(p, &arn, prior).await?);
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(planned, "name")?;
        let req = p
            .iot()
            .create_policy()
            .policy_name(name)
            .policy_document(req_str(planned, "policy")?)
            .set_tags(tag_list(p, planned)?);
        super::attempts::adopt(p, "CreatePolicy", req.send().await)
            .map_err(|e| aws_error("CreatePolicy", e))?;
        super::created(
            self.read(p, planned).await,
            planned,
            format!("policy {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "name")?;
        if prior.get("policy") != planned.get("policy") {
            make_room_for_version(p, name).await?;
            p.iot()
                .create_policy_version()
                .policy_name(name)
                .policy_document(req_str(planned, "policy")?)
                .set_as_default(true)
                .send()
                .await
                .map_err(|e| aws_error("CreatePolicyVersion", e))?;
        }
        update_tags(p, req_str(prior, "arn")?, prior, planned).await?;
        reread(self, p, planned, || {
            format!("policy {name} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "name")?;
        let Some(versions) = absent(
            Service::Iot,
            "ListPolicyVersions",
            p.iot()
                .list_policy_versions()
                .policy_name(name)
                .send()
                .await,
        )?
        else {
            return Ok(());
        };
        for v in versions
            .policy_versions()
            .iter()
            .filter(|v| !v.is_default_version())
        {
            if let Some(id) = v.version_id() {
                p.iot()
                    .delete_policy_version()
                    .policy_name(name)
                    .policy_version_id(id)
                    .send()
                    .await
                    .map_err(|e| aws_error("DeletePolicyVersion", e))?;
            }
        }
        gone(
            Service::Iot,
            "DeletePolicy",
            p.iot().delete_policy().policy_name(name).send().await,
        )
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        self.read(p, planned).await
    }
}

pub struct IotPolicyAttachment {
    schema: Schema,
}

impl Default for IotPolicyAttachment {
    fn default() -> Self {
        IotPolicyAttachment {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("policy").required().force_new())
                    .attr(string("target").required().force_new())
                    .attr(out("id")),
            },
        }
    }
}

/// What `read` returns for an attachment that exists.
fn policy_attachment(policy: &str, target: &str) -> Attrs {
    obj([
        ("id", json!(format!("{policy}|{target}"))),
        ("policy", json!(policy)),
        ("target", json!(target)),
    ])
}

/// Which of `wanted` are targets of `policy`, from ListTargetsForPolicy pages (250 a
/// page). `None`: the policy does not exist (AWS refuses to delete a policy that is still
/// attached, so nothing is attached to it). Paging stops once every wanted target was
/// seen, or after as many pages as targets wanted (a policy with far more targets than
/// the stack knows): the targets not seen are then read one by one.
async fn targets_of_policy(
    p: &Provider,
    policy: &str,
    wanted: HashSet<String>,
) -> anyhow::Result<Option<HashSet<String>>> {
    let budget = wanted.len();
    let mut found = HashSet::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    while found.len() < wanted.len() && pages < budget {
        let Some(page) = absent(
            Service::Iot,
            "ListTargetsForPolicy",
            p.iot()
                .list_targets_for_policy()
                .policy_name(policy)
                .page_size(250)
                .set_marker(marker.take())
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        pages += 1;
        found.extend(
            page.targets()
                .iter()
                .filter(|t| wanted.contains(*t))
                .cloned(),
        );
        match page.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(Some(found))
}

impl IotPolicyAttachment {
    async fn list_targets(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> anyhow::Result<Vec<Option<Attrs>>> {
        let mut out: Vec<Option<Attrs>> = vec![None; priors.len()];
        let mut single: Vec<usize> = vec![];
        let mut by_policy: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, prior) in priors.iter().enumerate() {
            match (str_of(prior, "policy"), str_of(prior, "target")) {
                (Some(policy), Some(_)) => by_policy.entry(policy).or_default().push(i),
                _ => single.push(i),
            }
        }
        let listed = batch::per_key(p, by_policy.keys().copied().collect(), |policy| {
            let wanted: HashSet<String> = by_policy[policy]
                .iter()
                .filter_map(|&i| str_of(priors[i], "target").map(str::to_string))
                .collect();
            targets_of_policy(p, policy, wanted)
        })
        .await?;
        for (policy, targets) in listed {
            // Policy gone: so are its attachments (out[i] stays None).
            let Some(targets) = targets else { continue };
            for &i in &by_policy[policy] {
                let target = str_of(priors[i], "target").unwrap_or_default();
                if targets.contains(target) {
                    out[i] = Some(policy_attachment(policy, target));
                } else {
                    // Detached, or the target is spelled differently from AWS's ARN:
                    // `read` decides.
                    single.push(i);
                }
            }
        }
        batch::read_each(self, p, priors, single, &mut out).await?;
        Ok(out)
    }
}

#[async_trait]
impl ResourceType for IotPolicyAttachment {
    fn name(&self) -> &'static str {
        "aws_iot_policy_attachment"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    /// Import id: `POLICY|TARGET_ARN`.
    fn import_attrs(&self, id: &str) -> Attrs {
        let (pol, target) = id.split_once('|').unwrap_or((id, ""));
        obj([
            ("id", json!(id)),
            ("policy", json!(pol)),
            ("target", json!(target)),
        ])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let (policy, target) = (req_str(prior, "policy")?, req_str(prior, "target")?);
        let Some(out) = absent(
            Service::Iot,
            "ListAttachedPolicies",
            p.iot().list_attached_policies().target(target).send().await,
        )?
        else {
            return Ok(None);
        };
        if !out
            .policies()
            .iter()
            .any(|x| x.policy_name() == Some(policy))
        {
            return Ok(None);
        }
        Ok(Some(policy_attachment(policy, target)))
    }

    /// Attachments are refreshed with ListTargetsForPolicy pages, once per policy,
    /// instead of one ListAttachedPolicies per target. Used only when some policy has
    /// several attachments (otherwise it saves nothing).
    async fn read_many(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> Option<anyhow::Result<Vec<Option<Attrs>>>> {
        let policies: HashSet<&str> = priors.iter().filter_map(|a| str_of(a, "policy")).collect();
        if !p.lists(priors.len(), 3) || policies.len() >= priors.len() {
            return None;
        }
        Some(self.list_targets(p, priors).await)
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let (policy, target) = (req_str(planned, "policy")?, req_str(planned, "target")?);
        p.iot()
            .attach_policy()
            .policy_name(policy)
            .target(target)
            .send()
            .await
            .map_err(|e| aws_error("AttachPolicy", e))?;
        // An attachment is its two names: nothing to read back.
        Ok(policy_attachment(policy, target))
    }

    async fn update(&self, p: &Provider, _prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        reread(self, p, planned, || {
            "attachment no longer exists".to_string()
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let (policy, target) = (req_str(prior, "policy")?, req_str(prior, "target")?);
        gone(
            Service::Iot,
            "DetachPolicy",
            p.iot()
                .detach_policy()
                .policy_name(policy)
                .target(target)
                .send()
                .await,
        )
    }
}

pub struct IotThingPrincipalAttachment {
    schema: Schema,
}

impl Default for IotThingPrincipalAttachment {
    fn default() -> Self {
        IotThingPrincipalAttachment {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("thing").required().force_new())
                    .attr(string("principal").required().force_new())
                    .attr(
                        string("thing_principal_type")
                            .default(json!(NON_EXCLUSIVE))
                            .force_new(),
                    )
                    .attr(out("id")),
            },
        }
    }
}

const NON_EXCLUSIVE: &str = "NON_EXCLUSIVE_THING";

/// The attachment's `thing_principal_type` (EXCLUSIVE_THING / NON_EXCLUSIVE_THING).
/// ListThingPrincipals does not report it (ListThingPrincipalsV2 does, and moto lacks
/// it), so it is the value it was attached with: it forces a new attachment.
fn principal_type(a: &Attrs) -> &str {
    str_of(a, "thing_principal_type").unwrap_or(NON_EXCLUSIVE)
}

/// What `read` returns for an attachment that exists.
fn principal_attachment(thing: &str, principal: &str, kind: &str) -> Attrs {
    obj([
        ("id", json!(format!("{thing}|{principal}"))),
        ("thing", json!(thing)),
        ("principal", json!(principal)),
        ("thing_principal_type", json!(kind)),
    ])
}

/// Every principal attached to `thing` (all ListThingPrincipals pages). `None`: the
/// Thing does not exist.
async fn thing_principals(p: &Provider, thing: &str) -> anyhow::Result<Option<HashSet<String>>> {
    let mut all = HashSet::new();
    let mut token: Option<String> = None;
    loop {
        let Some(page) = absent(
            Service::Iot,
            "ListThingPrincipals",
            p.iot()
                .list_thing_principals()
                .thing_name(thing)
                .set_next_token(token.take())
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        all.extend(page.principals().iter().cloned());
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(Some(all)),
        }
    }
}

#[async_trait]
impl ResourceType for IotThingPrincipalAttachment {
    fn name(&self) -> &'static str {
        "aws_iot_thing_principal_attachment"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    /// Import id: `THING|PRINCIPAL_ARN`.
    fn import_attrs(&self, id: &str) -> Attrs {
        let (thing, principal) = id.split_once('|').unwrap_or((id, ""));
        obj([
            ("id", json!(id)),
            ("thing", json!(thing)),
            ("principal", json!(principal)),
        ])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let (thing, principal) = (req_str(prior, "thing")?, req_str(prior, "principal")?);
        Ok(thing_principals(p, thing)
            .await?
            .filter(|all| all.contains(principal))
            .map(|_| principal_attachment(thing, principal, principal_type(prior))))
    }

    /// There is no account-wide list of Thing principals: attachments are read with one
    /// ListThingPrincipals per distinct Thing. Used only when some Thing has several
    /// attachments; with one each (a device fleet) the engine's parallel single reads
    /// cost the same calls.
    async fn read_many(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> Option<anyhow::Result<Vec<Option<Attrs>>>> {
        let things: HashSet<&str> = priors.iter().filter_map(|a| str_of(a, "thing")).collect();
        if !p.lists(priors.len(), 3) || things.len() >= priors.len() {
            return None;
        }
        Some(self.per_thing(p, priors).await)
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let (thing, principal) = (req_str(planned, "thing")?, req_str(planned, "principal")?);
        p.iot()
            .attach_thing_principal()
            .thing_name(thing)
            .principal(principal)
            .thing_principal_type(ThingPrincipalType::from(principal_type(planned)))
            .send()
            .await
            .map_err(|e| aws_error("AttachThingPrincipal", e))?;
        // An attachment is its names and type: nothing to read back.
        Ok(principal_attachment(
            thing,
            principal,
            principal_type(planned),
        ))
    }

    async fn update(&self, p: &Provider, _prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        reread(self, p, planned, || {
            "attachment no longer exists".to_string()
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let (thing, principal) = (req_str(prior, "thing")?, req_str(prior, "principal")?);
        gone(
            Service::Iot,
            "DetachThingPrincipal",
            p.iot()
                .detach_thing_principal()
                .thing_name(thing)
                .principal(principal)
                .send()
                .await,
        )
    }
}

impl IotThingPrincipalAttachment {
    async fn per_thing(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> anyhow::Result<Vec<Option<Attrs>>> {
        let mut out: Vec<Option<Attrs>> = vec![None; priors.len()];
        let mut single: Vec<usize> = vec![];
        let mut by_thing: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, prior) in priors.iter().enumerate() {
            match (str_of(prior, "thing"), str_of(prior, "principal")) {
                (Some(thing), Some(_)) => by_thing.entry(thing).or_default().push(i),
                _ => single.push(i),
            }
        }
        let listed = batch::per_key(p, by_thing.keys().copied().collect(), |thing| {
            thing_principals(p, thing)
        })
        .await?;
        for (thing, principals) in listed {
            // Thing gone: so are its attachments (out[i] stays None).
            let Some(principals) = principals else {
                continue;
            };
            for &i in &by_thing[thing] {
                let principal = str_of(priors[i], "principal").unwrap_or_default();
                if principals.contains(principal) {
                    out[i] = Some(principal_attachment(
                        thing,
                        principal,
                        principal_type(priors[i]),
                    ));
                }
            }
        }
        // Only malformed priors: `read` reports them as it always has.
        batch::read_each(self, p, priors, single, &mut out).await?;
        Ok(out)
    }
}
