//! Secrets at rest: `terraform { encryption {} }` with a passphrase (local state) and a
//! KMS key on moto's KMS (S3 state). Every file thingform writes in the stack directory
//! and every object in the state bucket is scanned for the PEM marker of the
//! certificate's private key; the AWS objects are checked through the SDK.

use crate::harness::*;
use std::path::Path;
use std::process::Output;

const PEM: &str = "-----BEGIN";
const PASS: &str = "integration passphrase: 7 blue herons";

fn encryption(key_provider: &str, state_extra: &str) -> String {
    encryption_with(key_provider, state_extra, "")
}

/// The encryption block, with `backend` (one `terraform` block holds both).
fn encryption_with(key_provider: &str, state_extra: &str, backend: &str) -> String {
    format!(
        r#"
variable "state_passphrase" {{
  type      = string
  sensitive = true
}}

terraform {{
  {backend}
  encryption {{
    {key_provider}
    method "aes_gcm" "main" {{
      keys = key_provider.{kp}.main
    }}
    method "unencrypted" "migrate" {{}}
    state {{
      method = method.aes_gcm.main
      {state_extra}
    }}
    plan {{
      method = method.aes_gcm.main
    }}
  }}
}}
"#,
        kp = if key_provider.contains("aws_kms") {
            "aws_kms"
        } else {
            "pbkdf2"
        }
    )
}

fn pbkdf2() -> &'static str {
    "key_provider \"pbkdf2\" \"main\" {\n      passphrase = var.state_passphrase\n      iterations = 200000\n    }"
}

fn device(p: &str) -> String {
    format!(
        r#"
resource "aws_iot_thing" "node" {{
  name = "{p}-node"
}}

resource "aws_iot_certificate" "node" {{
  active = true
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

fn run_with(stack: &TestStack, args: &[&str], pass: &str) -> Output {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    // plan/apply/destroy take the stack directory; state and output commands run in it.
    if ["plan", "apply", "destroy"].contains(&args[0])
        && !args.iter().any(|a| a.ends_with(".tfplan"))
    {
        all.push(stack.path().display().to_string());
    }
    let out = command(&all, stack.path())
        .env("TF_VAR_state_passphrase", pass)
        .output()
        .expect("run thingform");
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !String::from_utf8_lossy(stream).contains(pass),
            "the passphrase was printed"
        );
    }
    out
}

fn ok(stack: &TestStack, args: &[&str]) -> String {
    let out = run_with(stack, args, PASS);
    assert!(
        out.status.success(),
        "thingform {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn fails(stack: &TestStack, args: &[&str], pass: &str) -> String {
    let out = run_with(stack, args, pass);
    assert_eq!(out.status.code(), Some(1), "thingform {args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Every file under `dir` (recursively) with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn no_secret_in_files(dir: &Path) -> usize {
    let all = files(dir);
    for (name, bytes) in &all {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(PEM), "{name} holds a private key");
        assert!(!text.contains(PASS), "{name} holds the passphrase");
    }
    all.len()
}

async fn cert_exists(id: &str) -> bool {
    found(
        iot()
            .await
            .describe_certificate()
            .certificate_id(id)
            .send()
            .await,
    )
    .is_some()
}

/// The certificate attached to the Thing, read through the SDK.
async fn cert_of(thing: &str) -> String {
    let out = iot()
        .await
        .list_thing_principals()
        .thing_name(thing)
        .send()
        .await
        .unwrap();
    let arn = out.principals().first().expect("a principal").to_string();
    arn.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn a_passphrase_seals_local_state_and_saved_plans_and_a_wrong_key_changes_nothing() {
    let p = unique("enc");
    let stack = TestStack::new(&format!(
        "{}{}",
        encryption(pbkdf2(), "enforced = true"),
        device(&p)
    ));
    ok(&stack, &["apply", "-auto-approve"]);
    let cert = cert_of(&format!("{p}-node")).await;
    assert!(cert_exists(&cert).await);

    // The key is reachable through thingform, and nowhere on disk.
    let key = ok(&stack, &["output", "-raw", "private_key"]);
    assert!(key.contains(PEM), "output -raw decrypts the state");
    let state = std::fs::read(stack.state_path()).unwrap();
    assert!(state.starts_with(b"{\"thingform_encryption\":1"));

    // A saved plan: sealed, and applied from the file.
    stack.write(
        "topic.tf",
        &format!("resource \"aws_sns_topic\" \"t\" {{\n  name = \"{p}-t\"\n}}\n"),
    );
    let plan_path = stack.path().join("next.tfplan");
    let plan_arg = plan_path.display().to_string();
    ok(&stack, &["plan", "-out", &plan_arg]);
    assert!(
        std::fs::read(&plan_path)
            .unwrap()
            .starts_with(b"{\"thingform_encryption\":1")
    );
    let scanned = no_secret_in_files(stack.path());
    assert!(
        scanned >= 3,
        "state, backup and plan were scanned: {scanned}"
    );
    let out = run_with(&stack, &["apply", &plan_arg], PASS);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    no_secret_in_files(stack.path());

    // A wrong passphrase: exit 1, a clear error, every file byte for byte unchanged.
    let snapshot = files(stack.path());
    for args in [
        &["plan"][..],
        &["apply", "-auto-approve"][..],
        &["state", "list"][..],
    ] {
        let err = fails(&stack, args, "another passphrase, not it");
        assert!(
            err.contains("cannot decrypt") && err.contains("state.json"),
            "{err}"
        );
    }
    assert_eq!(files(stack.path()), snapshot, "nothing was written");

    // A tampered state: the same, never a fresh empty state.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stack.state_path()).unwrap()).unwrap();
    let data = doc["encrypted_data"].as_str().unwrap().to_string();
    let i = data.len() / 2;
    let swapped = if &data[i..i + 1] == "A" { "B" } else { "A" };
    doc["encrypted_data"] = format!("{}{swapped}{}", &data[..i], &data[i + 1..]).into();
    let good = std::fs::read(stack.state_path()).unwrap();
    std::fs::write(stack.state_path(), serde_json::to_vec(&doc).unwrap()).unwrap();
    let err = fails(&stack, &["plan"], PASS);
    assert!(err.contains("modified"), "{err}");
    std::fs::write(stack.state_path(), good).unwrap();

    // A tampered plan file is refused too.
    ok(&stack, &["plan", "-out", &plan_arg]);
    let mut plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plan_path).unwrap()).unwrap();
    plan["key_meta"]["iterations"] = serde_json::json!(200001);
    std::fs::write(&plan_path, serde_json::to_vec(&plan).unwrap()).unwrap();
    let err = fails(&stack, &["apply", &plan_arg], PASS);
    assert!(err.contains("cannot decrypt plan file"), "{err}");

    ok(&stack, &["destroy", "-auto-approve"]);
    assert!(!cert_exists(&cert).await, "destroyed");
    no_secret_in_files(stack.path());
}

#[tokio::test]
async fn plain_state_is_refused_until_the_unencrypted_fallback_then_sealed_on_the_next_write() {
    let p = unique("encmig");
    let plain = format!(
        "variable \"state_passphrase\" {{\n  type = string\n  default = \"\"\n}}\n{}",
        device(&p)
    );
    let stack = TestStack::new(&plain);
    ok(&stack, &["apply", "-auto-approve"]);
    let before = std::fs::read(stack.state_path()).unwrap();
    assert!(
        String::from_utf8_lossy(&before).contains(PEM),
        "plain state holds the key"
    );

    // Encryption without a migration path: refused, the plain state untouched.
    stack.write(
        "main.tf",
        &format!("{}{}", encryption(pbkdf2(), "enforced = true"), device(&p)),
    );
    let err = fails(&stack, &["plan"], PASS);
    assert!(
        err.contains("is not encrypted") && err.contains("method.unencrypted.migrate"),
        "{err}"
    );
    assert_eq!(std::fs::read(stack.state_path()).unwrap(), before);

    // With the fallback, the next write seals it (here: an apply that adds a topic).
    stack.write(
        "main.tf",
        &format!(
            "{}{}resource \"aws_sns_topic\" \"t\" {{\n  name = \"{p}-t\"\n}}\n",
            encryption(
                pbkdf2(),
                "fallback {\n        method = method.unencrypted.migrate\n      }"
            ),
            device(&p)
        ),
    );
    let out = ok(&stack, &["apply", "-auto-approve"]);
    assert!(out.contains("1 added, 0 changed, 0 destroyed"), "{out}");
    // The backup keeps the state as it was, so remove the pre-migration copy first.
    std::fs::remove_file(stack.path().join(".thingform/state.json.backup")).unwrap();
    ok(&stack, &["apply", "-auto-approve"]);
    no_secret_in_files(stack.path());

    // Enforced from now on: the sealed state reads without the fallback.
    stack.write(
        "main.tf",
        &format!(
            "{}{}resource \"aws_sns_topic\" \"t\" {{\n  name = \"{p}-t\"\n}}\n",
            encryption(pbkdf2(), "enforced = true"),
            device(&p)
        ),
    );
    let listed = ok(&stack, &["state", "list"]);
    assert_eq!(listed.lines().count(), 4, "{listed}");
    ok(&stack, &["destroy", "-auto-approve"]);
}

async fn kms_key() -> String {
    let kms = aws_sdk_kms::Client::new(&sdk_config().await);
    let k = kms.create_key().send().await.unwrap();
    k.key_metadata().unwrap().key_id().to_string()
}

async fn bucket_objects(bucket: &str) -> Vec<(String, Vec<u8>)> {
    let s3 = s3().await;
    let list = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    let mut out = vec![];
    for o in list.contents() {
        let k = o.key().unwrap().to_string();
        let body = s3.get_object().bucket(bucket).key(&k).send().await.unwrap();
        out.push((k, body.body.collect().await.unwrap().into_bytes().to_vec()));
    }
    out
}

#[tokio::test]
async fn a_kms_key_seals_s3_state_journal_segments_and_the_errored_state() {
    let p = unique("enckms");
    let bucket = state_bucket().await;
    let key_id = kms_key().await;
    let kp = format!(
        "key_provider \"aws_kms\" \"main\" {{\n      kms_key_id = \"{key_id}\"\n      region     = \"{REGION}\"\n      key_spec   = \"AES_256\"\n    }}"
    );
    let backend = format!(
        "backend \"s3\" {{\n    bucket = \"{bucket}\"\n    key    = \"campus/terraform.tfstate\"\n    region = \"{REGION}\"\n  }}"
    );
    let stack = TestStack::new(&format!(
        "{}{}",
        encryption_with(&kp, "enforced = true", &backend),
        device(&p)
    ));
    // The remote write fails from the third on: the first document and the first
    // journal segment are in S3, the rest goes to errored.tfstate.json.
    let out = command(
        &[
            "apply".into(),
            "-auto-approve".into(),
            "-parallelism=1".into(),
            stack.path().display().to_string(),
        ],
        stack.path(),
    )
    .env("TF_VAR_state_passphrase", "")
    .env("THINGFORM_FAULT_STATE_WRITE", "3+")
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("errored.tfstate.json"),
        "{}\n{err}",
        String::from_utf8_lossy(&out.stdout)
    );
    let objects = bucket_objects(&bucket).await;
    assert!(
        objects.iter().any(|(k, _)| k.contains(".journal/")),
        "a journal segment is in the bucket: {:?}",
        objects.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    for (k, body) in &objects {
        if k.ends_with(".tflock") {
            continue;
        }
        assert!(
            body.starts_with(b"{\"thingform_encryption\":1"),
            "{k} is sealed"
        );
        assert!(
            !String::from_utf8_lossy(body).contains(PEM),
            "{k} holds a private key"
        );
    }
    let errored = stack.path().join("errored.tfstate.json");
    assert!(errored.exists());
    no_secret_in_files(stack.path());

    // The errored state is pushed back (decrypted with the KMS key, sealed again), and
    // the next apply converges on what exists.
    let errored_arg = errored.display().to_string();
    ok(&stack, &["state", "push", &errored_arg]);
    std::fs::remove_file(&errored).unwrap();
    ok(&stack, &["apply", "-auto-approve"]);
    let plan = ok(&stack, &["plan", "-detailed-exitcode"]);
    assert!(plan.contains("No changes"), "{plan}");
    for (k, body) in bucket_objects(&bucket).await {
        assert!(!String::from_utf8_lossy(&body).contains(PEM), "{k}");
    }
    let key = ok(&stack, &["output", "-raw", "private_key"]);
    assert!(key.contains(PEM));

    // Not tested here: a disabled KMS key. moto 5.2.5 still answers Decrypt and
    // GenerateDataKey for a disabled key (AWS refuses with DisabledException); the error
    // path is the same as any KMS failure, which names the key provider.

    // Without the encryption block the state is refused, never read as empty.
    stack.write(
        "main.tf",
        &format!("terraform {{\n  {backend}\n}}\n{}", device(&p)),
    );
    let err = fails(&stack, &["plan"], PASS);
    assert!(
        err.contains("is encrypted") && err.contains("aws_kms.main"),
        "{err}"
    );
    stack.write(
        "main.tf",
        &format!("{}{}", encryption_with(&kp, "", &backend), device(&p)),
    );
    ok(&stack, &["destroy", "-auto-approve"]);
    for (k, body) in bucket_objects(&bucket).await {
        assert!(!String::from_utf8_lossy(&body).contains(PEM), "{k}");
    }
}

#[tokio::test]
async fn a_run_killed_mid_apply_leaves_a_sealed_journal_that_the_next_run_replays() {
    use std::io::{BufRead, BufReader};
    let p = unique("enccrash");
    let topics: String = (0..25)
        .map(|i| {
            format!(
                "resource \"aws_sns_topic\" \"t{i}\" {{\n  name       = \"{p}-{i}\"\n  depends_on = [aws_iot_certificate.node]\n}}\n"
            )
        })
        .collect();
    let stack = TestStack::new(&format!(
        "{}{}{topics}",
        encryption(pbkdf2(), "enforced = true"),
        device(&p)
    ));
    let mut child = command(
        &[
            "apply".into(),
            "-auto-approve".into(),
            "-parallelism=1".into(),
            stack.path().display().to_string(),
        ],
        stack.path(),
    )
    .env("TF_VAR_state_passphrase", PASS)
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // SIGKILL once the certificate and two topics are created (journaled, not compacted).
    let mut done = 0;
    let mut cert_created = false;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("Creation complete") {
            cert_created |= line.starts_with("aws_iot_certificate.node");
            done += 1;
            if cert_created && done >= 3 {
                child.kill().unwrap();
                break;
            }
        }
    }
    child.wait().unwrap();
    assert!(cert_created, "the certificate was created before the kill");
    let journal = stack.path().join(".thingform/state.json.journal");
    let text = std::fs::read_to_string(&journal).expect("the killed run left its journal");
    assert!(
        text.lines().next().unwrap().contains("\"encryption\""),
        "the journal header names its key"
    );
    no_secret_in_files(stack.path());

    // The next run replays the sealed journal: the certificate is not created again.
    let out = ok(&stack, &["apply", "-auto-approve"]);
    assert!(!out.contains("aws_iot_certificate.node: Creating"), "{out}");
    let cert = cert_of(&format!("{p}-node")).await;
    assert!(cert_exists(&cert).await);
    let plan = ok(&stack, &["plan"]);
    assert!(plan.contains("No changes"), "{plan}");
    no_secret_in_files(stack.path());
    ok(&stack, &["destroy", "-auto-approve"]);
}
