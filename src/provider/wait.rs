//! Waiting for AWS: [`poll_until`] for the states the SDKs have no waiter for.

use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// One look at the object being waited for.
pub enum Poll<T> {
    /// Done, with its answer.
    Ready(T),
    /// Not yet; the error (if any) is what made this look fail, reported if time runs out.
    Pending(Option<anyhow::Error>),
}

/// Calls `check` every `interval` until it is ready or fails. After `budget`, fails with
/// `timeout(elapsed)` (as context of the last pending error, when there was one).
pub async fn poll_until<T, F, Fut>(
    interval: Duration,
    budget: Duration,
    timeout: impl FnOnce(Duration) -> String,
    mut check: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Poll<T>>>,
{
    let start = Instant::now();
    loop {
        match check().await? {
            Poll::Ready(v) => return Ok(v),
            Poll::Pending(last) => {
                if start.elapsed() > budget {
                    let msg = timeout(start.elapsed());
                    return Err(match last {
                        Some(e) => e.context(msg),
                        None => anyhow::Error::msg(msg),
                    });
                }
                tokio::time::sleep(interval).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn polls_until_ready_at_the_interval() {
        let start = Instant::now();
        let mut n = 0;
        let v = poll_until(
            Duration::from_secs(2),
            Duration::from_secs(60),
            |_| "late".into(),
            || {
                n += 1;
                let k = n;
                async move {
                    Ok(if k < 4 {
                        Poll::Pending(None)
                    } else {
                        Poll::Ready(k)
                    })
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(v, 4);
        assert_eq!(start.elapsed(), Duration::from_secs(6));
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_ends_with_the_timeout_message_over_the_last_error() {
        let err = poll_until(
            Duration::from_secs(5),
            Duration::from_secs(20),
            |t| format!("still busy after {}s", t.as_secs()),
            || async { Ok(Poll::<()>::Pending(Some(anyhow::anyhow!("InvalidRequest")))) },
        )
        .await
        .unwrap_err();
        assert_eq!(format!("{err:#}"), "still busy after 25s: InvalidRequest");
        let err = poll_until(
            Duration::from_secs(1),
            Duration::from_secs(600),
            |_| "late".into(),
            || async { Err::<Poll<()>, _>(anyhow::anyhow!("AccessDenied")) },
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "AccessDenied",
            "errors end the wait at once"
        );
    }
}
