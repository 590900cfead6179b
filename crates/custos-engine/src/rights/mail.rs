//! The mails a rights request sends the person: the code, an extension, the outcome.

use super::*;

/// The job that mails the person about their request, at the address they gave.
pub struct RightsMail {
    rights: Arc<Rights>,
    mailer: Mailer,
    public_url: String,
}

impl RightsMail {
    /// Mails through `mailer`; links point at `public_url`.
    pub fn new(rights: Arc<Rights>, mailer: Mailer, public_url: &str) -> Self {
        Self { rights, mailer, public_url: public_url.trim_end_matches('/').to_owned() }
    }

    /// The subject line and body of `message` about `request`, in the request's language.
    fn text(&self, request: &RightsRequest, message: &MailMessage, code: Option<&str>) -> (String, String) {
        let w = super::wording::for_language(request.language.as_deref());
        let kind = w.kind(&request.kind);
        let status = format!("{}/v1/rights-requests/{}", self.public_url, request.id);
        let id = request.id.to_string();
        let authority = &self.rights.policy.controller.supervisory_authority;
        match message {
            MailMessage::Code { .. } => {
                let link = format!("{}/rights/{}", self.public_url, request.id);
                let args = [("kind", kind.as_str()), ("code", code.unwrap_or("")), ("link", &link), ("id", &id)];
                (w.text("code.subject", &args), w.text("code.body", &args))
            }
            MailMessage::Extended => {
                let due = request.due_at.strftime("%Y-%m-%d").to_string();
                let reason = request.extension_reason.as_deref().unwrap_or("");
                let args = [("kind", kind.as_str()), ("due", &due), ("reason", reason), ("status", &status)];
                (w.text("extended.subject", &args), w.text("extended.body", &args))
            }
            MailMessage::Denied => {
                let reason = request.outcome.as_ref().and_then(|o| o["denied"]["reason"].as_str()).unwrap_or("");
                let args = [
                    ("kind", kind.as_str()),
                    ("reason", reason),
                    ("authority", &authority.name),
                    ("website", &authority.website),
                    ("status", &status),
                ];
                (w.text("denied.subject", &args), w.text("denied.body", &args))
            }
            MailMessage::Done => {
                let link = format!("{status}/package?token={}", self.rights.package_token(request.id));
                let transmission = transmission(w, request.outcome.as_ref());
                let ground =
                    request.outcome.as_ref().and_then(|o| o["erase"]["legal_hold"]["ground"].as_str()).unwrap_or("");
                let key = match (request.subject_id, request.kind.as_str()) {
                    (None, _) => "done.nothing_held",
                    (Some(_), "access") => "done.access",
                    (Some(_), "portability") => "done.portability",
                    (Some(_), "rectification") => "done.rectification",
                    (Some(_), "erasure") if !ground.is_empty() => "done.erasure_held",
                    (Some(_), "erasure") => "done.erasure",
                    (Some(_), "restriction") => "done.restriction",
                    (Some(_), "objection") => "done.objection",
                    (Some(_), _) => "done.withdrawal",
                };
                let args = [
                    ("kind", kind.as_str()),
                    ("status", &status),
                    ("link", &link),
                    ("transmission", &transmission),
                    ("ground", ground),
                ];
                (w.text("done.subject", &args), w.text(key, &args))
            }
        }
    }
}

#[async_trait]
impl JobHandler for RightsMail {
    fn kind(&self) -> &'static str {
        MAIL_KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: MailPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("malformed rights mail job: {e}")))?;
        let id = payload.request_id;
        let retry = |e: StoreError| JobError::Retry(e.to_string());
        let Some(request) = self.rights.store.rights_request(id).await.map_err(retry)? else {
            return Ok(());
        };
        let owner = SubjectId(id);
        let key = match self.rights.vault().data_key(owner).await {
            Ok(key) => key,
            // The request's key is gone: its address with it. Nothing to send to.
            Err(crate::vault::VaultAccessError::Erased { .. }) => return Ok(()),
            Err(e) => return Err(JobError::Retry(e.to_string())),
        };
        let open = |table: &str, sealed: &[u8]| {
            Vault::open_value(&key, table, id, owner, sealed)
                .map_err(|_| JobError::Permanent("a sealed value of the request does not open".into()))
        };
        let email = open(TABLE, &request.sealed_email)?;
        let email = String::from_utf8_lossy(&email).into_owned();
        let code = match &payload.message {
            MailMessage::Code { sealed_code } => {
                Some(String::from_utf8_lossy(&open("rights_mail", sealed_code)?).into_owned())
            }
            _ => None,
        };
        let (subject_line, body) = self.text(&request, &payload.message, code.as_deref());
        let to = email.parse().map_err(|_| JobError::Permanent("the address given is not valid for mail".into()))?;
        let message = Message::builder()
            .from(self.mailer.from().clone())
            .to(to)
            .subject(subject_line)
            .message_id(Some(format!("<job-{}@custos>", job.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| JobError::Permanent(format!("cannot build the mail: {e}")))?;
        self.mailer.send(message).await.map_err(|e| JobError::Retry(crate::mail::without_addresses(&e.to_string())))?;
        if matches!(payload.message, MailMessage::Done | MailMessage::Denied) {
            self.rights.forget_address(id).await.map_err(retry)?;
            crate::inbox::forget_thread_of(&self.rights.store, self.rights.vault(), id, self.rights.clock.now())
                .await
                .map_err(retry)?;
        }
        Ok(())
    }
}

/// What the person is told of the transfer they asked for, if any.
fn transmission(w: &super::wording::Wording, outcome: Option<&serde_json::Value>) -> String {
    let Some(sent) = outcome.map(|o| &o["transmit"]).filter(|t| t.is_object()) else { return String::new() };
    let host = sent["host"].as_str().unwrap_or("?");
    if sent["sent"].as_bool() == Some(true) {
        w.text("done.sent", &[("host", host)])
    } else {
        let why = sent["why"].as_str().unwrap_or("?");
        w.text("done.not_sent", &[("host", host), ("why", why)])
    }
}
