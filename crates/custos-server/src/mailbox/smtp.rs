//! custos's own SMTP listener, for operators who route the privacy address to custos
//! (an MX record or a relay rule) instead of leaving mail in an IMAP mailbox.
//!
//! It is a final-delivery server for the configured addresses only (RFC 5321: EHLO/HELO,
//! MAIL, RCPT, DATA, RSET, NOOP, VRFY, QUIT; SIZE and 8BITMIME announced): any other
//! recipient is refused, so it relays nothing. Each mail gets a `Return-Path` with its
//! envelope sender, as final delivery adds one (so a bounce, sent from the null sender, is
//! recognised), and goes to [`Inbox::receive`] before the server says 250: a mail the
//! store could not take is answered 451 and the sending server tries again; a mail that is
//! not a request is refused with 550.
//!
//! At most 64 connections are served at once, each idle for at most five minutes.
//!
//! Written by hand: the Rust SMTP server crates are either thread-per-connection
//! (`mailin-embedded`) or unmaintained (`samotop`), and the part of the protocol a
//! receiving endpoint needs is this small. It speaks no STARTTLS: put it behind the
//! operator's MX or on a private network (see docs/INBOX.md).

use std::sync::Arc;
use std::time::Duration;

use custos_engine::inbox::{Inbox, InboxError, parse::MAX_BYTES};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// How long the listener waits for the next command or line.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest command line accepted (RFC 5321 4.5.3.1.4 allows 512; some send more).
const MAX_LINE: usize = 4096;
/// The most recipients of one mail.
const MAX_RECIPIENTS: usize = 100;
/// The most connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 64;

/// The SMTP listener.
#[derive(Debug)]
pub struct SmtpListener {
    inbox: Arc<Inbox>,
    recipients: Vec<String>,
    hostname: String,
}

impl SmtpListener {
    /// Takes mail for `recipients` (compared without case) into `inbox`, greeting as
    /// `hostname`.
    pub fn new(inbox: Arc<Inbox>, recipients: &[String], hostname: &str) -> Self {
        Self {
            inbox,
            recipients: recipients.iter().map(|r| r.trim().to_ascii_lowercase()).collect(),
            hostname: hostname.to_owned(),
        }
    }

    /// Serves `listener` until `shutdown`; each connection in its own task.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: CancellationToken) {
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else { return };
            let accepted = tokio::select! {
                () = shutdown.cancelled() => return,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((socket, _)) => {
                    let this = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = this.session(socket).await {
                            tracing::debug!(error = %e, "an SMTP session ended with an error");
                        }
                        drop(slot);
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the SMTP listener could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn session(&self, socket: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(format!("220 {} ESMTP custos\r\n", self.hostname).as_bytes()).await?;
        let mut envelope: Option<String> = None;
        let mut recipients = 0usize;
        let mut greeted = false;
        loop {
            let Some(line) = read_line(&mut lines).await? else { return Ok(()) };
            let Ok(line) = String::from_utf8(line) else {
                write.write_all(b"500 5.5.2 the command is not UTF-8\r\n").await?;
                continue;
            };
            let command = line.trim_end();
            let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            let reply: String = match verb.as_str() {
                "EHLO" => {
                    greeted = true;
                    format!("250-{}\r\n250-SIZE {MAX_BYTES}\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n", self.hostname)
                }
                "HELO" => {
                    greeted = true;
                    format!("250 {}\r\n", self.hostname)
                }
                "MAIL" if !greeted => "503 5.5.1 say EHLO first\r\n".into(),
                "MAIL" => match path_after(command, "MAIL FROM:") {
                    Some(from) => {
                        if size_param(command).is_some_and(|size| size > MAX_BYTES) {
                            format!("552 5.3.4 a mail may have at most {MAX_BYTES} bytes\r\n")
                        } else {
                            envelope = Some(from);
                            recipients = 0;
                            "250 2.1.0 ok\r\n".into()
                        }
                    }
                    None => "501 5.5.4 use MAIL FROM:<address>\r\n".into(),
                },
                "RCPT" if envelope.is_none() => "503 5.5.1 MAIL first\r\n".into(),
                "RCPT" => match path_after(command, "RCPT TO:") {
                    Some(to) if self.recipients.contains(&to.to_ascii_lowercase()) => {
                        if recipients >= MAX_RECIPIENTS {
                            "452 4.5.3 too many recipients\r\n".into()
                        } else {
                            recipients += 1;
                            "250 2.1.5 ok\r\n".into()
                        }
                    }
                    Some(_) => "550 5.1.1 no such mailbox here; this server takes privacy requests only\r\n".into(),
                    None => "501 5.5.4 use RCPT TO:<address>\r\n".into(),
                },
                "DATA" if recipients == 0 => "503 5.5.1 RCPT first\r\n".into(),
                "DATA" => {
                    write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                    let from = envelope.take().unwrap_or_default();
                    recipients = 0;
                    match read_data(&mut lines).await? {
                        Some(data) => self.deliver(&from, data).await,
                        None => format!("552 5.3.4 a mail may have at most {MAX_BYTES} bytes\r\n"),
                    }
                }
                "RSET" => {
                    envelope = None;
                    recipients = 0;
                    "250 2.0.0 ok\r\n".into()
                }
                "NOOP" => "250 2.0.0 ok\r\n".into(),
                "VRFY" => "252 2.5.2 cannot verify, send a mail\r\n".into(),
                "QUIT" => {
                    write.write_all(b"221 2.0.0 bye\r\n").await?;
                    return Ok(());
                }
                "STARTTLS" => "502 5.5.1 no TLS here; relay through your MX\r\n".into(),
                _ => "502 5.5.2 command not recognised\r\n".into(),
            };
            write.write_all(reply.as_bytes()).await?;
        }
    }

    /// Hands one mail to the inbox; the SMTP answer.
    async fn deliver(&self, from: &str, data: Vec<u8>) -> String {
        let mut raw = format!("Return-Path: <{from}>\r\n").into_bytes();
        raw.extend_from_slice(&data);
        match self.inbox.receive(&raw, "smtp", jiff::Timestamp::now()).await {
            Ok(_) => "250 2.0.0 taken in\r\n".into(),
            Err(e @ (InboxError::Parse(_) | InboxError::Invalid { .. })) => {
                format!("550 5.6.0 {}\r\n", custos_engine::mail::without_addresses(&e.to_string()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "a mail to the SMTP listener could not be stored; the sender will retry");
                "451 4.3.0 cannot store the mail now; try again later\r\n".into()
            }
        }
    }
}

/// One line with its ending, at most [`MAX_LINE`] bytes (longer ones are cut); `None` at
/// the end of the connection or after [`IDLE_TIMEOUT`].
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut limited = (&mut *reader).take(MAX_LINE as u64);
    match tokio::time::timeout(IDLE_TIMEOUT, limited.read_until(b'\n', &mut line)).await {
        Ok(Ok(0)) | Err(_) => Ok(None),
        Ok(Ok(_)) => Ok(Some(line)),
        Ok(Err(e)) => Err(e),
    }
}

/// The mail after DATA, dot-stuffing undone (RFC 5321 4.5.2); `None` when it is larger
/// than [`MAX_BYTES`] (it is read to its end all the same).
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    let mut too_large = false;
    loop {
        let Some(line) = read_line(reader).await? else {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection ended in DATA"));
        };
        if line == b".\r\n" || line == b".\n" {
            return Ok(if too_large { None } else { Some(data) });
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        if data.len() + line.len() > MAX_BYTES {
            too_large = true;
            data.clear();
        } else if !too_large {
            data.extend_from_slice(line);
        }
    }
}

/// The address in `<…>` after `prefix` (any case); `Some("")` for the null path `<>`.
fn path_after(command: &str, prefix: &str) -> Option<String> {
    let rest =
        command.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).map(|_| &command[prefix.len()..])?;
    let rest = rest.trim_start();
    let end = rest.find('>')?;
    rest.strip_prefix('<').map(|_| rest[1..end].trim().to_owned())
}

/// The `SIZE=` parameter of a MAIL command.
fn size_param(command: &str) -> Option<usize> {
    command
        .split_whitespace()
        .find_map(|p| p.get(..5).filter(|k| k.eq_ignore_ascii_case("SIZE=")).and_then(|_| p[5..].parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_from_commands() {
        assert_eq!(
            path_after("MAIL FROM:<ada@example.org> SIZE=100", "MAIL FROM:").as_deref(),
            Some("ada@example.org")
        );
        assert_eq!(path_after("mail from: <>", "MAIL FROM:").as_deref(), Some(""));
        assert_eq!(path_after("RCPT TO:privacy@example.org", "RCPT TO:"), None);
        assert_eq!(size_param("MAIL FROM:<a@b> SIZE=1234 BODY=8BITMIME"), Some(1234));
    }

    #[tokio::test]
    async fn data_is_unstuffed_and_limited() {
        let mut input: &[u8] = b"Subject: x\r\n\r\n..a line with a dot\r\n.\r\nQUIT\r\n";
        let data = read_data(&mut input).await.expect("read").expect("data");
        assert_eq!(data, b"Subject: x\r\n\r\n.a line with a dot\r\n");
        let big = format!("{}\r\n.\r\n", "x".repeat(MAX_BYTES + 10));
        let mut input = big.as_bytes();
        assert_eq!(read_data(&mut input).await.expect("read"), None, "too large");
    }
}
