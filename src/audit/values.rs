//! The stack's values as far as they are known without calling AWS: every instance
//! evaluated in dependency order; an instance in the state is its configuration over its
//! recorded attributes (what the next apply makes of it); one
//! not yet created is its configuration plus what AWS will compute — ARNs of the types
//! whose ARN follows from their name, and for every other computed string a placeholder
//! naming it (`⟨aws_iot_certificate.node["n1"].arn⟩`), so two references to one object
//! compare equal and policy documents can be computed locally.

use crate::address::{Address, Mode};
use crate::config::stack::{Node, Stack};
use crate::provider::data::data_source;
use crate::provider::schema::Ty;
use crate::state::State;
use crate::value::Value;
use serde_json::{Map, Value as Json};

/// The account id where it is not known yet (no state).
pub const ACCOUNT: &str = "⟨account⟩";

/// One evaluated instance.
#[derive(Clone, Debug)]
pub struct Instance {
    pub addr: Address,
    pub rtype: String,
    pub mode: Mode,
    /// Its attributes: the state's, or the configuration with computed ones filled in.
    pub attrs: Map<String, Json>,
    pub in_state: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Values {
    pub instances: Vec<Instance>,
    /// The provider's region (or a placeholder).
    pub region: String,
}

impl Values {
    pub fn of_type<'a>(&'a self, rtype: &'a str) -> impl Iterator<Item = &'a Instance> + 'a {
        self.instances
            .iter()
            .filter(move |i| i.rtype == rtype && i.mode == Mode::Managed)
    }

    pub fn get(&self, addr: &Address) -> Option<&Instance> {
        self.instances.iter().find(|i| &i.addr == addr)
    }
}

fn region_of(stack: &Stack, scope: &crate::config::eval::Scope) -> String {
    stack
        .provider_config(scope, None)
        .ok()
        .and_then(|v| match v.to_json().get("region") {
            Some(Json::String(r)) => Some(r.clone()),
            _ => None,
        })
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| "⟨region⟩".into())
}

/// The ARN AWS gives an object of `rtype` named in `a`, where it follows from the name.
fn synthesized_arn(rtype: &str, a: &Map<String, Json>, region: &str) -> Option<String> {
    let s = |k: &str| a.get(k).and_then(Json::as_str).map(str::to_string);
    let acct = ACCOUNT;
    Some(match rtype {
        "aws_s3_bucket" => format!("arn:aws:s3:::{}", s("bucket")?),
        "aws_sns_topic" => format!("arn:aws:sns:{region}:{acct}:{}", s("name")?),
        "aws_cloudwatch_log_group" => {
            format!("arn:aws:logs:{region}:{acct}:log-group:{}", s("name")?)
        }
        "aws_lambda_function" => {
            format!(
                "arn:aws:lambda:{region}:{acct}:function:{}",
                s("function_name")?
            )
        }
        "aws_dynamodb_table" => format!("arn:aws:dynamodb:{region}:{acct}:table/{}", s("name")?),
        "aws_iam_role" => format!("arn:aws:iam::{acct}:role/{}", s("name")?),
        "aws_iam_policy" => format!("arn:aws:iam::{acct}:policy/{}", s("name")?),
        "aws_iot_topic_rule" => format!("arn:aws:iot:{region}:{acct}:rule/{}", s("name")?),
        "aws_iot_policy" => format!("arn:aws:iot:{region}:{acct}:policy/{}", s("name")?),
        "aws_iot_thing" => format!("arn:aws:iot:{region}:{acct}:thing/{}", s("name")?),
        "aws_iot_thing_group" => format!("arn:aws:iot:{region}:{acct}:thinggroup/{}", s("name")?),
        "aws_iot_thing_type" => format!("arn:aws:iot:{region}:{acct}:thingtype/{}", s("name")?),
        "aws_iot_role_alias" => format!("arn:aws:iot:{region}:{acct}:rolealias/{}", s("alias")?),
        "aws_cloudwatch_metric_alarm" => {
            format!(
                "arn:aws:cloudwatch:{region}:{acct}:alarm:{}",
                s("alarm_name")?
            )
        }
        _ => return None,
    })
}

/// The id Terraform gives an object, where it is one of its arguments.
fn synthesized_id(rtype: &str, a: &Map<String, Json>) -> Option<Json> {
    let key = match rtype {
        "aws_s3_bucket" => "bucket",
        "aws_sns_topic" => "arn",
        "aws_lambda_function" => "function_name",
        "aws_iot_role_alias" => "alias",
        "aws_cloudwatch_metric_alarm" => "alarm_name",
        _ => "name",
    };
    a.get(key).filter(|v| v.is_string()).cloned()
}

/// A managed instance not in the state: its configuration, then the computed attributes.
fn planned(rtype: &str, addr: &Address, config: &Value, region: &str) -> Map<String, Json> {
    let mut a = match config.to_json() {
        Json::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(arn) = synthesized_arn(rtype, &a, region) {
        a.entry("arn").or_insert(Json::Null);
        if a["arn"].is_null() {
            a.insert("arn".into(), Json::String(arn));
        }
    }
    if a.get("id").is_none_or(Json::is_null)
        && let Some(id) = synthesized_id(rtype, &a)
    {
        a.insert("id".into(), id);
    }
    if let Some(t) = crate::provider::resource_type(rtype) {
        for at in &t.schema().block.attrs {
            if (at.computed || at.output)
                && at.ty == Ty::String
                && a.get(at.name).is_none_or(Json::is_null)
                && !config_has_unknown(config, at.name)
            {
                a.insert(
                    at.name.into(),
                    Json::String(format!("⟨{addr}.{}⟩", at.name)),
                );
            }
        }
    }
    a
}

fn config_has_unknown(config: &Value, k: &str) -> bool {
    match config {
        Value::Map(m) => matches!(m.get(k), Some(Value::Unknown)),
        _ => false,
    }
}

/// A data source's value without AWS: computed locally where it can be (policy
/// documents), the caller's account and region as placeholders, else unknown.
fn data_value(rtype: &str, config: &Value, region: &str) -> Value {
    let cfg = match config.to_json() {
        Json::Object(m) => m,
        _ => Map::new(),
    };
    match rtype {
        "aws_caller_identity" => Value::from_json(&serde_json::json!({
            "account_id": ACCOUNT, "id": ACCOUNT,
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/⟨caller⟩"), "user_id": "⟨caller⟩",
        })),
        "aws_region" => {
            Value::from_json(&serde_json::json!({"name": region, "id": region, "region": region}))
        }
        "aws_partition" => Value::from_json(&serde_json::json!({
            "partition": "aws", "dns_suffix": "amazonaws.com", "id": "aws",
            "reverse_dns_prefix": "com.amazonaws",
        })),
        _ if !config.has_unknown() => match data_source(rtype).and_then(|d| d.read_local(&cfg)) {
            Some(Ok(attrs)) => Value::from_json(&Json::Object(attrs)),
            _ => Value::Unknown,
        },
        _ => Value::Unknown,
    }
}

/// Evaluates the stack's instances with the state's values where there are some.
pub fn evaluate(stack: &Stack, state: Option<&State>) -> Values {
    evaluate_only(stack, state, None)
}

/// Like [`evaluate`], for only the resources in `wanted` and what they refer to (the
/// others are unknown): a rule check in a fleet stack does not evaluate the fleet.
pub fn evaluate_only(
    stack: &Stack,
    state: Option<&State>,
    wanted: Option<&[crate::address::ResourceId]>,
) -> Values {
    let needed: Option<std::collections::BTreeSet<crate::address::ResourceId>> = wanted.map(|w| {
        w.iter()
            .flat_map(|id| {
                let mut d = stack.resource_dependencies(id);
                d.push(id.clone());
                d
            })
            .collect()
    });
    let mut scope = stack.base_scope();
    let region = region_of(stack, &scope);
    let mut out = Values {
        region: region.clone(),
        ..Values::default()
    };
    for node in stack.order() {
        match node {
            Node::Local(m, name) if stack.eval_local(&mut scope, &m, &name).is_err() => {
                stack.enter(&mut scope, &m);
                scope.root_map("local").insert(name, Value::Unknown);
            }
            Node::Var(..) | Node::Output(..) | Node::Local(..) => {
                let _ = stack.eval_value_node(&mut scope, &node);
            }
            Node::Resource(id) => {
                let Some(rc) = stack.resources.get(&id) else {
                    continue;
                };
                if needed.as_ref().is_some_and(|n| !n.contains(&id)) {
                    stack.set_resource(&mut scope, &id, Value::Unknown);
                    continue;
                }
                let exps = match stack.expand(rc, &mut scope) {
                    Ok(e) => e,
                    Err(_) => {
                        stack.set_resource(&mut scope, &id, Value::Unknown);
                        continue;
                    }
                };
                let mut insts = Stack::empty_instances(rc);
                if let crate::config::stack::Instances::Count(l) = &mut insts {
                    l.resize(exps.len(), Value::Null);
                }
                for exp in &exps {
                    let addr = id.instance(exp.key.clone());
                    let config = stack
                        .eval_instance(rc, exp, &mut scope)
                        .unwrap_or(Value::Unknown);
                    let recorded = state.and_then(|s| s.get(&addr));
                    let (attrs, in_state) = match (&id.mode, recorded) {
                        // The configuration wins where it is known (a change not applied
                        // yet); the state gives what AWS computed.
                        (Mode::Managed, Some(rs)) => {
                            let mut a = rs.attributes.clone();
                            if let Json::Object(cfg) = config.to_json() {
                                for (k, v) in cfg {
                                    if !v.is_null() && !config_has_unknown(&config, &k) {
                                        a.insert(k, v);
                                    }
                                }
                            }
                            (a, true)
                        }
                        (Mode::Managed, None) => {
                            (planned(&id.rtype, &addr, &config, &region), false)
                        }
                        (Mode::Data, _) => {
                            match data_value(&id.rtype, &config, &region).to_json() {
                                Json::Object(m) => (m, false),
                                _ => (Map::new(), false),
                            }
                        }
                    };
                    let v = if id.mode == Mode::Data && attrs.is_empty() {
                        Value::Unknown
                    } else {
                        Value::from_json(&Json::Object(attrs.clone()))
                    };
                    insts.set(&exp.key, v);
                    out.instances.push(Instance {
                        addr,
                        rtype: id.rtype.clone(),
                        mode: id.mode.clone(),
                        attrs,
                        in_state,
                    });
                }
                stack.set_resource(&mut scope, &id, insts.into_value());
            }
        }
    }
    out
}
