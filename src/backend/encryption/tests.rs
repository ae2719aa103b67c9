//! The encryption block as configuration, and the backends with it: nothing plain on
//! disk or in the bucket, migration, wrong keys and tampering.

use super::*;
use crate::backend::Backend;
use crate::state::local::LocalBackend;
use crate::state::remote::{ObjectStore, RemoteBackend};
use crate::state::testing::MemStore;
use crate::state::{Batch, Record, ResourceState, State};

const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----";
const PASS: &str = "unit-test passphrase, long enough";

fn stack(tf: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("main.tf"), tf).unwrap();
    d
}

fn config(extra_state: &str) -> String {
    format!(
        r#"
variable "pass" {{
  type    = string
  default = "{PASS}"
}}
terraform {{
  encryption {{
    key_provider "pbkdf2" "main" {{
      passphrase = var.pass
      iterations = 200000
    }}
    method "aes_gcm" "main" {{
      keys = key_provider.pbkdf2.main
    }}
    method "unencrypted" "migrate" {{}}
    state {{
      method = method.aes_gcm.main
      {extra_state}
    }}
    plan {{
      method = method.aes_gcm.main
    }}
  }}
}}
"#
    )
}

fn load(tf: &str) -> anyhow::Result<Encryption> {
    let d = stack(tf);
    let m = crate::config::load_dir(d.path()).map_err(anyhow::Error::new)?;
    from_module(&m)
}

fn secret_state() -> State {
    let mut attrs = serde_json::Map::new();
    attrs.insert("id".into(), "cert-1".into());
    attrs.insert(
        "private_key".into(),
        format!("{PEM}\nMIIEow...\n-----END RSA PRIVATE KEY-----\n").into(),
    );
    let mut s = State::new();
    s.serial = 1;
    s.upsert(ResourceState::managed(
        "aws_iot_certificate.c".parse().unwrap(),
        attrs,
    ));
    s
}

fn no_pem_in(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).to_string();
            assert!(
                !text.contains("PRIVATE KEY"),
                "{} holds a private key",
                p.display()
            );
        }
    }
}

#[test]
fn the_block_is_read_in_opentofu_syntax() {
    let e = load(&config("enforced = true")).unwrap();
    let s = e.state.unwrap();
    assert!(s.encrypts() && !s.reads_plain());
    assert!(e.plan.unwrap().encrypts());
    // Without a plan block, plans are sealed like the state (a plan holds the state).
    let tf = config("");
    let no_plan_block = tf.replace(
        &tf[tf.find("    plan {").unwrap()..tf.find("  }\n}").unwrap()],
        "",
    );
    let e = load(&no_plan_block).unwrap();
    assert!(e.plan.unwrap().encrypts());
    let none = load("variable \"x\" {}\n").unwrap();
    assert!(none.state.is_none() && none.plan.is_none());
}

#[test]
fn mistakes_name_file_line_and_the_fix_and_never_the_passphrase() {
    let cases = [
        (
            config("").replace(
                "keys = key_provider.pbkdf2.main",
                "keys = key_provider.pbkdf2.other",
            ),
            "main.tf:13",
            "key_provider.pbkdf2.other is not declared",
        ),
        (
            config("").replace(
                "method = method.aes_gcm.main\n      \n",
                "method = method.aes_gcm.nope\n",
            ),
            "main.tf:17",
            "method.aes_gcm.nope is not declared",
        ),
        (
            config("").replace("iterations = 200000", "iterations = 1000"),
            "main.tf:10",
            "at least 200000",
        ),
        (
            config("").replace("key_provider \"pbkdf2\"", "key_provider \"vault\""),
            "main.tf:8",
            "\"vault\" is not supported",
        ),
        (
            config("bogus = 1"),
            "main.tf:18",
            "unsupported argument `bogus`",
        ),
        (
            config("").replace(PASS, "short"),
            "main.tf:9",
            "at least 16 characters",
        ),
        (
            config("enforced = true").replace(
                "method = method.aes_gcm.main\n      enforced",
                "method = method.unencrypted.migrate\n      enforced",
            ),
            "main.tf:16",
            "enforced",
        ),
    ];
    for (tf, at, what) in cases {
        let e = format!(
            "{:#}",
            load(&tf)
                .err()
                .unwrap_or_else(|| panic!("accepted: {what}"))
        );
        assert!(e.contains(at) && e.contains(what), "{what}: {e}");
        assert!(!e.contains("long enough"), "{e}");
    }
    // A variable without a value: where to set it, never -var.
    let tf = config("").replace(&format!("default = \"{PASS}\""), "");
    let e = format!("{:#}", load(&tf).err().unwrap());
    assert!(e.contains("TF_VAR_pass") && e.contains("main.tf:9"), "{e}");
}

fn batch(serial: u64, addr: &str) -> Batch {
    let mut attrs = serde_json::Map::new();
    attrs.insert("id".into(), addr.into());
    attrs.insert("private_key".into(), format!("{PEM}\n...").into());
    Batch {
        serial,
        records: vec![Record::Put {
            resource: ResourceState::managed(addr.parse().unwrap(), attrs),
        }],
    }
}

#[tokio::test]
async fn local_state_journal_and_backup_are_sealed_and_read_back() {
    let enc = load(&config("enforced = true")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let be = Backend::Local(Arc::new(LocalBackend::with_crypt(
        path.clone(),
        enc.state.clone(),
    )));
    assert!(be.read().await.unwrap().is_none());
    be.write(&secret_state()).await.unwrap();
    be.store()
        .append(&batch(2, "aws_iot_certificate.d"))
        .await
        .unwrap();
    be.backup().unwrap();
    assert!(dir.path().join("state.json.journal").exists());
    assert!(dir.path().join("state.json.backup").exists());
    no_pem_in(dir.path());

    // The next run (a fresh configuration, same passphrase) sees document + journal.
    let enc2 = load(&config("enforced = true")).unwrap();
    let next = Backend::Local(Arc::new(LocalBackend::with_crypt(path.clone(), enc2.state)));
    let back = next.read().await.unwrap().unwrap();
    assert_eq!(back.serial, 2);
    assert_eq!(back.resources.len(), 2);

    // Without the encryption block: a clear error, never an empty state.
    let plain = Backend::Local(Arc::new(LocalBackend::new(path.clone())));
    let e = plain.read().await.unwrap_err().to_string();
    assert!(
        e.contains("is encrypted") && e.contains("pbkdf2.main"),
        "{e}"
    );

    // Another passphrase: a clear error naming the file, nothing written.
    let before = std::fs::read(&path).unwrap();
    let wrong = load(&config("").replace(PASS, "a different passphrase!")).unwrap();
    let w = Backend::Local(Arc::new(LocalBackend::with_crypt(
        path.clone(),
        wrong.state,
    )));
    let e = w.read().await.unwrap_err().to_string();
    assert!(
        e.contains("cannot decrypt") && e.contains("state.json"),
        "{e}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn a_tampered_document_or_journal_line_is_an_error() {
    let enc = load(&config("")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let be = Backend::Local(Arc::new(LocalBackend::with_crypt(
        path.clone(),
        enc.state.clone(),
    )));
    be.read().await.unwrap();
    be.write(&secret_state()).await.unwrap();
    be.store()
        .append(&batch(2, "aws_iot_certificate.d"))
        .await
        .unwrap();
    be.store()
        .append(&batch(3, "aws_iot_certificate.e"))
        .await
        .unwrap();

    // One journal line swapped for an earlier one's bytes modified: damaged, not torn.
    let jp = dir.path().join("state.json.journal");
    let journal = std::fs::read_to_string(&jp).unwrap();
    let mut lines: Vec<String> = journal.lines().map(str::to_string).collect();
    lines[1] = lines[1].replacen('A', "B", 1).replacen('a', "b", 1);
    std::fs::write(&jp, lines.join("\n") + "\n").unwrap();
    let next = Backend::Local(Arc::new(LocalBackend::with_crypt(
        path.clone(),
        enc.state.clone(),
    )));
    let e = next.read().await.unwrap_err().to_string();
    assert!(e.contains("damaged at line 2"), "{e}");
    // A torn last line is still a crash, not tampering.
    std::fs::write(&jp, &journal[..journal.len() - 5]).unwrap();
    let s = next.read().await.unwrap().unwrap();
    assert_eq!(s.resources.len(), 2);

    // A modified document.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let data = doc["encrypted_data"].as_str().unwrap();
    let flipped = if data.starts_with('A') { "B" } else { "A" };
    doc["encrypted_data"] = format!("{flipped}{}", &data[1..]).into();
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let e = next.read().await.unwrap_err().to_string();
    assert!(
        e.contains("cannot decrypt") && e.contains("modified"),
        "{e}"
    );
}

#[tokio::test]
async fn plain_state_is_read_only_while_migrating_and_encrypted_on_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let plain = LocalBackend::new(path.clone());
    plain.write(&secret_state()).unwrap();
    plain.append(&batch(2, "aws_iot_certificate.d")).unwrap();

    let strict = load(&config("enforced = true")).unwrap();
    let be = Backend::Local(Arc::new(LocalBackend::with_crypt(
        path.clone(),
        strict.state,
    )));
    let e = be.read().await.unwrap_err().to_string();
    assert!(
        e.contains("is not encrypted") && e.contains("fallback"),
        "{e}"
    );

    let migrating = load(&config(
        "fallback {\n method = method.unencrypted.migrate\n }",
    ))
    .unwrap();
    let be = Backend::Local(Arc::new(LocalBackend::with_crypt(
        path.clone(),
        migrating.state,
    )));
    let mut s = be.read().await.unwrap().unwrap();
    assert_eq!(s.resources.len(), 2);
    s.serial += 1;
    be.write(&s).await.unwrap();
    no_pem_in(dir.path());
    let strict = load(&config("enforced = true")).unwrap();
    let be = Backend::Local(Arc::new(LocalBackend::with_crypt(path, strict.state)));
    assert_eq!(be.read().await.unwrap().unwrap().resources.len(), 2);
}

#[tokio::test]
async fn the_remote_backend_uploads_only_sealed_objects() {
    let enc = load(&config("enforced = true")).unwrap();
    let store = Arc::new(MemStore::default());
    let mut rb = RemoteBackend::new(store.clone(), "s/state".into(), None);
    rb.crypt = enc.state.clone();
    let errored = tempfile::tempdir().unwrap();
    rb.errored_path = errored.path().join("errored.tfstate.json");
    let be = Backend::Remote(Arc::new(rb));
    be.read().await.unwrap();
    be.write(&secret_state()).await.unwrap();
    be.store()
        .append(&batch(2, "aws_iot_certificate.d"))
        .await
        .unwrap();
    let keys = store.keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for k in &keys {
        let (body, _) = store.get(k).await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&body).to_string();
        assert!(
            text.starts_with("{\"thingform_encryption\":1"),
            "{k}: {text}"
        );
        assert!(!text.contains("PRIVATE KEY"), "{k}");
    }
    let mut next = RemoteBackend::new(store.clone(), "s/state".into(), None);
    next.crypt = load(&config("")).unwrap().state;
    let back = Backend::Remote(Arc::new(next))
        .read()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.resources.len(), 2);

    // Without the block: refused, not read as empty.
    let bare = RemoteBackend::new(store.clone(), "s/state".into(), None);
    let e = bare.read().await.unwrap_err().to_string();
    assert!(e.contains("mem://s/state is encrypted"), "{e}");
}

#[tokio::test]
async fn a_failed_upload_saves_the_errored_state_sealed_and_push_reads_it() {
    let enc = load(&config("enforced = true")).unwrap();
    let store = Arc::new(MemStore::default());
    let mut rb = RemoteBackend::new(store.clone(), "s/state".into(), None);
    rb.crypt = enc.state.clone();
    let dir = tempfile::tempdir().unwrap();
    rb.errored_path = dir.path().join("errored.tfstate.json");
    let rb = Arc::new(rb);
    let be = Backend::Remote(rb.clone());
    be.read().await.unwrap();
    // Someone else wrote in between: the conditional write fails.
    store
        .put(
            "s/state",
            b"{}".to_vec(),
            crate::state::remote::Condition::None,
        )
        .await
        .unwrap();
    let e = be.write(&secret_state()).await.unwrap_err().to_string();
    assert!(e.contains("errored.tfstate.json"), "{e}");
    no_pem_in(dir.path());
    let pushed = be
        .read_file(&dir.path().join("errored.tfstate.json"))
        .await
        .unwrap();
    assert_eq!(pushed.resources.len(), 1);
    // A plain file handed to `state push` (edited `state pull` output) is taken as is.
    let pulled = dir.path().join("pulled.json");
    std::fs::write(&pulled, secret_state().to_json_pretty()).unwrap();
    assert_eq!(be.read_file(&pulled).await.unwrap().resources.len(), 1);
}

#[tokio::test]
async fn saved_plans_are_sealed_with_the_stack_key() {
    let d = stack(&config(""));
    let plan = format!(
        "{{\"stack_dir\":{},\"secret\":\"{PEM}\"}}",
        serde_json::to_string(&d.path().display().to_string()).unwrap()
    );
    let sealed = seal_plan(d.path(), plan.clone().into_bytes())
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("PRIVATE KEY"));
    let f = d.path().join("p.tfplan");
    let back = open_plan(&f, sealed.clone()).await.unwrap();
    assert_eq!(back, plan.as_bytes());
    // A plain plan for a stack that encrypts plans is refused.
    let e = open_plan(&f, plan.into_bytes())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not encrypted"), "{e}");
    // A state file is not a plan, even under the same key.
    let enc = load(&config("")).unwrap();
    let st = enc.state.unwrap();
    st.prepare_write().await.unwrap();
    let as_state = st
        .seal(b"{}", "state", Some(&d.path().display().to_string()))
        .unwrap();
    let e = open_plan(&f, as_state).await.unwrap_err().to_string();
    assert!(e.contains("cannot decrypt"), "{e}");
}

#[tokio::test]
async fn a_leftover_journal_under_a_rotated_key_is_ignored_and_a_live_one_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let jp = dir.path().join("state.json.journal");
    let doc = secret_state();
    let old = load(&config("")).unwrap();
    let be = Backend::Local(Arc::new(LocalBackend::with_crypt(
        path.clone(),
        old.state.clone(),
    )));
    be.read().await.unwrap();
    be.write(&doc).await.unwrap();
    be.store()
        .append(&batch(2, "aws_iot_certificate.d"))
        .await
        .unwrap();
    let journal = std::fs::read(&jp).unwrap();

    // Rotated to another key provider, the old one not kept as a fallback.
    let rotated = || {
        load(
            &config("")
                .replace(
                    "key_provider \"pbkdf2\" \"main\"",
                    "key_provider \"pbkdf2\" \"new\"",
                )
                .replace("key_provider.pbkdf2.main", "key_provider.pbkdf2.new")
                .replace(PASS, "the rotated passphrase, new"),
        )
        .unwrap()
        .state
    };
    let rewrite = async |d: &State| {
        std::fs::remove_file(&path).unwrap();
        let w = Backend::Local(Arc::new(LocalBackend::with_crypt(path.clone(), rotated())));
        w.read().await.unwrap();
        w.write(d).await.unwrap();
        std::fs::write(&jp, &journal).unwrap();
    };

    // The journal continues the document: its key is needed, and the error names it.
    rewrite(&doc).await;
    let r = Backend::Local(Arc::new(LocalBackend::with_crypt(path.clone(), rotated())));
    let e = r.read().await.unwrap_err().to_string();
    assert!(
        e.contains("key provider pbkdf2.main") && e.contains("fallback"),
        "{e}"
    );

    // A leftover of an older document: ignored, whatever its key.
    let mut newer = doc.clone();
    newer.serial = 5;
    rewrite(&newer).await;
    let r = Backend::Local(Arc::new(LocalBackend::with_crypt(path.clone(), rotated())));
    assert_eq!(r.read().await.unwrap().unwrap().serial, 5);
}
