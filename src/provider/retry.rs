//! Named retry policies for AWS's eventual consistency. Each retries only the specific
//! errors it answers, for a bounded time, and says so when the budget runs out.

use super::Provider;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// IAM is eventually consistent: for some seconds after a role (or its policy) is
/// created, Lambda answers "The role defined for the function cannot be assumed by
/// Lambda" and IoT "unable to assume role". Only those messages are retried.
pub fn is_iam_propagation(e: &anyhow::Error) -> bool {
    let m = format!("{e:#}").to_lowercase();
    [
        "cannot be assumed",
        "unable to assume role",
        "invalid principal",
        "execution role does not have permissions",
    ]
    .iter()
    .any(|p| m.contains(p))
}

pub async fn iam_propagation<T, F, Fut>(p: &Provider, what: &str, f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    retry_iam_propagation(p.iam_retry_budget, what, f).await
}

/// The policy itself, with its budget as a parameter.
pub async fn retry_iam_propagation<T, F, Fut>(
    budget: Duration,
    what: &str,
    f: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    backoff_while(budget, Duration::from_secs(10), is_iam_propagation, f, |secs| {
        format!(
            "{what}: AWS still refuses the IAM role after {secs}s of retries; check the role's trust policy (assume_role_policy) names the right service principal"
        )
    })
    .await
}

/// AWS reads are eventually consistent: for a moment after a create, a read of the new
/// object may answer "not found". A create whose final read found nothing (reported as a
/// [`super::PartialCreate`]) reads again for a few seconds before the object is recorded
/// tainted, as the Terraform provider waits out its "propagation timeout".
pub async fn read_after_create(
    p: &Provider,
    t: &dyn super::ResourceType,
    made: anyhow::Result<super::Attrs>,
) -> anyhow::Result<super::Attrs> {
    let err = match made {
        Ok(a) => return Ok(a),
        Err(e) => e,
    };
    // Only the "read found nothing" case: a partial create for any other reason (a
    // failed follow-up call) stays an error.
    let Some(partial) = err.downcast_ref::<super::PartialCreate>().filter(|pc| {
        let m = pc.source.to_string();
        m.contains("vanished") || m.contains("could not be read back")
    }) else {
        return Err(err);
    };
    let known = partial.attrs.clone();
    let budget = p.read_after_create_budget;
    let start = Instant::now();
    let mut delay = Duration::from_millis(100);
    while start.elapsed() + delay <= budget {
        tokio::time::sleep(delay).await;
        match t.read(p, &known).await {
            Ok(Some(a)) => return Ok(a),
            Ok(None) => delay = (delay * 2).min(Duration::from_secs(2)),
            Err(_) => break,
        }
    }
    Err(err)
}

/// Whether AWS refused a delete because something is still attached to the object: a
/// Thing's principals ("InvalidRequestException: Cannot delete. Thing ... is still
/// attached to one or more principals"), a certificate's things or policies
/// (DeleteConflictException), an IoT policy's targets. `DetachThingPrincipal` takes
/// effect asynchronously, so the refusal outlives the detach by a moment.
pub fn is_still_attached(e: &anyhow::Error) -> bool {
    let m = format!("{e:#}");
    m.contains("still attached")
        || m.contains("DeleteConflictException")
        || m.contains("CertificateStateException")
}

/// Retries `f` while AWS answers that the detaches before it have not taken effect yet,
/// for `p.detach_budget` (`THINGFORM_DETACH_SECS`, default 120 s).
pub async fn while_attached<T, F, Fut>(p: &Provider, what: &str, f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    retry_while_attached(p.detach_budget, what, f).await
}

/// The policy itself, with its budget as a parameter.
pub async fn retry_while_attached<T, F, Fut>(
    budget: Duration,
    what: &str,
    f: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    backoff_while(budget, Duration::from_secs(5), is_still_attached, f, |secs| {
        format!(
            "{what}: AWS still reports attachments after {secs}s; detach what is attached outside this stack"
        )
    })
    .await
}

/// Lambda runs one update of a function at a time: while one is in progress (right after
/// a create or an earlier update), the next is refused with "ResourceConflictException:
/// The operation cannot be performed at this time. An update is in progress for
/// resource: ...". The Terraform provider retries it; so does [`while_updating`].
pub fn is_update_in_progress(e: &anyhow::Error) -> bool {
    let m = format!("{e:#}");
    m.contains("ResourceConflictException")
        && (m.contains("update is in progress") || m.contains("cannot be performed at this time"))
}

/// Retries `f` while Lambda says an update of the function is in progress, for
/// `p.detach_budget` (the same patience as for detaches).
pub async fn while_updating<T, F, Fut>(p: &Provider, what: &str, f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    backoff_while(
        p.detach_budget,
        Duration::from_secs(5),
        is_update_in_progress,
        f,
        |secs| format!("{what}: the function was still updating after {secs}s"),
    )
    .await
}

/// Retries `f` while its error is `retryable`, from 200 ms doubling up to `max_delay`,
/// for `budget`; past it the error gets `give_up(seconds waited)` as context. Any other
/// error, and success, return at once.
async fn backoff_while<T, F, Fut>(
    budget: Duration,
    max_delay: Duration,
    retryable: fn(&anyhow::Error) -> bool,
    mut f: F,
    give_up: impl Fn(u64) -> String,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match f().await {
            Err(e) if retryable(&e) => {
                if start.elapsed() + delay > budget {
                    return Err(e.context(give_up(start.elapsed().as_secs())));
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(max_delay);
            }
            r => return r,
        }
    }
}

/// Percent-decodes an IAM policy document (IAM returns them URL-encoded, form style).
pub fn url_decode(s: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(s).is_ok() {
        return s.to_string();
    }
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8()
        .map(|d| d.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_iam_documents() {
        assert_eq!(url_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(url_decode("{\"a\":1}"), "{\"a\":1}");
        assert_eq!(
            url_decode("%7B%22a%22%3A%22b+c%2Bd%22%7D"),
            "{\"a\":\"b c+d\"}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn propagation_errors_are_retried_until_the_role_is_usable() {
        let start = Instant::now();
        let mut calls = 0;
        let r = retry_iam_propagation(Duration::from_secs(5), "CreateFunction", || {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    anyhow::bail!("InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.")
                }
                Ok(n)
            }
        })
        .await
        .unwrap();
        assert_eq!(r, 3);
        // Two waits, 200 ms then 400 ms, on the paused clock.
        assert_eq!(start.elapsed(), Duration::from_millis(600));
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_ends_with_a_clear_message_and_other_errors_fail_at_once() {
        let start = Instant::now();
        let err = retry_iam_propagation(Duration::from_secs(120), "CreateTopicRule", || async {
            Err::<(), _>(anyhow::anyhow!(
                "InvalidRequestException: iot.amazonaws.com is unable to assume role"
            ))
        })
        .await
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("still refuses the IAM role"),
            "{err:#}"
        );
        // 0.2 + 0.4 + ... + 6.4 s, then 10 s waits, stopping before the budget is passed.
        assert!(
            start.elapsed() <= Duration::from_secs(120),
            "{:?}",
            start.elapsed()
        );
        assert!(
            start.elapsed() >= Duration::from_secs(110),
            "{:?}",
            start.elapsed()
        );
        let mut calls = 0;
        let err = retry_iam_propagation(Duration::from_secs(30), "CreateFunction", || {
            calls += 1;
            async {
                Err::<(), _>(anyhow::anyhow!(
                    "ResourceConflictException: Function already exist"
                ))
            }
        })
        .await
        .unwrap_err();
        assert_eq!(calls, 1, "not retried");
        assert!(err.to_string().contains("already exist"));
    }

    #[tokio::test(start_paused = true)]
    async fn deletes_wait_for_asynchronous_detaches_and_nothing_else() {
        let mut calls = 0;
        let r = retry_while_attached(Duration::from_secs(60), "DeleteThing", || {
            calls += 1;
            let n = calls;
            async move {
                if n < 4 {
                    anyhow::bail!("DeleteThing: InvalidRequestException: Cannot delete. Thing t is still attached to one or more principals")
                }
                Ok(n)
            }
        })
        .await
        .unwrap();
        assert_eq!(r, 4);
        let err = retry_while_attached(Duration::from_secs(2), "DeleteCertificate", || async {
            Err::<(), _>(anyhow::anyhow!(
                "DeleteCertificate: DeleteConflictException: attached"
            ))
        })
        .await
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("still reports attachments"),
            "{err:#}"
        );
        let mut calls = 0;
        let _ = retry_while_attached(Duration::from_secs(60), "DeleteThing", || {
            calls += 1;
            async { Err::<(), _>(anyhow::anyhow!("DeleteThing: AccessDeniedException: no")) }
        })
        .await;
        assert_eq!(calls, 1, "other errors fail at once");
    }

    #[test]
    fn only_lambdas_update_conflicts_wait() {
        assert!(is_update_in_progress(&anyhow::anyhow!(
            "UpdateFunctionCode: ResourceConflictException: The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:eu-west-1:1:function:f"
        )));
        assert!(!is_update_in_progress(&anyhow::anyhow!(
            "AddPermission: ResourceConflictException: The statement id (s) provided already exists"
        )));
    }

    #[test]
    fn only_propagation_errors_are_retried() {
        assert!(is_iam_propagation(&anyhow::anyhow!(
            "CreateFunction: InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda."
        )));
        assert!(!is_iam_propagation(&anyhow::anyhow!(
            "CreateFunction: ResourceConflictException: Function already exist"
        )));
    }
}
