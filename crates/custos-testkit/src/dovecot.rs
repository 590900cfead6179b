//! A real IMAP server for tests: Dovecot (Debian's `dovecot-imapd`), configured in a
//! temporary directory and started on a free loopback port with IMAPS (the test
//! certificate of [`crate::https`], so clients trust [`crate::https::TEST_CA_PEM`]) and
//! one test user. Nothing outside the temporary directory is read or changed; the server
//! is stopped (by its own process id) when the [`Dovecot`] is dropped.
//!
//! Mail reaches the mailbox through Dovecot's own delivery agent ([`Dovecot::deliver`]),
//! as an MTA would hand it over.
//!
//! Without Dovecot installed, [`Dovecot::start`] panics with what to install, unless
//! `CUSTOS_SKIP_DOVECOT=1`, in which case it returns `None` and the caller skips.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The Dovecot binary Debian installs.
const DOVECOT: &str = "/usr/sbin/dovecot";
/// Dovecot's local delivery agent.
const LDA: &str = "/usr/lib/dovecot/dovecot-lda";
/// The variable that lets tests skip when Dovecot is missing.
pub const SKIP_VAR: &str = "CUSTOS_SKIP_DOVECOT";

/// A running Dovecot on 127.0.0.1.
#[derive(Debug)]
pub struct Dovecot {
    /// The IMAPS port.
    pub port: u16,
    /// The test user's name.
    pub user: String,
    /// The test user's password.
    pub password: String,
    config: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Dovecot {
    /// Starts Dovecot with user `custos` (password `test-password`) on a free port, and
    /// waits until it greets.
    pub async fn start() -> Option<Self> {
        if !Path::new(DOVECOT).exists() {
            assert!(
                std::env::var(SKIP_VAR).is_ok_and(|v| v == "1"),
                "Dovecot is not installed: apt-get install dovecot-imapd (or set {SKIP_VAR}=1 to skip)"
            );
            eprintln!("skipped: Dovecot is not installed");
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().to_owned();
        // Dovecot's own users must reach the home and the login directory.
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).expect("permissions");
        for sub in ["run", "state", "home/custos"] {
            std::fs::create_dir_all(root.join(sub)).expect("a directory");
        }
        let tls = Path::new(env!("CARGO_MANIFEST_DIR")).join("tls");
        std::fs::copy(tls.join("server.pem"), root.join("server.pem")).expect("the test certificate");
        std::fs::copy(tls.join("server.key"), root.join("server.key")).expect("the test key");
        let (user, password) = ("custos".to_owned(), "test-password".to_owned());
        std::fs::write(root.join("passwd"), format!("{user}:{{PLAIN}}{password}::::::\n")).expect("passwd");
        // As root, Dovecot refuses to give mail to uid 0: the mail then belongs to its own
        // `dovecot` user. Otherwise everything runs as the current user.
        let (uid, gid) = (id(&["-u"]), id(&["-g"]));
        let (mail_uid, mail_gid, internal, login) = if uid == "0" {
            let (u, g) = (id(&["-u", "dovecot"]), id(&["-g", "dovecot"]));
            chown(&root.join("home"), &u, &g);
            (u, g, "dovecot".to_owned(), "dovenull".to_owned())
        } else {
            let me = id(&["-un"]);
            (uid, gid, me.clone(), me)
        };
        let port = free_port();
        let r = root.display();
        let config = format!(
            "base_dir = {r}/run\nstate_dir = {r}/state\ninstance_name = custos-test-{port}\nprotocols = imap\n\
             listen = 127.0.0.1\nlog_path = {r}/dovecot.log\nssl = required\nssl_cert = <{r}/server.pem\n\
             ssl_key = <{r}/server.key\nauth_mechanisms = plain\ndisable_plaintext_auth = yes\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {r}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={mail_uid} gid={mail_gid} home={r}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\nfirst_valid_uid = 0\n\
             default_internal_user = {internal}\ndefault_login_user = {login}\n\
             service imap-login {{\n  inet_listener imap {{\n    port = 0\n  }}\n  \
             inet_listener imaps {{\n    port = {port}\n    ssl = yes\n  }}\n}}\n\
             service stats {{\n  unix_listener stats-reader {{\n    mode = 0666\n  }}\n  \
             unix_listener stats-writer {{\n    mode = 0666\n  }}\n}}\n"
        );
        let config_path = root.join("dovecot.conf");
        std::fs::write(&config_path, config).expect("dovecot.conf");
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        let dovecot = Self { port, user, password, config: config_path, child, _dir: dir };
        dovecot.wait_ready().await;
        Some(dovecot)
    }

    async fn wait_ready(&self) {
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(self._dir.path().join("dovecot.log")).unwrap_or_default();
        panic!("Dovecot did not start on port {}:\n{log}", self.port);
    }

    /// Delivers `raw` (a whole RFC 5322 message) into the test user's INBOX through
    /// Dovecot's delivery agent, with `envelope_from` as the envelope sender.
    pub fn deliver(&self, envelope_from: &str, raw: &[u8]) {
        let mut lda = Command::new(LDA)
            .arg("-c")
            .arg(&self.config)
            .arg("-d")
            .arg(&self.user)
            .arg("-f")
            .arg(envelope_from)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dovecot-lda");
        lda.stdin.take().expect("stdin").write_all(raw).expect("hand the mail over");
        let out = lda.wait_with_output().expect("dovecot-lda");
        assert!(out.status.success(), "dovecot-lda failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Dovecot's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM to the master (the child we started): it stops its own processes.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// `id ARGS`, trimmed.
fn id(args: &[&str]) -> String {
    let out = Command::new("id").args(args).output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn chown(path: &Path, uid: &str, gid: &str) {
    let status = Command::new("chown").arg("-R").arg(format!("{uid}:{gid}")).arg(path).status().expect("chown");
    assert!(status.success(), "chown {}", path.display());
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}
