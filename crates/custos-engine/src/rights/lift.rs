//! Lifting a restriction (GDPR Art. 18(3)): the person who obtained it is told before it
//! ends.
//!
//! A restriction the person asked for (Art. 18(1): while the accuracy they contest is
//! checked, instead of an erasure, for their legal claims, while their objection is
//! weighed) ends when its ground ends, and only staff can decide that. The decision is
//! recorded in the restriction request's outcome under `lift`, with its reason and the day
//! it takes effect (at least [`MIN_NOTICE_DAYS`] after it is announced, so that the person
//! can answer before it happens), then one job ([`LiftJob`]) walks two steps, each
//! recorded before the next: it mails the person the decision, the reason, the day and
//! where to complain; once that mail is out and the day has come, it lifts the restriction,
//! sends every recipient of the person's data an Art. 19 notice that the restriction ended,
//! and audits it. Without an address to tell the person, the decision is refused: the
//! restriction stays.
//!
//! A restriction a legal hold left after an erasure is not lifted this way: the erasure
//! finishes when the hold ends ([`crate::governance::holds::erase_respecting_holds`]).

use super::*;

/// The job kind that tells the person, then lifts the restriction.
pub const LIFT_KIND: &str = "rights.lift_restriction";
/// The fewest days between announcing a lift and its taking effect.
pub const MIN_NOTICE_DAYS: i64 = 0;
/// The most days a lift may be announced ahead.
pub const MAX_NOTICE_DAYS: i64 = 90;
/// The notice period when staff give none: two weeks to answer.
pub const DEFAULT_NOTICE_DAYS: i64 = 14;

/// A decision to lift a restriction, kept in the restriction request's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lift {
    /// Its id: the reference of the notices it sends.
    pub id: Uuid,
    /// Why the restriction ends; told to the person.
    pub reason: String,
    /// Who decided.
    pub by: String,
    /// When it was decided.
    pub announced_at: Timestamp,
    /// The restriction ends on or after this time.
    pub effective_at: Timestamp,
    /// When the person was told.
    pub notified_at: Option<Timestamp>,
    /// When the restriction ended.
    pub lifted_at: Option<Timestamp>,
}

impl Lift {
    /// The lift recorded in `request`, if any.
    pub fn of(request: &RightsRequest) -> Option<Lift> {
        let value = request.outcome.as_ref()?.get("lift")?;
        serde_json::from_value(value.clone()).ok()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct LiftPayload {
    request_id: Uuid,
}

impl Rights {
    /// Decides to lift the restriction that request `id` obtained, for `reason`, `days`
    /// from now ([`DEFAULT_NOTICE_DAYS`] when `None`). The person is told first, by mail;
    /// the restriction ends once they were told and the day has come. Refused when the
    /// request is not a fulfilled restriction, the person is no longer restricted, the
    /// restriction is a legal hold's, a lift is already under way, or the person has no
    /// address to be told at.
    pub async fn lift_restriction(
        &self,
        actor: &Actor,
        id: Uuid,
        reason: &str,
        days: Option<i64>,
    ) -> Result<RightsRequest, RightsError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 1000 {
            return Err(invalid("reason", "give the reason the person will be told, in 1 to 1000 bytes"));
        }
        let days = days.unwrap_or(DEFAULT_NOTICE_DAYS);
        if !(MIN_NOTICE_DAYS..=MAX_NOTICE_DAYS).contains(&days) {
            return Err(invalid(
                "days",
                format!("the restriction may end {MIN_NOTICE_DAYS} to {MAX_NOTICE_DAYS} days after the person is told"),
            ));
        }
        let mut request = self.get(id).await?;
        let wrong = |request: &RightsRequest, message: &str| RightsError::WrongState {
            state: request.state.clone(),
            message: message.into(),
        };
        if request.kind != "restriction" {
            return Err(wrong(&request, "only a restriction request's restriction can be lifted"));
        }
        if request.state != "fulfilled" {
            return Err(wrong(&request, "the restriction is not in force yet"));
        }
        let Some(subject) = request.subject_id else {
            return Err(wrong(&request, "nothing was held about the person, so nothing was restricted"));
        };
        if let Some(lift) = Lift::of(&request) {
            let message =
                if lift.lifted_at.is_some() { "it was lifted already" } else { "a lift is already under way" };
            return Err(wrong(&request, message));
        }
        if !self.store.restricted(subject).await? {
            return Err(wrong(&request, "the person's data is not restricted any more"));
        }
        if self.store.held_erasures(u32::MAX).await?.iter().any(|(s, _)| *s == subject) {
            return Err(wrong(
                &request,
                "the data is kept restricted under a legal hold after an erasure: it is erased when the hold ends",
            ));
        }
        if self.address_of(subject).await?.is_none() {
            return Err(wrong(
                &request,
                "the person cannot be told first (Art. 18(3)): no email address of theirs is on record",
            ));
        }
        let now = self.clock.now();
        let lift = Lift {
            id: Uuid::now_v7(),
            reason: reason.to_owned(),
            by: actor.audit_name(),
            announced_at: now,
            effective_at: now
                .checked_add(jiff::SignedDuration::from_hours(24 * days))
                .map_err(|e| invalid("days", e.to_string()))?,
            notified_at: None,
            lifted_at: None,
        };
        let state = request.state.clone();
        set_lift(&mut request, &lift)?;
        if !self.store.update_rights_request(&request, &state).await? {
            return Err(wrong(&request, "it changed meanwhile; try again"));
        }
        self.enqueue_lift(id, &lift, "notify", now).await?;
        self.audit(
            actor,
            "rights.lift_announce",
            &request,
            serde_json::json!({"lift_id": lift.id, "effective_at": lift.effective_at.to_string()}),
        )
        .await?;
        Ok(request)
    }

    /// The fulfilled restriction requests, newest first, for staff deciding lifts.
    pub async fn restrictions(&self, limit: u32) -> Result<Vec<RightsRequest>, RightsError> {
        Ok(self.store.rights_requests_in_state("restriction", "fulfilled", limit).await?)
    }

    async fn enqueue_lift(&self, id: Uuid, lift: &Lift, step: &str, run_at: Timestamp) -> Result<(), StoreError> {
        self.store
            .enqueue_job(&NewJob {
                kind: LIFT_KIND.into(),
                payload: serde_json::json!(LiftPayload { request_id: id }),
                idempotency_key: Some(format!("{}:{step}", lift.id)),
                priority: 1,
                run_at,
                max_attempts: 20,
            })
            .await?;
        Ok(())
    }

    /// The person's email address, read on their own behalf: telling them of their own
    /// restriction is no processing the restriction forbids (the gate lets a person's own
    /// access through). `None` when no purpose holds one.
    async fn address_of(&self, subject: SubjectId) -> Result<Option<String>, RightsError> {
        let me = Actor::Subject(subject);
        for purpose in self.policy.purposes.iter().filter(|p| p.categories.iter().any(|c| c == "user.contact.email")) {
            match self.records.read(&me, subject, &purpose.id, &["user.contact.email"]).await {
                Ok(values) => {
                    if let Some(value) = values.last() {
                        return Ok(Some(String::from_utf8_lossy(&value.value).into_owned()));
                    }
                }
                Err(crate::records::AccessError::Denied { .. }) => {}
                Err(crate::records::AccessError::NoSubject(_))
                | Err(crate::records::AccessError::Vault(crate::vault::VaultAccessError::Erased { .. })) => {
                    return Ok(None);
                }
                Err(e) => return Err(RightsError::Store(StoreError::Unavailable(e.to_string()))),
            }
        }
        Ok(None)
    }
}

fn set_lift(request: &mut RightsRequest, lift: &Lift) -> Result<(), RightsError> {
    let value = serde_json::to_value(lift).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    match request.outcome.as_mut() {
        Some(serde_json::Value::Object(map)) => {
            map.insert("lift".into(), value);
        }
        _ => request.outcome = Some(serde_json::json!({"lift": value})),
    }
    Ok(())
}

/// The job that tells the person a restriction will end, then ends it when its day has
/// come; see the module documentation. Each step is recorded in the request before the
/// next, so a worker that dies resumes where it stopped.
pub struct LiftJob {
    rights: Arc<Rights>,
    mailer: Mailer,
    public_url: String,
}

impl LiftJob {
    /// Mails through `mailer`; the status link points at `public_url`.
    pub fn new(rights: Arc<Rights>, mailer: Mailer, public_url: &str) -> Self {
        Self { rights, mailer, public_url: public_url.trim_end_matches('/').to_owned() }
    }

    async fn save(&self, request: &mut RightsRequest, lift: &Lift) -> Result<(), JobError> {
        let state = request.state.clone();
        set_lift(request, lift).map_err(|e| JobError::Permanent(e.to_string()))?;
        match self.rights.store.update_rights_request(request, &state).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(JobError::Retry("the request changed meanwhile".into())),
            Err(e) => Err(JobError::Retry(e.to_string())),
        }
    }

    async fn tell(&self, request: &RightsRequest, subject: SubjectId, lift: &Lift) -> Result<bool, JobError> {
        let Some(address) = self.rights.address_of(subject).await.map_err(|e| JobError::Retry(e.to_string()))? else {
            return Ok(false);
        };
        let authority = &self.rights.policy.controller.supervisory_authority;
        let body = format!(
            "You asked us to restrict the processing of your data, and we did: since then we have only stored it.\n\n\
             We have decided to lift that restriction on {}, because: {}\n\n\
             From that day we may again process your data for the purposes our privacy notice names. If you \
             disagree, answer this mail before that day, or object to the processing; you may also complain to \
             {} ({}) or go to court.\n\nStatus: {}/v1/rights-requests/{}\nReference: {}\n",
            lift.effective_at.strftime("%Y-%m-%d"),
            lift.reason,
            authority.name,
            authority.website,
            self.public_url,
            request.id,
            request.id,
        );
        let to = address.parse().map_err(|_| JobError::Permanent("the stored address is not valid for mail".into()))?;
        let message = Message::builder()
            .from(self.mailer.from().clone())
            .to(to)
            .subject("We will lift the restriction of your data")
            .message_id(Some(format!("<lift-{}@custos>", lift.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| JobError::Permanent(format!("cannot build the mail: {e}")))?;
        self.mailer.send(message).await.map_err(|e| JobError::Retry(crate::mail::without_addresses(&e.to_string())))?;
        Ok(true)
    }
}

#[async_trait]
impl JobHandler for LiftJob {
    fn kind(&self) -> &'static str {
        LIFT_KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: LiftPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("malformed lift job: {e}")))?;
        let rights = &self.rights;
        let retry = |e: StoreError| JobError::Retry(e.to_string());
        let Some(mut request) = rights.store.rights_request(payload.request_id).await.map_err(retry)? else {
            return Err(JobError::Permanent(format!("no rights request {}", payload.request_id)));
        };
        let (Some(mut lift), Some(subject)) = (Lift::of(&request), request.subject_id) else {
            return Err(JobError::Permanent(format!("request {} has no lift to carry out", request.id)));
        };
        if lift.lifted_at.is_some() {
            return Ok(());
        }
        let now = rights.clock.now();
        if lift.notified_at.is_none() {
            if !self.tell(&request, subject, &lift).await? {
                // Erased since, or the address is gone: the restriction stays, and the
                // decision is kept as it stands for staff to see.
                tracing::warn!(request = %request.id, "restriction not lifted: the person can no longer be told");
                return Ok(());
            }
            lift.notified_at = Some(now);
            self.save(&mut request, &lift).await?;
            rights
                .audit(&Actor::System, "rights.lift_notify", &request, serde_json::json!({"lift_id": lift.id}))
                .await
                .map_err(retry)?;
        }
        if now < lift.effective_at {
            rights.enqueue_lift(request.id, &lift, "apply", lift.effective_at).await.map_err(retry)?;
            return Ok(());
        }
        rights.store.set_restriction(subject, None, now).await.map_err(retry)?;
        use crate::governance::notices::{Change, notify_recipients};
        let told = notify_recipients(&rights.store, &rights.policy, now, lift.id, subject, Change::Lifted)
            .await
            .map_err(retry)?;
        lift.lifted_at = Some(now);
        self.save(&mut request, &lift).await?;
        rights
            .audit(
                &Actor::System,
                "rights.lift",
                &request,
                serde_json::json!({"lift_id": lift.id, "recipients_notified": told}),
            )
            .await
            .map_err(retry)?;
        Ok(())
    }
}
