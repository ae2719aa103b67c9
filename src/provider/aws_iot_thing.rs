//! aws_iot_thing: name, attributes, thing type. Principals (certificates) are detached
//! before the Thing is deleted, as AWS requires.

use super::ResourceType;
use super::attrs::{Attrs, name_or_id, obj, req_name_or_id, req_str, str_of, string_map};
use super::client::{Provider, aws_error, error_code};
use super::not_found::{Service, absent, gone, is_not_found};
use super::reread::reread;
use super::schema::{Block, Schema, number, out, string, string_map as map_attr};
use async_trait::async_trait;
use aws_sdk_iot::types::AttributePayload;
use serde_json::json;

pub struct IotThing {
    schema: Schema,
}

impl Default for IotThing {
    fn default() -> Self {
        IotThing {
            schema: Schema {
                id_attr: "name",
                block: Block::new()
                    .attr(string("name").required().force_new())
                    .attr(map_attr("attributes"))
                    .attr(string("thing_type_name"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("default_client_id"))
                    .attr(number("version").computed()),
            },
        }
    }
}

fn payload(planned: &Attrs) -> AttributePayload {
    let attrs: std::collections::HashMap<String, String> =
        string_map(planned, "attributes").into_iter().collect();
    AttributePayload::builder()
        .set_attributes(Some(attrs))
        .merge(false)
        .build()
}

impl IotThing {
    async fn list_fleet(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> anyhow::Result<Vec<Option<Attrs>>> {
        // When every Thing has the same type, list only that type.
        let types: std::collections::BTreeSet<Option<&str>> = priors
            .iter()
            .map(|a| str_of(a, "thing_type_name"))
            .collect();
        let type_filter = match types.iter().next() {
            Some(Some(t)) if types.len() == 1 => Some(t.to_string()),
            _ => None,
        };
        let mut live: std::collections::HashMap<String, Attrs> = std::collections::HashMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = p
                .iot()
                .list_things()
                .max_results(250)
                .set_thing_type_name(type_filter.clone())
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| aws_error("ListThings", e))?;
            for t in page.things() {
                let Some(name) = t.thing_name() else { continue };
                let attributes: std::collections::BTreeMap<String, String> = t
                    .attributes()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                let mut a = Attrs::new();
                a.insert("id".into(), json!(name));
                a.insert("name".into(), json!(name));
                a.insert("arn".into(), json!(t.thing_arn()));
                // AWS sets a Thing's default client id to its name.
                a.insert("default_client_id".into(), json!(name));
                a.insert("version".into(), json!(t.version()));
                a.insert("attributes".into(), json!(attributes));
                a.insert("thing_type_name".into(), json!(t.thing_type_name()));
                live.insert(name.to_string(), a);
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        let mut out = Vec::with_capacity(priors.len());
        for prior in priors {
            match name_or_id(prior, "name").and_then(|n| live.remove(n)) {
                Some(a) => out.push(Some(a)),
                // Not in the (type-filtered) listing: its type may have changed, or it is
                // gone. Ask about it directly rather than guess.
                None => out.push(self.read(p, prior).await?),
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl ResourceType for IotThing {
    fn name(&self) -> &'static str {
        "aws_iot_thing"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("name", json!(id))])
    }

    /// A fleet is refreshed with ListThings pages (250 Things each, attributes included)
    /// instead of one DescribeThing per Thing. Below 50 Things, one by one is cheaper than
    /// listing an account that may hold many more.
    async fn read_many(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> Option<anyhow::Result<Vec<Option<Attrs>>>> {
        if !p.lists(priors.len(), 50) {
            return None;
        }
        Some(self.list_fleet(p, priors).await)
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "name", "thing has no name")?;
        let Some(t) = absent(
            Service::Iot,
            "DescribeThing",
            p.iot().describe_thing().thing_name(name).send().await,
        )?
        else {
            return Ok(None);
        };
        let attributes: std::collections::BTreeMap<String, String> = t
            .attributes()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert("arn".into(), json!(t.thing_arn()));
        a.insert("default_client_id".into(), json!(t.default_client_id()));
        a.insert("version".into(), json!(t.version()));
        a.insert("attributes".into(), json!(attributes));
        a.insert("thing_type_name".into(), json!(t.thing_type_name()));
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(planned, "name")?;
        let out = super::attempts::adopt(
            p,
            "CreateThing",
            p.iot()
                .create_thing()
                .thing_name(name)
                .set_thing_type_name(str_of(planned, "thing_type_name").map(str::to_string))
                .attribute_payload(payload(planned))
                .send()
                .await,
        )
        .map_err(|e| aws_error("CreateThing", e))?;
        // A new Thing is exactly what was asked for, at version 1, with its name as
        // default client id: no DescribeThing needed.
        if let Some(arn) = out.as_ref().and_then(|o| o.thing_arn()) {
            let attributes: std::collections::BTreeMap<String, String> =
                string_map(planned, "attributes").into_iter().collect();
            let mut a = Attrs::new();
            a.insert("id".into(), json!(name));
            a.insert("name".into(), json!(name));
            a.insert("arn".into(), json!(arn));
            a.insert("default_client_id".into(), json!(name));
            a.insert("version".into(), json!(1));
            a.insert("attributes".into(), json!(attributes));
            a.insert(
                "thing_type_name".into(),
                json!(str_of(planned, "thing_type_name")),
            );
            return Ok(a);
        }
        super::created(
            self.read(p, planned).await,
            planned,
            format!("thing {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "name")?;
        let mut req = p
            .iot()
            .update_thing()
            .thing_name(name)
            .attribute_payload(payload(planned));
        match str_of(planned, "thing_type_name") {
            Some(t) => req = req.thing_type_name(t),
            None if str_of(prior, "thing_type_name").is_some() => req = req.remove_thing_type(true),
            None => {}
        }
        req.send().await.map_err(|e| aws_error("UpdateThing", e))?;
        reread(self, p, planned, || {
            format!("thing {name} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "name")?;
        // The stack's principal attachments are deleted before the Thing, so first just
        // try; AWS refuses while principals are still attached (InvalidRequestException),
        // and only then are they listed and detached.
        match p.iot().delete_thing().thing_name(name).send().await {
            Ok(_) => return Ok(()),
            Err(e) if is_not_found(Service::Iot, &e) => return Ok(()),
            Err(e) if error_code(&e) == Some("InvalidRequestException") => {}
            Err(e) => return Err(aws_error("DeleteThing", e)),
        }
        let principals = match p
            .iot()
            .list_thing_principals()
            .thing_name(name)
            .send()
            .await
        {
            Ok(out) => out.principals().to_vec(),
            Err(e) if is_not_found(Service::Iot, &e) => return Ok(()),
            Err(e) => return Err(aws_error("ListThingPrincipals", e)),
        };
        for principal in principals {
            p.iot()
                .detach_thing_principal()
                .thing_name(name)
                .principal(&principal)
                .send()
                .await
                .map_err(|e| aws_error("DetachThingPrincipal", e))?;
        }
        // DetachThingPrincipal takes effect asynchronously: AWS keeps refusing for a moment.
        super::retry::while_attached(p, "DeleteThing", || async {
            gone(
                Service::Iot,
                "DeleteThing",
                p.iot().delete_thing().thing_name(name).send().await,
            )
        })
        .await
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        self.read(p, planned).await
    }
}
