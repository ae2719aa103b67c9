//! The envelope: sealing, opening, wrong keys, tampering, fallbacks, journal lines.

use super::*;

fn pbkdf2(name: &str, pass: &str) -> Arc<dyn KeyProvider> {
    Arc::new(Pbkdf2::new(
        name,
        pass.into(),
        PBKDF2_MIN_ITERATIONS,
        Hash::Sha512,
        32,
    ))
}

fn aes(name: &str, keys: &Arc<dyn KeyProvider>) -> Method {
    Method::AesGcm {
        name: name.into(),
        keys: keys.clone(),
    }
}

const SECRET: &[u8] = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n";

#[tokio::test]
async fn sealed_state_hides_the_secret_and_opens_with_the_same_passphrase() {
    let k = pbkdf2("main", "correct horse battery staple");
    let c = Crypt::new("state", aes("main", &k), vec![]);
    c.prepare_write().await.unwrap();
    let sealed = c.seal(SECRET, "state", None).unwrap();
    assert!(looks_sealed(&sealed));
    assert!(!String::from_utf8_lossy(&sealed).contains("PRIVATE KEY"));
    // The next run: a new Crypt from the same configuration.
    let next = Crypt::new("state", aes("main", &k), vec![]);
    let back = next.open_async(sealed.clone(), "state", "s").await.unwrap();
    assert_eq!(back, SECRET);
    // Its writes reuse the derived key (one PBKDF2 per run), with a fresh nonce.
    next.prepare_write().await.unwrap();
    let again = next.seal(SECRET, "state", None).unwrap();
    assert_ne!(again, sealed);
    assert_eq!(
        sealed_head(&again).unwrap().unwrap().key_meta,
        sealed_head(&sealed).unwrap().unwrap().key_meta
    );
}

#[tokio::test]
async fn a_wrong_passphrase_a_modified_byte_or_head_or_purpose_is_an_error() {
    let k = pbkdf2("main", "correct horse battery staple");
    let c = Crypt::new("state", aes("main", &k), vec![]);
    c.prepare_write().await.unwrap();
    let sealed = c.seal(SECRET, "state", None).unwrap();

    let wrong = Crypt::new(
        "state",
        aes("main", &pbkdf2("main", "not the right passphrase")),
        vec![],
    );
    let e = wrong
        .open_async(sealed.clone(), "state", "the state")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot decrypt the state"), "{e}");
    assert!(!e.contains("correct horse"), "{e}");

    let mut env: serde_json::Value = serde_json::from_slice(&sealed).unwrap();
    let data = env["encrypted_data"].as_str().unwrap().to_string();
    let mut raw = B64.decode(&data).unwrap();
    raw[20] ^= 1;
    env["encrypted_data"] = B64.encode(&raw).into();
    let tampered = serde_json::to_vec(&env).unwrap();
    let e = c.open_async(tampered, "state", "s").await.unwrap_err();
    assert!(e.to_string().contains("modified"), "{e}");

    let mut env: serde_json::Value = serde_json::from_slice(&sealed).unwrap();
    env["key_meta"]["iterations"] = json!(PBKDF2_MIN_ITERATIONS + 1);
    let e = c
        .open_async(serde_json::to_vec(&env).unwrap(), "state", "s")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot decrypt"), "{e}");

    // A state sealed for the state cannot be passed off as a plan.
    let e = c.open_async(sealed, "plan", "p").await.unwrap_err();
    assert!(e.to_string().contains("cannot decrypt"), "{e}");
}

#[tokio::test]
async fn plain_input_needs_an_unencrypted_fallback_and_fallbacks_read_old_keys() {
    let old = pbkdf2("old", "the old passphrase, rotated");
    let new = pbkdf2("new", "the new passphrase, in use now");
    let strict = Crypt::new("state", aes("new", &new), vec![]);
    let e = strict
        .open_async(b"{\"version\":2}".to_vec(), "state", "state.json")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("is not encrypted") && e.contains("fallback"),
        "{e}"
    );

    let migrating = Crypt::new(
        "state",
        aes("new", &new),
        vec![Method::Unencrypted {
            name: "migrate".into(),
        }],
    );
    assert_eq!(
        migrating
            .open_async(b"{}".to_vec(), "state", "s")
            .await
            .unwrap(),
        b"{}"
    );

    let writer = Crypt::new("state", aes("old", &old), vec![]);
    writer.prepare_write().await.unwrap();
    let sealed = writer.seal(SECRET, "state", None).unwrap();
    let e = strict
        .open_async(sealed.clone(), "state", "s")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("aes_gcm.old") && e.contains("fallback"), "{e}");
    let rotating = Crypt::new("state", aes("new", &new), vec![aes("old", &old)]);
    assert_eq!(
        rotating.open_async(sealed, "state", "s").await.unwrap(),
        SECRET
    );
    // Writing uses the new method, not the key read through the fallback.
    rotating.prepare_write().await.unwrap();
    let head = rotating.write_head().unwrap().unwrap();
    assert_eq!(head.key_provider, "pbkdf2.new");
}

#[tokio::test]
async fn journal_lines_are_sealed_under_the_header_key() {
    let k = pbkdf2("main", "correct horse battery staple");
    let c = Crypt::new("state", aes("main", &k), vec![]);
    assert!(c.write_head().is_err(), "no key before prepare_write");
    c.prepare_write().await.unwrap();
    let head = c.write_head().unwrap().unwrap();
    let line = c.seal_line(SECRET).unwrap();
    assert!(!line.contains('\n') && !line.contains("PRIVATE"));
    let reader = Crypt::new("state", aes("main", &k), vec![]);
    reader.unlock(&head, "j").await.unwrap();
    assert_eq!(reader.open_line(&head, &line, "j").unwrap(), SECRET);
    assert!(
        reader
            .open_line(&head, &line[..line.len() - 4], "j")
            .is_err()
    );
}
