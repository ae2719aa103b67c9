//! A Lambda function run locally as the Lambda service runs it: its `bootstrap` (built
//! from the `cargo_lambda {}` crate for this machine) as a process whose environment is
//! the function's own plus what Lambda sets (`AWS_LAMBDA_FUNCTION_NAME`, ...), polling
//! the Lambda Runtime API (`/2018-06-01/runtime/invocation/next`, `.../response`,
//! `.../error`, `/runtime/init/error`) that this module serves on 127.0.0.1. The process
//! stays warm between invocations, as a Lambda execution environment does, and reaches
//! the endpoint through the standard AWS variables.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use tokio::sync::{mpsc, oneshot, watch};

/// How one invocation ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The handler's response (JSON, or a string when it is not JSON).
    Response(Json),
    /// The error the runtime reported (`{"errorType", "errorMessage"}`), or the service's
    /// own ("Task timed out", the process exited).
    Error(Json),
}

/// One invocation's result and the log lines the process wrote meanwhile.
#[derive(Debug, Clone)]
pub struct Invoked {
    pub outcome: Outcome,
    pub logs: Vec<String>,
    pub request_id: String,
}

struct Invocation {
    id: String,
    event: Vec<u8>,
    deadline_ms: u128,
    reply: oneshot::Sender<Outcome>,
}

struct RuntimeApi {
    next: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<Json>>,
    arn: String,
}

/// What describes the function to run.
pub struct FunctionSpec<'a> {
    pub name: &'a str,
    pub arn: &'a str,
    pub memory_mb: u64,
    pub timeout: Duration,
    pub variables: Vec<(String, String)>,
    pub log_group: String,
    pub log_format: Option<String>,
}

pub struct LocalFunction {
    pub name: String,
    /// Where Lambda would send the function's output, and the stream of this process.
    pub log_group: String,
    pub log_stream: String,
    timeout: Duration,
    queue: mpsc::UnboundedSender<Invocation>,
    api: Arc<RuntimeApi>,
    logs: Arc<Mutex<Vec<String>>>,
    exited: watch::Receiver<Option<String>>,
    _server: tokio::task::JoinHandle<()>,
    _child: Arc<tokio::sync::Mutex<tokio::process::Child>>,
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

fn body_json(bytes: &[u8]) -> Json {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(bytes).into_owned()))
}

async fn serve(api: Arc<RuntimeApi>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let rest = path.strip_prefix("/2018-06-01/runtime/").unwrap_or("");
    match (
        method.as_str(),
        rest.split('/').collect::<Vec<_>>().as_slice(),
    ) {
        ("GET", ["invocation", "next"]) => {
            let inv = api.next.lock().await.recv().await;
            let Some(inv) = inv else {
                return reply(StatusCode::GONE, "the test run is over");
            };
            api.waiting
                .lock()
                .expect("runtime api lock")
                .insert(inv.id.clone(), inv.reply);
            let mut r = reply(StatusCode::OK, inv.event);
            let h = r.headers_mut();
            let mut put = |k: &'static str, v: String| {
                if let Ok(v) = hyper::header::HeaderValue::from_str(&v) {
                    h.insert(k, v);
                }
            };
            put("lambda-runtime-aws-request-id", inv.id.clone());
            put("lambda-runtime-deadline-ms", inv.deadline_ms.to_string());
            put("lambda-runtime-invoked-function-arn", api.arn.clone());
            put(
                "lambda-runtime-trace-id",
                format!("Root=1-{}", uuid::Uuid::new_v4().simple()),
            );
            put("content-type", "application/json".into());
            r
        }
        ("POST", ["invocation", id, kind @ ("response" | "error")]) => {
            let waiting = api.waiting.lock().expect("runtime api lock").remove(*id);
            let Some(tx) = waiting else {
                return reply(
                    StatusCode::BAD_REQUEST,
                    r#"{"errorType":"InvalidRequestID","errorMessage":"unknown request id"}"#,
                );
            };
            let v = body_json(&body);
            let _ = tx.send(if *kind == "response" {
                Outcome::Response(v)
            } else {
                Outcome::Error(v)
            });
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        ("POST", ["init", "error"]) => {
            *api.init_error.lock().expect("runtime api lock") = Some(body_json(&body));
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            format!("{{\"errorMessage\":\"no route {method} {path}\"}}"),
        ),
    }
}

impl LocalFunction {
    /// Starts `bootstrap` for `spec` with `aws_env` (region, endpoint, credentials).
    pub async fn start(
        bootstrap: &Path,
        spec: &FunctionSpec<'_>,
        aws_env: &[(String, String)],
    ) -> anyhow::Result<LocalFunction> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (queue, rx) = mpsc::unbounded_channel();
        let api = Arc::new(RuntimeApi {
            next: tokio::sync::Mutex::new(rx),
            waiting: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            arn: spec.arn.to_string(),
        });
        let server_api = api.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let api = server_api.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let api = api.clone();
                        async move { Ok::<_, std::convert::Infallible>(serve(api, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        let log_stream = format!(
            "{}/[$LATEST]{}",
            chrono::Utc::now().format("%Y/%m/%d"),
            uuid::Uuid::new_v4().simple()
        );
        let mut cmd = tokio::process::Command::new(bootstrap);
        cmd.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LANG", "en_US.UTF-8")
            .env("TZ", ":UTC")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", spec.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                spec.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &spec.log_group)
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &log_stream)
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
            .env("_HANDLER", "bootstrap")
            .env(
                "LAMBDA_TASK_ROOT",
                bootstrap.parent().unwrap_or(Path::new("/")),
            )
            .current_dir(bootstrap.parent().unwrap_or(Path::new("/")))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        if let Some(f) = &spec.log_format {
            cmd.env("AWS_LAMBDA_LOG_FORMAT", f);
        }
        for (k, v) in aws_env.iter().chain(&spec.variables) {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {} locally: {e}", bootstrap.display()))?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        for out in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let logs = logs.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(out).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    logs.lock().expect("log lock").push(l);
                }
            });
        }
        let child = Arc::new(tokio::sync::Mutex::new(child));
        let (exit_tx, exited) = watch::channel(None);
        let waiter = child.clone();
        tokio::spawn(async move {
            loop {
                let status = waiter.lock().await.try_wait();
                match status {
                    Ok(Some(s)) => {
                        let _ = exit_tx.send(Some(s.to_string()));
                        return;
                    }
                    Ok(None) => tokio::time::sleep(Duration::from_millis(50)).await,
                    Err(e) => {
                        let _ = exit_tx.send(Some(e.to_string()));
                        return;
                    }
                }
                if exit_tx.is_closed() {
                    return;
                }
            }
        });
        Ok(LocalFunction {
            name: spec.name.to_string(),
            log_group: spec.log_group.clone(),
            log_stream,
            timeout: spec.timeout,
            queue,
            api,
            logs,
            exited,
            _server: server,
            _child: child,
        })
    }

    /// Invokes the function with `event` and waits for its answer, at most its timeout.
    pub async fn invoke(&self, event: &Json) -> Invoked {
        let id = uuid::Uuid::new_v4().to_string();
        let from = self.logs.lock().expect("log lock").len();
        let (tx, rx) = oneshot::channel();
        let deadline_ms = crate::provider::aws_iot_topic_rule::evaluate::now_ms().max(0) as u128
            + self.timeout.as_millis();
        let sent = self.queue.send(Invocation {
            id: id.clone(),
            event: serde_json::to_vec(event).unwrap_or_default(),
            deadline_ms,
            reply: tx,
        });
        let mut exited = self.exited.clone();
        let outcome = if sent.is_err() {
            Outcome::Error(
                json!({"errorType": "Runtime.Unavailable", "errorMessage": "the function's runtime is gone"}),
            )
        } else {
            tokio::select! {
                r = rx => r.unwrap_or_else(|_| Outcome::Error(json!({"errorType": "Runtime.Unavailable", "errorMessage": "the runtime dropped the invocation"}))),
                _ = exited.wait_for(Option::is_some) => {
                    let status = self.exited.borrow().clone().unwrap_or_default();
                    let init = self.api.init_error.lock().expect("runtime api lock").clone();
                    Outcome::Error(match init {
                        Some(e) => json!({"errorType": "Runtime.InitError", "errorMessage": e, "exit": status}),
                        None => json!({"errorType": "Runtime.ExitError", "errorMessage": format!("the function's process exited ({status}) before answering")}),
                    })
                }
                _ = tokio::time::sleep(self.timeout) => Outcome::Error(json!({
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": format!("Task timed out after {:.2} seconds", self.timeout.as_secs_f64()),
                })),
            }
        };
        // Lines written just before the answer may still be in the pipe.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let logs = self.logs.lock().expect("log lock")[from..].to_vec();
        Invoked {
            outcome,
            logs,
            request_id: id,
        }
    }
}

impl Drop for LocalFunction {
    fn drop(&mut self) {
        // The process is killed when the last handle on it goes (kill_on_drop); the
        // Runtime API stops here.
        self._server.abort();
    }
}

#[cfg(test)]
mod tests {
    //! The Runtime API served for real on 127.0.0.1, with a Python `bootstrap` speaking it
    //! as a Lambda runtime does (python3 is on every machine thingform builds on).
    use super::*;
    use std::path::PathBuf;

    const RUNTIME: &str = r#"#!/usr/bin/env python3
import json, os, sys, time, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
print("started", os.environ["AWS_LAMBDA_FUNCTION_NAME"], os.environ.get("GREETING"), flush=True)
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        arn = r.headers["Lambda-Runtime-Invoked-Function-Arn"]
        event = json.loads(r.read())
    what = event.get("do")
    if what == "crash":
        sys.exit(3)
    if what == "sleep":
        time.sleep(30)
    if what == "fail":
        body, path = {"errorType": "ValueError", "errorMessage": "bad reading"}, "/error"
    else:
        body, path = {"seen": event, "arn": arn}, "/response"
    print("handled", rid, flush=True)
    req = urllib.request.Request(api + "/invocation/" + rid + path, data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(req).read()
"#;

    async fn start(timeout: Duration) -> (LocalFunction, PathBuf) {
        let dir = std::env::temp_dir().join(format!("tf-lambda-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let bootstrap = dir.join("bootstrap");
        std::fs::write(&bootstrap, RUNTIME).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
        let spec = FunctionSpec {
            name: "fn-under-test",
            arn: "arn:aws:lambda:eu-west-1:123456789012:function:fn-under-test",
            memory_mb: 128,
            timeout,
            variables: vec![("GREETING".into(), "hello".into())],
            log_group: "/aws/lambda/fn-under-test".into(),
            log_format: None,
        };
        let f = LocalFunction::start(
            &bootstrap,
            &spec,
            &[("AWS_REGION".into(), "eu-west-1".into())],
        )
        .await
        .unwrap();
        (f, dir)
    }

    #[tokio::test]
    async fn answers_errors_and_stays_warm() {
        let (f, dir) = start(Duration::from_secs(20)).await;
        let a = f.invoke(&json!({"temp": 21})).await;
        let Outcome::Response(r) = &a.outcome else {
            panic!("{:?}", a.outcome)
        };
        assert_eq!(r["seen"]["temp"], 21);
        assert_eq!(
            r["arn"],
            "arn:aws:lambda:eu-west-1:123456789012:function:fn-under-test"
        );
        assert!(
            a.logs.iter().any(|l| l == "started fn-under-test hello"),
            "{:?}",
            a.logs
        );
        let b = f.invoke(&json!({"do": "fail"})).await;
        let Outcome::Error(e) = &b.outcome else {
            panic!("{:?}", b.outcome)
        };
        assert_eq!(e["errorType"], "ValueError");
        // The same process answered both: it started once.
        assert!(
            !b.logs.iter().any(|l| l.starts_with("started")),
            "{:?}",
            b.logs
        );
        assert!(
            b.logs.iter().any(|l| l.starts_with("handled")),
            "{:?}",
            b.logs
        );
        drop(f);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_timeout_and_a_crash_are_lambdas_errors() {
        let (f, dir) = start(Duration::from_millis(1500)).await;
        let t = f.invoke(&json!({"do": "sleep"})).await;
        let Outcome::Error(e) = &t.outcome else {
            panic!("{:?}", t.outcome)
        };
        assert_eq!(e["errorType"], "Sandbox.Timedout");
        drop(f);
        std::fs::remove_dir_all(dir).unwrap();
        let (f, dir) = start(Duration::from_secs(20)).await;
        let c = f.invoke(&json!({"do": "crash"})).await;
        let Outcome::Error(e) = &c.outcome else {
            panic!("{:?}", c.outcome)
        };
        assert_eq!(e["errorType"], "Runtime.ExitError", "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
