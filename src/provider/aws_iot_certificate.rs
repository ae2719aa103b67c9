//! aws_iot_certificate: a device certificate made by AWS (CreateKeysAndCertificate), from
//! a CSR, or registered from an existing PEM. The private key exists only in the
//! CreateKeysAndCertificate answer: it is kept in state (0600) and marked sensitive.
//! Deletion first sets the certificate INACTIVE and detaches its policies and Things.

use super::ResourceType;
use super::attrs::{Attrs, bool_of, req_str, str_of};
use super::batch;
use super::client::{Provider, aws_error, error_code};
use super::not_found::{Service, absent, gone, is_not_found};
use super::reread::reread;
use super::schema::{Block, Schema, boolean, out, string};
use async_trait::async_trait;
use aws_sdk_iot::types::{CertificateStatus, CertificateStatus as Status};
use serde_json::{Value as Json, json};

pub struct IotCertificate {
    schema: Schema,
}

impl Default for IotCertificate {
    fn default() -> Self {
        IotCertificate {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(boolean("active").required())
                    .attr(string("csr").force_new())
                    .attr(string("certificate_pem").computed().force_new())
                    .attr(string("ca_pem").force_new())
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("ca_certificate_id"))
                    .attr(out("public_key").sensitive().local_only())
                    .attr(out("private_key").sensitive().local_only()),
            },
        }
    }
}

fn status(active: bool) -> CertificateStatus {
    if active {
        Status::Active
    } else {
        Status::Inactive
    }
}

/// The attributes `read` returns, from a ListCertificates entry and the prior attributes:
/// the list has the status and ARN; the PEM never changes and the CA id is fixed at
/// creation, so both come from the prior read.
fn listed(prior: &Attrs, id: &str, c: &aws_sdk_iot::types::Certificate) -> Attrs {
    let mut a = Attrs::new();
    a.insert("id".into(), json!(id));
    a.insert("arn".into(), json!(c.certificate_arn()));
    a.insert("active".into(), json!(c.status() == Some(&Status::Active)));
    for k in [
        "certificate_pem",
        "ca_certificate_id",
        "csr",
        "ca_pem",
        "public_key",
        "private_key",
    ] {
        a.insert(k.into(), prior.get(k).cloned().unwrap_or(Json::Null));
    }
    a
}

impl IotCertificate {
    /// ListCertificates pages (250 a page) for the status of every certificate in `priors`.
    /// The listing stops once every certificate was seen, or once it has cost as many
    /// pages as the certificates still unseen (an account holding far more certificates
    /// than the stack): those are then read one by one, so a batched refresh never costs
    /// more than about twice the single reads.
    async fn list_fleet(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> anyhow::Result<Vec<Option<Attrs>>> {
        let mut out: Vec<Option<Attrs>> = vec![None; priors.len()];
        let mut single: Vec<usize> = vec![];
        let mut wanted: std::collections::HashMap<&str, usize> = Default::default();
        for (i, prior) in priors.iter().enumerate() {
            match str_of(prior, "id") {
                // Without the PEM (or ARN) from an earlier read, only `read` can fill them.
                Some(id)
                    if str_of(prior, "certificate_pem").is_some()
                        && str_of(prior, "arn").is_some() =>
                {
                    wanted.insert(id, i);
                }
                _ => single.push(i),
            }
        }
        let mut pages = 0;
        let mut marker: Option<String> = None;
        while !wanted.is_empty() && pages < wanted.len() {
            let page = p
                .iot()
                .list_certificates()
                .page_size(250)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| aws_error("ListCertificates", e))?;
            pages += 1;
            for c in page.certificates() {
                if let Some((id, i)) = c.certificate_id().and_then(|id| wanted.remove_entry(id)) {
                    out[i] = Some(listed(priors[i], id, c));
                }
            }
            match page.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        // Not listed (gone, or the budget ran out): ask about each directly.
        single.extend(wanted.into_values());
        batch::read_each(self, p, priors, single, &mut out).await?;
        Ok(out)
    }
}

#[async_trait]
impl ResourceType for IotCertificate {
    fn name(&self) -> &'static str {
        "aws_iot_certificate"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Certificates are refreshed with ListCertificates pages instead of one
    /// DescribeCertificate each; for one or two, single reads are as cheap.
    async fn read_many(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> Option<anyhow::Result<Vec<Option<Attrs>>>> {
        if !p.lists(priors.len(), 3) {
            return None;
        }
        Some(self.list_fleet(p, priors).await)
    }

    /// A certificate has no name: the one an interrupted create made is a certificate
    /// made after the create was journaled, not tracked yet and attached to nothing. Its
    /// private key died with the process that asked for it, so it is adopted tainted
    /// (the next apply replaces it, which deletes it); one made from a CSR is whole.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let Some(started) = planned
            .get(super::RECOVER_STARTED_AT)
            .and_then(|v| v.as_str())
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        else {
            return Ok(None);
        };
        let since = started.timestamp() - 2;
        let taken: std::collections::BTreeSet<&str> = planned
            .get(super::RECOVER_TAKEN)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        // The newest page (a fleet has more certificates than a page), oldest first.
        let listed = p
            .iot()
            .list_certificates()
            .ascending_order(false)
            .page_size(250)
            .send()
            .await
            .map_err(|e| aws_error("ListCertificates", e))?;
        for c in listed.certificates().iter().rev() {
            let (Some(id), Some(arn)) = (c.certificate_id(), c.certificate_arn()) else {
                continue;
            };
            if taken.contains(id) || c.creation_date().is_none_or(|d| d.secs() < since) {
                continue;
            }
            let things = p
                .iot()
                .list_principal_things()
                .principal(arn)
                .send()
                .await
                .map_err(|e| aws_error("ListPrincipalThings", e))?;
            let policies = p
                .iot()
                .list_attached_policies()
                .target(arn)
                .send()
                .await
                .map_err(|e| aws_error("ListAttachedPolicies", e))?;
            if !things.things().is_empty() || !policies.policies().is_empty() {
                continue;
            }
            let mut prior = Attrs::new();
            prior.insert("id".into(), serde_json::json!(id));
            let Some(mut attrs) = self.read(p, &prior).await? else {
                continue;
            };
            if planned.get("csr").is_none_or(|c| c.is_null()) {
                attrs.insert(super::RECOVER_TAINTED.into(), serde_json::json!(true));
            }
            return Ok(Some(attrs));
        }
        Ok(None)
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let id = req_str(prior, "id")?;
        let Some(d) = absent(
            Service::Iot,
            "DescribeCertificate",
            p.iot()
                .describe_certificate()
                .certificate_id(id)
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        let Some(c) = d.certificate_description() else {
            return Ok(None);
        };
        let mut a = Attrs::new();
        a.insert("id".into(), json!(id));
        a.insert("arn".into(), json!(c.certificate_arn()));
        a.insert("active".into(), json!(c.status() == Some(&Status::Active)));
        a.insert("certificate_pem".into(), json!(c.certificate_pem()));
        a.insert("ca_certificate_id".into(), json!(c.ca_certificate_id()));
        for k in ["csr", "ca_pem", "public_key", "private_key"] {
            a.insert(k.into(), prior.get(k).cloned().unwrap_or(Json::Null));
        }
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let active = bool_of(planned, "active").unwrap_or(false);
        let mut state = planned.clone();
        if let Some(csr) = str_of(planned, "csr") {
            let req = p
                .iot()
                .create_certificate_from_csr()
                .certificate_signing_request(csr)
                .set_as_active(active);
            let out = without_orphans(p, "CreateCertificateFromCsr", req.send(), |o| {
                o.certificate_id()
            })
            .await
            .map_err(|e| aws_error("CreateCertificateFromCsr", e))?;
            state.insert("id".into(), json!(out.certificate_id()));
        } else if let Some(pem) = str_of(planned, "certificate_pem") {
            let id = match str_of(planned, "ca_pem") {
                Some(ca) => p
                    .iot()
                    .register_certificate()
                    .certificate_pem(pem)
                    .ca_certificate_pem(ca)
                    .status(status(active))
                    .send()
                    .await
                    .map_err(|e| aws_error("RegisterCertificate", e))?
                    .certificate_id()
                    .map(str::to_string),
                None => p
                    .iot()
                    .register_certificate_without_ca()
                    .certificate_pem(pem)
                    .status(status(active))
                    .send()
                    .await
                    .map_err(|e| aws_error("RegisterCertificateWithoutCA", e))?
                    .certificate_id()
                    .map(str::to_string),
            };
            state.insert("id".into(), json!(id));
        } else {
            let req = p.iot().create_keys_and_certificate().set_as_active(active);
            let out = without_orphans(p, "CreateKeysAndCertificate", req.send(), |o| {
                o.certificate_id()
            })
            .await
            .map_err(|e| aws_error("CreateKeysAndCertificate", e))?;
            state.insert("id".into(), json!(out.certificate_id()));
            state.insert(
                "public_key".into(),
                json!(out.key_pair().and_then(|k| k.public_key())),
            );
            state.insert(
                "private_key".into(),
                json!(out.key_pair().and_then(|k| k.private_key())),
            );
            // The answer holds everything `read` would return (AWS-made certificates
            // have no CA id): no DescribeCertificate needed.
            if let (Some(arn), Some(pem)) = (out.certificate_arn(), out.certificate_pem()) {
                state.insert("arn".into(), json!(arn));
                state.insert("active".into(), json!(active));
                state.insert("certificate_pem".into(), json!(pem));
                state.insert("ca_certificate_id".into(), Json::Null);
                return Ok(state);
            }
        }
        match self.read(p, &state).await {
            Ok(Some(a)) => Ok(a),
            Ok(None) => Err(anyhow::anyhow!("certificate vanished right after creation")),
            // The key pair exists only in this answer: keep it even if the read failed.
            Err(e) => Err(super::partial(state, e)),
        }
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let id = req_str(prior, "id")?;
        if bool_of(prior, "active") != bool_of(planned, "active") {
            p.iot()
                .update_certificate()
                .certificate_id(id)
                .new_status(status(bool_of(planned, "active") == Some(true)))
                .send()
                .await
                .map_err(|e| aws_error("UpdateCertificate", e))?;
        }
        reread(self, p, prior, || {
            format!("certificate {id} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let id = req_str(prior, "id")?;
        let arn = req_str(prior, "arn")?;
        // AWS deletes only an INACTIVE certificate with nothing attached. The attachments
        // in the stack are deleted before it, so first just try: deactivate (unless
        // already inactive) and delete; list and detach what is left only when AWS refuses.
        let mut deactivated = false;
        if bool_of(prior, "active") != Some(false) {
            if !deactivate(p, id).await? {
                return Ok(());
            }
            deactivated = true;
        }
        match p.iot().delete_certificate().certificate_id(id).send().await {
            Ok(_) => return Ok(()),
            Err(e) if is_not_found(Service::Iot, &e) => return Ok(()),
            Err(e)
                if matches!(
                    error_code(&e),
                    Some("DeleteConflictException" | "CertificateStateException")
                ) => {}
            Err(e) => return Err(aws_error("DeleteCertificate", e)),
        }
        if !deactivated && !deactivate(p, id).await? {
            return Ok(());
        }
        let policies = p
            .iot()
            .list_attached_policies()
            .target(arn)
            .send()
            .await
            .map_err(|e| aws_error("ListAttachedPolicies", e))?;
        for pol in policies.policies() {
            if let Some(name) = pol.policy_name() {
                p.iot()
                    .detach_policy()
                    .policy_name(name)
                    .target(arn)
                    .send()
                    .await
                    .map_err(|e| aws_error("DetachPolicy", e))?;
            }
        }
        let things = p
            .iot()
            .list_principal_things()
            .principal(arn)
            .send()
            .await
            .map_err(|e| aws_error("ListPrincipalThings", e))?;
        for t in things.things() {
            p.iot()
                .detach_thing_principal()
                .thing_name(t)
                .principal(arn)
                .send()
                .await
                .map_err(|e| aws_error("DetachThingPrincipal", e))?;
        }
        // Detaches take effect asynchronously: AWS keeps refusing for a moment.
        super::retry::while_attached(p, "DeleteCertificate", || async {
            gone(
                Service::Iot,
                "DeleteCertificate",
                p.iot().delete_certificate().certificate_id(id).send().await,
            )
        })
        .await
    }
}

/// Certificates this process made and received (so never taken for an orphan), and a
/// lock that lets the orphan search run only while no create is in flight.
static MADE: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());
static CREATING: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Runs a certificate create. AWS makes a new certificate on every attempt and has no
/// client token, so when an attempt lost its answer after taking effect (the SDK then
/// retried it), the certificate that attempt made is an orphan whose private key is gone.
/// It is found (made since this call started, not received by any create of this run,
/// attached to nothing), deactivated and deleted, so nothing leaks.
async fn without_orphans<T, E>(
    p: &Provider,
    op: &str,
    call: impl std::future::Future<
        Output = Result<
            T,
            aws_smithy_runtime_api::client::result::SdkError<
                E,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        >,
    >,
    id: impl Fn(&T) -> Option<&str>,
) -> Result<
    T,
    aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
> {
    let start = std::time::SystemTime::now() - std::time::Duration::from_secs(2);
    let out = {
        let _in_flight = CREATING.read().await;
        let out = call.await;
        if let Some(i) = out.as_ref().ok().and_then(&id) {
            MADE.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(i.to_string());
        }
        out
    };
    if super::attempts::answer_lost(op) {
        let _alone = CREATING.write().await;
        if let Err(e) = delete_orphans(p, start).await {
            p.warn(format!(
                "{op} lost an answer and the certificate it may have made could not be cleaned up: {e:#}"
            ));
        }
    }
    out
}

async fn delete_orphans(p: &Provider, since: std::time::SystemTime) -> anyhow::Result<()> {
    let since = aws_smithy_types::DateTime::from(since);
    let listed = p
        .iot()
        .list_certificates()
        .ascending_order(false)
        .page_size(250)
        .send()
        .await
        .map_err(|e| aws_error("ListCertificates", e))?;
    let orphans: Vec<String> = listed
        .certificates()
        .iter()
        .filter(|c| c.creation_date().is_some_and(|d| d.secs() >= since.secs()))
        .filter_map(|c| c.certificate_id().map(str::to_string))
        .filter(|id| !MADE.lock().unwrap_or_else(|e| e.into_inner()).contains(id))
        .collect();
    for id in orphans {
        let arn = listed
            .certificates()
            .iter()
            .find(|c| c.certificate_id() == Some(id.as_str()))
            .and_then(|c| c.certificate_arn())
            .unwrap_or_default();
        let things = p
            .iot()
            .list_principal_things()
            .principal(arn)
            .send()
            .await
            .map_err(|e| aws_error("ListPrincipalThings", e))?;
        let policies = p
            .iot()
            .list_attached_policies()
            .target(arn)
            .send()
            .await
            .map_err(|e| aws_error("ListAttachedPolicies", e))?;
        if !things.things().is_empty() || !policies.policies().is_empty() {
            continue;
        }
        if deactivate(p, &id).await? {
            gone(
                Service::Iot,
                "DeleteCertificate",
                p.iot()
                    .delete_certificate()
                    .certificate_id(&id)
                    .send()
                    .await,
            )?;
        }
        p.warn(format!(
            "certificate {id} was made by an attempt whose answer was lost (its private key with it); deleted it"
        ));
    }
    Ok(())
}

/// Sets a certificate INACTIVE. `false`: it no longer exists.
async fn deactivate(p: &Provider, id: &str) -> anyhow::Result<bool> {
    match p
        .iot()
        .update_certificate()
        .certificate_id(id)
        .new_status(Status::Inactive)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(Service::Iot, &e) => Ok(false),
        Err(e) => Err(aws_error("UpdateCertificate (INACTIVE)", e)),
    }
}
