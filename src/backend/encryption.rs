//! `terraform { encryption { ... } }`, in OpenTofu's syntax: key providers (`pbkdf2`,
//! `aws_kms`), methods (`aes_gcm`, `unencrypted`), and the `state {}` and `plan {}`
//! settings (`method`, `enforced`, `fallback {}`), turned into the state layer's
//! [`Crypt`]s; the AWS KMS key provider (GenerateDataKey/Decrypt); and the sealing of
//! saved plan files.
//!
//! A passphrase is an expression over variables (`passphrase = var.state_passphrase`),
//! whose value comes from `TF_VAR_<name>` or the variable's default — never `-var`, which
//! would put it in the process list and shell history. It is never printed.

use crate::config::eval::Scope;
use crate::config::{Attr, BlockNode, Module};
use crate::state::crypt::{
    self, Crypt, Hash, KeyBytes, KeyProvider, Method, PBKDF2_DEFAULT_ITERATIONS,
    PBKDF2_MIN_ITERATIONS, PBKDF2_MIN_PASSPHRASE, Pbkdf2,
};
use crate::value::Value;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hcl::expr::{Expression, TraversalOperator};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The stack's encryption: of the state (documents, journal, backups, errored state) and
/// of saved plans. `None`: that part is written plain.
#[derive(Clone, Default)]
pub struct Encryption {
    pub state: Option<Arc<Crypt>>,
    pub plan: Option<Arc<Crypt>>,
}

fn err(loc: &impl std::fmt::Display, msg: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{loc}: {msg}")
}

/// `a.b.c` written as a bare reference, as its parts.
fn reference(expr: &Expression) -> Option<Vec<String>> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let mut parts = vec![root.to_string()];
    for op in &t.operators {
        match op {
            TraversalOperator::GetAttr(a) => parts.push(a.to_string()),
            _ => return None,
        }
    }
    Some(parts)
}

/// `PREFIX.TYPE.NAME` from an attribute, as `(TYPE, NAME)`.
fn typed_ref(a: &Attr, prefix: &str) -> anyhow::Result<(String, String)> {
    match reference(&a.expr).as_deref() {
        Some([p, t, n]) if p == prefix => Ok((t.clone(), n.clone())),
        _ => Err(err(
            &a.loc,
            format!("`{}` must be a reference like {prefix}.TYPE.NAME", a.name),
        )),
    }
}

/// The values `var.NAME` has for the encryption block: `TF_VAR_NAME`, else the default.
fn variables(module: &Module) -> BTreeMap<String, Value> {
    let plain = Scope::new(PathBuf::from("."));
    let mut vars = BTreeMap::new();
    for (name, v) in &module.variables {
        if let Ok(raw) = std::env::var(format!("TF_VAR_{name}")) {
            vars.insert(name.clone(), Value::String(raw));
        } else if let Some(d) = &v.default
            && let Ok(val) = plain.eval(&d.expr)
        {
            vars.insert(name.clone(), val);
        }
    }
    vars
}

struct Ctx<'a> {
    scope: Scope,
    module: &'a Module,
}

impl Ctx<'_> {
    fn string(&self, a: &Attr) -> anyhow::Result<String> {
        if let Some(parts) = reference(&a.expr)
            && let [root, name] = parts.as_slice()
            && root == "var"
        {
            if !self.module.variables.contains_key(name) {
                return Err(err(
                    &a.loc,
                    format!("`{}` refers to var.{name}, which is not declared", a.name),
                ));
            }
            if !self.scope.roots.get("var").is_some_and(|v| match v {
                Value::Map(m) => m.contains_key(name),
                _ => false,
            }) {
                return Err(err(
                    &a.loc,
                    format!(
                        "`{}` needs var.{name}: set it in the environment as TF_VAR_{name} (it is read from there, never from -var)",
                        a.name
                    ),
                ));
            }
        }
        // Never echo the value: an evaluation error names the attribute only.
        match self.scope.eval(&a.expr) {
            Ok(Value::String(s)) => Ok(s),
            Ok(_) => Err(err(&a.loc, format!("`{}` must be a string", a.name))),
            Err(_) => Err(err(
                &a.loc,
                format!(
                    "`{}` must be a literal or a variable (var.NAME) in the encryption block",
                    a.name
                ),
            )),
        }
    }

    fn number(&self, a: &Attr) -> anyhow::Result<u64> {
        match self.scope.eval(&a.expr) {
            Ok(Value::Number(n)) if n >= 0.0 && n.fract() == 0.0 && n < 1e15 => Ok(n as u64),
            _ => Err(err(&a.loc, format!("`{}` must be a whole number", a.name))),
        }
    }

    fn boolean(&self, a: &Attr) -> anyhow::Result<bool> {
        match self.scope.eval(&a.expr) {
            Ok(Value::Bool(b)) => Ok(b),
            _ => Err(err(&a.loc, format!("`{}` must be true or false", a.name))),
        }
    }
}

fn only(b: &BlockNode, attrs: &[&str], blocks: &[&str]) -> anyhow::Result<()> {
    for a in &b.attrs {
        if !attrs.contains(&a.name.as_str()) {
            return Err(err(
                &a.loc,
                format!(
                    "unsupported argument `{}` in {} {}; expected one of: {}",
                    a.name,
                    b.kind,
                    b.labels.join("."),
                    attrs.join(", ")
                ),
            ));
        }
    }
    for n in &b.blocks {
        if !blocks.contains(&n.kind.as_str()) {
            return Err(err(
                &n.loc,
                format!("unsupported block `{}` in {}", n.kind, b.kind),
            ));
        }
    }
    Ok(())
}

fn labels(b: &BlockNode) -> anyhow::Result<(String, String)> {
    match b.labels.as_slice() {
        [t, n] => Ok((t.clone(), n.clone())),
        _ => Err(err(
            &b.loc,
            format!("a {} block needs two labels: TYPE and NAME", b.kind),
        )),
    }
}

/// Reads the encryption block of a loaded stack (nothing configured: both `None`).
pub fn from_module(module: &Module) -> anyhow::Result<Encryption> {
    let Some(enc) = module
        .terraform
        .as_ref()
        .and_then(|t| t.blocks.iter().find(|b| b.kind == "encryption"))
    else {
        return Ok(Encryption::default());
    };
    only(
        enc,
        &[],
        &[
            "key_provider",
            "method",
            "state",
            "plan",
            "remote_state_data_sources",
        ],
    )?;
    let mut scope = Scope::new(module.dir.clone());
    *scope.root_map("var") = variables(module);
    let cx = Ctx { scope, module };

    let mut providers: BTreeMap<(String, String), Arc<dyn KeyProvider>> = BTreeMap::new();
    for kp in enc.blocks.iter().filter(|b| b.kind == "key_provider") {
        let (t, n) = labels(kp)?;
        let p: Arc<dyn KeyProvider> = match t.as_str() {
            "pbkdf2" => Arc::new(pbkdf2(&cx, kp, &n)?),
            "aws_kms" => Arc::new(kms(&cx, kp, &n)?),
            other => {
                return Err(err(
                    &kp.loc,
                    format!(
                        "key provider \"{other}\" is not supported; thingform supports \"pbkdf2\" (a passphrase) and \"aws_kms\""
                    ),
                ));
            }
        };
        if providers.insert((t.clone(), n.clone()), p).is_some() {
            return Err(err(
                &kp.loc,
                format!("key_provider \"{t}\" \"{n}\" is declared twice"),
            ));
        }
    }

    let mut methods: BTreeMap<(String, String), Method> = BTreeMap::new();
    for m in enc.blocks.iter().filter(|b| b.kind == "method") {
        let (t, n) = labels(m)?;
        let method = match t.as_str() {
            "aes_gcm" => {
                only(m, &["keys", "aad"], &[])?;
                let a = m.attr("keys").ok_or_else(|| {
                    err(
                        &m.loc,
                        "method \"aes_gcm\" needs `keys = key_provider.TYPE.NAME`",
                    )
                })?;
                let key = typed_ref(a, "key_provider")?;
                let keys = providers.get(&key).cloned().ok_or_else(|| {
                    err(
                        &a.loc,
                        format!(
                            "key_provider.{}.{} is not declared in the encryption block",
                            key.0, key.1
                        ),
                    )
                })?;
                Method::AesGcm {
                    name: n.clone(),
                    keys,
                }
            }
            "unencrypted" => {
                only(m, &[], &[])?;
                Method::Unencrypted { name: n.clone() }
            }
            other => {
                return Err(err(
                    &m.loc,
                    format!(
                        "method \"{other}\" is not supported; use \"aes_gcm\" (or \"unencrypted\" to migrate)"
                    ),
                ));
            }
        };
        if methods.insert((t.clone(), n.clone()), method).is_some() {
            return Err(err(
                &m.loc,
                format!("method \"{t}\" \"{n}\" is declared twice"),
            ));
        }
    }

    let target = |what: &'static str| -> anyhow::Result<Option<Arc<Crypt>>> {
        let Some(b) = enc.blocks.iter().find(|b| b.kind == what) else {
            return Ok(None);
        };
        only(b, &["method", "enforced"], &["fallback"])?;
        let pick = |a: &Attr| -> anyhow::Result<Method> {
            let key = typed_ref(a, "method")?;
            methods.get(&key).cloned().ok_or_else(|| {
                err(
                    &a.loc,
                    format!(
                        "method.{}.{} is not declared in the encryption block",
                        key.0, key.1
                    ),
                )
            })
        };
        let method = match b.attr("method") {
            Some(a) => pick(a)?,
            None => {
                return Err(err(
                    &b.loc,
                    format!("the {what} block needs `method = method.TYPE.NAME`"),
                ));
            }
        };
        let mut fallbacks = vec![];
        for f in b.blocks.iter().filter(|f| f.kind == "fallback") {
            only(f, &["method"], &[])?;
            let a = f
                .attr("method")
                .ok_or_else(|| err(&f.loc, "a fallback block needs `method = method.TYPE.NAME`"))?;
            fallbacks.push(pick(a)?);
        }
        let enforced = match b.attr("enforced") {
            Some(a) => cx.boolean(a)?,
            None => false,
        };
        if enforced && matches!(method, Method::Unencrypted { .. }) {
            return Err(err(
                &b.loc,
                format!(
                    "the {what} block is `enforced` but its method is unencrypted; enforced encryption cannot write plain {what}s"
                ),
            ));
        }
        Ok(Some(Arc::new(Crypt::new(what, method, fallbacks))))
    };
    let state = target("state")?;
    // A saved plan holds the refreshed state: without a `plan {}` block it is sealed as
    // the state is (`plan { method = method.unencrypted.NAME }` opts out).
    let plan = match target("plan")? {
        Some(p) => Some(p),
        None => state.as_ref().map(|s| Arc::new(s.same_for("plan"))),
    };
    Ok(Encryption { state, plan })
}

/// The encryption of the stack in `dir` (a stack that does not load: none).
pub fn for_dir(dir: &Path) -> anyhow::Result<Encryption> {
    match crate::config::load_dir(dir) {
        Ok(m) => from_module(&m),
        Err(_) => Ok(Encryption::default()),
    }
}

fn pbkdf2(cx: &Ctx, b: &BlockNode, name: &str) -> anyhow::Result<Pbkdf2> {
    only(
        b,
        &[
            "passphrase",
            "iterations",
            "hash_function",
            "salt_length",
            "key_length",
        ],
        &[],
    )?;
    let a = b.attr("passphrase").ok_or_else(|| {
        err(&b.loc, "key_provider \"pbkdf2\" needs `passphrase` (e.g. passphrase = var.state_passphrase, set through TF_VAR_state_passphrase)")
    })?;
    let passphrase = cx.string(a)?;
    if passphrase.chars().count() < PBKDF2_MIN_PASSPHRASE {
        return Err(err(
            &a.loc,
            format!("the passphrase must be at least {PBKDF2_MIN_PASSPHRASE} characters long"),
        ));
    }
    let iterations = match b.attr("iterations") {
        Some(a) => {
            let n = cx.number(a)?;
            if n < PBKDF2_MIN_ITERATIONS as u64 || n > u32::MAX as u64 {
                return Err(err(
                    &a.loc,
                    format!("`iterations` must be at least {PBKDF2_MIN_ITERATIONS}"),
                ));
            }
            n as u32
        }
        None => PBKDF2_DEFAULT_ITERATIONS,
    };
    let hash = match b.attr("hash_function") {
        Some(a) => {
            let s = cx.string(a)?;
            Hash::parse(&s)
                .ok_or_else(|| err(&a.loc, "`hash_function` must be \"sha256\" or \"sha512\""))?
        }
        None => Hash::Sha512,
    };
    let salt_length = match b.attr("salt_length") {
        Some(a) => {
            let n = cx.number(a)?;
            if !(16..=512).contains(&n) {
                return Err(err(&a.loc, "`salt_length` must be between 16 and 512"));
            }
            n as usize
        }
        None => 32,
    };
    if let Some(a) = b.attr("key_length")
        && cx.number(a)? != 32
    {
        return Err(err(&a.loc, "`key_length` must be 32 (AES-256)"));
    }
    Ok(Pbkdf2::new(name, passphrase, iterations, hash, salt_length))
}

/// The `aws_kms` key provider: a data key per run from KMS GenerateDataKey (AES_256),
/// stored wrapped beside the data and unwrapped with KMS Decrypt.
pub struct Kms {
    name: String,
    key_id: String,
    region: Option<String>,
    profile: Option<String>,
    endpoint: Option<String>,
    client: tokio::sync::OnceCell<aws_sdk_kms::Client>,
}

fn kms(cx: &Ctx, b: &BlockNode, name: &str) -> anyhow::Result<Kms> {
    only(
        b,
        &["kms_key_id", "key_spec", "region", "profile", "endpoint"],
        &[],
    )?;
    let a = b.attr("kms_key_id").ok_or_else(|| {
        err(
            &b.loc,
            "key_provider \"aws_kms\" needs `kms_key_id` (a key ID, ARN or alias)",
        )
    })?;
    let key_id = cx.string(a)?;
    if let Some(a) = b.attr("key_spec")
        && cx.string(a)? != "AES_256"
    {
        return Err(err(&a.loc, "`key_spec` must be \"AES_256\""));
    }
    let opt = |k: &str| b.attr(k).map(|a| cx.string(a)).transpose();
    Ok(Kms {
        name: format!("aws_kms.{name}"),
        key_id,
        region: opt("region")?,
        profile: opt("profile")?,
        endpoint: opt("endpoint")?,
        client: tokio::sync::OnceCell::new(),
    })
}

impl Kms {
    async fn client(&self) -> &aws_sdk_kms::Client {
        self.client
            .get_or_init(|| async {
                let mut l = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(r) = &self.region {
                    l = l.region(aws_types::region::Region::new(r.clone()));
                }
                if let Some(p) = &self.profile {
                    l = l.profile_name(p);
                }
                if let Some(e) = &self.endpoint {
                    l = l.endpoint_url(e);
                }
                aws_sdk_kms::Client::new(&l.load().await)
            })
            .await
    }
}

fn sdk_error<E: std::error::Error + 'static>(e: E) -> anyhow::Error {
    anyhow::anyhow!(
        "{}",
        aws_smithy_types::error::display::DisplayErrorContext(e)
    )
}

fn key_bytes(plain: Option<&aws_smithy_types::Blob>) -> anyhow::Result<KeyBytes> {
    let b = plain
        .map(|b| b.as_ref())
        .filter(|b| b.len() == 32)
        .ok_or_else(|| anyhow::anyhow!("KMS returned no 256-bit data key"))?;
    let mut k = zeroize::Zeroizing::new([0u8; 32]);
    k.copy_from_slice(b);
    Ok(k)
}

#[async_trait]
impl KeyProvider for Kms {
    fn name(&self) -> &str {
        &self.name
    }
    async fn encryption_key(&self) -> anyhow::Result<(KeyBytes, Json)> {
        let out = self
            .client()
            .await
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("KMS GenerateDataKey with {}: {}", self.key_id, sdk_error(e))
            })?;
        let key = key_bytes(out.plaintext())?;
        let wrapped = out
            .ciphertext_blob()
            .ok_or_else(|| anyhow::anyhow!("KMS returned no wrapped data key"))?;
        Ok((
            key,
            json!({"ciphertext_blob": B64.encode(wrapped.as_ref())}),
        ))
    }
    async fn decryption_key(&self, meta: &Json) -> anyhow::Result<KeyBytes> {
        let blob = meta
            .get("ciphertext_blob")
            .and_then(Json::as_str)
            .and_then(|s| B64.decode(s).ok())
            .ok_or_else(|| anyhow::anyhow!("its wrapped KMS data key is damaged"))?;
        let out = self
            .client()
            .await
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(aws_smithy_types::Blob::new(blob))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("KMS Decrypt with {}: {}", self.key_id, sdk_error(e)))?;
        key_bytes(out.plaintext())
    }
}

/// The bytes of a saved plan as they go to disk: sealed when the stack encrypts plans
/// (the stack directory stays readable in the envelope, to find the key again).
pub async fn seal_plan(stack_dir: &Path, plain: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    let enc = for_dir(stack_dir)?;
    match enc.plan {
        Some(c) if c.encrypts() => {
            c.prepare_write().await?;
            let dir = std::path::absolute(stack_dir).unwrap_or_else(|_| stack_dir.to_path_buf());
            let mut plain = plain;
            let sealed = c.seal(&plain, "plan", Some(&dir.display().to_string()));
            zeroize::Zeroize::zeroize(&mut plain);
            sealed
        }
        _ => Ok(plain),
    }
}

/// A saved plan read from `path`, opened: a sealed one with the key of the stack it
/// names; a plain one refused when that stack encrypts plans and does not migrate.
pub async fn open_plan(path: &Path, bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    let origin = format!("plan file {}", path.display());
    let dir = match crypt::sealed_head(&bytes) {
        Some(head) => {
            let head = head.map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
            PathBuf::from(head.stack_dir.ok_or_else(|| {
                anyhow::anyhow!("{origin} is encrypted but does not name its stack; make it again with `thingform plan -out`")
            })?)
        }
        None => {
            #[derive(serde::Deserialize)]
            struct Dir {
                stack_dir: PathBuf,
            }
            match serde_json::from_slice::<Dir>(&bytes) {
                Ok(d) => d.stack_dir,
                // Not a plan at all: the caller's parse says so.
                Err(_) => return Ok(bytes),
            }
        }
    };
    match for_dir(&dir)?.plan {
        Some(c) => c.open_async(bytes, "plan", &origin).await,
        None => match crypt::sealed_head(&bytes) {
            Some(h) => Err(crypt::not_configured(&origin, h.ok().as_ref(), "plan")),
            None => Ok(bytes),
        },
    }
}

#[cfg(test)]
mod tests;
