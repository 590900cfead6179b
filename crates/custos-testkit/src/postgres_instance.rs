//! A PostgreSQL server of the test's own: a fresh cluster (`initdb`) in a temporary
//! directory, on a free loopback port, that the test stops and starts at will, without
//! touching the machine's shared server that other tests use.
//!
//! It runs Debian's binaries (`/usr/lib/postgresql/<version>/bin`, package `postgresql`).
//! PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user
//! and every command runs through `runuser -u postgres`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running (or stopped) PostgreSQL cluster of the test's own; removed when dropped.
#[derive(Debug)]
pub struct PostgresInstance {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl PostgresInstance {
    /// Makes and starts a cluster, or says why it cannot (no binaries, no `postgres` user).
    pub fn start() -> Result<Self, String> {
        let bin =
            Self::binaries().ok_or("no /usr/lib/postgresql/*/bin/initdb: install the Debian package postgresql")?;
        let as_postgres = is_root();
        let dir = tempfile::Builder::new().prefix("custos-pg-").tempdir().map_err(|e| e.to_string())?;
        if as_postgres {
            let owned = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status();
            if !owned.is_ok_and(|s| s.success()) {
                return Err("cannot give the cluster directory to the postgres user".into());
            }
        }
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let instance = Self { bin, dir, port, as_postgres };
        let data = instance.data_dir();
        let init = instance.run("initdb", &["--auth=trust", "--username=postgres", "--no-sync", "-D", &data])?;
        if !init.status.success() {
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&init.stderr)));
        }
        instance.start_again()?;
        Ok(instance)
    }

    /// The newest installed version's binaries.
    fn binaries() -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").is_file())
            .collect();
        found
            .sort_by_key(|p| p.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()).unwrap_or_default());
        found.pop()
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs one of the cluster's programs, as `postgres` when the test runs as root.
    fn run(&self, program: &str, args: &[&str]) -> Result<Output, String> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        command.args(args).current_dir(self.dir.path()).output().map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Starts the stopped server (waiting until it accepts connections).
    pub fn start_again(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=50",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let started =
            self.run("pg_ctl", &["-D", &self.data_dir(), "-o", &options, "-l", &log, "-w", "-t", "60", "start"])?;
        if !started.status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!("pg_ctl start failed: {}{log}", String::from_utf8_lossy(&started.stderr)));
        }
        Ok(())
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`): every
    /// connection is cut and the server recovers from its write-ahead log at the next start.
    pub fn stop_immediately(&self) {
        self.stop("immediate");
    }

    fn stop(&self, mode: &str) {
        let stopped = self.run("pg_ctl", &["-D", &self.data_dir(), "-m", mode, "-w", "stop"]);
        assert!(stopped.is_ok_and(|o| o.status.success()), "pg_ctl stop -m {mode} failed");
    }

    /// The URL of the `postgres` database, as the administrator.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The cluster's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PostgresInstance {
    fn drop(&mut self) {
        if self.run("pg_ctl", &["-D", &self.data_dir(), "status"]).is_ok_and(|o| o.status.success()) {
            let _ = self.run("pg_ctl", &["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"]);
        }
    }
}

/// True when this process runs as root (from `/proc/self/status`, to need no libc call).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Uid:").map(|v| v.split_whitespace().next() == Some("0"))))
        .unwrap_or(false)
}
