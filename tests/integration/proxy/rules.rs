//! AWS's own rules that moto skips: preconditions on deletes, asynchronous detaches,
//! waits after deprecation and role creation, Lambda's one-update-at-a-time, and a short
//! not-found window on reads right after a create (IAM roles, IoT Things and policies:
//! the eventually consistent ones; Lambda and DynamoDB answer a new object at once, as
//! Pending/CREATING). The proxy learns what it needs
//! (attachments, deprecations, creation times) from the requests it relays; each refusal
//! is the error code AWS answers with. AWS's delays are multiplied by `scale`.

use super::wire::{Protocol, Request, Response, error};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// AWS's delays, unscaled.
const DETACH: Duration = Duration::from_secs(30); // DetachThingPrincipal takes effect
const THING_TYPE: Duration = Duration::from_secs(300); // deprecated before delete
const ROLE: Duration = Duration::from_secs(15); // a new role is assumable by Lambda
const LAMBDA_UPDATE: Duration = Duration::from_secs(6); // a function update runs
const NOT_FOUND: Duration = Duration::from_secs(10); // a new object is readable

pub struct Rules {
    scale: f64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Certificate id -> ACTIVE.
    cert_active: BTreeMap<String, bool>,
    /// (thing, principal) -> when a detach takes effect (`None`: attached).
    thing_principals: BTreeMap<(String, String), Option<Instant>>,
    /// IoT policy -> targets attached.
    policy_targets: BTreeMap<String, BTreeSet<String>>,
    /// IoT policy -> versions that are not the default.
    policy_versions: BTreeMap<String, i64>,
    /// Thing type -> when it was deprecated.
    deprecated: BTreeMap<String, Instant>,
    /// IAM role -> when it was created.
    roles: BTreeMap<String, Instant>,
    /// IAM role -> inline policy names and managed policy ARNs.
    role_policies: BTreeMap<String, BTreeSet<String>>,
    /// Lambda function -> when its update (or create: `true`) finishes.
    lambda_busy: BTreeMap<String, (Instant, bool)>,
    /// S3 bucket -> keys.
    objects: BTreeMap<String, BTreeSet<String>>,
    /// (kind, name) -> when the object was created.
    created: BTreeMap<(&'static str, String), Instant>,
}

fn last_segment(arn: &str) -> String {
    arn.rsplit(['/', ':']).next().unwrap_or(arn).to_string()
}

/// A Lambda function name from a path segment or ARN (`arn:...:function:NAME[:qualifier]`).
fn function_name(s: &str) -> String {
    match s.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest).to_string(),
        None => s.to_string(),
    }
}

impl Rules {
    pub fn new(scale: f64) -> Rules {
        Rules {
            scale,
            state: Mutex::new(State::default()),
        }
    }

    fn scaled(&self, d: Duration) -> Duration {
        d.mul_f64(self.scale)
    }

    /// AWS's refusal of `req`, if one of its rules applies: the rule's name and the answer.
    pub fn check(&self, req: &Request, op: &str, p: &Protocol) -> Option<(&'static str, Response)> {
        let now = Instant::now();
        let st = self.state.lock().unwrap();
        let seg = req.segments();
        let name = seg.get(1).cloned().unwrap_or_default();
        let fresh = |kind: &'static str, n: &str| {
            st.created
                .get(&(kind, n.to_string()))
                .is_some_and(|t| now < *t + self.scaled(NOT_FOUND))
        };
        let attached_to_thing = |pred: &dyn Fn(&(String, String)) -> bool| {
            st.thing_principals
                .iter()
                .any(|(k, until)| pred(k) && until.is_none_or(|t| now < t))
        };
        match op {
            "DeleteCertificate" => {
                if st.cert_active.get(&name) == Some(&true) {
                    return Some((
                        "certificate delete while ACTIVE",
                        error(
                            p,
                            406,
                            "CertificateStateException",
                            "Certificate must be deactivated (not ACTIVE) before deletion.",
                        ),
                    ));
                }
                let suffix = format!("cert/{name}");
                let on_thing = attached_to_thing(&|(_, pr)| pr.ends_with(&suffix));
                let on_policy = st
                    .policy_targets
                    .values()
                    .any(|ts| ts.iter().any(|t| t.ends_with(&suffix)));
                if on_thing || on_policy {
                    return Some((
                        "certificate delete while attached",
                        error(
                            p,
                            409,
                            "DeleteConflictException",
                            &format!("Things must be detached before deletion (arn: {suffix})"),
                        ),
                    ));
                }
            }
            "DeleteThing" if attached_to_thing(&|(t, _)| *t == name) => {
                return Some((
                    "Thing delete while principals attached (asynchronous detach)",
                    error(
                        p,
                        400,
                        "InvalidRequestException",
                        &format!(
                            "Cannot delete. Thing {name} is still attached to one or more principals"
                        ),
                    ),
                ));
            }
            "DeletePolicy" if p != &Protocol::Query => {
                if st.policy_targets.get(&name).is_some_and(|t| !t.is_empty()) {
                    return Some((
                        "IoT policy delete while attached",
                        error(
                            p,
                            409,
                            "DeleteConflictException",
                            &format!(
                                "The policy cannot be deleted as the policy is attached to one or more principals (name={name})"
                            ),
                        ),
                    ));
                }
                if st.policy_versions.get(&name).is_some_and(|n| *n > 0) {
                    return Some((
                        "IoT policy delete with non-default versions",
                        error(
                            p,
                            409,
                            "DeleteConflictException",
                            &format!(
                                "Cannot delete the policy because it has one or more policy versions attached to it (name={name})"
                            ),
                        ),
                    ));
                }
            }
            "DeleteThingType" => {
                let ok = st
                    .deprecated
                    .get(&name)
                    .is_some_and(|t| now >= *t + self.scaled(THING_TYPE));
                if !ok {
                    return Some((
                        "thing type delete within 5 minutes of deprecation",
                        error(
                            p,
                            400,
                            "InvalidRequestException",
                            &format!(
                                "Can not delete thing type {name}. Thing type must be deprecated for at least 5 minutes before it can be deleted."
                            ),
                        ),
                    ));
                }
            }
            "CreateFunction" => {
                let role = req.json()["Role"]
                    .as_str()
                    .map(last_segment)
                    .unwrap_or_default();
                if st
                    .roles
                    .get(&role)
                    .is_some_and(|t| now < *t + self.scaled(ROLE))
                {
                    return Some((
                        "Lambda create right after its role (IAM propagation)",
                        error(
                            p,
                            400,
                            "InvalidParameterValueException",
                            "The role defined for the function cannot be assumed by Lambda.",
                        ),
                    ));
                }
            }
            "UpdateFunctionCode" | "UpdateFunctionConfiguration" | "PublishVersion" => {
                let f = function_name(seg.get(2).map(String::as_str).unwrap_or(""));
                if st.lambda_busy.get(&f).is_some_and(|(t, _)| now < *t) {
                    return Some((
                        "Lambda update while an update is in progress",
                        error(
                            p,
                            409,
                            "ResourceConflictException",
                            &format!(
                                "The operation cannot be performed at this time. An update is in progress for resource: {f}"
                            ),
                        ),
                    ));
                }
            }
            "DeleteRole" => {
                let role = req.param("RoleName").unwrap_or_default();
                if st.role_policies.get(&role).is_some_and(|s| !s.is_empty()) {
                    return Some((
                        "IAM role delete while policies attached",
                        error(
                            p,
                            409,
                            "DeleteConflict",
                            "Cannot delete entity, must delete policies first.",
                        ),
                    ));
                }
            }
            "DeleteBucket" if st.objects.get(&seg[0]).is_some_and(|o| !o.is_empty()) => {
                return Some((
                    "S3 bucket delete while not empty",
                    error(
                        p,
                        409,
                        "BucketNotEmpty",
                        "The bucket you tried to delete is not empty",
                    ),
                ));
            }
            "GetRole" => {
                let role = req.param("RoleName").unwrap_or_default();
                if fresh("role", &role) {
                    return Some((
                        "read right after create (not found yet)",
                        error(
                            p,
                            404,
                            "NoSuchEntity",
                            &format!("The role with name {role} cannot be found."),
                        ),
                    ));
                }
            }
            "DescribeThing" if fresh("thing", &name) => {
                return Some((
                    "read right after create (not found yet)",
                    error(
                        p,
                        404,
                        "ResourceNotFoundException",
                        &format!("Thing {name} cannot be found."),
                    ),
                ));
            }
            "GetPolicy" if p != &Protocol::Query && fresh("iot-policy", &name) => {
                return Some((
                    "read right after create (not found yet)",
                    error(
                        p,
                        404,
                        "ResourceNotFoundException",
                        &format!("Policy not found (name={name})"),
                    ),
                ));
            }
            _ => {}
        }
        None
    }

    /// Learns from a call the emulator carried out (`resp` is its answer), and makes the
    /// answer say what AWS would (a Lambda function reads as updating while it updates).
    pub fn observe(&self, req: &Request, op: &str, resp: &mut Response) {
        if resp.status >= 300 {
            return;
        }
        let now = Instant::now();
        let mut st = self.state.lock().unwrap();
        let seg = req.segments();
        let name = seg.get(1).cloned().unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
        let iot = req.service() == "iot";
        match op {
            "CreateKeysAndCertificate" | "CreateCertificateFromCsr" if iot => {
                if let Some(id) = body["certificateId"].as_str() {
                    let active = req.query.contains("setAsActive=true");
                    st.cert_active.insert(id.to_string(), active);
                }
            }
            "UpdateCertificate" if iot => {
                let active = req.query.contains("newStatus=ACTIVE");
                st.cert_active.insert(name, active);
            }
            "DeleteCertificate" if iot => {
                st.cert_active.remove(&name);
            }
            "AttachThingPrincipal" => {
                let pr = req.header("x-amzn-principal").unwrap_or("").to_string();
                st.thing_principals.insert((name, pr), None);
            }
            "DetachThingPrincipal" => {
                let pr = req.header("x-amzn-principal").unwrap_or("").to_string();
                let at = now + self.scaled(DETACH);
                if let Some(until) = st.thing_principals.get_mut(&(name, pr)) {
                    // AWS: asynchronous; the attachment lingers for a moment.
                    until.get_or_insert(at);
                }
            }
            "DeleteThing" => {
                st.thing_principals.retain(|(t, _), _| *t != name);
                st.created.remove(&("thing", name));
            }
            "AttachPolicy" if iot => {
                let target = req.json()["target"].as_str().unwrap_or("").to_string();
                st.policy_targets.entry(name).or_default().insert(target);
            }
            "DetachPolicy" if iot => {
                let target = req.json()["target"].as_str().unwrap_or("").to_string();
                st.policy_targets.entry(name).or_default().remove(&target);
            }
            "CreatePolicyVersion" if iot => *st.policy_versions.entry(name).or_default() += 1,
            "DeletePolicyVersion" if iot => *st.policy_versions.entry(name).or_default() -= 1,
            "CreatePolicy" if iot => {
                st.created.insert(("iot-policy", name), now);
            }
            "DeletePolicy" if iot => {
                st.policy_targets.remove(&name);
                st.policy_versions.remove(&name);
            }
            "DeprecateThingType" => {
                if req.json()["undoDeprecate"].as_bool() == Some(true) {
                    st.deprecated.remove(&name);
                } else {
                    st.deprecated.entry(name).or_insert(now);
                }
            }
            "DeleteThingType" => {
                st.deprecated.remove(&name);
            }
            "CreateThing" => {
                st.created.insert(("thing", name), now);
            }
            "CreateRole" => {
                let role = req.param("RoleName").unwrap_or_default();
                st.roles.insert(role.clone(), now);
                st.created.insert(("role", role), now);
            }
            "DeleteRole" => {
                let role = req.param("RoleName").unwrap_or_default();
                st.roles.remove(&role);
                st.role_policies.remove(&role);
            }
            "PutRolePolicy" | "AttachRolePolicy" | "DeleteRolePolicy" | "DetachRolePolicy" => {
                let role = req.param("RoleName").unwrap_or_default();
                let key = req
                    .param("PolicyName")
                    .or_else(|| req.param("PolicyArn"))
                    .unwrap_or_default();
                let set = st.role_policies.entry(role).or_default();
                if op.starts_with("Put") || op.starts_with("Attach") {
                    set.insert(key);
                } else {
                    set.remove(&key);
                }
            }
            "CreateFunction" => {
                let f = req.json()["FunctionName"]
                    .as_str()
                    .map(function_name)
                    .unwrap_or_default();
                st.lambda_busy
                    .insert(f.clone(), (now + self.scaled(LAMBDA_UPDATE), true));
            }
            "UpdateFunctionCode" | "UpdateFunctionConfiguration" => {
                let f = function_name(seg.get(2).map(String::as_str).unwrap_or(""));
                st.lambda_busy
                    .insert(f, (now + self.scaled(LAMBDA_UPDATE), false));
            }
            "GetFunction" | "GetFunctionConfiguration" => {
                let f = function_name(seg.get(2).map(String::as_str).unwrap_or(""));
                if let Some((until, created)) = st.lambda_busy.get(&f).copied()
                    && now < until
                {
                    // What AWS reports while the update runs; the SDK's waiters wait on it.
                    let mut body = body;
                    let conf = if op == "GetFunction" {
                        &mut body["Configuration"]
                    } else {
                        &mut body
                    };
                    if conf.is_object() {
                        if created {
                            conf["State"] = "Pending".into();
                        } else {
                            conf["LastUpdateStatus"] = "InProgress".into();
                        }
                        resp.body = body.to_string().into_bytes();
                    }
                }
            }
            "DeleteFunction" => {
                let f = function_name(seg.get(2).map(String::as_str).unwrap_or(""));
                st.lambda_busy.remove(&f);
            }
            "PutObject" => {
                let key = seg[1..].join("/");
                st.objects.entry(seg[0].clone()).or_default().insert(key);
            }
            "DeleteObject" => {
                let key = seg[1..].join("/");
                st.objects.entry(seg[0].clone()).or_default().remove(&key);
            }
            "DeleteObjects" => {
                let text = String::from_utf8_lossy(&req.body).to_string();
                let set = st.objects.entry(seg[0].clone()).or_default();
                for part in text.split("<Key>").skip(1) {
                    if let Some((k, _)) = part.split_once("</Key>") {
                        set.remove(k);
                    }
                }
            }
            "DeleteBucket" => {
                st.objects.remove(&seg[0]);
            }
            _ => {}
        }
    }
}
