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

    fn text(&self, request: &RightsRequest, message: &MailMessage, code: Option<&str>) -> (String, String) {
        let kind = &request.kind;
        let status = format!("{}/v1/rights-requests/{}", self.public_url, request.id);
        match message {
            MailMessage::Code { .. } => (
                format!("Your code for your {kind} request"),
                format!(
                    "Someone, we hope you, asked us to act on the right of {kind} for this address.\n\n\
                     Your code: {}\n\nEnter it here: {}/rights/{}\n\n\
                     It works for 30 minutes. If you did not ask, ignore this mail: nothing happens.\n\n\
                     Reference: {}\n",
                    code.unwrap_or(""),
                    self.public_url,
                    request.id,
                    request.id
                ),
            ),
            MailMessage::Extended => (
                format!("We need more time for your {kind} request"),
                format!(
                    "We will answer your {kind} request by {} instead of one month after we received it, because: {}\n\n\
                     Status: {status}\n",
                    request.due_at.strftime("%Y-%m-%d"),
                    request.extension_reason.as_deref().unwrap_or("")
                ),
            ),
            MailMessage::Denied => {
                let authority = &self.rights.policy.controller.supervisory_authority;
                let reason = request.outcome.as_ref().and_then(|o| o["denied"]["reason"].as_str()).unwrap_or("");
                (
                    format!("We cannot act on your {kind} request"),
                    format!(
                        "We decided not to act on your {kind} request, because: {reason}\n\n\
                         If you disagree, you may complain to {} ({}) or go to court.\n\nStatus: {status}\n",
                        authority.name, authority.website
                    ),
                )
            }
            MailMessage::Done => (
                format!("Your {kind} request is done"),
                match (request.subject_id, kind.as_str()) {
                    (None, _) => format!(
                        "We looked: we hold no personal data under this address, so there was nothing to act on.\n\nStatus: {status}\n"
                    ),
                    (Some(_), "access") => format!(
                        "Your copy is ready: what we hold about you, why, who may receive it, how long we keep it \
                         and your rights, with the data itself as JSON and CSV, in one zip file.\n\n\
                         Download it within 7 days:\n{status}/package?token={}\n\nStatus: {status}\n",
                        self.rights.package_token(request.id)
                    ),
                    (Some(_), "portability") => format!(
                        "Your data is ready to take elsewhere: what you gave us under your consent or our contract, \
                         as JSON (its schema is described inside) and CSV, in one zip file.\n\n{}\
                         Download it within 7 days:\n{status}/package?token={}\n\nStatus: {status}\n",
                        transmission(request.outcome.as_ref()),
                        self.rights.package_token(request.id)
                    ),
                    (Some(_), "rectification") => {
                        format!(
                            "We corrected your data as you asked; the old values are deleted.\n\nStatus: {status}\n"
                        )
                    }
                    (Some(_), "erasure") => {
                        match request.outcome.as_ref().and_then(|o| o["erase"]["legal_hold"]["ground"].as_str()) {
                            Some(ground) => format!(
                                "We erased the personal data we held about you, except data we must keep because of: {ground}.\n\n\
                             The law allows this (GDPR Art. 17(3)(b) and (e): a legal obligation, or establishing, exercising \
                             or defending legal claims). We keep that data only stored: it is restricted and not otherwise \
                             processed, and it is erased once the reason ends.\n\nStatus: {status}\n"
                            ),
                            None => format!("We erased the personal data we held about you.\n\nStatus: {status}\n"),
                        }
                    }
                    (Some(_), "restriction") => format!(
                        "We restricted the processing of your data: we only store it now, unless you agree otherwise or it is needed for legal claims.\n\nStatus: {status}\n"
                    ),
                    (Some(_), "objection") => format!(
                        "We recorded your objection and stopped the processing it concerns.\n\nStatus: {status}\n"
                    ),
                    (Some(_), _) => format!(
                        "We recorded the withdrawal of your consent. Processing before it stays lawful.\n\nStatus: {status}\n"
                    ),
                },
            ),
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
fn transmission(outcome: Option<&serde_json::Value>) -> String {
    let Some(sent) = outcome.map(|o| &o["transmit"]).filter(|t| t.is_object()) else { return String::new() };
    let host = sent["host"].as_str().unwrap_or("the address you gave");
    if sent["sent"].as_bool() == Some(true) {
        format!("As you asked, we sent it to {host}.\n\n")
    } else {
        let why = sent["why"].as_str().unwrap_or("it could not be delivered");
        format!(
            "We could not send it to {host} as you asked ({why}); you can download it and hand it over yourself.\n\n"
        )
    }
}
