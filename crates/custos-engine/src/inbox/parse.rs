//! An inbound mail read into what the inbox needs: the sender, the thread headers, the
//! subject and the text, and whether a machine sent it.
//!
//! Parsing is `mail-parser`'s (MIME, encoded words, charsets); this file only picks.

use mail_parser::{HeaderName, HeaderValue, Message, MessageParser};

/// The most bytes of one inbound mail custos reads (larger ones are refused).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// Why a mail cannot be read as a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not a mail at all.
    #[error("the message is not an RFC 5322 mail")]
    Malformed,
    /// Larger than [`MAX_BYTES`].
    #[error("the message is larger than {MAX_BYTES} bytes")]
    TooLarge,
    /// No usable From address.
    #[error("the message has no sender address in From")]
    NoSender,
}

/// A mail as the inbox reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// The From address (not Reply-To: answers and data go only where the mail claims to
    /// come from, so that a forged sender gets nothing).
    pub from: String,
    /// Its Message-ID, without angle brackets (made up from the content when absent).
    pub message_id: String,
    /// The Message-IDs it answers (In-Reply-To, then References).
    pub replies_to: Vec<String>,
    /// The Subject.
    pub subject: String,
    /// The plain text (or the HTML part's text when there is no plain part).
    pub text: String,
    /// Why a machine sent it, when it did (auto-reply, bounce, list mail).
    pub automatic: Option<&'static str>,
    /// Whether a receiving server found the From address forged (`dmarc=fail` in an
    /// `Authentication-Results` header, RFC 8601). Only a failure is believed: a sender
    /// can write any header, but writing a failure only harms itself.
    pub forged: bool,
}

impl InboundMail {
    /// Reads `raw`.
    pub fn parse(raw: &[u8]) -> Result<Self, ParseError> {
        if raw.len() > MAX_BYTES {
            return Err(ParseError::TooLarge);
        }
        let message = MessageParser::default().parse(raw).ok_or(ParseError::Malformed)?;
        if message.headers().is_empty() {
            return Err(ParseError::Malformed);
        }
        let automatic = automatic(&message);
        let from = message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|a| a.trim().to_owned())
            .filter(|a| a.contains('@'));
        let from = match (from, automatic) {
            (Some(from), _) => from,
            // A bounce may come without a From; it is dropped as automatic anyway.
            (None, Some(_)) => String::new(),
            (None, None) => return Err(ParseError::NoSender),
        };
        let message_id = match message.message_id() {
            Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
            _ => {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(raw);
                format!("custos-{}@inbound", crate::tokens::base64url(&digest[..16]))
            }
        };
        let mut replies_to = ids(message.in_reply_to());
        for id in ids(message.references()) {
            if !replies_to.contains(&id) {
                replies_to.push(id);
            }
        }
        let subject = message.subject().unwrap_or("").trim().to_owned();
        let text = message
            .body_text(0)
            .map(|t| t.into_owned())
            .or_else(|| message.body_html(0).map(|h| html_text(&h)))
            .unwrap_or_default();
        let forged = message
            .header_values(HeaderName::from("Authentication-Results"))
            .filter_map(|v| v.as_text())
            .any(|v| v.to_ascii_lowercase().split([';', ' ']).any(|part| part.trim() == "dmarc=fail"));
        Ok(Self { from, message_id, replies_to, subject, text, automatic, forged })
    }
}

/// The Message-IDs a thread header holds.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.trim().to_owned()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.trim().to_owned()).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|t| !t.is_empty())
    .collect()
}

/// Why `message` was sent by a machine, if it was: RFC 3834 `Auto-Submitted`, the usual
/// auto-responder headers, bulk and list mail (RFC 2919 `List-Id`, `Precedence`), and
/// bounces (an empty Return-Path, a mailer daemon, an RFC 6522 delivery report).
fn automatic(message: &Message<'_>) -> Option<&'static str> {
    let raw = |name: &str| message.header_raw(HeaderName::from(name)).map(|v| v.trim().to_ascii_lowercase());
    if raw("Auto-Submitted").is_some_and(|v| !v.starts_with("no")) {
        return Some("auto_submitted");
    }
    for header in ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"] {
        if raw(header).is_some() && header != "X-Auto-Response-Suppress" {
            return Some("autoreply_header");
        }
    }
    if raw("X-Auto-Response-Suppress").is_some_and(|v| v.contains("all") || v.contains("oof")) {
        return Some("autoreply_header");
    }
    if raw("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply")) {
        return Some("precedence");
    }
    if raw("List-Id").is_some() || raw("List-Unsubscribe").is_some() {
        return Some("mailing_list");
    }
    if raw("Return-Path").is_some_and(|v| v == "<>" || v.is_empty()) {
        return Some("bounce");
    }
    let sender = message.from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or("").to_ascii_lowercase();
    let local = sender.split('@').next().unwrap_or("");
    if matches!(local, "mailer-daemon" | "postmaster") {
        return Some("bounce");
    }
    let report = message.header(HeaderName::ContentType).and_then(|v| v.as_content_type()).is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case("multipart") && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    if report {
        return Some("bounce");
    }
    None
}

/// The text of an HTML body: tags dropped, the usual entities decoded.
fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\nSubject: hello\r\n\r\n{body}\r\n").into_bytes()
    }

    #[test]
    fn reads_sender_thread_and_text() {
        let raw = mail(
            "From: Ada <ada@example.org>\r\nReply-To: other@example.net\r\nMessage-ID: <m2@example.org>\r\n\
             In-Reply-To: <m1@custos>\r\nReferences: <m0@custos> <m1@custos>",
            "Please delete my data.",
        );
        let m = InboundMail::parse(&raw).expect("parse");
        assert_eq!(m.from, "ada@example.org", "From, never Reply-To");
        assert_eq!(m.message_id, "m2@example.org");
        assert_eq!(m.replies_to, ["m1@custos", "m0@custos"]);
        assert_eq!(m.text.trim(), "Please delete my data.");
        assert_eq!(m.automatic, None);
    }

    #[test]
    fn recognises_machines() {
        let cases = [
            ("From: a@example.org\r\nAuto-Submitted: auto-replied", "auto_submitted"),
            ("From: a@example.org\r\nX-Autoreply: yes", "autoreply_header"),
            ("From: a@example.org\r\nPrecedence: bulk", "precedence"),
            ("From: a@example.org\r\nPrecedence: junk", "precedence"),
            ("From: a@example.org\r\nList-Id: <news.example.org>", "mailing_list"),
            ("From: a@example.org\r\nReturn-Path: <>", "bounce"),
            ("From: MAILER-DAEMON@mx.example.org", "bounce"),
            (
                "From: mx@example.org\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x",
                "bounce",
            ),
        ];
        for (headers, why) in cases {
            let m = InboundMail::parse(&mail(headers, "I am out of office.")).expect(headers);
            assert_eq!(m.automatic, Some(why), "{headers}");
        }
        let human = InboundMail::parse(&mail("From: a@example.org\r\nAuto-Submitted: no", "hi")).expect("parse");
        assert_eq!(human.automatic, None, "Auto-Submitted: no is a person");
    }

    #[test]
    fn a_dmarc_failure_marks_the_sender_forged() {
        let forged = mail(
            "From: ada@example.org\r\nAuthentication-Results: mx.shop.example; spf=fail smtp.mailfrom=x; dmarc=fail header.from=example.org",
            "delete my data",
        );
        assert!(InboundMail::parse(&forged).expect("parse").forged);
        let passed = mail("From: ada@example.org\r\nAuthentication-Results: mx.shop.example; dmarc=pass", "hi");
        assert!(!InboundMail::parse(&passed).expect("parse").forged);
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        assert_eq!(InboundMail::parse(&mail("To: a@example.org", "x")), Err(ParseError::NoSender));
        assert_eq!(InboundMail::parse(&vec![b'a'; MAX_BYTES + 1]), Err(ParseError::TooLarge));
    }

    #[test]
    fn html_only_mail_gives_its_text() {
        let raw =
            b"From: a@example.org\r\nContent-Type: text/html\r\n\r\n<p>Bitte <b>l&ouml;schen</b> &amp; danke</p>\r\n";
        let m = InboundMail::parse(raw).expect("parse");
        assert!(m.text.contains("Bitte") && m.text.contains("& danke"), "{}", m.text);
    }
}
