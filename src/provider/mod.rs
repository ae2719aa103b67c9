//! The provider layer: the [`ResourceType`] trait and one module per AWS resource type.
//!
//! This is the only layer that touches `aws-sdk-*`. It knows nothing about HCL, the
//! plan or the state file: it receives planned attributes as JSON and returns what AWS
//! holds, in the same shape. The engine reaches it only through the [`cloud::Cloud`]
//! seam: [`cloud::AwsCloud`] dispatches to this registry and a configured [`Provider`]
//! (each answer carrying the warnings the call raised); [`fake::FakeCloud`] is the
//! in-memory cloud the engine's tests run against.

pub mod arn;
pub mod attempts;
pub mod attrs;
pub mod aws_cloudwatch;
pub mod aws_dynamodb_table;
pub mod aws_iam;
pub mod aws_iot_certificate;
pub mod aws_iot_logging_options;
pub mod aws_iot_policy;
pub mod aws_iot_provisioning_template;
pub mod aws_iot_role_alias;
pub mod aws_iot_thing;
pub mod aws_iot_thing_group;
pub mod aws_iot_thing_shadow;
pub mod aws_iot_thing_type;
pub mod aws_iot_topic_rule;
pub mod aws_lambda;
pub mod aws_s3_bucket;
pub mod aws_s3_bucket_lifecycle_configuration;
pub mod aws_s3_bucket_versioning;
pub mod aws_sns_topic;
pub mod aws_sns_topic_subscription;
pub mod batch;
pub mod client;
pub mod cloud;
pub mod data;
pub mod fake;
pub mod iot_common;
pub mod not_found;
pub mod package;
pub mod reread;
pub mod retry;
pub mod schema;
pub mod wait;

pub use attrs::Attrs;
pub use client::{Provider, provider_schema};

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// In the planned attributes handed to [`ResourceType::recover`]: when the interrupted
/// create was journaled (RFC 3339).
pub const RECOVER_STARTED_AT: &str = "__thingform_started_at";
/// ... and the ids of this type the state already tracks.
pub const RECOVER_TAKEN: &str = "__thingform_taken";
/// In what `recover` returns: adopt the object tainted (replaced by the next apply).
pub const RECOVER_TAINTED: &str = "__thingform_tainted";

/// One AWS resource type. Every module implements it the same way: `schema` says what the
/// configuration may set, `read` returns what AWS holds (None when the object is gone),
/// and `create`/`update`/`delete` make AWS match.
#[async_trait]
pub trait ResourceType: Send + Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> &schema::Schema;
    /// Reads the live object named by `prior` (at least its `id`). `None`: it no longer exists.
    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>>;
    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs>;
    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs>;
    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()>;
    /// The attributes `read` needs to find an object the user imports by `id`.
    fn import_attrs(&self, id: &str) -> Attrs {
        let mut a = Attrs::new();
        a.insert("id".into(), id.into());
        a
    }
    /// Warnings the plan shows for a change (e.g. a DynamoDB TTL attribute switch).
    fn plan_notes(&self, _prior: Option<&Attrs>, _planned: &serde_json::Value) -> Vec<String> {
        Vec::new()
    }
    /// Reads many instances at once with a list API, in the order given. `None`: this
    /// type (or this many instances) is read one by one.
    async fn read_many(
        &self,
        _p: &Provider,
        _priors: &[&Attrs],
    ) -> Option<anyhow::Result<Vec<Option<Attrs>>>> {
        None
    }
    /// A note the plan shows when this type is deleted (e.g. a wait AWS imposes).
    fn delete_note(&self) -> Option<String> {
        None
    }
    /// Operations with the same key never run at the same time (e.g. permissions of one
    /// Lambda function, which AWS refuses to change concurrently).
    fn serialization_key(&self, _planned: &Attrs) -> Option<String> {
        None
    }
    /// Fills attributes derived from local files at plan time (e.g. a Rust crate's source
    /// hash). `dir` is the stack directory; relative paths are resolved against it.
    fn plan_local(
        &self,
        _config: &mut serde_json::Map<String, serde_json::Value>,
        _dir: &std::path::Path,
    ) -> anyhow::Result<()> {
        Ok(())
    }
    /// After an interrupted create, finds the object if AWS made it (from the planned
    /// attributes that name it). `None` when it cannot be found or the type has no stable name.
    /// `planned` also holds [`RECOVER_STARTED_AT`] (when the create was journaled) and
    /// [`RECOVER_TAKEN`] (ids the state already tracks), for objects without a name; a
    /// found object that cannot be used as it is (a certificate whose private key was
    /// lost) is returned with [`RECOVER_TAINTED`] set, and is replaced by the next apply.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let _ = (p, planned);
        Ok(None)
    }
}

/// [`ResourceType::recover`] for a type whose configuration names its object (an alarm's
/// or template's name, an attachment's two ends, a shadow's Thing, a bucket's versioning):
/// `read` from the planned attributes, as for the named types.
pub async fn recover_by_read<T: ResourceType + ?Sized>(
    t: &T,
    p: &Provider,
    planned: &Attrs,
) -> anyhow::Result<Option<Attrs>> {
    let mut named = planned.clone();
    named.retain(|k, _| !k.starts_with("__thingform_"));
    match t.read(p, &named).await {
        // An endpoint that cannot read the type never made one either.
        Err(e) if e.chain().any(|c| c.is::<client::NotSupported>()) => Ok(None),
        other => other,
    }
}

/// A create refused because the object existed before it (AWS's "already exists" with no
/// lost attempt of this call, or thingform's own check): nothing was made, so the engine
/// drops the journaled intent instead of adopting someone else's object later.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AlreadyExists(pub String);

/// An error from a create that got as far as making the object: the engine records the
/// object (tainted, to be replaced) so it is never lost.
#[derive(Debug, thiserror::Error)]
#[error("{source:#}")]
pub struct PartialCreate {
    pub attrs: Attrs,
    pub source: anyhow::Error,
}

/// Wraps a failure that happened after the AWS object was created.
pub fn partial(attrs: Attrs, source: anyhow::Error) -> anyhow::Error {
    PartialCreate { attrs, source }.into()
}

/// The result of the read that ends a create. The object exists by now, so a failed or
/// empty read still reports it (as a partial create, recorded tainted) instead of
/// losing track of it.
pub fn created(
    read: anyhow::Result<Option<Attrs>>,
    known: &Attrs,
    what: String,
) -> anyhow::Result<Attrs> {
    match read {
        Ok(Some(attrs)) => Ok(attrs),
        Ok(None) => Err(partial(known.clone(), anyhow::anyhow!(what))),
        Err(e) => Err(partial(known.clone(), e)),
    }
}

type Registry = BTreeMap<&'static str, Box<dyn ResourceType>>;

/// Every supported managed resource type, by Terraform name.
pub fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| {
        let types: Vec<Box<dyn ResourceType>> = vec![
            Box::new(aws_s3_bucket::S3Bucket::new()),
            Box::new(aws_s3_bucket_versioning::S3BucketVersioning::new()),
            Box::new(aws_s3_bucket_lifecycle_configuration::S3BucketLifecycle::new()),
            Box::new(aws_dynamodb_table::DynamoDbTable::new()),
            Box::new(aws_sns_topic::SnsTopic::new()),
            Box::new(aws_sns_topic_subscription::SnsTopicSubscription::new()),
            Box::<aws_iot_thing_type::IotThingType>::default(),
            Box::<aws_iot_thing::IotThing>::default(),
            Box::<aws_iot_thing_group::IotThingGroup>::default(),
            Box::<aws_iot_thing_group::IotThingGroupMembership>::default(),
            Box::<aws_iot_certificate::IotCertificate>::default(),
            Box::<aws_iot_policy::IotPolicy>::default(),
            Box::<aws_iot_policy::IotPolicyAttachment>::default(),
            Box::<aws_iot_policy::IotThingPrincipalAttachment>::default(),
            Box::<aws_iot_provisioning_template::IotProvisioningTemplate>::default(),
            Box::<aws_iot_thing_shadow::IotThingShadow>::default(),
            Box::<aws_iot_role_alias::IotRoleAlias>::default(),
            Box::<aws_iot_logging_options::IotLoggingOptions>::default(),
            Box::<aws_iot_topic_rule::IotTopicRule>::default(),
            Box::<aws_lambda::LambdaFunction>::default(),
            Box::<aws_lambda::LambdaPermission>::default(),
            Box::<aws_iam::IamRole>::default(),
            Box::<aws_iam::IamRolePolicy>::default(),
            Box::<aws_iam::IamRolePolicyAttachment>::default(),
            Box::<aws_iam::IamPolicy>::default(),
            Box::<aws_iam::IamPolicyAttachment>::default(),
            Box::new(aws_iam::RoleExclusive::attachments()),
            Box::new(aws_iam::RoleExclusive::inline()),
            Box::<aws_cloudwatch::MetricAlarm>::default(),
            Box::<aws_cloudwatch::LogGroup>::default(),
        ];
        types.into_iter().map(|t| (t.name(), t)).collect()
    })
}

pub fn resource_type(name: &str) -> Option<&'static dyn ResourceType> {
    registry().get(name).map(|b| b.as_ref())
}

/// Types that thingform will support but this build does not yet implement.
pub const PLANNED_TYPES: &[&str] = &[];
