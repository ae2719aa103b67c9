//! IAM parity: aws_iam_policy, aws_iam_policy_attachment, aws_iam_role_policy_attachment
//! with a customer-managed policy, data "aws_partition" and the merging arguments of
//! data "aws_iam_policy_document". Configurations are taken unchanged from the Terraform
//! AWS provider's documentation (hashicorp/terraform-provider-aws, website/docs/...),
//! each test citing its page; what the test adds (a variable, a resource consuming the
//! example) is written to a separate file. Results are checked through the IAM API.

use crate::harness::*;

/// website/docs/r/iam_policy.html.markdown, "Example Usage".
const IAM_POLICY_EXAMPLE: &str = r#"resource "aws_iam_policy" "policy" {
  name        = "test_policy"
  path        = "/"
  description = "My test policy"

  # Terraform's "jsonencode" function converts a
  # Terraform expression result to valid JSON syntax.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Action = [
          "ec2:Describe*",
        ]
        Effect   = "Allow"
        Resource = "*"
      },
    ]
  })
}
"#;

/// website/docs/r/iam_role_policy_attachment.html.markdown, "Example Usage".
const ROLE_POLICY_ATTACHMENT_EXAMPLE: &str = r#"data "aws_iam_policy_document" "assume_role" {
  statement {
    effect = "Allow"

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }

    actions = ["sts:AssumeRole"]
  }
}

resource "aws_iam_role" "role" {
  name               = "test-role"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
}

data "aws_iam_policy_document" "policy" {
  statement {
    effect    = "Allow"
    actions   = ["ec2:Describe*"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "policy" {
  name        = "test-policy"
  description = "A test policy"
  policy      = data.aws_iam_policy_document.policy.json
}

resource "aws_iam_role_policy_attachment" "test-attach" {
  role       = aws_iam_role.role.name
  policy_arn = aws_iam_policy.policy.arn
}
"#;

/// website/docs/d/partition.html.markdown, "Example Usage".
const PARTITION_EXAMPLE: &str = r#"data "aws_partition" "current" {}

data "aws_iam_policy_document" "s3_policy" {
  statement {
    sid = "1"

    actions = [
      "s3:ListBucket",
    ]

    resources = [
      "arn:${data.aws_partition.current.partition}:s3:::my-bucket",
    ]
  }
}
"#;

/// website/docs/d/iam_policy_document.html.markdown, "Basic Example".
const POLICY_DOCUMENT_BASIC_EXAMPLE: &str = r#"data "aws_iam_policy_document" "example" {
  statement {
    sid = "1"

    actions = [
      "s3:ListAllMyBuckets",
      "s3:GetBucketLocation",
    ]

    resources = [
      "arn:aws:s3:::*",
    ]
  }

  statement {
    actions = [
      "s3:ListBucket",
    ]

    resources = [
      "arn:aws:s3:::${var.s3_bucket_name}",
    ]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"

      values = [
        "",
        "home/",
        "home/&{aws:username}/",
      ]
    }
  }

  statement {
    actions = [
      "s3:*",
    ]

    resources = [
      "arn:aws:s3:::${var.s3_bucket_name}/home/&{aws:username}",
      "arn:aws:s3:::${var.s3_bucket_name}/home/&{aws:username}/*",
    ]
  }
}

resource "aws_iam_policy" "example" {
  name   = "example_policy"
  path   = "/"
  policy = data.aws_iam_policy_document.example.json
}
"#;

/// website/docs/d/iam_policy_document.html.markdown, "Example with Both Source and
/// Override Documents".
const POLICY_DOCUMENT_SOURCE_AND_OVERRIDE_EXAMPLE: &str = r#"data "aws_iam_policy_document" "source" {
  statement {
    sid       = "OverridePlaceholder"
    actions   = ["ec2:DescribeAccountAttributes"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "override" {
  statement {
    sid       = "OverridePlaceholder"
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "politik" {
  source_policy_documents   = [data.aws_iam_policy_document.source.json]
  override_policy_documents = [data.aws_iam_policy_document.override.json]
}
"#;

/// website/docs/d/iam_policy_document.html.markdown, "Example Using A Source Document".
const POLICY_DOCUMENT_SOURCE_EXAMPLE: &str = r#"data "aws_iam_policy_document" "source" {
  statement {
    actions   = ["ec2:*"]
    resources = ["*"]
  }

  statement {
    sid = "SidToOverride"

    actions   = ["s3:*"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "source_document_example" {
  source_policy_documents = [data.aws_iam_policy_document.source.json]

  statement {
    sid = "SidToOverride"

    actions = ["s3:*"]

    resources = [
      "arn:aws:s3:::somebucket",
      "arn:aws:s3:::somebucket/*",
    ]
  }
}
"#;

/// website/docs/d/iam_policy_document.html.markdown, "Example Using An Override Document".
const POLICY_DOCUMENT_OVERRIDE_EXAMPLE: &str = r#"data "aws_iam_policy_document" "override" {
  statement {
    sid = "SidToOverride"

    actions   = ["s3:*"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "override_policy_document_example" {
  override_policy_documents = [data.aws_iam_policy_document.override.json]

  statement {
    actions   = ["ec2:*"]
    resources = ["*"]
  }

  statement {
    sid = "SidToOverride"

    actions = ["s3:*"]

    resources = [
      "arn:aws:s3:::somebucket",
      "arn:aws:s3:::somebucket/*",
    ]
  }
}
"#;

/// The ARN of the customer-managed policy named `name`, if it exists.
async fn policy_arn(name: &str) -> Option<String> {
    let out = iam()
        .await
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .max_items(1000)
        .send()
        .await
        .unwrap();
    out.policies()
        .iter()
        .find(|p| p.policy_name() == Some(name))
        .and_then(|p| p.arn().map(str::to_string))
}

/// The default version's document of a policy, parsed.
async fn policy_document(arn: &str) -> serde_json::Value {
    let c = iam().await;
    let pol = c.get_policy().policy_arn(arn).send().await.unwrap();
    let version = pol
        .policy()
        .unwrap()
        .default_version_id()
        .unwrap()
        .to_string();
    let v = c
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .unwrap();
    let doc = v.policy_version().unwrap().document().unwrap();
    let decoded = percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .unwrap()
        .to_string();
    serde_json::from_str(&decoded).unwrap_or_else(|e| panic!("{e}: {decoded}"))
}

fn assert_no_changes(stack: &TestStack) {
    let plan = stack.plan_json();
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
}

#[tokio::test]
async fn iam_policy_docs_example_updates_by_versions_and_destroys() {
    let stack = TestStack::new(IAM_POLICY_EXAMPLE);
    stack.ok(&["validate"]);
    stack.apply();
    let arn = policy_arn("test_policy").await.expect("policy created");
    let c = iam().await;
    let pol = c.get_policy().policy_arn(&arn).send().await.unwrap();
    let pol = pol.policy().unwrap();
    assert_eq!(pol.path(), Some("/"));
    assert_eq!(pol.description(), Some("My test policy"));
    assert_eq!(
        policy_document(&arn).await["Statement"][0]["Action"],
        serde_json::json!(["ec2:Describe*"])
    );
    assert_no_changes(&stack);

    // In-place updates: each new document becomes a new default version; IAM keeps five,
    // so from the fifth on the oldest non-default one is deleted first.
    for n in 1..=5 {
        let action = format!("ec2:Get{n}*");
        stack.write(
            "main.tf",
            &IAM_POLICY_EXAMPLE.replace("ec2:Describe*", &action),
        );
        let plan = stack.plan_json();
        assert_eq!(
            changed(&plan)["aws_iam_policy.policy"],
            vec!["update"],
            "a new document is an in-place update"
        );
        stack.apply();
        assert_eq!(
            policy_document(&arn).await["Statement"][0]["Action"],
            serde_json::json!([action])
        );
        let versions = c
            .list_policy_versions()
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            versions.versions().len(),
            (n + 1).min(5),
            "after update {n}"
        );
        assert_no_changes(&stack);
    }
    // v1..v6 were made; v1, the oldest non-default one, made room for v6.
    let versions = c
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let mut ids: Vec<(String, bool)> = versions
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap().to_string(), v.is_default_version()))
        .collect();
    ids.sort();
    let want: Vec<(String, bool)> = (2..=6).map(|i| (format!("v{i}"), i == 6)).collect();
    assert_eq!(ids, want);

    // A new description replaces the policy (ForceNew, as in the provider).
    stack.write(
        "main.tf",
        &IAM_POLICY_EXAMPLE.replace("My test policy", "My other policy"),
    );
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan)["aws_iam_policy.policy"],
        vec!["delete", "create"]
    );

    stack.destroy();
    assert!(c.get_policy().policy_arn(&arn).send().await.not_found());
}

#[tokio::test]
async fn role_policy_attachment_docs_example_with_a_customer_managed_policy() {
    let stack = TestStack::new(ROLE_POLICY_ATTACHMENT_EXAMPLE);
    stack.ok(&["validate"]);
    stack.apply();
    let c = iam().await;
    let arn = policy_arn("test-policy").await.expect("policy created");
    let attached = c
        .list_attached_role_policies()
        .role_name("test-role")
        .send()
        .await
        .unwrap();
    assert!(
        attached
            .attached_policies()
            .iter()
            .any(|p| p.policy_arn() == Some(arn.as_str()))
    );
    assert_eq!(
        policy_document(&arn).await["Statement"][0]["Action"],
        serde_json::json!("ec2:Describe*")
    );
    assert_no_changes(&stack);
    stack.destroy();
    assert!(c.get_role().role_name("test-role").send().await.not_found());
    assert!(c.get_policy().policy_arn(&arn).send().await.not_found());
}

#[tokio::test]
async fn policy_document_docs_examples_merge_into_a_managed_policy() {
    // Each example validates unchanged (the basic one with its variable declared apart).
    for example in [
        POLICY_DOCUMENT_SOURCE_EXAMPLE,
        POLICY_DOCUMENT_OVERRIDE_EXAMPLE,
        POLICY_DOCUMENT_SOURCE_AND_OVERRIDE_EXAMPLE,
        PARTITION_EXAMPLE,
    ] {
        TestStack::new(example).ok(&["validate"]);
    }
    let basic = TestStack::new(POLICY_DOCUMENT_BASIC_EXAMPLE);
    basic.write("variables.tf", "variable \"s3_bucket_name\" {}\n");
    basic.write("terraform.tfvars", "s3_bucket_name = \"my-bucket\"\n");
    basic.ok(&["validate"]);

    // Source and override documents: what IAM holds is the documented merge.
    let name = unique("politik");
    let stack = TestStack::new(POLICY_DOCUMENT_SOURCE_AND_OVERRIDE_EXAMPLE);
    stack.write(
        "policy.tf",
        &format!(
            "resource \"aws_iam_policy\" \"politik\" {{\n  name   = \"{name}\"\n  policy = data.aws_iam_policy_document.politik.json\n}}\n"
        ),
    );
    stack.apply();
    let arn = policy_arn(&name).await.expect("policy created");
    assert_eq!(
        policy_document(&arn).await,
        serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "OverridePlaceholder", "Effect": "Allow",
            "Action": "s3:GetObject", "Resource": "*"
        }]})
    );
    assert_no_changes(&stack);
    stack.destroy();
    assert!(
        iam()
            .await
            .get_policy()
            .policy_arn(&arn)
            .send()
            .await
            .not_found()
    );
}

#[tokio::test]
async fn partition_docs_example_feeds_a_policy_known_at_plan_time() {
    let name = unique("partition");
    let stack = TestStack::new(PARTITION_EXAMPLE);
    stack.write(
        "policy.tf",
        &format!(
            "resource \"aws_iam_policy\" \"s3\" {{\n  name   = \"{name}\"\n  policy = data.aws_iam_policy_document.s3_policy.json\n}}\n"
        ),
    );
    // Known at plan time: the planned policy document is already the rendered one.
    let plan = stack.plan_json();
    let change = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "aws_iam_policy.s3")
        .unwrap();
    assert!(
        change["change"]["after"]["policy"]
            .as_str()
            .is_some_and(|p| p.contains("arn:aws:s3:::my-bucket")),
        "{change}"
    );
    stack.apply();
    let arn = policy_arn(&name).await.expect("policy created");
    assert_eq!(
        policy_document(&arn).await["Statement"][0]["Resource"],
        serde_json::json!("arn:aws:s3:::my-bucket")
    );
    assert_no_changes(&stack);
    stack.destroy();
    assert!(
        iam()
            .await
            .get_policy()
            .policy_arn(&arn)
            .send()
            .await
            .not_found()
    );
}

/// aws_iam_policy_attachment is exclusive: every entity the policy is attached to belongs
/// to it. The documentation's example (website/docs/r/iam_policy_attachment.html.markdown)
/// also declares aws_iam_user and aws_iam_group, which thingform does not manage, so the
/// user and the group are made here through the SDK and the configuration follows the
/// example's shape.
#[tokio::test]
async fn policy_attachment_is_exclusive_across_roles_users_and_groups() {
    let p = unique("pa");
    let c = iam().await;
    let (user, group) = (format!("{p}-user"), format!("{p}-group"));
    c.create_user().user_name(&user).send().await.unwrap();
    c.create_group().group_name(&group).send().await.unwrap();
    let config = |roles: &str, tags: &str| {
        format!(
            r#"
resource "aws_iam_role" "a" {{
  name               = "{p}-a"
  assume_role_policy = {trust}
}}
resource "aws_iam_role" "b" {{
  name               = "{p}-b"
  assume_role_policy = {trust}
}}
resource "aws_iam_policy" "policy" {{
  name_prefix = "{p}-"
  description = "A test policy"
  policy      = jsonencode({{ Version = "2012-10-17", Statement = [{{ Effect = "Allow", Action = "iot:Publish", Resource = "*" }}] }})
  tags        = {tags}
}}
resource "aws_iam_policy_attachment" "test-attach" {{
  name       = "test-attachment"
  users      = ["{user}"]
  roles      = {roles}
  groups     = ["{group}"]
  policy_arn = aws_iam_policy.policy.arn
}}
"#,
            trust = assume_role("ec2.amazonaws.com")
        )
    };
    let stack = TestStack::new(&config(
        "[aws_iam_role.a.name, aws_iam_role.b.name]",
        "{ team = \"iot\" }",
    ));
    stack.ok(&["validate"]);
    stack.apply();
    let arn = c
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .max_items(1000)
        .send()
        .await
        .unwrap()
        .policies()
        .iter()
        .find(|x| {
            x.policy_name()
                .is_some_and(|n| n.starts_with(&format!("{p}-")))
        })
        .and_then(|x| x.arn().map(str::to_string))
        .expect("policy named from its prefix");
    let entities = |arn: String| {
        let c = c.clone();
        async move {
            let e = c
                .list_entities_for_policy()
                .policy_arn(arn)
                .send()
                .await
                .unwrap();
            let mut roles: Vec<String> = e
                .policy_roles()
                .iter()
                .filter_map(|r| r.role_name().map(str::to_string))
                .collect();
            roles.sort();
            let users: Vec<String> = e
                .policy_users()
                .iter()
                .filter_map(|u| u.user_name().map(str::to_string))
                .collect();
            let groups: Vec<String> = e
                .policy_groups()
                .iter()
                .filter_map(|g| g.group_name().map(str::to_string))
                .collect();
            (roles, users, groups)
        }
    };
    assert_eq!(
        entities(arn.clone()).await,
        (
            vec![format!("{p}-a"), format!("{p}-b")],
            vec![user.clone()],
            vec![group.clone()]
        )
    );
    let tags = c.list_policy_tags().policy_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_no_changes(&stack);

    // Attached outside the resource: the next plan takes it back off.
    c.create_role()
        .role_name(format!("{p}-c"))
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    c.attach_role_policy()
        .role_name(format!("{p}-c"))
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan)["aws_iam_policy_attachment.test-attach"],
        vec!["update"]
    );
    stack.apply();
    assert_eq!(
        entities(arn.clone()).await.0.len(),
        2,
        "the outside role detached"
    );

    // One role fewer and new tags: in place.
    stack.write(
        "main.tf",
        &config(
            "[aws_iam_role.a.name]",
            "{ team = \"iot\", env = \"test\" }",
        ),
    );
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan)["aws_iam_policy_attachment.test-attach"],
        vec!["update"]
    );
    assert_eq!(changed(&plan)["aws_iam_policy.policy"], vec!["update"]);
    stack.apply();
    assert_eq!(entities(arn.clone()).await.0, vec![format!("{p}-a")]);
    let tags = c.list_policy_tags().policy_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().len(), 2);
    assert_no_changes(&stack);

    stack.destroy();
    assert!(c.get_policy().policy_arn(&arn).send().await.not_found());
    assert!(
        c.get_role()
            .role_name(format!("{p}-a"))
            .send()
            .await
            .not_found()
    );
    let attached = c
        .list_attached_user_policies()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    assert!(attached.attached_policies().is_empty());
    c.detach_role_policy()
        .role_name(format!("{p}-c"))
        .policy_arn(&arn)
        .send()
        .await
        .ok();
    c.delete_role()
        .role_name(format!("{p}-c"))
        .send()
        .await
        .unwrap();
    c.delete_user().user_name(&user).send().await.unwrap();
    c.delete_group().group_name(&group).send().await.unwrap();
}

/// website/docs/r/iam_role_policy_attachments_exclusive.html.markdown, "Basic Usage".
const ATTACHMENTS_EXCLUSIVE_EXAMPLE: &str = r#"resource "aws_iam_role_policy_attachments_exclusive" "example" {
  role_name   = aws_iam_role.example.name
  policy_arns = [aws_iam_policy.example.arn]
}
"#;

/// website/docs/r/iam_role_policies_exclusive.html.markdown, "Basic Usage".
const POLICIES_EXCLUSIVE_EXAMPLE: &str = r#"resource "aws_iam_role_policies_exclusive" "example" {
  role_name    = aws_iam_role.example.name
  policy_names = [aws_iam_role_policy.example.name]
}
"#;

/// Both exclusive resources from their documentation's examples (main.tf, unchanged);
/// the role, managed policy and inline policy they name are declared in `example.tf`.
/// Whatever is attached or put outside the configuration is taken off by the next apply;
/// destroying them detaches nothing, as documented.
#[tokio::test]
async fn role_exclusive_attachments_and_inline_policies_docs_examples() {
    let p = unique("excl");
    let c = iam().await;
    let stack = TestStack::new(&format!(
        "{ATTACHMENTS_EXCLUSIVE_EXAMPLE}\n{POLICIES_EXCLUSIVE_EXAMPLE}"
    ));
    let doc = r#"jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "iot:Publish", Resource = "*" }] })"#;
    stack.write(
        "example.tf",
        &format!(
            r#"
resource "aws_iam_role" "example" {{
  name               = "{p}"
  assume_role_policy = {trust}
}}
resource "aws_iam_policy" "example" {{
  name   = "{p}-managed"
  policy = {doc}
}}
resource "aws_iam_role_policy" "example" {{
  name   = "inline"
  role   = aws_iam_role.example.name
  policy = {doc}
}}
"#,
            trust = assume_role("ec2.amazonaws.com")
        ),
    );
    stack.ok(&["validate"]);
    stack.apply();
    let managed = policy_arn(&format!("{p}-managed")).await.expect("policy");
    let attached = |c: aws_sdk_iam::Client, role: String| async move {
        let a = c
            .list_attached_role_policies()
            .role_name(&role)
            .send()
            .await
            .unwrap();
        let mut arns: Vec<String> = a
            .attached_policies()
            .iter()
            .filter_map(|x| x.policy_arn().map(str::to_string))
            .collect();
        arns.sort();
        let i = c
            .list_role_policies()
            .role_name(&role)
            .send()
            .await
            .unwrap();
        (arns, i.policy_names().to_vec())
    };
    assert_eq!(
        attached(c.clone(), p.clone()).await,
        (vec![managed.clone()], vec!["inline".to_string()])
    );
    assert_no_changes(&stack);

    // Added outside: a managed policy and an inline policy. The plan shows both
    // exclusive resources changing; apply takes them off.
    let outside = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    c.attach_role_policy()
        .role_name(&p)
        .policy_arn(outside)
        .send()
        .await
        .unwrap();
    c.put_role_policy()
        .role_name(&p)
        .policy_name("stray")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let plan = stack.plan_json();
    let ch = changed(&plan);
    assert_eq!(
        ch["aws_iam_role_policy_attachments_exclusive.example"],
        vec!["update"]
    );
    assert_eq!(
        ch["aws_iam_role_policies_exclusive.example"],
        vec!["update"]
    );
    stack.apply();
    assert_eq!(
        attached(c.clone(), p.clone()).await,
        (vec![managed.clone()], vec!["inline".to_string()])
    );
    assert_no_changes(&stack);

    // Destroying only the exclusive resources detaches nothing.
    stack.write("main.tf", "");
    stack.apply();
    assert_eq!(
        attached(c.clone(), p.clone()).await,
        (vec![managed.clone()], vec!["inline".to_string()])
    );
    // The role still has the managed policy attached outside any attachment resource:
    // it is detached here so that the stack can destroy the role and the policy.
    c.detach_role_policy()
        .role_name(&p)
        .policy_arn(&managed)
        .send()
        .await
        .unwrap();
    stack.destroy();
    assert!(c.get_role().role_name(&p).send().await.not_found());
    assert!(c.get_policy().policy_arn(&managed).send().await.not_found());
}
