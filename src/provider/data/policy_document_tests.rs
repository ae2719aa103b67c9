//! The examples of the provider's documentation page
//! (hashicorp/terraform-provider-aws, website/docs/d/iam_policy_document.html.markdown),
//! each with the rendered JSON the page documents. The page prints `"Sid": ""` for
//! statements without a Sid (the provider now leaves the key out) and set elements in
//! hash order, so documents are compared with empty Sids dropped and string lists sorted;
//! statement order is compared as is.

use super::*;

fn attrs(v: Json) -> Attrs {
    v.as_object().cloned().unwrap()
}

fn norm(v: &Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.iter()
                .filter(|(k, v)| !(k.as_str() == "Sid" && v.as_str() == Some("")))
                .map(|(k, v)| (k.clone(), norm(v)))
                .collect(),
        ),
        Json::Array(l) if l.iter().all(Json::is_string) => {
            let mut l = l.clone();
            l.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Json::Array(l)
        }
        Json::Array(l) => Json::Array(l.iter().map(norm).collect()),
        other => other.clone(),
    }
}

fn rendered(cfg: Json) -> String {
    let a = PolicyDocument::new()
        .read_local(&attrs(cfg))
        .unwrap()
        .unwrap();
    a["json"].as_str().unwrap().to_string()
}

fn assert_doc(cfg: Json, documented: Json) {
    let got: Json = serde_json::from_str(&rendered(cfg)).unwrap();
    assert_eq!(norm(&got), norm(&documented));
}

fn st(sid: Option<&str>, actions: &[&str], resources: &[&str]) -> Json {
    json!({"sid": sid, "actions": actions, "resources": resources})
}

#[test]
fn policy_document_renders_like_terraform() {
    let cfg = attrs(json!({
        "statement": [{
            "sid": "Publish", "effect": null, "actions": ["iot:Publish"],
            "resources": ["arn:aws:iot:eu-west-1:1:topic/a", "arn:aws:iot:eu-west-1:1:topic/b"],
            "principals": [{"type": "Service", "identifiers": ["iot.amazonaws.com"]}],
            "condition": [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["1"]}]
        }]
    }));
    assert_eq!(
        policy_json(&cfg).unwrap(),
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "Publish", "Effect": "Allow", "Action": "iot:Publish",
            "Resource": ["arn:aws:iot:eu-west-1:1:topic/a", "arn:aws:iot:eu-west-1:1:topic/b"],
            "Principal": {"Service": "iot.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}
        }]})
    );
}

#[test]
fn multiple_condition_keys() {
    assert_doc(
        json!({"statement": [{
            "actions": ["kms:Decrypt", "kms:GenerateDataKey"],
            "resources": ["*"],
            "condition": [
                {"test": "ForAnyValue:StringEquals", "variable": "kms:EncryptionContext:service", "values": ["pi"]},
                {"test": "ForAnyValue:StringEquals", "variable": "kms:EncryptionContext:aws:pi:service", "values": ["rds"]}
            ]
        }]}),
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "", "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {
                "kms:EncryptionContext:aws:pi:service": "rds",
                "kms:EncryptionContext:service": "pi"
            }}
        }]}),
    );
}

#[test]
fn source_document() {
    let source = rendered(json!({"statement": [
        st(None, &["ec2:*"], &["*"]),
        st(Some("SidToOverride"), &["s3:*"], &["*"]),
    ]}));
    assert_doc(
        json!({
            "source_policy_documents": [source],
            "statement": [st(Some("SidToOverride"), &["s3:*"],
                &["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"])]
        }),
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {"Sid": "SidToOverride", "Effect": "Allow", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::somebucket/*", "arn:aws:s3:::somebucket"]}
        ]}),
    );
}

#[test]
fn override_document() {
    let over = rendered(json!({"statement": [st(Some("SidToOverride"), &["s3:*"], &["*"])]}));
    assert_doc(
        json!({
            "override_policy_documents": [over],
            "statement": [
                st(None, &["ec2:*"], &["*"]),
                st(Some("SidToOverride"), &["s3:*"],
                    &["arn:aws:s3:::somebucket", "arn:aws:s3:::somebucket/*"]),
            ]
        }),
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {"Sid": "SidToOverride", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
        ]}),
    );
}

#[test]
fn source_and_override_documents() {
    let source = rendered(json!({"statement": [
        st(Some("OverridePlaceholder"), &["ec2:DescribeAccountAttributes"], &["*"])
    ]}));
    let over = rendered(json!({"statement": [
        st(Some("OverridePlaceholder"), &["s3:GetObject"], &["*"])
    ]}));
    assert_doc(
        json!({"source_policy_documents": [source], "override_policy_documents": [over]}),
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "OverridePlaceholder", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        ]}),
    );
}

#[test]
fn merging_source_documents() {
    let one = rendered(json!({"statement": [
        st(None, &["ec2:*"], &["*"]),
        st(Some("UniqueSidOne"), &["s3:*"], &["*"]),
    ]}));
    let two = rendered(json!({"statement": [
        st(Some("UniqueSidTwo"), &["iam:*"], &["*"]),
        st(None, &["lambda:*"], &["*"]),
    ]}));
    assert_doc(
        json!({"source_policy_documents": [one, two]}),
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {"Sid": "UniqueSidOne", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "UniqueSidTwo", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Sid": "", "Effect": "Allow", "Action": "lambda:*", "Resource": "*"}
        ]}),
    );
}

/// The documented result spells the Sids `OverridePlaceholder...` where the configuration
/// says `OverridePlaceHolder...` (a typo on the page); the configuration's spelling is
/// used here. Order and contents are as documented.
#[test]
fn merging_override_documents() {
    let with_effect = |sid: Option<&str>, effect: &str, action: &str| json!({"sid": sid, "effect": effect, "actions": [action], "resources": ["*"]});
    let one = rendered(
        json!({"statement": [with_effect(Some("OverridePlaceHolderOne"), "Allow", "s3:*")]}),
    );
    let two = rendered(json!({"statement": [
        with_effect(None, "Allow", "ec2:*"),
        with_effect(Some("OverridePlaceHolderTwo"), "Allow", "iam:*"),
    ]}));
    let three = rendered(
        json!({"statement": [with_effect(Some("OverridePlaceHolderOne"), "Deny", "logs:*")]}),
    );
    assert_doc(
        json!({
            "override_policy_documents": [one, two, three],
            "statement": [with_effect(Some("OverridePlaceHolderTwo"), "Deny", "*")]
        }),
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "OverridePlaceHolderTwo", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Sid": "OverridePlaceHolderOne", "Effect": "Deny", "Action": "logs:*", "Resource": "*"},
            {"Sid": "", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"}
        ]}),
    );
}

#[test]
fn multiple_principals_and_not_elements() {
    let got = policy_json(&attrs(json!({
        "policy_id": "pid", "version": "2008-10-17",
        "statement": [{
            "actions": ["sts:AssumeRole"],
            "principals": [
                {"type": "Service", "identifiers": ["firehose.amazonaws.com"]},
                {"type": "AWS", "identifiers": ["arn:aws:iam::1:role/r"]},
                {"type": "Federated", "identifiers": ["arn:aws:iam::1:saml-provider/p", "cognito-identity.amazonaws.com"]}
            ]
        }, {
            "effect": "Deny", "not_actions": ["iam:*"], "not_resources": ["arn:aws:s3:::b"],
            "not_principals": [{"type": "*", "identifiers": ["*"]}]
        }]
    })))
    .unwrap();
    assert_eq!(
        got,
        json!({"Version": "2008-10-17", "Id": "pid", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {
                "Service": "firehose.amazonaws.com",
                "AWS": "arn:aws:iam::1:role/r",
                "Federated": ["arn:aws:iam::1:saml-provider/p", "cognito-identity.amazonaws.com"]
            }
        }, {
            "Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::b",
            "NotPrincipal": "*"
        }]})
    );
}

#[test]
fn duplicate_sids_are_refused() {
    let one = rendered(json!({"statement": [st(Some("A"), &["s3:*"], &["*"])]}));
    let err = policy_json(&attrs(
        json!({"source_policy_documents": [one.clone(), one]}),
    ))
    .unwrap_err();
    assert!(err.to_string().contains("duplicate Sid (A)"), "{err}");
    let err = policy_json(&attrs(json!({"statement": [
        st(Some("B"), &["s3:*"], &["*"]),
        st(Some("B"), &["ec2:*"], &["*"]),
    ]})))
    .unwrap_err();
    assert!(err.to_string().contains("duplicate Sid (B)"), "{err}");
    let err = policy_json(&attrs(json!({"override_policy_documents": ["not json"]}))).unwrap_err();
    assert!(
        err.to_string().contains("override_policy_documents[0]"),
        "{err}"
    );
}

#[test]
fn highest_version_and_last_id_win() {
    let src = r#"{"Version":"2008-10-17","Id":"src","Statement":{"Sid":"S","Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
    let got = policy_json(&attrs(json!({"source_policy_documents": [src]}))).unwrap();
    assert_eq!(got["Version"], json!("2012-10-17"));
    assert_eq!(got["Id"], json!("src"));
    assert_eq!(
        got["Statement"].as_array().unwrap().len(),
        1,
        "a lone statement object"
    );
    let got = policy_json(&attrs(json!({
        "source_policy_documents": [src], "version": "2008-10-17", "policy_id": "own"
    })))
    .unwrap();
    assert_eq!(got["Version"], json!("2008-10-17"));
    assert_eq!(got["Id"], json!("own"));
    let over = r#"{"Version":"2012-10-17","Id":"over","Statement":[]}"#;
    let got = policy_json(&attrs(json!({
        "override_policy_documents": [over], "version": "2008-10-17", "policy_id": "own"
    })))
    .unwrap();
    assert_eq!(
        (&got["Version"], &got["Id"]),
        (&json!("2012-10-17"), &json!("over"))
    );
}
