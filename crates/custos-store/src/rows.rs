//! Reading rows back into the store's types, written once for both backends.

use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

use crate::time::from_millis;
use crate::{AuditEntry, Job, NewAuditEntry, Record, StoreError, Subject, SubjectId};

/// Reads a non-negative count stored as an integer.
fn count(v: i32, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v} out of range")))
}

/// Reads a 32-byte hash.
fn hash32(bytes: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    let len = bytes.len();
    bytes.try_into().map_err(|_| StoreError::Corrupt(format!("{what} of {len} bytes, expected 32")))
}

/// Declares a reader generic over the backend's row type.
macro_rules! row_reader {
    ($(#[$meta:meta])* fn $name:ident($row:ident) -> $out:ty $body:block) => {
        $(#[$meta])*
        pub(crate) fn $name<'r, R>($row: &'r R) -> Result<$out, StoreError>
        where
            R: Row,
            &'r str: ColumnIndex<R>,
            i64: Decode<'r, R::Database> + Type<R::Database>,
            i32: Decode<'r, R::Database> + Type<R::Database>,
            i16: Decode<'r, R::Database> + Type<R::Database>,
            Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
            String: Decode<'r, R::Database> + Type<R::Database>,
            Option<String>: Decode<'r, R::Database> + Type<R::Database>,
            Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
            Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
            Uuid: Decode<'r, R::Database> + Type<R::Database>,
            Option<Uuid>: Decode<'r, R::Database> + Type<R::Database>,
        $body
    };
}

row_reader! {
    /// Reads a `subjects` row.
    fn subject(row) -> Subject {
        Ok(Subject {
            id: SubjectId(row.try_get("subject_id")?),
            kind: row.try_get::<String, _>("kind")?.parse()?,
            created_at: from_millis(row.try_get("created_at")?)?,
        })
    }
}

row_reader! {
    /// Reads a `records` row.
    fn record(row) -> Record {
        Ok(Record {
            subject_id: SubjectId(row.try_get("subject_id")?),
            record_id: row.try_get("record_id")?,
            category: row.try_get("category")?,
            purpose: row.try_get("purpose")?,
            policy_version: row.try_get("policy_version")?,
            sealed: row.try_get("sealed")?,
            created_at: from_millis(row.try_get("created_at")?)?,
            expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(from_millis).transpose()?,
        })
    }
}

row_reader! {
    /// Reads a `jobs` row.
    fn job(row) -> Job {
        let payload: String = row.try_get("payload")?;
        Ok(Job {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?,
            idempotency_key: row.try_get("idempotency_key")?,
            state: row.try_get::<String, _>("state")?.parse()?,
            priority: row.try_get("priority")?,
            attempts: count(row.try_get("attempts")?, "attempts")?,
            max_attempts: count(row.try_get("max_attempts")?, "max_attempts")?,
            run_at: from_millis(row.try_get("run_at")?)?,
            locked_until: row.try_get::<Option<i64>, _>("locked_until")?.map(from_millis).transpose()?,
            locked_by: row.try_get("locked_by")?,
            last_error: row.try_get("last_error")?,
            created_at: from_millis(row.try_get("created_at")?)?,
            updated_at: from_millis(row.try_get("updated_at")?)?,
        })
    }
}

row_reader! {
    /// Reads an `audit_log` row.
    fn audit_entry(row) -> AuditEntry {
        let detail: String = row.try_get("detail")?;
        Ok(AuditEntry {
            seq: row.try_get("seq")?,
            entry: NewAuditEntry {
                at: from_millis(row.try_get("at")?)?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                subject_id: row.try_get::<Option<Uuid>, _>("subject_id")?.map(SubjectId),
                purpose: row.try_get("purpose")?,
                detail: serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
            },
            prev_hash: hash32(row.try_get("prev_hash")?, "prev_hash")?,
            hash: hash32(row.try_get("hash")?, "hash")?,
        })
    }
}

row_reader! {
    /// Reads a `campaigns` row.
    fn campaign(row) -> crate::Campaign {
        Ok(crate::Campaign {
            id: row.try_get("campaign_id")?,
            name: row.try_get("name")?,
            purpose: row.try_get("purpose")?,
            subject_line: row.try_get("subject_line")?,
            body: row.try_get("body")?,
            created_at: from_millis(row.try_get("created_at")?)?,
            queued_at: row.try_get::<Option<i64>, _>("queued_at")?.map(from_millis).transpose()?,
        })
    }
}

row_reader! {
    /// Reads a `rights_requests` row.
    fn rights_request(row) -> crate::RightsRequest {
        let steps: String = row.try_get("steps")?;
        let outcome: Option<String> = row.try_get("outcome")?;
        Ok(crate::RightsRequest {
            id: row.try_get("request_id")?,
            kind: row.try_get("kind")?,
            purpose: row.try_get("purpose")?,
            channel: row.try_get("channel")?,
            state: row.try_get("state")?,
            email_index: row.try_get("email_index")?,
            sealed_email: row.try_get("sealed_email")?,
            sealed_details: row.try_get("sealed_details")?,
            subject_id: row.try_get::<Option<Uuid>, _>("subject_id")?.map(SubjectId),
            received_at: from_millis(row.try_get("received_at")?)?,
            due_at: from_millis(row.try_get("due_at")?)?,
            extension_reason: row.try_get("extension_reason")?,
            code_hash: row.try_get("code_hash")?,
            code_expires_at: row.try_get::<Option<i64>, _>("code_expires_at")?.map(from_millis).transpose()?,
            code_attempts: row.try_get("code_attempts")?,
            verified_at: row.try_get::<Option<i64>, _>("verified_at")?.map(from_millis).transpose()?,
            steps: serde_json::from_str(&steps).map_err(|e| StoreError::Corrupt(format!("rights request steps: {e}")))?,
            outcome: outcome
                .map(|o| serde_json::from_str(&o))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("rights request outcome: {e}")))?,
            closed_at: row.try_get::<Option<i64>, _>("closed_at")?.map(from_millis).transpose()?,
            agent_id: row.try_get("agent_id")?,
            agent_request_id: row.try_get("agent_request_id")?,
            status_callback: row.try_get("status_callback")?,
            language: row.try_get("language")?,
        })
    }
}

row_reader! {
    /// Reads a `staff` row.
    fn staff_member(row) -> crate::StaffMember {
        Ok(crate::StaffMember {
            id: row.try_get("staff_id")?,
            username: row.try_get("username")?,
            role: row.try_get("role")?,
            password_hash: row.try_get("password_hash")?,
            created_at: from_millis(row.try_get("created_at")?)?,
            disabled_at: row.try_get::<Option<i64>, _>("disabled_at")?.map(from_millis).transpose()?,
            totp_sealed: row.try_get("totp_sealed")?,
            totp_pending: row.try_get("totp_pending")?,
            totp_last_step: row.try_get("totp_last_step")?,
            purposes: serde_json::from_str(&row.try_get::<String, _>("purposes")?)
                .map_err(|e| StoreError::Corrupt(format!("staff purposes: {e}")))?,
        })
    }
}

row_reader! {
    /// Reads an `inbox_threads` row.
    fn inbox_thread(row) -> crate::InboxThread {
        Ok(crate::InboxThread {
            id: row.try_get("thread_id")?,
            request_id: row.try_get("request_id")?,
            state: row.try_get("state")?,
            intent: row.try_get("intent")?,
            language: row.try_get("language")?,
            confidence: row.try_get("confidence")?,
            sender_index: row.try_get("sender_index")?,
            sealed_sender: row.try_get("sealed_sender")?,
            partner_id: row.try_get("partner_id")?,
            received_at: from_millis(row.try_get("received_at")?)?,
            due_at: from_millis(row.try_get("due_at")?)?,
            updated_at: from_millis(row.try_get("updated_at")?)?,
        })
    }
}

row_reader! {
    /// Reads an `inbox_messages` row.
    fn inbox_message(row) -> crate::InboxMessage {
        Ok(crate::InboxMessage {
            thread_id: row.try_get("thread_id")?,
            id: row.try_get("message_id")?,
            header_hash: row.try_get("header_hash")?,
            direction: row.try_get("direction")?,
            source: row.try_get("source")?,
            sealed: row.try_get("sealed")?,
            at: from_millis(row.try_get("at")?)?,
        })
    }
}

row_reader! {
    /// Reads a `partner_requests` row.
    fn partner_request(row) -> crate::PartnerRequest {
        let outcome: Option<String> = row.try_get("outcome")?;
        Ok(crate::PartnerRequest {
            id: row.try_get("request_id")?,
            partner_id: row.try_get("partner_id")?,
            direction: row.try_get("direction")?,
            kind: row.try_get("kind")?,
            thread_id: row.try_get("thread_id")?,
            pseudonym_index: row.try_get("pseudonym_index")?,
            state: row.try_get("state")?,
            outcome: outcome
                .map(|o| serde_json::from_str(&o))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("partner request outcome: {e}")))?,
            received_at: from_millis(row.try_get("received_at")?)?,
            done_at: row.try_get::<Option<i64>, _>("done_at")?.map(from_millis).transpose()?,
        })
    }
}
