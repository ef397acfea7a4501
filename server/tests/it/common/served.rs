//! The real server binary, started on a free port for tests that need a
//! process: start-up refusals, signals.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The server binary with nothing but this run's log key, `PATH`,
/// `database` as `DATABASE_URL`, the site's name and `warn` logging in its
/// environment, started in the workspace.
pub fn server_command(database: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env_clear()
        .env("CLEARANCE_LOG_KEY", crate::common::log_key_secret())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database)
        .env("LEPTOS_OUTPUT_NAME", "clearance")
        .env("RUST_LOG", "warn");
    command
}

/// The real binary, serving on a free port with `database` as DATABASE_URL.
pub struct Served {
    child: Option<Child>,
    pub base: String,
}

impl Served {
    pub fn start(database: &str, extra: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = server_command(database);
        command
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        Self {
            child: Some(command.spawn().unwrap()),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits for the process to exit on its own (a refusal), within 30 s.
    pub fn running(&mut self) -> bool {
        let child = self.child.as_mut().unwrap();
        child.try_wait().unwrap().is_none()
    }

    pub fn exited(mut self) -> Output {
        let started = Instant::now();
        while self.running() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not stop"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.stop()
    }

    /// Waits until it answers `/`, then stops it; its output.
    pub async fn serves(mut self) -> Output {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(format!("{}/", self.base)).send().await {
                assert_eq!(response.status(), reqwest::StatusCode::OK);
                break;
            }
            if !self.running() {
                let output = self.stop();
                panic!(
                    "the server stopped: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not answer"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Serving, and the start-up check (done within the first seconds) passed.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(self.running(), "it kept serving");
        self.stop()
    }

    pub fn stop(mut self) -> Output {
        let mut child = self.child.take().unwrap();
        let _ = child.kill();
        child.wait_with_output().unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Served {
    /// Waits until it answers `/`.
    pub async fn ready(&mut self) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while client.get(format!("{}/", self.base)).send().await.is_err() {
            assert!(self.running(), "the server stopped");
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not answer"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM, as a service manager stops it.
    pub fn terminate(&self) {
        let pid = self.child.as_ref().unwrap().id();
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `within` for it to exit on its own; its output.
    pub fn exits_within(mut self, within: Duration) -> Output {
        let started = Instant::now();
        while self.running() {
            assert!(started.elapsed() < within, "still running after {within:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let child = self.child.take().unwrap();
        child.wait_with_output().unwrap()
    }
}
