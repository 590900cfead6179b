//! `custos serve` with an `[inbox]`: the real binary reads a real Dovecot over IMAPS and
//! takes mail on its own SMTP listener, and answers both senders through a real SMTP
//! server.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::custos;
use custos_testkit::TestDb;
use custos_testkit::dovecot::Dovecot;
use custos_testkit::smtp::SmtpSink;

mod common;

/// Sends `raw` to the SMTP server at `port` from `from` to `to`; the last reply.
fn smtp_send(port: u16, from: &str, to: &str, raw: &str) -> String {
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    // The last line of a (possibly multi-line) reply.
    let mut reply = || loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("reply");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    };
    reply();
    for command in
        ["EHLO test.example".to_owned(), format!("MAIL FROM:<{from}>"), format!("RCPT TO:<{to}>"), "DATA".into()]
    {
        writer.write_all(format!("{command}\r\n").as_bytes()).expect("send");
        let answer = reply();
        assert!(answer.starts_with('2') || answer.starts_with('3'), "{command}: {answer}");
    }
    writer.write_all(raw.replace("\n.", "\n..").as_bytes()).expect("data");
    writer.write_all(b"\r\n.\r\n").expect("end");
    let answer = reply();
    writer.write_all(b"QUIT\r\n").expect("quit");
    answer
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reads_the_mailbox_and_listens_for_mail_as_configured() {
    let Some(dovecot) = Dovecot::start().await else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::from_env().await;
    let sink = SmtpSink::start().await;
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, custos_testkit::https::TEST_CA_PEM).expect("ca");
    let smtp_port = free_port();
    let mail_url = format!("smtp://{}", sink.addr);
    let imap_port = dovecot.port.to_string();
    let listen = format!("127.0.0.1:{smtp_port}");
    let key_file = dir.path().join("master.key");
    let generated = common::run(&mut custos(dir.path(), &["keys", "generate", key_file.to_str().expect("utf-8")]));
    assert!(generated.status.success());
    let mut child = custos(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
        .envs([
            ("CUSTOS_DATABASE_URL", db.url().expose()),
            ("CUSTOS_KEYSTORE_URL", db.keys_url().expose()),
            ("CUSTOS_MASTER_KEY_FILE", key_file.to_str().expect("utf-8")),
            ("CUSTOS_MAIL_URL", &mail_url),
            ("CUSTOS_JOBS_POLL_INTERVAL_MS", "50"),
            ("CUSTOS_INBOX_IMAP_HOST", "127.0.0.1"),
            ("CUSTOS_INBOX_IMAP_PORT", &imap_port),
            ("CUSTOS_INBOX_IMAP_USER", &dovecot.user),
            ("CUSTOS_INBOX_IMAP_PASSWORD", &dovecot.password),
            ("CUSTOS_INBOX_IMAP_CA_FILE", ca.to_str().expect("utf-8")),
            ("CUSTOS_INBOX_SMTP_LISTEN", &listen),
            ("CUSTOS_INBOX_SMTP_RECIPIENTS", "privacy@shop.example"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn custos serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, logs) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("reading the privacy mailbox")) {
        let line = logs.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("not reading: {seen:?}"));
        seen.push(line);
    }

    dovecot.deliver(
        "ada@example.org",
        b"From: ada@example.org\r\nTo: privacy@shop.example\r\nSubject: delete\r\nMessage-ID: <cli1@example.org>\r\n\r\nPlease delete my data.\r\n",
    );
    let answer = smtp_send(
        smtp_port,
        "bob@example.org",
        "privacy@shop.example",
        "From: bob@example.org\r\nTo: privacy@shop.example\r\nSubject: copy\r\nMessage-ID: <cli2@example.org>\r\n\r\nI want a copy of my data.",
    );
    assert!(answer.starts_with("250"), "{answer}");
    let mut acknowledged = (false, false);
    for _ in 0..400 {
        let delivered = sink.delivered();
        let ack = |to: &str| delivered.iter().any(|d| d.to == [to] && d.data.contains("Our reference"));
        acknowledged = (ack("ada@example.org"), ack("bob@example.org"));
        if acknowledged == (true, true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert_eq!(acknowledged, (true, true), "both senders are answered: {seen:?}\n{}", dovecot.log());
    assert_eq!(status.code(), Some(0), "stops cleanly");
}
