//! The IoT device and routing types against moto's IoT and IoT data plane.

use crate::calls::{CallLog, count};
use crate::harness::*;

fn device_stack(
    p: &str,
    building: &str,
    type_desc: &str,
    cert_active: bool,
    group_desc: &str,
) -> String {
    format!(
        r#"
resource "aws_iot_thing_type" "sensor" {{
  name = "{p}-sensor"
  properties {{
    description           = "{type_desc}"
    searchable_attributes = ["building"]
  }}
}}

resource "aws_iot_thing" "node" {{
  name            = "{p}-node-01"
  thing_type_name = aws_iot_thing_type.sensor.name
  attributes = {{
    building = "{building}"
  }}
}}

resource "aws_iot_thing_group" "campus" {{
  name = "{p}-campus"
  properties {{
    description = "{group_desc}"
  }}
}}

resource "aws_iot_thing_group_membership" "node" {{
  thing_name       = aws_iot_thing.node.name
  thing_group_name = aws_iot_thing_group.campus.name
}}

resource "aws_iot_certificate" "node" {{
  active = {cert_active}
}}

resource "aws_iot_thing_principal_attachment" "node" {{
  thing     = aws_iot_thing.node.name
  principal = aws_iot_certificate.node.arn
}}

output "private_key" {{
  value     = aws_iot_certificate.node.private_key
  sensitive = true
}}
"#
    )
}

async fn cert_status(id: &str) -> Option<String> {
    let d = found(
        iot()
            .await
            .describe_certificate()
            .certificate_id(id)
            .send()
            .await,
    )?;
    d.certificate_description()
        .and_then(|c| c.status())
        .map(|s| s.as_str().to_string())
}

fn state_json(stack: &TestStack) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(stack.state_path()).unwrap()).unwrap()
}

fn attr(state: &serde_json::Value, address: &str, key: &str) -> serde_json::Value {
    state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .map(|r| r["attributes"][key].clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn iot_devices_full_lifecycle() {
    let p = unique("tfd");
    let stack = TestStack::new(&device_stack(
        &p,
        "library",
        "Environment sensor",
        true,
        "Campus",
    ));
    let apply_out = stack.apply();
    let client = iot().await;

    let t = client
        .describe_thing_type()
        .thing_type_name(format!("{p}-sensor"))
        .send()
        .await
        .expect("thing type exists");
    assert_eq!(
        t.thing_type_properties()
            .and_then(|x| x.thing_type_description()),
        Some("Environment sensor")
    );
    let thing = client
        .describe_thing()
        .thing_name(format!("{p}-node-01"))
        .send()
        .await
        .expect("thing exists");
    assert_eq!(
        thing.thing_type_name(),
        Some(format!("{p}-sensor").as_str())
    );
    assert_eq!(
        thing
            .attributes()
            .unwrap()
            .get("building")
            .map(String::as_str),
        Some("library")
    );
    let groups = client
        .list_thing_groups_for_thing()
        .thing_name(format!("{p}-node-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        groups
            .thing_groups()
            .iter()
            .filter_map(|g| g.group_name())
            .collect::<Vec<_>>(),
        vec![format!("{p}-campus")]
    );
    let principals = client
        .list_thing_principals()
        .thing_name(format!("{p}-node-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        principals.principals().len(),
        1,
        "certificate attached to the thing"
    );

    // The private key is in the state (0600) but never in plan or apply output.
    let state = state_json(&stack);
    let cert_id = attr(&state, "aws_iot_certificate.node", "id")
        .as_str()
        .unwrap()
        .to_string();
    let key = attr(&state, "aws_iot_certificate.node", "private_key")
        .as_str()
        .unwrap()
        .to_string();
    assert!(key.contains("PRIVATE KEY"), "private key kept in state");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(stack.state_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(
        !apply_out.contains(&key[40..80]),
        "private key not printed by apply"
    );
    assert!(
        stack
            .ok_in(&["output"])
            .contains("private_key = <sensitive>")
    );
    assert_eq!(
        stack.ok_in(&["output", "-raw", "private_key"]).trim(),
        key.trim(),
        "-raw NAME prints it on request"
    );
    assert_eq!(cert_status(&cert_id).await.as_deref(), Some("ACTIVE"));

    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "no-op plan after apply, got {:?}",
        changed(&plan)
    );
    assert!(
        !plan.to_string().contains(&key[40..80]),
        "-json plan redacts the private key"
    );

    // In place: thing attributes, group description, certificate status.
    stack.write(
        "main.tf",
        &device_stack(&p, "lab", "Environment sensor", false, "Whole campus"),
    );
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [
            (
                "aws_iot_certificate.node".to_string(),
                vec!["update".to_string()]
            ),
            ("aws_iot_thing.node".to_string(), vec!["update".to_string()]),
            (
                "aws_iot_thing_group.campus".to_string(),
                vec!["update".to_string()]
            ),
        ]
        .into()
    );
    assert_eq!(
        changed_attrs(&plan, "aws_iot_thing.node"),
        vec!["attributes"]
    );
    stack.apply();
    let thing = client
        .describe_thing()
        .thing_name(format!("{p}-node-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        thing
            .attributes()
            .unwrap()
            .get("building")
            .map(String::as_str),
        Some("lab")
    );
    assert_eq!(cert_status(&cert_id).await.as_deref(), Some("INACTIVE"));
    let g = client
        .describe_thing_group()
        .thing_group_name(format!("{p}-campus"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        g.thing_group_properties()
            .and_then(|x| x.thing_group_description()),
        Some("Whole campus")
    );

    // Force new: the thing type's description replaces it, and the plan says why deletes wait.
    stack.write(
        "main.tf",
        &device_stack(&p, "lab", "Temperature sensor", false, "Whole campus"),
    );
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan)["aws_iot_thing_type.sensor"],
        vec!["delete", "create"]
    );
    let human = stack.ok(&["plan"]);
    assert!(
        human.contains("5 minutes after it is deprecated"),
        "{human}"
    );
    stack.apply();
    let t = client
        .describe_thing_type()
        .thing_type_name(format!("{p}-sensor"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.thing_type_properties()
            .and_then(|x| x.thing_type_description()),
        Some("Temperature sensor")
    );

    stack.destroy();
    assert!(
        client
            .describe_thing()
            .thing_name(format!("{p}-node-01"))
            .send()
            .await
            .not_found(),
        "thing gone"
    );
    assert!(
        client
            .describe_thing_group()
            .thing_group_name(format!("{p}-campus"))
            .send()
            .await
            .not_found(),
        "group gone"
    );
    assert!(
        cert_status(&cert_id).await.is_none(),
        "certificate deleted (set inactive and detached first)"
    );
    assert!(
        client
            .describe_thing_type()
            .thing_type_name(format!("{p}-sensor"))
            .send()
            .await
            .not_found(),
        "thing type gone"
    );
}

#[tokio::test]
async fn a_thing_with_principals_attached_outside_the_stack_is_still_deleted() {
    let p = unique("tfp");
    let stack = TestStack::new(&format!(
        "resource \"aws_iot_thing\" \"t\" {{\n  name = \"{p}\"\n}}\n"
    ));
    stack.apply();
    let client = iot().await;
    let cert = client
        .create_keys_and_certificate()
        .set_as_active(true)
        .send()
        .await
        .unwrap();
    let arn = cert.certificate_arn().unwrap().to_string();
    client
        .attach_thing_principal()
        .thing_name(&p)
        .principal(&arn)
        .send()
        .await
        .unwrap();
    stack.destroy();
    assert!(
        client
            .describe_thing()
            .thing_name(&p)
            .send()
            .await
            .not_found(),
        "thing deleted after detaching its principal"
    );
    let things = client
        .list_principal_things()
        .principal(&arn)
        .send()
        .await
        .unwrap();
    assert!(things.things().is_empty());
}

fn policy_stack(p: &str, action: &str, target_cert: &str) -> String {
    format!(
        r#"
resource "aws_iot_certificate" "a" {{
  active = true
}}
resource "aws_iot_certificate" "b" {{
  active = true
}}
resource "aws_iot_policy" "device" {{
  name = "{p}"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = ["{action}"], Resource = ["*"] }}]
  }})
}}
resource "aws_iot_policy_attachment" "att" {{
  policy = aws_iot_policy.device.name
  target = aws_iot_certificate.{target_cert}.arn
}}
"#
    )
}

#[tokio::test]
async fn iot_policy_versions_are_pruned_and_attachments_follow_their_target() {
    let p = unique("tfpol");
    let stack = TestStack::new(&policy_stack(&p, "iot:Connect", "a"));
    stack.apply();
    let client = iot().await;
    let pol = client
        .get_policy()
        .policy_name(&p)
        .send()
        .await
        .expect("policy exists");
    let doc: serde_json::Value = serde_json::from_str(pol.policy_document().unwrap()).unwrap();
    assert_eq!(
        doc["Statement"][0]["Action"],
        serde_json::json!(["iot:Connect"])
    );
    let cert_a = attr(&state_json(&stack), "aws_iot_certificate.a", "arn")
        .as_str()
        .unwrap()
        .to_string();
    let attached = client
        .list_attached_policies()
        .target(&cert_a)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached
            .policies()
            .iter()
            .filter_map(|x| x.policy_name())
            .collect::<Vec<_>>(),
        vec![p.as_str()]
    );
    assert!(changed(&stack.plan_json()).is_empty());

    // Six document changes: each is a new default version, and AWS's limit of 5 holds.
    for (i, action) in [
        "iot:Publish",
        "iot:Subscribe",
        "iot:Receive",
        "iot:GetThingShadow",
        "iot:UpdateThingShadow",
        "iot:DeleteThingShadow",
    ]
    .iter()
    .enumerate()
    {
        stack.write("main.tf", &policy_stack(&p, action, "a"));
        let plan = stack.plan_json();
        assert_eq!(
            changed(&plan),
            [(
                "aws_iot_policy.device".to_string(),
                vec!["update".to_string()]
            )]
            .into(),
            "change {i}"
        );
        stack.apply();
        let versions = client
            .list_policy_versions()
            .policy_name(&p)
            .send()
            .await
            .unwrap();
        assert!(
            versions.policy_versions().len() <= 5,
            "at most 5 versions, got {}",
            versions.policy_versions().len()
        );
        let pol = client.get_policy().policy_name(&p).send().await.unwrap();
        let doc: serde_json::Value = serde_json::from_str(pol.policy_document().unwrap()).unwrap();
        assert_eq!(
            doc["Statement"][0]["Action"],
            serde_json::json!([action]),
            "default version is the newest"
        );
    }

    // Force new: the attachment's target.
    stack.write("main.tf", &policy_stack(&p, "iot:DeleteThingShadow", "b"));
    assert_eq!(
        changed(&stack.plan_json())["aws_iot_policy_attachment.att"],
        vec!["delete", "create"]
    );
    stack.apply();
    let cert_b = attr(&state_json(&stack), "aws_iot_certificate.b", "arn")
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        client
            .list_attached_policies()
            .target(&cert_a)
            .send()
            .await
            .unwrap()
            .policies()
            .is_empty()
    );
    assert_eq!(
        client
            .list_attached_policies()
            .target(&cert_b)
            .send()
            .await
            .unwrap()
            .policies()
            .len(),
        1
    );

    stack.destroy();
    assert!(
        client.get_policy().policy_name(&p).send().await.not_found(),
        "policy and its versions deleted"
    );
}

fn shadow_stack(thing: &str, interval: u32) -> String {
    format!(
        r#"
resource "aws_iot_thing" "t" {{
  name = "{thing}"
}}
resource "aws_iot_thing_shadow" "config" {{
  thing_name = aws_iot_thing.t.name
  desired = jsonencode({{
    reporting_interval_s = {interval}
    units                = "metric"
  }})
}}
"#
    )
}

async fn shadow(thing: &str) -> Option<serde_json::Value> {
    let out = found(
        iotdata()
            .await
            .get_thing_shadow()
            .thing_name(thing)
            .send()
            .await,
    )?;
    serde_json::from_slice(out.payload()?.as_ref()).ok()
}

#[tokio::test]
async fn shadow_desired_state_is_managed_and_reported_state_is_left_alone() {
    let thing = unique("tfsh");
    let stack = TestStack::new(&shadow_stack(&thing, 60));
    stack.apply();
    let doc = shadow(&thing).await.expect("shadow exists");
    assert_eq!(doc["state"]["desired"]["reporting_interval_s"], 60);
    assert_eq!(doc["state"]["desired"]["units"], "metric");

    // The device reports, and someone sets a desired key the stack does not manage.
    let payload = serde_json::json!({"state": {"reported": {"reporting_interval_s": 60, "temp": 24.3}, "desired": {"led": "on"}}});
    iotdata()
        .await
        .update_thing_shadow()
        .thing_name(&thing)
        .payload(aws_sdk_iotdataplane::primitives::Blob::new(
            payload.to_string(),
        ))
        .send()
        .await
        .unwrap();
    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "reported state and unmanaged keys are not diffed: {:?}",
        changed(&plan)
    );

    stack.write("main.tf", &shadow_stack(&thing, 300));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [(
            "aws_iot_thing_shadow.config".to_string(),
            vec!["update".to_string()]
        )]
        .into()
    );
    stack.apply();
    let doc = shadow(&thing).await.unwrap();
    assert_eq!(doc["state"]["desired"]["reporting_interval_s"], 300);
    assert_eq!(
        doc["state"]["desired"]["led"], "on",
        "unmanaged desired key untouched"
    );
    assert_eq!(
        doc["state"]["reported"]["temp"], 24.3,
        "reported state untouched"
    );

    // Force new: the thing the shadow belongs to.
    let other = unique("tfsh");
    stack.write("main.tf", &shadow_stack(&other, 300));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan)["aws_iot_thing_shadow.config"],
        vec!["delete", "create"]
    );
    stack.apply();
    assert_eq!(
        shadow(&other).await.unwrap()["state"]["desired"]["reporting_interval_s"],
        300
    );

    stack.destroy();
    assert!(
        iot()
            .await
            .describe_thing()
            .thing_name(&other)
            .send()
            .await
            .not_found()
    );
}

fn rule_stack(p: &str, sql_where: &str, bucket_key: &str) -> String {
    format!(
        r#"
resource "aws_sns_topic" "alerts" {{
  name = "{p}-alerts"
}}
resource "aws_s3_bucket" "archive" {{
  bucket        = "{p}-archive"
  force_destroy = true
}}
resource "aws_dynamodb_table" "readings" {{
  name         = "{p}-readings"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "device_id"
  attribute {{
    name = "device_id"
    type = "S"
  }}
}}
resource "aws_iam_role" "rule" {{
  name               = "{p}-rule"
  assume_role_policy = {assume}
}}
resource "aws_cloudwatch_log_group" "errors" {{
  name = "/{p}/errors"
}}
resource "aws_iot_topic_rule" "ingest" {{
  name        = "{rule}"
  description = "campus readings"
  enabled     = true
  sql         = "SELECT *, topic(3) AS device_id FROM 'sensors/campus/+/environment' {sql_where}"
  sql_version = "2016-03-23"

  sns {{
    target_arn = aws_sns_topic.alerts.arn
    role_arn   = aws_iam_role.rule.arn
  }}
  s3 {{
    bucket_name = aws_s3_bucket.archive.bucket
    key         = "{bucket_key}"
    role_arn    = aws_iam_role.rule.arn
  }}
  dynamodbv2 {{
    role_arn = aws_iam_role.rule.arn
    put_item {{
      table_name = aws_dynamodb_table.readings.name
    }}
  }}
  republish {{
    role_arn = aws_iam_role.rule.arn
    topic    = "campus/processed"
  }}
  cloudwatch_metric {{
    metric_name      = "Readings"
    metric_namespace = "Campus"
    metric_unit      = "Count"
    metric_value     = "1"
    role_arn         = aws_iam_role.rule.arn
  }}
  error_action {{
    cloudwatch_logs {{
      log_group_name = aws_cloudwatch_log_group.errors.name
      role_arn       = aws_iam_role.rule.arn
    }}
  }}
}}
"#,
        assume = assume_role("iot.amazonaws.com"),
        rule = p.replace('-', "_"),
    )
}

#[tokio::test]
async fn topic_rule_full_lifecycle_with_every_action_kind() {
    let p = unique("tfr");
    let rule = p.replace('-', "_");
    // IoT substitution templates are escaped in HCL as $${...}, as in Terraform.
    let stack = TestStack::new(&rule_stack(&p, "", "raw/$${topic(3)}/$${timestamp()}.json"));
    stack.apply();
    let client = iot().await;
    let got = client
        .get_topic_rule()
        .rule_name(&rule)
        .send()
        .await
        .expect("rule exists");
    let r = got.rule().unwrap();
    assert!(
        r.sql()
            .unwrap()
            .contains("FROM 'sensors/campus/+/environment'")
    );
    assert_eq!(r.actions().len(), 5);
    assert!(
        r.actions()
            .iter()
            .any(|a| a.s3().map(|s| s.key()) == Some("raw/${topic(3)}/${timestamp()}.json"))
    );
    assert!(r.error_action().and_then(|e| e.cloudwatch_logs()).is_some());
    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "no-op plan after apply, got {:?}",
        changed(&plan)
    );

    // In place, through ReplaceTopicRule: the SQL and an action's key.
    stack.write(
        "main.tf",
        &rule_stack(&p, "WHERE temp > 38", "raw/$${topic(3)}.json"),
    );
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [(
            "aws_iot_topic_rule.ingest".to_string(),
            vec!["update".to_string()]
        )]
        .into()
    );
    assert_eq!(
        changed_attrs(&plan, "aws_iot_topic_rule.ingest"),
        vec!["s3", "sql"]
    );
    stack.apply();
    let r = client
        .get_topic_rule()
        .rule_name(&rule)
        .send()
        .await
        .unwrap();
    assert!(
        r.rule()
            .unwrap()
            .sql()
            .unwrap()
            .ends_with("WHERE temp > 38")
    );

    // Force new: only the name.
    let renamed = format!("{p}-b");
    let src = rule_stack(&p, "WHERE temp > 38", "raw/$${topic(3)}.json").replace(
        &format!("name        = \"{rule}\""),
        &format!("name        = \"{}\"", renamed.replace('-', "_")),
    );
    stack.write("main.tf", &src);
    assert_eq!(
        changed(&stack.plan_json())["aws_iot_topic_rule.ingest"],
        vec!["delete", "create"]
    );
    stack.apply();
    assert!(
        client
            .get_topic_rule()
            .rule_name(&rule)
            .send()
            .await
            .not_found(),
        "old rule gone"
    );
    assert!(
        client
            .get_topic_rule()
            .rule_name(renamed.replace('-', "_"))
            .send()
            .await
            .is_ok()
    );

    stack.destroy();
    assert!(
        client
            .get_topic_rule()
            .rule_name(renamed.replace('-', "_"))
            .send()
            .await
            .not_found()
    );
}

#[tokio::test]
async fn endpoint_gaps_are_reported_as_not_supported_without_long_retries() {
    // moto answers provisioning templates with HTTP 500: thingform must say the endpoint
    // does not support it, not hang or claim success. (Against AWS the resource works.)
    let p = unique("tfpt");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_iam_role" "prov" {{
  name               = "{p}"
  assume_role_policy = {assume}
}}
resource "aws_iot_provisioning_template" "jitp" {{
  name                  = "{p}"
  provisioning_role_arn = aws_iam_role.prov.arn
  enabled               = true
  type                  = "JITP"
  template_body = jsonencode({{
    Parameters = {{ "AWS::IoT::Certificate::Id" = {{ Type = "String" }} }}
    Resources  = {{ thing = {{ Type = "AWS::IoT::Thing", Properties = {{ ThingName = {{ Ref = "AWS::IoT::Certificate::Id" }} }} }} }}
  }})
}}
"#,
        assume = assume_role("iot.amazonaws.com")
    ));
    let log = CallLog::start();
    let out = log.output(&stack, &["apply", "-auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not supported by this endpoint"), "{err}");
    assert!(err.contains("CreateProvisioningTemplate"), "{err}");
    // Bounded by what is counted, not by time: one CreateProvisioningTemplate, sent at
    // most as often as the SDK's standard retry mode attempts a request (3), and never
    // re-sent by a retry policy of thingform's own.
    let calls = log.take();
    let creates = count(&calls, |m, s| {
        m == "POST" && s == ["provisioning-templates"]
    });
    assert!(
        (1..=3).contains(&creates),
        "CreateProvisioningTemplate sent {creates} times: {calls:?}"
    );
    assert!(
        iam().await.get_role().role_name(&p).send().await.is_ok(),
        "the rest of the stack was applied"
    );
    stack.write("main.tf", "");
    stack.destroy();
}

#[tokio::test]
async fn a_fleet_is_refreshed_with_list_calls_and_still_sees_drift() {
    // Six Things with the list threshold set to 3: refresh uses ListThings pages.
    let p = unique("tffl");
    let src = |building: &str| {
        format!(
            "resource \"aws_iot_thing_type\" \"t\" {{\n  name = \"{p}-type\"\n}}\nresource \"aws_iot_thing\" \"n\" {{\n  count = 6\n  name = \"{p}-${{count.index}}\"\n  thing_type_name = aws_iot_thing_type.t.name\n  attributes = {{\n    building = \"{building}\"\n  }}\n}}\n"
        )
    };
    let stack = TestStack::new(&src("a"));
    stack.apply();
    let log = crate::calls::CallLog::start();
    let plan_listing = || {
        let args = [
            "plan".to_string(),
            "-json".into(),
            stack.path().display().to_string(),
        ];
        let out = command(&args, stack.path())
            .env("THINGFORM_LIST_THRESHOLD", "3")
            .env("AWS_ENDPOINT_URL", log.endpoint())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    assert!(
        changed(&plan_listing()).is_empty(),
        "no-op plan of the fleet"
    );
    // The refresh listed the Things (GET /things) instead of describing each one.
    let calls = log.take();
    let lists = crate::calls::count(&calls, |m, s| m == "GET" && s == ["things"]);
    let describes = crate::calls::count(&calls, |m, s| {
        m == "GET" && s.len() == 2 && s[0] == "things"
    });
    assert!(lists >= 1, "no ListThings call: {calls:?}");
    assert_eq!(describes, 0, "Things were described one by one: {calls:?}");
    // Drift on one Thing, another deleted behind thingform's back.
    let client = iot().await;
    client
        .update_thing()
        .thing_name(format!("{p}-2"))
        .attribute_payload(
            aws_sdk_iot::types::AttributePayload::builder()
                .attributes("building", "moved")
                .merge(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    client
        .delete_thing()
        .thing_name(format!("{p}-4"))
        .send()
        .await
        .unwrap();
    let plan = plan_listing();
    let c = changed(&plan);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!(c["aws_iot_thing.n[2]"], vec!["update"]);
    assert_eq!(c["aws_iot_thing.n[4]"], vec!["create"]);
    stack.destroy();
}
