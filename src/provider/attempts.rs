//! How every SDK call is retried, and what the retries tell a create.
//!
//! Budgets are the Terraform AWS provider's: 25 retries by default (`max_retries` in the
//! provider block, or `THINGFORM_MAX_RETRIES`), with the SDK's *adaptive* mode (a client
//! side rate limiter that slows down when AWS throttles) and exponential backoff with
//! jitter (first wait `THINGFORM_RETRY_BACKOFF_MS`, default 1 s, at most 20 s). The SDK's
//! retry quota (a token bucket that stops retrying after a burst of failures) is replaced
//! by an unlimited one: each call's budget is its attempts, as in the Terraform provider.
//! Only what the SDK classifies as transient is retried (throttling codes, HTTP 500/502/
//! 503/504, connection resets, timeouts); any other error fails at once.
//!
//! An attempt that ended in a 5xx or without an answer (reset, timeout) may have taken
//! effect before its answer was lost. [`AttemptLog`] records those per operation in a
//! scope around one provider call ([`scope`], opened by the engine's seam with the
//! warnings), so a create whose retry meets "already exists" can ask [`answer_lost`] and
//! adopt what its own earlier attempt made instead of failing.

use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    FinalizerInterceptorContextRef, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

/// The Terraform AWS provider's default `max_retries`.
pub const DEFAULT_MAX_RETRIES: u32 = 25;

/// The retry configuration for every client: `max_retries` from the provider block, else
/// `THINGFORM_MAX_RETRIES`, else 25; adaptive; backoff from `THINGFORM_RETRY_BACKOFF_MS`.
pub fn retry_config(max_retries: Option<u64>) -> RetryConfig {
    let retries = max_retries
        .map(|n| n.min(1000) as u32)
        .or_else(|| env_u64("THINGFORM_MAX_RETRIES").map(|n| n.min(1000) as u32))
        .unwrap_or(DEFAULT_MAX_RETRIES);
    let backoff = env_u64("THINGFORM_RETRY_BACKOFF_MS")
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(1));
    RetryConfig::adaptive()
        .with_max_attempts(retries + 1)
        .with_initial_backoff(backoff)
        .with_max_backoff(Duration::from_secs(20).max(backoff))
}

/// The retry partition of one service's clients, without the SDK's retry quota. Each
/// service has its own, so the adaptive rate limiter slows down only the service that
/// throttles (AWS's limits are per service).
pub fn retry_partition(service: &'static str) -> RetryPartition {
    static PARTITIONS: Mutex<BTreeMap<&'static str, RetryPartition>> = Mutex::new(BTreeMap::new());
    PARTITIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(service)
        .or_insert_with(|| {
            RetryPartition::custom(format!("thingform-{service}"))
                .token_bucket(TokenBucket::unlimited())
                .build()
        })
        .clone()
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.trim().parse().ok())
}

tokio::task_local! {
    /// The operations of the running provider call that had an attempt whose answer
    /// may have been lost after it took effect.
    static LOST: RefCell<BTreeSet<String>>;
}

/// Runs one provider call with its own record of lost answers.
pub async fn scope<F: std::future::Future>(f: F) -> F::Output {
    LOST.scope(RefCell::new(BTreeSet::new()), f).await
}

/// Whether an attempt of `op` (the SDK's operation name, e.g. `CreateRole`) in this
/// provider call ended without a trustworthy answer (HTTP 5xx, reset, timeout) and was
/// retried: an "already exists" answer after it is the object that attempt made.
pub fn answer_lost(op: &str) -> bool {
    LOST.try_with(|l| l.borrow().contains(op)).unwrap_or(false)
}

/// The interceptor that fills the record: after each attempt, a 5xx or a missing answer
/// marks the operation.
#[derive(Debug, Default)]
pub struct AttemptLog;

impl Intercept for AttemptLog {
    fn name(&self) -> &'static str {
        "thingform::AttemptLog"
    }

    fn read_after_attempt(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let lost = match ctx.response() {
            Some(r) => r.status().as_u16() >= 500,
            None => matches!(ctx.output_or_error(), Some(Err(_))),
        };
        if lost && let Some(m) = cfg.load::<Metadata>() {
            let op = m.name().to_string();
            let _ = LOST.try_with(|l| l.borrow_mut().insert(op));
        }
        Ok(())
    }
}

/// The answer of a create call `op`. An "already exists" error after an attempt of the
/// same call lost its answer is that attempt's object: `Ok(None)`, with a warning saying
/// it was adopted. Everything else is returned as it is (`Ok(Some(output))`, or the error:
/// an object that existed before this call is still the user's to import).
#[allow(clippy::result_large_err)] // the SDK's own error type, passed through
pub fn adopt<T, E>(
    p: &super::Provider,
    op: &str,
    r: Result<T, SdkError<E, HttpResponse>>,
) -> Result<Option<T>, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata,
{
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_already_exists(e.code(), e.message()) && answer_lost(op) => {
            p.warn(format!(
                "{op}: the answer to an earlier attempt was lost and AWS already holds the object it made; adopted it"
            ));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Keeps the SDK from retrying an endpoint's "not implemented": an emulator answers an
/// operation it lacks with HTTP 501, a bare HTML 500 page, or a message saying so (AWS
/// itself always sends an error code). Such an answer is final, and the error says
/// "not supported by this endpoint" at once instead of after 25 retries.
#[derive(Debug, Default)]
pub struct NotImplemented;

impl ClassifyRetry for NotImplemented {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(r) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        let status = r.status().as_u16();
        if status < 500 {
            return RetryAction::NoActionIndicated;
        }
        let html = r
            .headers()
            .get("content-type")
            .is_some_and(|c| c.contains("text/html"));
        let body = r
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).to_lowercase())
            .unwrap_or_default();
        if status == 501
            || (status == 500 && html)
            || body.contains("not yet implemented")
            || body.contains("notimplemented")
            || body.contains("not implemented")
        {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "thingform::NotImplemented"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Whether an AWS error says the object already exists (the codes AWS uses for it across
/// the services thingform creates in; Lambda's `ResourceConflictException` also means
/// "an update is in progress", so there the message must say so).
pub fn is_already_exists(code: Option<&str>, message: Option<&str>) -> bool {
    match code {
        Some(
            "ResourceAlreadyExistsException"
            | "EntityAlreadyExists"
            | "ResourceInUseException"
            | "BucketAlreadyOwnedByYou",
        ) => true,
        Some("ResourceConflictException") => {
            message.is_some_and(|m| m.to_lowercase().contains("already exist"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_default_to_terraforms_and_follow_max_retries() {
        assert_eq!(retry_config(Some(3)).max_attempts(), 4);
        assert_eq!(retry_config(Some(0)).max_attempts(), 1);
        if std::env::var("THINGFORM_MAX_RETRIES").is_err() {
            assert_eq!(retry_config(None).max_attempts(), DEFAULT_MAX_RETRIES + 1);
        }
        assert_eq!(
            retry_config(None).mode(),
            aws_smithy_types::retry::RetryMode::Adaptive
        );
    }

    #[tokio::test]
    async fn lost_answers_are_scoped_to_one_call() {
        assert!(!answer_lost("CreateRole"), "outside any scope");
        let (a, b) = tokio::join!(
            scope(async {
                LOST.with(|l| l.borrow_mut().insert("CreateRole".into()));
                tokio::task::yield_now().await;
                answer_lost("CreateRole")
            }),
            scope(async {
                tokio::task::yield_now().await;
                answer_lost("CreateRole")
            })
        );
        assert!(a);
        assert!(!b);
    }
}
