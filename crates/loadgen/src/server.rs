//! The real server as a child process: `voltex serve` on a loopback port
//! with the bench's data directory (or database), CA and key ring, waited
//! for on `/health`; stopped gracefully (SIGINT) or killed (SIGKILL); its
//! CPU time and peak memory read from `/proc`.
//!
//! It must not run the server in-process: the point is to measure and kill
//! what production runs.
use crate::platform::BenchPlatform;
use crate::{LoadgenError, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Rate limits the bench raises so that it measures throughput, not
/// limits: requests per second and burst, far above what loopback reaches.
const RAISED_RATE: &str = "1000000";
const RAISED_BURST: &str = "1000000";

/// How to start the server; the same spec restarts it on the same data.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub exe: PathBuf,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub ca_dir: PathBuf,
    pub keys_file: PathBuf,
    pub database_url: Option<String>,
    pub extra_args: Vec<String>,
    pub log: PathBuf,
}

impl ServerSpec {
    /// The server of `platform` on a free loopback port; with
    /// `raise_limits`, the rate-limit flags are set far above the load when
    /// this `serve` has them.
    pub fn for_platform(
        exe: PathBuf,
        platform: &BenchPlatform,
        raise_limits: bool,
    ) -> Result<Self> {
        let extra_args = if raise_limits && serve_has_rate_flags(&exe)? {
            ["token", "member", "address"]
                .iter()
                .flat_map(|who| {
                    [
                        format!("--{who}-rate"),
                        RAISED_RATE.to_owned(),
                        format!("--{who}-burst"),
                        RAISED_BURST.to_owned(),
                    ]
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Self {
            exe,
            bind: free_loopback_port()?,
            data_dir: platform.data_dir.clone(),
            ca_dir: platform.ca_dir.clone(),
            keys_file: platform.keys_file.clone(),
            database_url: platform.database.as_ref().map(|d| d.url.clone()),
            extra_args,
            log: platform.dir().join("server.log"),
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.bind)
    }

    /// Starts the server and waits until `/health` answers (60 s at most).
    pub async fn start(&self) -> Result<ServerProcess> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut cmd = Command::new(&self.exe);
        cmd.arg("serve")
            .arg("--bind")
            .arg(self.bind.to_string())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--ca-dir")
            .arg(&self.ca_dir)
            .args(&self.extra_args)
            .env("VOLTEX_FIELD_KEYS_FILE", &self.keys_file)
            .env_remove("VOLTEX_FIELD_KEYS")
            .env_remove("VOLTEX_STORE_DIR")
            .env_remove("VOLTEX_BIND")
            .env_remove("VOLTEX_CA_DIR")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        match &self.database_url {
            Some(url) => cmd.env("DATABASE_URL", url),
            None => cmd.env_remove("DATABASE_URL"),
        };
        let child = cmd
            .spawn()
            .map_err(|e| LoadgenError::Server(format!("starting {}: {e}", self.exe.display())))?;
        let mut process = ServerProcess {
            child,
            log: self.log.clone(),
        };
        process.wait_healthy(&self.base_url()).await?;
        Ok(process)
    }
}

/// Whether `serve --help` lists the rate-limit flags.
fn serve_has_rate_flags(exe: &std::path::Path) -> Result<bool> {
    let help = Command::new(exe).args(["serve", "--help"]).output()?;
    Ok(String::from_utf8_lossy(&help.stdout).contains("--token-rate"))
}

/// A loopback address no one listens on now.
pub fn free_loopback_port() -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// CPU time and peak memory of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessUsage {
    /// User plus system CPU seconds since the process started.
    pub cpu_seconds: f64,
    /// Peak resident set size (VmHWM), bytes.
    pub peak_rss_bytes: u64,
}

/// A running `voltex serve`.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_healthy(&mut self, base: &str) -> Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(LoadgenError::Server(format!(
                    "voltex serve exited ({status}) before answering; its log:\n{}",
                    self.log_tail()
                )));
            }
            if let Ok(r) = client.get(format!("{base}/health")).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(LoadgenError::Server(format!(
                    "voltex serve did not answer /health within 60 s; its log:\n{}",
                    self.log_tail()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The end of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// CPU seconds and peak RSS so far, from `/proc/<pid>/stat` and `status`.
    pub fn usage(&self) -> ProcessUsage {
        let pid = self.pid();
        // utime and stime are fields 14 and 15, counted after the command
        // name's closing parenthesis (the name may hold spaces).
        let cpu_seconds = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let rest = stat.rsplit_once(')')?.1;
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let ticks: u64 =
                    fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
                Some(ticks as f64 / clock_ticks_per_second())
            })
            .unwrap_or(0.0);
        let peak_rss_bytes = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
                let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
                Some(kb * 1024)
            })
            .unwrap_or(0);
        ProcessUsage {
            cpu_seconds,
            peak_rss_bytes,
        }
    }

    /// SIGKILL, as a crash: nothing is flushed or closed.
    pub async fn kill(mut self) -> Result<()> {
        self.child.kill()?;
        self.reap(Duration::from_secs(10)).await
    }

    /// SIGINT (what Ctrl-C sends; `serve` shuts down gracefully), then
    /// SIGKILL after 10 s.
    pub async fn stop(mut self) -> Result<()> {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.pid().to_string())
            .status();
        if self.reap(Duration::from_secs(10)).await.is_err() {
            self.child.kill()?;
            self.reap(Duration::from_secs(10)).await?;
        }
        Ok(())
    }

    async fn reap(&mut self, within: Duration) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < within {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(LoadgenError::Server(format!(
            "voltex serve (pid {}) did not exit within {within:?}",
            self.pid()
        )))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `getconf CLK_TCK`; 100 on every Linux this runs on when it cannot be asked.
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}
