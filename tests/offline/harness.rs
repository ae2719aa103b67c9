//! Offline harness: a temporary stack directory per test, and the thingform binary run
//! as a user would run it, with AWS pointed at a loopback listener that must never be
//! contacted.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A loopback listener standing in for AWS; it counts the connections made to it.
struct NoAws {
    endpoint: String,
    connections: Arc<AtomicUsize>,
}

impl NoAws {
    fn start() -> NoAws {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback listener");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = connections.clone();
        std::thread::spawn(move || {
            // Each connection is counted and closed at once: the caller sees an error.
            for conn in listener.incoming() {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        NoAws {
            endpoint,
            connections,
        }
    }
}

pub struct TestStack {
    pub dir: tempfile::TempDir,
    aws: NoAws,
}

impl TestStack {
    pub fn new(main_tf: &str) -> TestStack {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("main.tf"), main_tf).expect("write main.tf");
        TestStack {
            dir,
            aws: NoAws::start(),
        }
    }

    /// A copy of the `*.tf` files of a stack shipped in this repository (its local
    /// modules, `modules/`, linked: the tests never write there).
    pub fn copy_of(repo_dir: &Path) -> TestStack {
        let stack = TestStack::new("");
        std::fs::remove_file(stack.path().join("main.tf")).unwrap();
        for entry in std::fs::read_dir(repo_dir).expect("read the stack directory") {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "tf") {
                std::fs::copy(&path, stack.path().join(path.file_name().unwrap())).unwrap();
            }
        }
        if repo_dir.join("modules").is_dir() {
            std::os::unix::fs::symlink(repo_dir.join("modules"), stack.path().join("modules"))
                .unwrap();
        }
        stack
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, content: &str) {
        std::fs::write(self.dir.path().join(name), content).expect("write stack file");
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join(".thingform/state.json")
    }

    /// Runs `thingform ARGS...` in the stack directory, and fails the test if it
    /// contacted AWS.
    pub fn run_args(&self, args: &[String]) -> Output {
        let before = self.aws.connections.load(Ordering::SeqCst);
        let out = Command::new(env!("CARGO_BIN_EXE_thingform"))
            .args(args)
            .current_dir(self.path())
            .env("AWS_ENDPOINT_URL", &self.aws.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.path().join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.path().join("no-aws-credentials"),
            )
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run thingform");
        let made = self.aws.connections.load(Ordering::SeqCst) - before;
        assert_eq!(
            made,
            0,
            "thingform {args:?} contacted AWS ({made} connection(s)); an offline test must not\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Runs `thingform ARGS... STACK_DIR`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.push(self.path().display().to_string());
        self.run_args(&all)
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "thingform {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}
