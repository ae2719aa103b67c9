//! aws_iam_policy_attachment: the *exclusive* attachment of one managed policy to roles,
//! users and groups. Read lists every entity the policy is attached to in the account, so
//! an attachment made outside this resource shows as a change and is detached by the
//! next apply, as in Terraform. With no entity left attached the attachment is gone.

use super::super::ResourceType;
use super::super::attrs::{Attrs, obj, req_str, string_list};
use super::super::client::{Provider, aws_error};
use super::super::not_found::{Service, gone, is_not_found};
use super::super::reread::reread;
use super::super::schema::{Block, Schema, out, string, string_set};
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeSet;

pub struct IamPolicyAttachment {
    schema: Schema,
}

impl Default for IamPolicyAttachment {
    fn default() -> Self {
        IamPolicyAttachment {
            schema: Schema {
                id_attr: "name",
                block: Block::new()
                    .attr(string("name").required().force_new())
                    .attr(string("policy_arn").required().force_new())
                    .attr(string_set("roles"))
                    .attr(string_set("users"))
                    .attr(string_set("groups"))
                    .attr(out("id")),
            },
        }
    }
}

/// The kinds of entity a managed policy attaches to, as the attribute names them.
#[derive(Clone, Copy)]
enum Kind {
    Role,
    User,
    Group,
}

const KINDS: [(Kind, &str); 3] = [
    (Kind::Role, "roles"),
    (Kind::User, "users"),
    (Kind::Group, "groups"),
];

async fn attach(p: &Provider, kind: Kind, name: &str, arn: &str) -> anyhow::Result<()> {
    let iam = p.iam();
    match kind {
        Kind::Role => iam
            .attach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("AttachRolePolicy", e)),
        Kind::User => iam
            .attach_user_policy()
            .user_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("AttachUserPolicy", e)),
        Kind::Group => iam
            .attach_group_policy()
            .group_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("AttachGroupPolicy", e)),
    }
}

/// Detaches; an entity (or attachment) already gone is fine.
async fn detach(p: &Provider, kind: Kind, name: &str, arn: &str) -> anyhow::Result<()> {
    let iam = p.iam();
    match kind {
        Kind::Role => gone(
            Service::Iam,
            "DetachRolePolicy",
            iam.detach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await,
        ),
        Kind::User => gone(
            Service::Iam,
            "DetachUserPolicy",
            iam.detach_user_policy()
                .user_name(name)
                .policy_arn(arn)
                .send()
                .await,
        ),
        Kind::Group => gone(
            Service::Iam,
            "DetachGroupPolicy",
            iam.detach_group_policy()
                .group_name(name)
                .policy_arn(arn)
                .send()
                .await,
        ),
    }
}

fn names(a: &Attrs, k: &str) -> BTreeSet<String> {
    string_list(a, k).into_iter().collect()
}

#[async_trait]
impl ResourceType for IamPolicyAttachment {
    fn name(&self) -> &'static str {
        "aws_iam_policy_attachment"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let (name, arn) = (req_str(prior, "name")?, req_str(prior, "policy_arn")?);
        let mut pages = p
            .iam()
            .list_entities_for_policy()
            .policy_arn(arn)
            .into_paginator()
            .send();
        let (mut roles, mut users, mut groups): (Vec<String>, Vec<String>, Vec<String>) =
            (vec![], vec![], vec![]);
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) if is_not_found(Service::Iam, &e) => return Ok(None),
                Err(e) => return Err(aws_error("ListEntitiesForPolicy", e)),
            };
            roles.extend(
                page.policy_roles()
                    .iter()
                    .filter_map(|r| r.role_name().map(str::to_string)),
            );
            users.extend(
                page.policy_users()
                    .iter()
                    .filter_map(|u| u.user_name().map(str::to_string)),
            );
            groups.extend(
                page.policy_groups()
                    .iter()
                    .filter_map(|g| g.group_name().map(str::to_string)),
            );
        }
        if roles.is_empty() && users.is_empty() && groups.is_empty() {
            return Ok(None);
        }
        let sorted = |mut l: Vec<String>| {
            l.sort_unstable();
            json!(l)
        };
        Ok(Some(obj([
            ("id", json!(name)),
            ("name", json!(name)),
            ("policy_arn", json!(arn)),
            ("roles", sorted(roles)),
            ("users", sorted(users)),
            ("groups", sorted(groups)),
        ])))
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let (name, arn) = (req_str(planned, "name")?, req_str(planned, "policy_arn")?);
        if KINDS.iter().all(|(_, k)| names(planned, k).is_empty()) {
            anyhow::bail!(
                "policy attachment {name}: at least one of roles, users or groups must be set"
            );
        }
        for (kind, k) in KINDS {
            for entity in names(planned, k) {
                attach(p, kind, &entity, arn).await?;
            }
        }
        reread(self, p, planned, || {
            format!("policy {arn} is attached to nothing right after attaching it")
        })
        .await
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let arn = req_str(planned, "policy_arn")?;
        for (kind, k) in KINDS {
            let (had, want) = (names(prior, k), names(planned, k));
            for entity in had.difference(&want) {
                detach(p, kind, entity, arn).await?;
            }
            for entity in want.difference(&had) {
                attach(p, kind, entity, arn).await?;
            }
        }
        reread(self, p, planned, || {
            format!("policy {arn} is attached to nothing after the update")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let arn = req_str(prior, "policy_arn")?;
        for (kind, k) in KINDS {
            for entity in names(prior, k) {
                detach(p, kind, &entity, arn).await?;
            }
        }
        Ok(())
    }
}
