//! Named retry policies for AWS's eventual consistency. Each retries only the specific
//! errors it answers, for a bounded time, and says so when the budget runs out.

use super::Provider;
use std::future::Future;
use std::time::{Duration, Instant};

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
    mut f: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if is_iam_propagation(&e) => {
                if start.elapsed() + delay > budget {
                    return Err(e.context(format!(
                        "{what}: AWS still refuses the IAM role after {}s of retries; check the role's trust policy (assume_role_policy) names the right service principal",
                        start.elapsed().as_secs()
                    )));
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Percent-decodes an IAM policy document (IAM returns them URL-encoded).
pub fn url_decode(s: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(s).is_ok() {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_iam_documents() {
        assert_eq!(url_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(url_decode("{\"a\":1}"), "{\"a\":1}");
    }

    #[tokio::test]
    async fn propagation_errors_are_retried_until_the_role_is_usable() {
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
    }

    #[tokio::test]
    async fn the_budget_ends_with_a_clear_message_and_other_errors_fail_at_once() {
        let err = retry_iam_propagation(Duration::from_millis(300), "CreateTopicRule", || async {
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
