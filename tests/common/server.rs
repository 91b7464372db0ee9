//! A real `partrec serve` process on an ephemeral loopback port, for the HTTP tests.

use super::{partrec, scratch};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stderr: PathBuf,
}

impl Server {
    /// Starts `partrec serve --addr 127.0.0.1:0 ARGS` and reads the address it prints.
    pub fn start(name: &str, args: &[&str]) -> Server {
        let mut command = partrec();
        command.args(["serve", "--addr", "127.0.0.1:0"]).args(args);
        Server::spawn(name, command)
    }

    /// As [`Server::start`], with the server's address space (and its solves') capped at
    /// `megabytes` (`ulimit -v`): an allocation driven by a declared size then fails in
    /// the server instead of swamping the machine.
    pub fn start_capped(name: &str, megabytes: u64, args: &[&str]) -> Server {
        let mut command = std::process::Command::new("sh");
        command
            .args([
                "-c",
                &format!("ulimit -v {} && exec \"$0\" \"$@\"", megabytes * 1024),
                env!("CARGO_BIN_EXE_partrec"),
                "serve",
                "--addr",
                "127.0.0.1:0",
            ])
            .args(args);
        Server::spawn(name, command)
    }

    /// Starts `command` (a `partrec serve`) and reads the address it prints. Unless the
    /// command names its own `--data-dir`, the server keeps its jobs in a fresh folder
    /// of this test's, so servers running at once never share a job database.
    pub fn spawn(name: &str, mut command: std::process::Command) -> Server {
        if !command.get_args().any(|a| a == "--data-dir") {
            let data = scratch(&format!("server-{name}-data"));
            command.arg("--data-dir").arg(data);
        }
        Server::spawn_as_given(name, command)
    }

    /// Starts `command` as it is (another build, whose flags may differ) and reads the
    /// address it prints.
    pub fn spawn_as_given(name: &str, mut command: std::process::Command) -> Server {
        let stderr = scratch(&format!("server-{name}")).join("stderr.log");
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("partrec serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("partrec: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server {
            child,
            base,
            stderr,
        }
    }

    /// `127.0.0.1:PORT`, for raw TCP connections.
    pub fn addr(&self) -> &str {
        self.base.strip_prefix("http://").unwrap_or(&self.base)
    }

    /// Whether the server process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server wrote on standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The server's live child processes (its solves), from /proc.
    pub fn children(&self) -> Vec<u32> {
        children_of(self.pid())
    }

    /// Waits up to `within` for the server to have no child processes; returns whether it has none.
    pub fn wait_for_no_children(&self, within: Duration) -> bool {
        let start = Instant::now();
        loop {
            if self.children().is_empty() {
                return true;
            }
            if start.elapsed() > within {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's threads now, from /proc.
    pub fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.pid())).map_or(0, |d| d.count())
    }

    /// The server's thread count once it is idle: read after its idle blocking threads
    /// have exited (see `partrec::serve::BLOCKING_KEEP_ALIVE`) and the count is steady.
    pub fn idle_threads(&self) -> usize {
        let settle = partrec::serve::BLOCKING_KEEP_ALIVE + Duration::from_millis(100);
        let mut last = self.threads();
        loop {
            std::thread::sleep(settle);
            let now = self.threads();
            if now == last {
                return now;
            }
            last = now;
        }
    }

    /// Peak resident memory of the server in kB (VmHWM), from /proc.
    pub fn peak_rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// CPU time (user + system, in clock ticks) of the server process itself.
    pub fn cpu_ticks(&self) -> u64 {
        stat_fields(self.pid())
            .map(|f| f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap())
            .unwrap_or(0)
    }

    /// Sends SIGTERM and waits up to `within` for the exit status.
    pub fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        let pid = self.pid().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let start = Instant::now();
        while start.elapsed() < within {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fields of /proc/PID/stat after the command name (field 3 onward: state, ppid, ...).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    Some(after.split_whitespace().map(str::to_string).collect())
}

/// Whether process `pid` exists and is not a zombie.
pub fn is_running(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|f| f[0] != "Z")
}

/// Live (not zombie) processes whose parent is `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| stat_fields(p).is_some_and(|f| f[0] != "Z" && f[1] == pid.to_string()))
        .collect()
}

/// Reads what `stream` answers until it closes or `within` has passed since `t`;
/// returns the text and the time to its first byte.
pub fn read_answer(
    stream: &mut std::net::TcpStream,
    t: Instant,
    within: Duration,
) -> (String, Option<Duration>) {
    use std::io::Read;
    let mut answer = Vec::new();
    let mut first = None;
    let mut chunk = [0u8; 4096];
    while t.elapsed() < within {
        stream
            .set_read_timeout(Some((within - t.elapsed()).max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                first.get_or_insert_with(|| t.elapsed());
                answer.extend_from_slice(&chunk[..n]);
            }
        }
    }
    (String::from_utf8_lossy(&answer).into_owned(), first)
}

/// An HTTP client for the tests, with a 60 s timeout per request.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Posts `body` to `path`; returns the status and the parsed JSON answer.
pub async fn post(
    server: &Server,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, serde_json::Value) {
    let response = client()
        .post(server.url(path))
        .body(body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
    (status, value)
}
