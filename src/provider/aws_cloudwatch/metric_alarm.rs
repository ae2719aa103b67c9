//! aws_cloudwatch_metric_alarm.

use super::super::ResourceType;
use super::super::attrs::{
    Attrs, blocks, bool_of, i64_of, map_json, name_or_id, obj, req_name_or_id, req_str, str_of,
    string_list, string_map,
};
use super::super::client::{Provider, aws_error};
use super::super::reread::reread;
use super::super::schema::{
    Block, Schema, boolean, list, number, out, single, string, string_map as map_attr, string_set,
};
use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricStat, StandardUnit, Statistic,
};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

pub struct MetricAlarm {
    schema: Schema,
}

impl Default for MetricAlarm {
    fn default() -> Self {
        let metric = Block::new()
            .attr(string("metric_name").required())
            .attr(string("namespace"))
            .attr(number("period").required())
            .attr(string("stat").required())
            .attr(string("unit"))
            .attr(map_attr("dimensions"));
        MetricAlarm {
            schema: Schema {
                id_attr: "alarm_name",
                block: Block::new()
                    .attr(string("alarm_name").required().force_new())
                    .attr(string("comparison_operator").required())
                    .attr(number("evaluation_periods").required())
                    .attr(string("metric_name"))
                    .attr(string("namespace"))
                    .attr(number("period"))
                    .attr(string("statistic"))
                    .attr(string("extended_statistic"))
                    .attr(number("threshold"))
                    .attr(string("threshold_metric_id"))
                    .attr(boolean("actions_enabled").default(json!(true)))
                    .attr(string_set("alarm_actions"))
                    .attr(string_set("ok_actions"))
                    .attr(string_set("insufficient_data_actions"))
                    .attr(string("alarm_description"))
                    .attr(number("datapoints_to_alarm"))
                    .attr(map_attr("dimensions"))
                    .attr(string("treat_missing_data").default(json!("missing")))
                    .attr(string("unit"))
                    .attr(string("evaluate_low_sample_count_percentiles").computed())
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .block(
                        list(
                            "metric_query",
                            Block::new()
                                .attr(string("id").required())
                                .attr(string("expression"))
                                .attr(string("label"))
                                .attr(boolean("return_data"))
                                .attr(number("period"))
                                .attr(string("account_id"))
                                .block(single("metric", metric)),
                        )
                        .set(),
                    ),
            },
        }
    }
}

fn dimensions(m: Vec<(String, String)>) -> Option<Vec<Dimension>> {
    if m.is_empty() {
        return None;
    }
    Some(
        m.into_iter()
            .map(|(k, v)| Dimension::builder().name(k).value(v).build())
            .collect(),
    )
}

fn dims_json(d: &[Dimension]) -> Json {
    let m: BTreeMap<String, String> = d
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_string(),
                d.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    json!(m)
}

fn num_f64(a: &Attrs, k: &str) -> Option<f64> {
    a.get(k).and_then(Json::as_f64)
}

async fn find_alarm(
    p: &Provider,
    name: &str,
) -> anyhow::Result<Option<aws_sdk_cloudwatch::types::MetricAlarm>> {
    let out = p
        .cloudwatch()
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .map_err(|e| aws_error("DescribeAlarms", e))?;
    Ok(out
        .metric_alarms()
        .iter()
        .find(|a| a.alarm_name() == Some(name))
        .cloned())
}

async fn put(p: &Provider, planned: &Attrs, with_tags: bool) -> anyhow::Result<()> {
    let mut req = p
        .cloudwatch()
        .put_metric_alarm()
        .alarm_name(req_str(planned, "alarm_name")?)
        .comparison_operator(ComparisonOperator::from(req_str(
            planned,
            "comparison_operator",
        )?))
        .evaluation_periods(i64_of(planned, "evaluation_periods").unwrap_or(1) as i32)
        .set_metric_name(str_of(planned, "metric_name").map(str::to_string))
        .set_namespace(str_of(planned, "namespace").map(str::to_string))
        .set_period(i64_of(planned, "period").map(|v| v as i32))
        .set_statistic(str_of(planned, "statistic").map(Statistic::from))
        .set_extended_statistic(str_of(planned, "extended_statistic").map(str::to_string))
        .set_threshold(num_f64(planned, "threshold"))
        .set_threshold_metric_id(str_of(planned, "threshold_metric_id").map(str::to_string))
        .actions_enabled(bool_of(planned, "actions_enabled").unwrap_or(true))
        .set_alarm_actions(Some(string_list(planned, "alarm_actions")))
        .set_ok_actions(Some(string_list(planned, "ok_actions")))
        .set_insufficient_data_actions(Some(string_list(planned, "insufficient_data_actions")))
        .set_alarm_description(str_of(planned, "alarm_description").map(str::to_string))
        .set_datapoints_to_alarm(i64_of(planned, "datapoints_to_alarm").map(|v| v as i32))
        .set_dimensions(dimensions(string_map(planned, "dimensions")))
        .set_treat_missing_data(str_of(planned, "treat_missing_data").map(str::to_string))
        .set_unit(str_of(planned, "unit").map(StandardUnit::from))
        .set_evaluate_low_sample_count_percentile(
            str_of(planned, "evaluate_low_sample_count_percentiles").map(str::to_string),
        );
    for q in blocks(planned, "metric_query") {
        let stat = match blocks(q, "metric").first() {
            Some(m) => Some(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .set_metric_name(str_of(m, "metric_name").map(str::to_string))
                            .set_namespace(str_of(m, "namespace").map(str::to_string))
                            .set_dimensions(dimensions(string_map(m, "dimensions")))
                            .build(),
                    )
                    .period(i64_of(m, "period").unwrap_or(60) as i32)
                    .stat(req_str(m, "stat")?)
                    .set_unit(str_of(m, "unit").map(StandardUnit::from))
                    .build(),
            ),
            None => None,
        };
        req = req.metrics(
            MetricDataQuery::builder()
                .id(req_str(q, "id")?)
                .set_expression(str_of(q, "expression").map(str::to_string))
                .set_label(str_of(q, "label").map(str::to_string))
                .set_return_data(bool_of(q, "return_data"))
                .set_period(i64_of(q, "period").map(|v| v as i32))
                .set_account_id(str_of(q, "account_id").map(str::to_string))
                .set_metric_stat(stat)
                .build(),
        );
    }
    if with_tags {
        let tags = p.tags_all(&string_map(planned, "tags"));
        for (k, v) in tags {
            req = req.tags(
                aws_sdk_cloudwatch::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build(),
            );
        }
    }
    req.send()
        .await
        .map_err(|e| aws_error("PutMetricAlarm", e))?;
    Ok(())
}

/// The attributes `read` returns for a described alarm (its tags are one more call).
async fn alarm_attrs(
    p: &Provider,
    name: &str,
    a: &aws_sdk_cloudwatch::types::MetricAlarm,
) -> anyhow::Result<Attrs> {
    let arn = a.alarm_arn().unwrap_or_default().to_string();
    let queries: Vec<Json> = a
        .metrics()
        .iter()
        .map(|q| {
            let metric = q.metric_stat().map(|s| {
                json!([{
                    "metric_name": s.metric().and_then(|m| m.metric_name()),
                    "namespace": s.metric().and_then(|m| m.namespace()),
                    "dimensions": s.metric().map(|m| dims_json(m.dimensions())).unwrap_or(json!({})),
                    "period": s.period(),
                    "stat": s.stat(),
                    "unit": s.unit().map(|u| u.as_str()),
                }])
            });
            json!({
                "id": q.id(), "expression": q.expression(), "label": q.label(),
                "return_data": q.return_data(), "period": q.period(), "account_id": q.account_id(),
                "metric": metric.unwrap_or(json!([])),
            })
        })
        .collect();
    let tags: BTreeMap<String, String> = match p
        .cloudwatch()
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
    {
        Ok(t) => t
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        Err(e) => return Err(aws_error("CloudWatch ListTagsForResource", e)),
    };
    let mut s = Attrs::new();
    s.insert("id".into(), json!(name));
    s.insert("alarm_name".into(), json!(name));
    s.insert("arn".into(), json!(arn));
    s.insert(
        "comparison_operator".into(),
        json!(a.comparison_operator().map(|c| c.as_str())),
    );
    s.insert("evaluation_periods".into(), json!(a.evaluation_periods()));
    s.insert("metric_name".into(), json!(a.metric_name()));
    s.insert("namespace".into(), json!(a.namespace()));
    s.insert("period".into(), json!(a.period()));
    s.insert("statistic".into(), json!(a.statistic().map(|x| x.as_str())));
    s.insert("extended_statistic".into(), json!(a.extended_statistic()));
    s.insert("threshold".into(), json!(a.threshold()));
    s.insert("threshold_metric_id".into(), json!(a.threshold_metric_id()));
    s.insert(
        "actions_enabled".into(),
        json!(a.actions_enabled().unwrap_or(true)),
    );
    s.insert("alarm_actions".into(), json!(a.alarm_actions()));
    s.insert("ok_actions".into(), json!(a.ok_actions()));
    s.insert(
        "insufficient_data_actions".into(),
        json!(a.insufficient_data_actions()),
    );
    s.insert(
        "alarm_description".into(),
        json!(a.alarm_description().filter(|d| !d.is_empty())),
    );
    s.insert("datapoints_to_alarm".into(), json!(a.datapoints_to_alarm()));
    s.insert("dimensions".into(), dims_json(a.dimensions()));
    s.insert(
        "treat_missing_data".into(),
        json!(a.treat_missing_data().unwrap_or("missing")),
    );
    s.insert("unit".into(), json!(a.unit().map(|u| u.as_str())));
    s.insert(
        "evaluate_low_sample_count_percentiles".into(),
        json!(a.evaluate_low_sample_count_percentile()),
    );
    s.insert("metric_query".into(), Json::Array(queries));
    s.insert("tags".into(), map_json(p.own_tags(&tags)));
    Ok(s)
}

/// The alarms named by `priors`, described in batches of 100 names.
async fn describe_many(
    t: &MetricAlarm,
    p: &Provider,
    priors: &[&Attrs],
) -> anyhow::Result<Vec<Option<Attrs>>> {
    let mut names: Vec<Option<&str>> = Vec::with_capacity(priors.len());
    let mut single: Vec<usize> = vec![];
    for (i, prior) in priors.iter().enumerate() {
        let name = name_or_id(prior, "alarm_name");
        if name.is_none() {
            single.push(i);
        }
        names.push(name);
    }
    let wanted: Vec<&str> = {
        let mut w: Vec<&str> = names.iter().flatten().copied().collect();
        w.sort();
        w.dedup();
        w
    };
    let mut found: std::collections::HashMap<String, aws_sdk_cloudwatch::types::MetricAlarm> =
        Default::default();
    for chunk in wanted.chunks(100) {
        let mut token: Option<String> = None;
        loop {
            let out = p
                .cloudwatch()
                .describe_alarms()
                .set_alarm_names(Some(chunk.iter().map(|n| n.to_string()).collect()))
                .max_records(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("DescribeAlarms", e))?;
            for a in out.metric_alarms() {
                if let Some(name) = a.alarm_name() {
                    found.insert(name.to_string(), a.clone());
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
    }
    let present: Vec<usize> = (0..priors.len())
        .filter(|&i| names[i].is_some_and(|n| found.contains_key(n)))
        .collect();
    let attrs = super::super::batch::per_key(p, present, |i| {
        let name = names[i].unwrap_or_default();
        alarm_attrs(p, name, &found[name])
    })
    .await?;
    let mut out: Vec<Option<Attrs>> = vec![None; priors.len()];
    for (i, a) in attrs {
        out[i] = Some(a);
    }
    // Only priors without a name: `read` reports them as it always has.
    super::super::batch::read_each(t, p, priors, single, &mut out).await?;
    Ok(out)
}

#[async_trait]
impl ResourceType for MetricAlarm {
    fn name(&self) -> &'static str {
        "aws_cloudwatch_metric_alarm"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("alarm_name", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "alarm_name", "alarm has no name")?;
        let Some(a) = find_alarm(p, name).await? else {
            return Ok(None);
        };
        Ok(Some(alarm_attrs(p, name, &a).await?))
    }

    /// Alarms are described 100 at a time (DescribeAlarms with AlarmNames) instead of
    /// one DescribeAlarms each; their tags are still one ListTagsForResource each.
    async fn read_many(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> Option<anyhow::Result<Vec<Option<Attrs>>>> {
        if !p.lists(priors.len(), 2) {
            return None;
        }
        Some(describe_many(self, p, priors).await)
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(planned, "alarm_name")?;
        if find_alarm(p, name).await?.is_some() {
            return Err(anyhow::Error::new(crate::provider::AlreadyExists(format!(
                "a CloudWatch alarm named {name:?} already exists; PutMetricAlarm would silently overwrite it. Import it (`thingform import ADDRESS {name}`) or choose another name"
            ))));
        }
        put(p, planned, true).await?;
        super::super::created(
            self.read(p, planned).await,
            planned,
            format!("alarm {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "alarm_name")?;
        let arn = req_str(prior, "arn")?;
        let changed_other = planned
            .iter()
            .any(|(k, v)| k != "tags" && prior.get(k) != Some(v));
        if changed_other {
            put(p, planned, false).await?;
        }
        if prior.get("tags") != planned.get("tags") {
            let cw = p.cloudwatch();
            let (removed, want) = p.tag_changes(prior, planned);
            if !removed.is_empty() {
                cw.untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| aws_error("CloudWatch UntagResource", e))?;
            }
            if !want.is_empty() {
                let tags = want
                    .into_iter()
                    .map(|(k, v)| {
                        aws_sdk_cloudwatch::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                    })
                    .collect::<Vec<_>>();
                cw.tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| aws_error("CloudWatch TagResource", e))?;
            }
        }
        reread(self, p, prior, || format!("alarm {name} no longer exists")).await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "alarm_name")?;
        p.cloudwatch()
            .delete_alarms()
            .alarm_names(name)
            .send()
            .await
            .map_err(|e| aws_error("DeleteAlarms", e))?;
        Ok(())
    }
}
