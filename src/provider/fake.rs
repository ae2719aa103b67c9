//! An in-memory cloud (Terraform's `MockProvider`): a real [`Cloud`] that keeps objects
//! per type, fills ids and computed attributes from the real schemas, and answers reads
//! with what was written. Failures can be injected: the Nth create/update/delete of a
//! type fails before its effect, after it (the answer is lost), or, for a create, as a
//! partial create. Used by the engine's unit tests (no emulator) and, later, by
//! property-based lifecycle tests.

use super::cloud::{Cloud, ManyReply, Reply};
use super::schema::{Block, Ty};
use super::{Attrs, partial};
use async_trait::async_trait;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Create,
    Update,
    Delete,
}

/// How an injected failure behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The call fails and nothing changes.
    Before,
    /// The change is made, then the answer is lost (the caller sees an error).
    After,
    /// A create makes the object, then fails reading it back (a partial create).
    Partial,
}

/// One operation the fake cloud carried out (for asserting orders).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub op: Op,
    pub rtype: String,
    /// The object's id (its schema's `id_attr`).
    pub id: String,
}

#[derive(Default)]
struct Inner {
    /// Objects by type, then by id.
    objects: BTreeMap<String, BTreeMap<String, Attrs>>,
    /// Calls so far per (op, type), counting failed ones.
    counts: BTreeMap<(Op, String), usize>,
    /// (op, type, nth call, starting at 1) -> failure.
    failures: BTreeMap<(Op, String, usize), Failure>,
    /// Operations that changed something, in order.
    log: Vec<Call>,
    next_id: u64,
    /// Warnings every delete of a type raises.
    delete_warnings: BTreeMap<String, String>,
    /// Types read with one list call per refresh (`read_many`).
    listable: std::collections::BTreeSet<String>,
    /// Reads so far: (single reads, list calls).
    reads: (usize, usize),
}

#[derive(Default)]
pub struct FakeCloud {
    inner: Mutex<Inner>,
}

impl FakeCloud {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the `nth` (from 1) `op` of `rtype` fail as `how`.
    pub fn fail(&self, op: Op, rtype: &str, nth: usize, how: Failure) {
        self.lock()
            .failures
            .insert((op, rtype.to_string(), nth), how);
    }

    /// Makes the `k`-th (from 1) `op` of `rtype` counted from now fail as `how` (the
    /// lifecycle property tests' fault plans).
    pub fn fail_next(&self, op: Op, rtype: &str, k: usize, how: Failure) {
        let mut inner = self.lock();
        let now = inner
            .counts
            .get(&(op, rtype.to_string()))
            .copied()
            .unwrap_or(0);
        inner.failures.insert((op, rtype.to_string(), now + k), how);
    }

    /// How many injected failures have fired so far.
    pub fn fired_failures(&self) -> usize {
        let inner = self.lock();
        inner
            .failures
            .keys()
            .filter(|(op, t, n)| inner.counts.get(&(*op, t.clone())).is_some_and(|c| c >= n))
            .count()
    }

    /// How many injected failures have not fired yet.
    pub fn armed_failures(&self) -> usize {
        let all = self.lock().failures.len();
        all - self.fired_failures()
    }

    /// Drops every injected failure that has not fired yet.
    pub fn clear_failures(&self) {
        self.lock().failures.clear();
    }

    /// Every delete of `rtype` succeeds with this warning (as a log group kept with
    /// skip_destroy does).
    pub fn warn_on_delete(&self, rtype: &str, msg: &str) {
        self.lock()
            .delete_warnings
            .insert(rtype.to_string(), msg.to_string());
    }

    /// Refreshes of `rtype` read every instance with one list call, as the types with a
    /// list API do.
    pub fn list_reads(&self, rtype: &str) {
        self.lock().listable.insert(rtype.to_string());
    }

    /// Reads so far: (one object at a time, list calls).
    pub fn reads(&self) -> (usize, usize) {
        self.lock().reads
    }

    /// The objects of one type, by id.
    pub fn objects(&self, rtype: &str) -> BTreeMap<String, Attrs> {
        self.lock().objects.get(rtype).cloned().unwrap_or_default()
    }

    /// Every object, by type and id.
    pub fn all(&self) -> BTreeMap<String, BTreeMap<String, Attrs>> {
        let mut all = self.lock().objects.clone();
        all.retain(|_, m| !m.is_empty());
        all
    }

    /// Changes made so far, in order.
    pub fn log(&self) -> Vec<Call> {
        self.lock().log.clone()
    }

    /// Adds an object as if made outside thingform (drift, imports); returns its id.
    pub fn insert(&self, rtype: &str, attrs: Attrs) -> anyhow::Result<String> {
        let schema = self.schema(rtype)?;
        let mut inner = self.lock();
        let obj = inner.fill(rtype, &schema.block, schema.id_attr, &attrs);
        let id = id_of(&obj, schema.id_attr);
        inner
            .objects
            .entry(rtype.to_string())
            .or_default()
            .insert(id.clone(), obj);
        Ok(id)
    }

    /// Changes one attribute of a live object (drift).
    pub fn set_attr(&self, rtype: &str, id: &str, name: &str, v: Json) {
        if let Some(o) = self
            .lock()
            .objects
            .get_mut(rtype)
            .and_then(|m| m.get_mut(id))
        {
            o.insert(name.to_string(), v);
        }
    }

    /// Deletes an object behind thingform's back.
    pub fn remove(&self, rtype: &str, id: &str) {
        if let Some(m) = self.lock().objects.get_mut(rtype) {
            m.remove(id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn id_of(attrs: &Attrs, id_attr: &str) -> String {
    attrs
        .get(id_attr)
        .or_else(|| attrs.get("id"))
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}

impl Inner {
    /// Counts one call and returns the failure injected for it, if any.
    fn failure(&mut self, op: Op, rtype: &str) -> Option<Failure> {
        let n = self.counts.entry((op, rtype.to_string())).or_default();
        *n += 1;
        let n = *n;
        self.failures.get(&(op, rtype.to_string(), n)).copied()
    }

    /// What the cloud stores for `planned`: every attribute of the schema, computed ones
    /// that were not given filled in, attributes kept only in state left out.
    fn fill(&mut self, rtype: &str, block: &Block, id_attr: &str, planned: &Attrs) -> Attrs {
        self.next_id += 1;
        let n = self.next_id;
        let name = planned
            .get("name")
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{rtype}-{n}"));
        let mut out = Attrs::new();
        for a in &block.attrs {
            if a.local_only {
                continue;
            }
            let given = planned.get(a.name).filter(|v| !v.is_null()).cloned();
            let v = match given {
                Some(v) => v,
                None if a.computed => match a.name {
                    "arn" => json!(format!("arn:fake:{rtype}:{n}:{name}")),
                    "id" => json!(format!("{rtype}-{n}")),
                    "name" => json!(name),
                    _ => a.default.clone().unwrap_or_else(|| zero(&a.ty, a.name, n)),
                },
                None => a.default.clone().unwrap_or(Json::Null),
            };
            out.insert(a.name.to_string(), v);
        }
        for b in &block.blocks {
            out.insert(
                b.name.to_string(),
                planned.get(b.name).cloned().unwrap_or_else(|| json!([])),
            );
        }
        if out.get(id_attr).is_none_or(Json::is_null) {
            out.insert(id_attr.to_string(), json!(format!("{rtype}-{n}")));
        }
        out
    }
}

/// The value a computed attribute of type `ty` gets when AWS would make one up.
fn zero(ty: &Ty, name: &str, n: u64) -> Json {
    match ty {
        Ty::String | Ty::Any => json!(format!("{name}-{n}")),
        Ty::Json => json!("{}"),
        Ty::Number => json!(0),
        Ty::Bool => json!(false),
        Ty::List(_) | Ty::Set(_) => json!([]),
        Ty::Map(_) => json!({}),
    }
}

fn failed(op: Op, rtype: &str) -> anyhow::Error {
    anyhow::anyhow!("injected failure: {op:?} of {rtype}")
}

#[async_trait]
impl Cloud for FakeCloud {
    async fn read(&self, rtype: &str, prior: &Attrs) -> Reply<Option<Attrs>> {
        let schema = match self.schema(rtype) {
            Ok(s) => s,
            Err(e) => return Reply::new(Err(e)),
        };
        let id = id_of(prior, schema.id_attr);
        let mut inner = self.lock();
        inner.reads.0 += 1;
        Reply::new(Ok(inner
            .objects
            .get(rtype)
            .and_then(|m| m.get(&id))
            .cloned()))
    }

    async fn read_many(&self, rtype: &str, priors: &[&Attrs]) -> ManyReply {
        let id_attr = self.schema(rtype).ok()?.id_attr;
        let mut inner = self.lock();
        if !inner.listable.contains(rtype) {
            return None;
        }
        inner.reads.1 += 1;
        let listed = inner.objects.get(rtype);
        let lives = priors
            .iter()
            .map(|p| listed.and_then(|m| m.get(&id_of(p, id_attr))).cloned())
            .collect();
        Some(Reply::new(Ok(lives)))
    }

    async fn create(&self, rtype: &str, planned: &Attrs) -> Reply<Attrs> {
        let schema = match self.schema(rtype) {
            Ok(s) => s,
            Err(e) => return Reply::new(Err(e)),
        };
        let mut inner = self.lock();
        let failure = inner.failure(Op::Create, rtype);
        if failure == Some(Failure::Before) {
            return Reply::new(Err(failed(Op::Create, rtype)));
        }
        // SNS Subscribe is idempotent: the same topic, protocol and endpoint answer with
        // the subscription that exists (so a create whose answer was lost is not repeated).
        if rtype == "aws_sns_topic_subscription" {
            let same = |o: &Attrs| {
                ["topic_arn", "protocol", "endpoint"]
                    .iter()
                    .all(|k| o.get(*k) == planned.get(*k))
            };
            if let Some(o) = inner
                .objects
                .get(rtype)
                .and_then(|m| m.values().find(|o| same(o)))
            {
                let o = o.clone();
                return Reply::new(match failure {
                    Some(_) => Err(failed(Op::Create, rtype)),
                    None => Ok(o),
                });
            }
        }
        let obj = inner.fill(rtype, &schema.block, schema.id_attr, planned);
        let id = id_of(&obj, schema.id_attr);
        let objects = inner.objects.entry(rtype.to_string()).or_default();
        if planned.get("name").is_some_and(|n| !n.is_null())
            && objects
                .values()
                .any(|o| o.get("name") == planned.get("name"))
        {
            return Reply::new(Err(anyhow::anyhow!(
                "{rtype} named {} already exists",
                planned["name"]
            )));
        }
        objects.insert(id.clone(), obj.clone());
        inner.log.push(Call {
            op: Op::Create,
            rtype: rtype.to_string(),
            id: id.clone(),
        });
        Reply::new(match failure {
            Some(Failure::After) => Err(failed(Op::Create, rtype)),
            Some(Failure::Partial) => {
                let mut known = Attrs::new();
                known.insert(schema.id_attr.to_string(), json!(id));
                Err(partial(known, failed(Op::Create, rtype)))
            }
            _ => Ok(obj),
        })
    }

    async fn update(&self, rtype: &str, prior: &Attrs, planned: &Attrs) -> Reply<Attrs> {
        let schema = match self.schema(rtype) {
            Ok(s) => s,
            Err(e) => return Reply::new(Err(e)),
        };
        let id = id_of(prior, schema.id_attr);
        let mut inner = self.lock();
        let failure = inner.failure(Op::Update, rtype);
        if failure == Some(Failure::Before) {
            return Reply::new(Err(failed(Op::Update, rtype)));
        }
        let Some(obj) = inner.objects.get_mut(rtype).and_then(|m| m.get_mut(&id)) else {
            return Reply::new(Err(anyhow::anyhow!("{rtype} {id} does not exist")));
        };
        for a in schema.block.attrs.iter().filter(|a| !a.local_only) {
            match planned.get(a.name) {
                Some(v) if !v.is_null() || !a.computed => {
                    obj.insert(a.name.to_string(), v.clone());
                }
                _ => {}
            }
        }
        for b in &schema.block.blocks {
            if let Some(v) = planned.get(b.name) {
                obj.insert(b.name.to_string(), v.clone());
            }
        }
        let obj = obj.clone();
        inner.log.push(Call {
            op: Op::Update,
            rtype: rtype.to_string(),
            id,
        });
        Reply::new(match failure {
            Some(_) => Err(failed(Op::Update, rtype)),
            None => Ok(obj),
        })
    }

    async fn delete(&self, rtype: &str, prior: &Attrs) -> Reply<()> {
        let schema = match self.schema(rtype) {
            Ok(s) => s,
            Err(e) => return Reply::new(Err(e)),
        };
        let id = id_of(prior, schema.id_attr);
        let mut inner = self.lock();
        let failure = inner.failure(Op::Delete, rtype);
        if failure == Some(Failure::Before) {
            return Reply::new(Err(failed(Op::Delete, rtype)));
        }
        if let Some(m) = inner.objects.get_mut(rtype) {
            m.remove(&id);
        }
        inner.log.push(Call {
            op: Op::Delete,
            rtype: rtype.to_string(),
            id,
        });
        Reply {
            result: match failure {
                Some(_) => Err(failed(Op::Delete, rtype)),
                None => Ok(()),
            },
            warnings: inner
                .delete_warnings
                .get(rtype)
                .cloned()
                .into_iter()
                .collect(),
        }
    }

    /// Finds the object by its `name`, as the real types with stable names do.
    async fn recover(&self, rtype: &str, planned: &Attrs) -> Reply<Option<Attrs>> {
        // Found by name, or (an object without one) by the attributes that identify it.
        let keys = identity(rtype);
        if keys
            .iter()
            .any(|k| planned.get(*k).is_none_or(|v| v.is_null()))
        {
            return Reply::new(Ok(None));
        }
        Reply::new(Ok(self.lock().objects.get(rtype).and_then(|m| {
            m.values()
                .find(|o| keys.iter().all(|k| o.get(*k) == planned.get(*k)))
                .cloned()
        })))
    }

    async fn read_data(&self, name: &str, cfg: &Attrs) -> Reply<Attrs> {
        let Some(ds) = self.data_source(name) else {
            return Reply::new(Err(anyhow::anyhow!("unsupported data source {name}")));
        };
        if let Some(r) = ds.read_local(cfg) {
            return Reply::new(r);
        }
        let schema = ds.schema();
        Reply::new(Ok(self.lock().fill(
            name,
            &schema.block,
            schema.id_attr,
            cfg,
        )))
    }
}

/// The attributes that identify an object of `rtype` for `recover`: its name, or for a
/// subscription (which has none) its topic, protocol and endpoint, as SNS's own
/// idempotent Subscribe does.
pub fn identity(rtype: &str) -> &'static [&'static str] {
    match rtype {
        "aws_sns_topic_subscription" => &["topic_arn", "protocol", "endpoint"],
        _ => &["name"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(v: Json) -> Attrs {
        v.as_object().cloned().unwrap()
    }

    #[tokio::test]
    async fn reads_reflect_writes_and_computed_attributes_are_filled() {
        let c = FakeCloud::new();
        let made = c
            .create("aws_sns_topic", &attrs(json!({"name": "t1"})))
            .await
            .result
            .unwrap();
        assert!(made["arn"].as_str().unwrap().starts_with("arn:fake:"));
        assert_eq!(made["fifo_topic"], json!(false), "schema default");
        let read = c.read("aws_sns_topic", &made).await.result.unwrap();
        assert_eq!(read.as_ref(), Some(&made));
        let mut planned = made.clone();
        planned.insert("display_name".into(), json!("T"));
        let updated = c
            .update("aws_sns_topic", &made, &planned)
            .await
            .result
            .unwrap();
        assert_eq!(updated["display_name"], json!("T"));
        c.delete("aws_sns_topic", &made).await.result.unwrap();
        assert!(
            c.read("aws_sns_topic", &made)
                .await
                .result
                .unwrap()
                .is_none()
        );
        assert!(c.all().is_empty());
    }

    #[tokio::test]
    async fn injected_failures_fire_on_the_nth_call_only() {
        let c = FakeCloud::new();
        c.fail(Op::Create, "aws_sns_topic", 2, Failure::Before);
        c.fail(Op::Create, "aws_sns_topic", 3, Failure::After);
        c.fail(Op::Create, "aws_sns_topic", 4, Failure::Partial);
        let mk = |n: &str| attrs(json!({ "name": n }));
        assert!(c.create("aws_sns_topic", &mk("a")).await.result.is_ok());
        assert!(c.create("aws_sns_topic", &mk("b")).await.result.is_err());
        assert_eq!(
            c.objects("aws_sns_topic").len(),
            1,
            "failed before: no effect"
        );
        assert!(c.create("aws_sns_topic", &mk("c")).await.result.is_err());
        assert_eq!(c.objects("aws_sns_topic").len(), 2, "failed after: made");
        let e = c
            .create("aws_sns_topic", &mk("d"))
            .await
            .result
            .unwrap_err();
        assert!(e.downcast_ref::<crate::provider::PartialCreate>().is_some());
        assert_eq!(c.objects("aws_sns_topic").len(), 3);
        assert!(c.create("aws_sns_topic", &mk("e")).await.result.is_ok());
        let found = c.recover("aws_sns_topic", &mk("c")).await.result.unwrap();
        assert_eq!(found.unwrap()["name"], json!("c"));
    }
}
