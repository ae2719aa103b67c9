//! aws_iam_role, aws_iam_role_policy, aws_iam_role_policy_attachment; the managed
//! policy (`policy.rs`: aws_iam_policy) and its exclusive attachment
//! (`policy_attachment.rs`: aws_iam_policy_attachment); exclusive management of a role's
//! attachments and inline policies (`exclusive.rs`).
//! IAM returns policy documents URL-encoded; they are decoded and compared as JSON.

mod exclusive;
mod policy;
mod policy_attachment;

pub use exclusive::RoleExclusive;
pub use policy::IamPolicy;
pub use policy_attachment::IamPolicyAttachment;

use super::ResourceType;
use super::attrs::{
    Attrs, bool_of, i64_of, map_json, obj, req_name_or_id, req_str, str_of, string_map,
};
use super::client::{Provider, aws_error};
use super::not_found::{Service, absent, gone, is_not_found};
use super::reread::reread;
use super::retry::url_decode;
use super::schema::{
    Block, Schema, boolean, json as json_attr, number, out, string, string_map as map_attr,
};
use crate::value::canonical_json;
use async_trait::async_trait;
use aws_sdk_iam::types::Tag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

pub struct IamRole {
    schema: Schema,
}

impl Default for IamRole {
    fn default() -> Self {
        IamRole {
            schema: Schema {
                id_attr: "name",
                block: Block::new()
                    .attr(string("name").computed().force_new())
                    .attr(string("name_prefix").force_new())
                    .attr(json_attr("assume_role_policy").required())
                    .attr(string("description"))
                    .attr(string("path").default(json!("/")).force_new())
                    .attr(number("max_session_duration").default(json!(3600)))
                    .attr(string("permissions_boundary"))
                    .attr(
                        boolean("force_detach_policies")
                            .default(json!(false))
                            .local_only(),
                    )
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("unique_id"))
                    .attr(out("create_date")),
            },
        }
    }
}

fn iam_tags(p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Vec<Tag>>> {
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

#[async_trait]
impl ResourceType for IamRole {
    fn name(&self) -> &'static str {
        "aws_iam_role"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("name", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "name", "role has no name")?;
        let Some(out) = absent(
            Service::Iam,
            "GetRole",
            p.iam().get_role().role_name(name).send().await,
        )?
        else {
            return Ok(None);
        };
        let Some(r) = out.role() else { return Ok(None) };
        let live: BTreeMap<String, String> = r
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert(
            "name_prefix".into(),
            prior.get("name_prefix").cloned().unwrap_or(Json::Null),
        );
        a.insert("arn".into(), json!(r.arn()));
        a.insert("unique_id".into(), json!(r.role_id()));
        a.insert("path".into(), json!(r.path()));
        a.insert(
            "create_date".into(),
            json!(
                r.create_date()
                    .fmt(aws_smithy_types::date_time::Format::DateTime)
                    .ok()
            ),
        );
        a.insert(
            "assume_role_policy".into(),
            json!(
                r.assume_role_policy_document()
                    .map(|d| canonical_json(&url_decode(d)))
            ),
        );
        a.insert(
            "description".into(),
            json!(r.description().filter(|d| !d.is_empty())),
        );
        a.insert(
            "max_session_duration".into(),
            json!(r.max_session_duration().unwrap_or(3600)),
        );
        a.insert(
            "permissions_boundary".into(),
            json!(
                r.permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
            ),
        );
        a.insert("tags".into(), map_json(p.own_tags(&live)));
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = match str_of(planned, "name") {
            Some(n) => n.to_string(),
            None => super::attrs::generated_name(str_of(planned, "name_prefix"), 20),
        };
        let req = p
            .iam()
            .create_role()
            .role_name(&name)
            .assume_role_policy_document(req_str(planned, "assume_role_policy")?)
            .set_description(str_of(planned, "description").map(str::to_string))
            .set_path(str_of(planned, "path").map(str::to_string))
            .set_max_session_duration(i64_of(planned, "max_session_duration").map(|d| d as i32))
            .set_permissions_boundary(str_of(planned, "permissions_boundary").map(str::to_string))
            .set_tags(iam_tags(p, planned)?);
        super::attempts::adopt(p, "CreateRole", req.send().await).map_err(|e| match e.code() {
            Some("EntityAlreadyExists") => anyhow::Error::new(crate::provider::AlreadyExists(
                format!("IAM role {name:?} already exists; import it or choose another name"),
            )),
            _ => aws_error("CreateRole", e),
        })?;
        let mut prior = planned.clone();
        prior.insert("name".into(), json!(name));
        super::created(
            self.read(p, &prior).await,
            &prior,
            format!("role {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "name")?;
        let iam = p.iam();
        if prior.get("assume_role_policy") != planned.get("assume_role_policy") {
            iam.update_assume_role_policy()
                .role_name(name)
                .policy_document(req_str(planned, "assume_role_policy")?)
                .send()
                .await
                .map_err(|e| aws_error("UpdateAssumeRolePolicy", e))?;
        }
        if prior.get("description") != planned.get("description")
            || i64_of(prior, "max_session_duration") != i64_of(planned, "max_session_duration")
        {
            iam.update_role()
                .role_name(name)
                .description(str_of(planned, "description").unwrap_or_default())
                .set_max_session_duration(i64_of(planned, "max_session_duration").map(|d| d as i32))
                .send()
                .await
                .map_err(|e| aws_error("UpdateRole", e))?;
        }
        if prior.get("permissions_boundary") != planned.get("permissions_boundary") {
            match str_of(planned, "permissions_boundary") {
                Some(b) => iam
                    .put_role_permissions_boundary()
                    .role_name(name)
                    .permissions_boundary(b)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error("PutRolePermissionsBoundary", e))?,
                None => iam
                    .delete_role_permissions_boundary()
                    .role_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error("DeleteRolePermissionsBoundary", e))?,
            }
        }
        if prior.get("tags") != planned.get("tags") {
            let (removed, _) = p.tag_changes(prior, planned);
            if !removed.is_empty() {
                iam.untag_role()
                    .role_name(name)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| aws_error("UntagRole", e))?;
            }
            if let Some(tags) = iam_tags(p, planned)? {
                iam.tag_role()
                    .role_name(name)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| aws_error("TagRole", e))?;
            }
        }
        reread(self, p, prior, || format!("role {name} no longer exists")).await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "name")?;
        if bool_of(prior, "force_detach_policies") == Some(true) {
            let attached = p
                .iam()
                .list_attached_role_policies()
                .role_name(name)
                .send()
                .await
                .map_err(|e| aws_error("ListAttachedRolePolicies", e))?;
            for pol in attached.attached_policies() {
                if let Some(arn) = pol.policy_arn() {
                    p.iam()
                        .detach_role_policy()
                        .role_name(name)
                        .policy_arn(arn)
                        .send()
                        .await
                        .map_err(|e| aws_error("DetachRolePolicy", e))?;
                }
            }
            let inline = p
                .iam()
                .list_role_policies()
                .role_name(name)
                .send()
                .await
                .map_err(|e| aws_error("ListRolePolicies", e))?;
            for pol in inline.policy_names() {
                p.iam()
                    .delete_role_policy()
                    .role_name(name)
                    .policy_name(pol)
                    .send()
                    .await
                    .map_err(|e| aws_error("DeleteRolePolicy", e))?;
            }
        }
        match p.iam().delete_role().role_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(Service::Iam, &e) => Ok(()),
            Err(e) if e.code() == Some("DeleteConflict") => Err(anyhow::anyhow!(
                "IAM role {name} still has policies attached outside this stack; detach them or set force_detach_policies = true"
            )),
            Err(e) => Err(aws_error("DeleteRole", e)),
        }
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        if str_of(planned, "name").is_none() {
            return Ok(None);
        }
        self.read(p, planned).await
    }
}

pub struct IamRolePolicy {
    schema: Schema,
}

impl Default for IamRolePolicy {
    fn default() -> Self {
        IamRolePolicy {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("name").required().force_new())
                    .attr(string("role").required().force_new())
                    .attr(json_attr("policy").required())
                    .attr(out("id")),
            },
        }
    }
}

#[async_trait]
impl ResourceType for IamRolePolicy {
    fn name(&self) -> &'static str {
        "aws_iam_role_policy"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    /// Import id: `ROLE:POLICY_NAME`, as in Terraform.
    fn import_attrs(&self, id: &str) -> Attrs {
        let (role, name) = id.split_once(':').unwrap_or((id, ""));
        obj([
            ("id", json!(id)),
            ("role", json!(role)),
            ("name", json!(name)),
        ])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let (role, name) = (req_str(prior, "role")?, req_str(prior, "name")?);
        let Some(out) = absent(
            Service::Iam,
            "GetRolePolicy",
            p.iam()
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        Ok(Some(obj([
            ("id", json!(format!("{role}:{name}"))),
            ("role", json!(role)),
            ("name", json!(name)),
            (
                "policy",
                json!(canonical_json(&url_decode(out.policy_document()))),
            ),
        ])))
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let (role, name) = (req_str(planned, "role")?, req_str(planned, "name")?);
        p.iam()
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(req_str(planned, "policy")?)
            .send()
            .await
            .map_err(|e| aws_error("PutRolePolicy", e))?;
        super::created(
            self.read(p, planned).await,
            planned,
            format!("role policy {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, _prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        self.create(p, planned).await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let (role, name) = (req_str(prior, "role")?, req_str(prior, "name")?);
        gone(
            Service::Iam,
            "DeleteRolePolicy",
            p.iam()
                .delete_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await,
        )
    }
}

pub struct IamRolePolicyAttachment {
    schema: Schema,
}

impl Default for IamRolePolicyAttachment {
    fn default() -> Self {
        IamRolePolicyAttachment {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("role").required().force_new())
                    .attr(string("policy_arn").required().force_new())
                    .attr(out("id")),
            },
        }
    }
}

/// What `read` returns for an attachment that exists.
fn role_policy_attachment(role: &str, arn: &str) -> Attrs {
    obj([
        ("id", json!(format!("{role}/{arn}"))),
        ("role", json!(role)),
        ("policy_arn", json!(arn)),
    ])
}

impl IamRolePolicyAttachment {
    async fn per_role(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> anyhow::Result<Vec<Option<Attrs>>> {
        let mut out: Vec<Option<Attrs>> = vec![None; priors.len()];
        let mut single: Vec<usize> = vec![];
        let mut by_role: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
        for (i, prior) in priors.iter().enumerate() {
            match (str_of(prior, "role"), str_of(prior, "policy_arn")) {
                (Some(role), Some(_)) => by_role.entry(role).or_default().push(i),
                _ => single.push(i),
            }
        }
        // The same single call `read` makes (its first page), once per role.
        let listed =
            super::batch::per_key(p, by_role.keys().copied().collect(), |role| async move {
                match p
                    .iam()
                    .list_attached_role_policies()
                    .role_name(role)
                    .send()
                    .await
                {
                    Ok(o) => Ok(Some(
                        o.attached_policies()
                            .iter()
                            .filter_map(|a| a.policy_arn().map(str::to_string))
                            .collect::<std::collections::HashSet<String>>(),
                    )),
                    Err(e) if is_not_found(Service::Iam, &e) => Ok(None),
                    Err(e) => Err(aws_error("ListAttachedRolePolicies", e)),
                }
            })
            .await?;
        for (role, arns) in listed {
            // Role gone: so are its attachments (out[i] stays None).
            let Some(arns) = arns else { continue };
            for &i in &by_role[role] {
                let arn = str_of(priors[i], "policy_arn").unwrap_or_default();
                if arns.contains(arn) {
                    out[i] = Some(role_policy_attachment(role, arn));
                }
            }
        }
        super::batch::read_each(self, p, priors, single, &mut out).await?;
        Ok(out)
    }
}

#[async_trait]
impl ResourceType for IamRolePolicyAttachment {
    fn name(&self) -> &'static str {
        "aws_iam_role_policy_attachment"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    /// Import id: `ROLE/POLICY_ARN`, as in Terraform.
    fn import_attrs(&self, id: &str) -> Attrs {
        let (role, arn) = id.split_once('/').unwrap_or((id, ""));
        obj([
            ("id", json!(id)),
            ("role", json!(role)),
            ("policy_arn", json!(arn)),
        ])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let (role, arn) = (req_str(prior, "role")?, req_str(prior, "policy_arn")?);
        let Some(out) = absent(
            Service::Iam,
            "ListAttachedRolePolicies",
            p.iam()
                .list_attached_role_policies()
                .role_name(role)
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        if !out
            .attached_policies()
            .iter()
            .any(|a| a.policy_arn() == Some(arn))
        {
            return Ok(None);
        }
        Ok(Some(role_policy_attachment(role, arn)))
    }

    /// Attachments are refreshed with one ListAttachedRolePolicies per distinct role (the
    /// call `read` makes per attachment). Used only when some role has several.
    async fn read_many(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> Option<anyhow::Result<Vec<Option<Attrs>>>> {
        let roles: std::collections::HashSet<&str> =
            priors.iter().filter_map(|a| str_of(a, "role")).collect();
        if !p.lists(priors.len(), 2) || roles.len() >= priors.len() {
            return None;
        }
        Some(self.per_role(p, priors).await)
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let (role, arn) = (req_str(planned, "role")?, req_str(planned, "policy_arn")?);
        p.iam()
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| aws_error("AttachRolePolicy", e))?;
        reread(self, p, planned, || {
            format!("policy {arn} is not attached to {role} right after AttachRolePolicy")
        })
        .await
    }

    async fn update(&self, p: &Provider, _prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        reread(self, p, planned, || {
            "attachment no longer exists".to_string()
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let (role, arn) = (req_str(prior, "role")?, req_str(prior, "policy_arn")?);
        gone(
            Service::Iam,
            "DetachRolePolicy",
            p.iam()
                .detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await,
        )
    }
}
