//! aws_iam_role_policy_attachments_exclusive and aws_iam_role_policies_exclusive: a role's
//! managed policy attachments (by ARN) or inline policies (by name) are exactly the listed
//! ones. Create and update take off what is not listed (and attach the listed managed
//! policies); read reports what the role has, so anything added outside shows as a change.
//! Destroying either only ends the management, as in the provider: nothing is detached.

use super::super::ResourceType;
use super::super::attrs::{Attrs, obj, req_name_or_id, string_list};
use super::super::client::{Provider, aws_error};
use super::super::not_found::{Service, gone, is_not_found};
use super::super::reread::reread;
use super::super::schema::{Block, Schema, out, string, string_set};
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeSet;

/// What a role's list holds.
#[derive(Clone, Copy)]
enum Kind {
    /// Managed policy attachments, `policy_arns`.
    Attachments,
    /// Inline policies, `policy_names`.
    Inline,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Attachments => "policy_arns",
            Kind::Inline => "policy_names",
        }
    }

    /// What the role has now; `None` when the role is gone.
    async fn list(self, p: &Provider, role: &str) -> anyhow::Result<Option<BTreeSet<String>>> {
        let mut have = BTreeSet::new();
        match self {
            Kind::Attachments => {
                let mut pages = p
                    .iam()
                    .list_attached_role_policies()
                    .role_name(role)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    match page {
                        Ok(page) => have.extend(
                            page.attached_policies()
                                .iter()
                                .filter_map(|a| a.policy_arn().map(str::to_string)),
                        ),
                        Err(e) if is_not_found(Service::Iam, &e) => return Ok(None),
                        Err(e) => return Err(aws_error("ListAttachedRolePolicies", e)),
                    }
                }
            }
            Kind::Inline => {
                let mut pages = p
                    .iam()
                    .list_role_policies()
                    .role_name(role)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    match page {
                        Ok(page) => have.extend(page.policy_names().iter().cloned()),
                        Err(e) if is_not_found(Service::Iam, &e) => return Ok(None),
                        Err(e) => return Err(aws_error("ListRolePolicies", e)),
                    }
                }
            }
        }
        Ok(Some(have))
    }

    async fn add(self, p: &Provider, role: &str, item: &str) -> anyhow::Result<()> {
        match self {
            Kind::Attachments => p
                .iam()
                .attach_role_policy()
                .role_name(role)
                .policy_arn(item)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("AttachRolePolicy", e)),
            // An inline policy has a document this resource does not know: the listed
            // ones are made by aws_iam_role_policy, this resource only removes the others.
            Kind::Inline => Ok(()),
        }
    }

    async fn remove(self, p: &Provider, role: &str, item: &str) -> anyhow::Result<()> {
        match self {
            Kind::Attachments => gone(
                Service::Iam,
                "DetachRolePolicy",
                p.iam()
                    .detach_role_policy()
                    .role_name(role)
                    .policy_arn(item)
                    .send()
                    .await,
            ),
            Kind::Inline => gone(
                Service::Iam,
                "DeleteRolePolicy",
                p.iam()
                    .delete_role_policy()
                    .role_name(role)
                    .policy_name(item)
                    .send()
                    .await,
            ),
        }
    }
}

pub struct RoleExclusive {
    kind: Kind,
    schema: Schema,
}

impl RoleExclusive {
    fn new(kind: Kind) -> Self {
        RoleExclusive {
            kind,
            schema: Schema {
                id_attr: "role_name",
                block: Block::new()
                    .attr(string("role_name").required().force_new())
                    .attr(string_set(kind.attr()).required())
                    .attr(out("id")),
            },
        }
    }

    /// `aws_iam_role_policy_attachments_exclusive`.
    pub fn attachments() -> Self {
        Self::new(Kind::Attachments)
    }

    /// `aws_iam_role_policies_exclusive`.
    pub fn inline() -> Self {
        Self::new(Kind::Inline)
    }

    async fn reconcile(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let role = req_name_or_id(planned, "role_name", "no role_name")?;
        let want: BTreeSet<String> = string_list(planned, self.kind.attr()).into_iter().collect();
        let Some(have) = self.kind.list(p, role).await? else {
            anyhow::bail!("IAM role {role} does not exist");
        };
        for extra in have.difference(&want) {
            self.kind.remove(p, role, extra).await?;
        }
        for missing in want.difference(&have) {
            self.kind.add(p, role, missing).await?;
        }
        reread(self, p, planned, || {
            format!("IAM role {role} no longer exists")
        })
        .await
    }
}

#[async_trait]
impl ResourceType for RoleExclusive {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Attachments => "aws_iam_role_policy_attachments_exclusive",
            Kind::Inline => "aws_iam_role_policies_exclusive",
        }
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    /// Import id: the role name, as in Terraform.
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("role_name", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let role = req_name_or_id(prior, "role_name", "no role_name")?;
        let Some(have) = self.kind.list(p, role).await? else {
            return Ok(None);
        };
        let mut a = obj([("id", json!(role)), ("role_name", json!(role))]);
        a.insert(self.kind.attr().into(), json!(have));
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        self.reconcile(p, planned).await
    }

    async fn update(&self, p: &Provider, _prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        self.reconcile(p, planned).await
    }

    async fn delete(&self, _p: &Provider, _prior: &Attrs) -> anyhow::Result<()> {
        Ok(())
    }
}
