//! The statements of the hot reads, shared by the sqlx path of both backends and by
//! SQLite's inline reads (`sqlite::inline`), so that both read exactly the same rows.

/// A subject by id.
pub(crate) const SUBJECT: &str = "SELECT subject_id, kind, created_at FROM subjects WHERE subject_id = $1";

/// The subject holding an identifier: `$1` kind, `$2` blind index.
pub(crate) const FIND_SUBJECT: &str = "SELECT subject_id FROM identifiers WHERE kind = $1 AND blind_index = $2";

/// A person's consent ledger, oldest first, as [`ConsentRow`]s.
pub(crate) const CONSENT_HISTORY: &str = "SELECT seq, purpose, granted, method, policy_version, at, text_version, \
     source_ip FROM consents WHERE subject_id = $1 ORDER BY seq";

/// The ledgers of the people in the array `$1`, each oldest first, as a subject id followed
/// by a [`ConsentRow`] (PostgreSQL's batched reads).
pub(crate) const CONSENT_HISTORIES: &str = "SELECT subject_id, seq, purpose, granted, method, policy_version, at, \
     text_version, source_ip FROM consents WHERE subject_id = ANY($1) ORDER BY subject_id, seq";

/// A [`CONSENT_HISTORY`] row: seq, purpose, granted, method, policy version, at, text
/// version, source address.
pub(crate) type ConsentRow = (i64, String, bool, String, String, i64, String, Option<String>);

/// Reads a [`ConsentRow`] of `subject`'s ledger.
pub(crate) fn stored_consent(
    subject: crate::SubjectId,
    row: ConsentRow,
) -> Result<crate::StoredConsent, crate::StoreError> {
    let (seq, purpose, granted, method, policy_version, at, text_version, source_ip) = row;
    Ok(crate::StoredConsent {
        seq,
        entry: crate::ConsentEntry {
            subject_id: subject,
            purpose,
            granted,
            method,
            policy_version,
            text_version,
            source_ip,
            at: crate::time::from_millis(at)?,
        },
    })
}

/// The live consents of the people `c.subject_id` matches (`$who`), as rows `c` of the
/// ledger: the latest entry per purpose, a grant, made after any reset of the purpose. One
/// definition for [`LIVE_CONSENTS`], [`CHOICES`] and [`CHOICES_OF_MANY`].
macro_rules! live_consents_from {
    ($who:literal) => {
        concat!(
            "FROM consents c WHERE ",
            $who,
            " AND c.granted AND c.seq = \
           (SELECT MAX(l.seq) FROM consents l WHERE l.subject_id = c.subject_id AND l.purpose = c.purpose) \
         AND c.at >= COALESCE((SELECT r.since FROM consent_resets r WHERE r.purpose = c.purpose), 0)"
        )
    };
}

/// The purposes with live consent, sorted.
pub(crate) const LIVE_CONSENTS: &str =
    concat!("SELECT c.purpose ", live_consents_from!("c.subject_id = $1"), " ORDER BY c.purpose");

/// What the gate needs in one statement: each row says what it is (0 the subject itself,
/// 1 a live consent, 2 an objection with any compelling grounds, 3 a restriction).
pub(crate) const CHOICES: &str = concat!(
    "SELECT 0, NULL, NULL FROM subjects WHERE subject_id = $1 \
     UNION ALL \
     SELECT 1, c.purpose, NULL ",
    live_consents_from!("c.subject_id = $1"),
    " UNION ALL \
     SELECT 2, purpose, compelling_grounds FROM objections WHERE subject_id = $1 \
     UNION ALL \
     SELECT 3, NULL, NULL FROM restrictions WHERE subject_id = $1"
);

/// [`CHOICES`] for the people in the array `$1`, each row led by its subject id
/// (PostgreSQL's batched reads).
pub(crate) const CHOICES_OF_MANY: &str = concat!(
    "SELECT subject_id, 0, NULL, NULL FROM subjects WHERE subject_id = ANY($1) \
     UNION ALL \
     SELECT c.subject_id, 1, c.purpose, NULL ",
    live_consents_from!("c.subject_id = ANY($1)"),
    " UNION ALL \
     SELECT subject_id, 2, purpose, compelling_grounds FROM objections WHERE subject_id = ANY($1) \
     UNION ALL \
     SELECT subject_id, 3, NULL, NULL FROM restrictions WHERE subject_id = ANY($1)"
);

/// A person's records, oldest first.
pub(crate) const RECORDS: &str = "SELECT subject_id, record_id, category, purpose, policy_version, sealed, \
     created_at, expires_at FROM records WHERE subject_id = $1 ORDER BY created_at, record_id";

/// A person's wrapped data key (key store).
pub(crate) const DATA_KEY: &str = "SELECT master_key_id, wrapped, created_at FROM data_keys WHERE subject_id = $1";

/// When a person's data key was destroyed (key store).
pub(crate) const ERASED_AT: &str = "SELECT erased_at FROM erased_subjects WHERE subject_id = $1";

/// Reads [`CHOICES`] rows into the gate's view.
pub(crate) fn choices(rows: Vec<(i32, Option<String>, Option<String>)>) -> Option<crate::Choices> {
    if !rows.iter().any(|(what, _, _)| *what == 0) {
        return None;
    }
    let mut choices = crate::Choices::default();
    for (what, purpose, grounds) in rows {
        match (what, purpose) {
            (1, Some(purpose)) => choices.consents.push(purpose),
            (2, Some(purpose)) => choices.objections.push((purpose, grounds)),
            (3, _) => choices.restricted = true,
            _ => {}
        }
    }
    choices.consents.sort_unstable();
    choices.objections.sort_unstable();
    Some(choices)
}
