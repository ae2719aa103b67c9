//! The seam between the engine and a cloud: every operation the engine needs, by type
//! name, each answer carrying the warnings raised while producing it. [`AwsCloud`]
//! dispatches to the resource registry and the configured [`Provider`];
//! [`super::fake::FakeCloud`] is an in-memory cloud for tests.

use super::client::collect_warnings;
use super::schema::Schema;
use super::{Attrs, Provider, ResourceType, data, resource_type};
use async_trait::async_trait;
use serde_json::Value as Json;
use std::sync::Arc;

/// An answer from the cloud, with the warnings the call raised (e.g. "log group kept in
/// AWS"); the engine reports them with the address they belong to.
#[derive(Debug)]
pub struct Reply<T> {
    pub result: anyhow::Result<T>,
    pub warnings: Vec<String>,
}

impl<T> Reply<T> {
    pub fn new(result: anyhow::Result<T>) -> Self {
        Reply {
            result,
            warnings: vec![],
        }
    }
    /// The result, its warnings moved into `into` (each prefixed with `who`).
    pub fn take(self, who: &dyn std::fmt::Display, into: &mut Vec<String>) -> anyhow::Result<T> {
        into.extend(self.warnings.into_iter().map(|w| format!("{who}: {w}")));
        self.result
    }
}

/// The answer of a batched read: `None` when the type (or this many instances) is read
/// one by one.
pub type ManyReply = Option<Reply<Vec<Option<Attrs>>>>;

fn unsupported(rtype: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "the state holds a resource of type {rtype}, which this build of thingform does not support"
    )
}

/// What the engine asks of a cloud. The type's static facts (schema, notes, keys,
/// plan-time local steps) default to the real resource registry, so every cloud plans
/// the same way; the operations are the cloud's own.
#[async_trait]
pub trait Cloud: Send + Sync {
    /// The static side of a resource type (never used for I/O by the engine).
    fn resource_type(&self, rtype: &str) -> anyhow::Result<&'static dyn ResourceType> {
        resource_type(rtype).ok_or_else(|| unsupported(rtype))
    }
    fn schema(&self, rtype: &str) -> anyhow::Result<&'static Schema> {
        Ok(self.resource_type(rtype)?.schema())
    }
    fn import_attrs(&self, rtype: &str, id: &str) -> anyhow::Result<Attrs> {
        Ok(self.resource_type(rtype)?.import_attrs(id))
    }
    fn plan_notes(&self, rtype: &str, prior: Option<&Attrs>, planned: &Json) -> Vec<String> {
        resource_type(rtype)
            .map(|t| t.plan_notes(prior, planned))
            .unwrap_or_default()
    }
    fn delete_note(&self, rtype: &str) -> Option<String> {
        resource_type(rtype).and_then(|t| t.delete_note())
    }
    fn serialization_key(&self, rtype: &str, planned: &Attrs) -> Option<String> {
        resource_type(rtype).and_then(|t| t.serialization_key(planned))
    }
    fn data_source(&self, name: &str) -> Option<&'static dyn data::DataSourceType> {
        data::data_source(name)
    }
    /// The cloud of an aliased provider configuration (`provider = aws.eu`: "eu").
    fn aliased(&self, _alias: &str) -> Option<&dyn Cloud> {
        None
    }

    async fn read(&self, rtype: &str, prior: &Attrs) -> Reply<Option<Attrs>>;
    async fn read_many(&self, rtype: &str, priors: &[&Attrs]) -> ManyReply;
    async fn create(&self, rtype: &str, planned: &Attrs) -> Reply<Attrs>;
    async fn update(&self, rtype: &str, prior: &Attrs, planned: &Attrs) -> Reply<Attrs>;
    async fn delete(&self, rtype: &str, prior: &Attrs) -> Reply<()>;
    /// After an interrupted create, finds the object if it was made (see
    /// [`ResourceType::recover`]).
    async fn recover(&self, rtype: &str, planned: &Attrs) -> Reply<Option<Attrs>>;
    /// Reads a data source (the caller has tried `read_local` first).
    async fn read_data(&self, name: &str, cfg: &Attrs) -> Reply<Attrs>;
}

/// The cloud of provider configuration `alias` (None: the default, `cloud` itself).
pub fn pick<'a>(cloud: &'a dyn Cloud, alias: Option<&str>) -> anyhow::Result<&'a dyn Cloud> {
    match alias {
        None => Ok(cloud),
        Some(a) => cloud.aliased(a).ok_or_else(|| {
            anyhow::anyhow!(
                "provider aws.{a} is not configured: the state says this object is managed through it; declare provider \"aws\" {{ alias = \"{a}\" ... }} again to manage it"
            )
        }),
    }
}

/// The real cloud: the resource registry and the configured AWS provider, with the
/// aliased configurations (`provider "aws" { alias = "eu" }`) beside it.
pub struct AwsCloud {
    pub provider: Arc<Provider>,
    pub aliases: std::collections::BTreeMap<String, AwsCloud>,
}

impl AwsCloud {
    pub fn shared(provider: Arc<Provider>) -> Arc<dyn Cloud> {
        Arc::new(AwsCloud {
            provider,
            aliases: Default::default(),
        })
    }

    /// The default configuration and the aliased ones, by alias.
    pub fn with_aliases(
        provider: Arc<Provider>,
        aliases: impl IntoIterator<Item = (String, Arc<Provider>)>,
    ) -> Arc<dyn Cloud> {
        Arc::new(AwsCloud {
            provider,
            aliases: aliases
                .into_iter()
                .map(|(a, p)| {
                    (
                        a,
                        AwsCloud {
                            provider: p,
                            aliases: Default::default(),
                        },
                    )
                })
                .collect(),
        })
    }
}

async fn scoped<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> Reply<T> {
    let (result, warnings) = collect_warnings(f).await;
    Reply { result, warnings }
}

#[async_trait]
impl Cloud for AwsCloud {
    fn aliased(&self, alias: &str) -> Option<&dyn Cloud> {
        self.aliases.get(alias).map(|c| c as &dyn Cloud)
    }
    async fn read(&self, rtype: &str, prior: &Attrs) -> Reply<Option<Attrs>> {
        scoped(async { self.resource_type(rtype)?.read(&self.provider, prior).await }).await
    }
    async fn read_many(&self, rtype: &str, priors: &[&Attrs]) -> ManyReply {
        let t = resource_type(rtype)?;
        let (answer, warnings) = collect_warnings(t.read_many(&self.provider, priors)).await;
        answer.map(|result| Reply { result, warnings })
    }
    async fn create(&self, rtype: &str, planned: &Attrs) -> Reply<Attrs> {
        scoped(async {
            let t = self.resource_type(rtype)?;
            let made = t.create(&self.provider, planned).await;
            super::retry::read_after_create(&self.provider, t, made).await
        })
        .await
    }
    async fn update(&self, rtype: &str, prior: &Attrs, planned: &Attrs) -> Reply<Attrs> {
        scoped(async {
            self.resource_type(rtype)?
                .update(&self.provider, prior, planned)
                .await
        })
        .await
    }
    async fn delete(&self, rtype: &str, prior: &Attrs) -> Reply<()> {
        scoped(async {
            self.resource_type(rtype)?
                .delete(&self.provider, prior)
                .await
        })
        .await
    }
    async fn recover(&self, rtype: &str, planned: &Attrs) -> Reply<Option<Attrs>> {
        scoped(async {
            self.resource_type(rtype)?
                .recover(&self.provider, planned)
                .await
        })
        .await
    }
    async fn read_data(&self, name: &str, cfg: &Attrs) -> Reply<Attrs> {
        scoped(async {
            let ds = data::data_source(name)
                .ok_or_else(|| anyhow::anyhow!("unsupported data source {name}"))?;
            ds.read(&self.provider, cfg).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn warnings_stay_with_the_call_that_raised_them() {
        let p = Provider::configure(&serde_json::json!({
            "region": "us-east-1", "access_key": "a", "secret_key": "b"
        }))
        .await
        .unwrap();
        let (a, b) = tokio::join!(
            collect_warnings(async {
                p.warn("a1".into());
                tokio::task::yield_now().await;
                p.warn("a2".into());
                1
            }),
            collect_warnings(async {
                p.warn("b".into());
                tokio::task::yield_now().await;
                2
            }),
        );
        assert_eq!(a, (1, vec!["a1".to_string(), "a2".to_string()]));
        assert_eq!(b, (2, vec!["b".to_string()]));
        let mut into = vec![];
        let r = Reply {
            result: Ok(()),
            warnings: vec!["kept".into()],
        };
        r.take(&"aws_cloudwatch_log_group.l", &mut into).unwrap();
        assert_eq!(into, vec!["aws_cloudwatch_log_group.l: kept".to_string()]);
    }
}
