//! The store operations whose SQL both backends run as written.
//!
//! SQLite and PostgreSQL share most of custos's SQL: `$N` parameters, `ON CONFLICT`,
//! `RETURNING` and partial indexes work on both. The macro below writes those operations
//! once and implements them for a backend type, which must provide three inherent
//! methods where the backends differ:
//! - `begin_write(&self)`: a transaction that may write (`BEGIN IMMEDIATE` on SQLite);
//! - `lock_audit(tx)`: serialises appends to the audit chain;
//! - `claim_one(&self, worker, kinds, now, lease_until)`: the job claim (`SKIP LOCKED` on
//!   PostgreSQL, one atomic `UPDATE … RETURNING` on SQLite);
//! - `insert_events_as_arrays(conn, events)`: events as columns of arrays where the
//!   backend has them (PostgreSQL's `UNNEST`), `None` to take the multi-row `INSERT`.
//!
//! (And the hooks for the hot paths: `inline_reads`, `inline_writer`, `batched_choices`,
//! `batched_ledger`.)

/// Implements [`crate::SubjectStore`], [`crate::RecordStore`], [`crate::JobStore`] and
/// [`crate::AuditStore`] for `$store`, whose pool is `self.pool` of database `$db`.
macro_rules! portable_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::SubjectStore for $store {
            async fn create_subject(
                &self,
                subject: &$crate::NewSubject,
                identifiers: &[($crate::IdentifierKind, $crate::BlindIndex)],
            ) -> Result<(), $crate::StoreError> {
                let at = $crate::time::to_millis(subject.created_at);
                let mut tx = self.begin_write().await?;
                sqlx::query::<$db>("INSERT INTO subjects (subject_id, kind, created_at) VALUES ($1, $2, $3)")
                    .bind(subject.id.0)
                    .bind(subject.kind.as_str())
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| $crate::error::conflict_on_unique(e, || format!("subject {} exists", subject.id)))?;
                for (kind, index) in identifiers {
                    sqlx::query::<$db>(
                        "INSERT INTO identifiers (subject_id, kind, blind_index, created_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(subject.id.0)
                    .bind(kind.as_str())
                    .bind(&index.0[..])
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| $crate::error::conflict_on_unique(e, || format!("{kind} identifier is already held")))?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn subject(&self, id: $crate::SubjectId) -> Result<Option<$crate::Subject>, $crate::StoreError> {
                if let Some(reads) = self.inline_reads() {
                    return reads.subject(id);
                }
                let row = sqlx::query::<$db>($crate::queries::SUBJECT)
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map($crate::rows::subject).transpose()
            }

            async fn add_identifier(
                &self,
                id: $crate::SubjectId,
                kind: $crate::IdentifierKind,
                index: &$crate::BlindIndex,
                at: jiff::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                let result = sqlx::query::<$db>(
                    "INSERT INTO identifiers (subject_id, kind, blind_index, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (subject_id, kind, blind_index) DO NOTHING",
                )
                .bind(id.0)
                .bind(kind.as_str())
                .bind(&index.0[..])
                .bind($crate::time::to_millis(at))
                .execute(&mut *self.write_conn().await?)
                .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                        Err($crate::StoreError::NotFound(format!("subject {id}")))
                    }
                    Err(e) => Err($crate::error::conflict_on_unique(e, || format!("{kind} identifier is already held"))),
                }
            }

            async fn find_subject(
                &self,
                kind: $crate::IdentifierKind,
                index: &$crate::BlindIndex,
            ) -> Result<Option<$crate::SubjectId>, $crate::StoreError> {
                if let Some(reads) = self.inline_reads() {
                    return reads.find_subject(kind, index);
                }
                let id: Option<uuid::Uuid> =
                    sqlx::query_scalar::<$db, uuid::Uuid>($crate::queries::FIND_SUBJECT)
                        .bind(kind.as_str())
                        .bind(&index.0[..])
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(id.map($crate::SubjectId))
            }

            async fn identifiers(
                &self,
                id: $crate::SubjectId,
            ) -> Result<Vec<($crate::IdentifierKind, $crate::BlindIndex)>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (String, Vec<u8>)>(
                    "SELECT kind, blind_index FROM identifiers WHERE subject_id = $1 ORDER BY created_at, kind, blind_index",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|(kind, index)| Ok((kind.parse()?, index.try_into()?))).collect()
            }

            async fn delete_subject(&self, id: $crate::SubjectId) -> Result<bool, $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                // Children first, so that the deletion does not depend on cascades.
                for sql in [
                    "DELETE FROM records WHERE subject_id = $1",
                    "DELETE FROM identifiers WHERE subject_id = $1",
                    "DELETE FROM consents WHERE subject_id = $1",
                    "DELETE FROM objections WHERE subject_id = $1",
                    "DELETE FROM restrictions WHERE subject_id = $1",
                    "DELETE FROM events WHERE subject_id = $1",
                    "DELETE FROM account_tokens WHERE subject_id = $1",
                    "DELETE FROM accounts WHERE subject_id = $1",
                ] {
                    sqlx::query::<$db>(sql).bind(id.0).execute(&mut *tx).await?;
                }
                let gone = sqlx::query::<$db>("DELETE FROM subjects WHERE subject_id = $1").bind(id.0).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(gone.rows_affected() > 0)
            }
        }

        #[async_trait::async_trait]
        impl $crate::SubjectStateStore for $store {
            async fn append_consent(&self, e: &$crate::ConsentEntry) -> Result<i64, $crate::StoreError> {
                let write = $crate::ConsentWrite { visitor: None, entry: e.clone(), audit: None };
                let appended = self.append_consents(std::slice::from_ref(&write)).await?;
                appended.written.first().map(|(_, seq)| *seq).ok_or_else(|| $crate::StoreError::Corrupt("no entry appended".into()))
            }

            async fn append_consents(
                &self,
                writes: &[$crate::ConsentWrite],
            ) -> Result<$crate::AppendedConsents, $crate::StoreError> {
                if let Some(writer) = self.inline_writer() {
                    return writer.write(writes, $crate::sqlite::writer::append_consents).await;
                }
                // A handful of statements per batch, not per entry: each statement is a
                // round trip to the database (on SQLite, to its connection's thread).
                // The lookups whose length follows the batch are not kept prepared
                // (`persistent(false)`): PostgreSQL would go on running a prepared one with
                // the plan it made while the tables were nearly empty (a scan of the whole
                // index, not a lookup per value: 14 ms a batch once the ledger held 60,000
                // visitors). Unprepared, each is planned for the tables as they are. The
                // INSERTs stay prepared: they have no plan to go stale, and parsing one of
                // a few thousand parameters at every batch costs more than it saves.
                const CHUNK: usize = 200;
                let cookie_kind = $crate::IdentifierKind::CookieId.as_str();
                let mut tx = self.begin_write().await?;

                // Visitors: those whose cookie is known, then the new ones.
                let mut by_cookie: std::collections::HashMap<[u8; 32], $crate::SubjectId> = Default::default();
                let mut cookies: Vec<&[u8; 32]> = writes.iter().filter_map(|w| w.visitor.as_ref().map(|v| &v.cookie.0)).collect();
                cookies.sort_unstable();
                cookies.dedup();
                for chunk in cookies.chunks(CHUNK) {
                    let mut find = sqlx::QueryBuilder::<$db>::new("SELECT blind_index, subject_id FROM identifiers WHERE kind = ");
                    find.push_bind(cookie_kind).push(" AND blind_index IN (");
                    let mut list = find.separated(", ");
                    for cookie in chunk {
                        list.push_bind(cookie.to_vec());
                    }
                    find.push(")");
                    for (index, id) in find.build_query_as::<(Vec<u8>, uuid::Uuid)>().persistent(false).fetch_all(&mut *tx).await? {
                        if let Ok(index) = <[u8; 32]>::try_from(index) {
                            by_cookie.insert(index, $crate::SubjectId(id));
                        }
                    }
                }
                let mut new_visitors: Vec<&$crate::NewVisitor> = Vec::new();
                for visitor in writes.iter().filter_map(|w| w.visitor.as_ref()) {
                    if !by_cookie.contains_key(&visitor.cookie.0) {
                        by_cookie.insert(visitor.cookie.0, visitor.subject.id);
                        new_visitors.push(visitor);
                    }
                }
                for chunk in new_visitors.chunks(CHUNK) {
                    let mut subjects = sqlx::QueryBuilder::<$db>::new("INSERT INTO subjects (subject_id, kind, created_at) ");
                    subjects.push_values(chunk, |mut row, v| {
                        row.push_bind(v.subject.id.0)
                            .push_bind(v.subject.kind.as_str())
                            .push_bind($crate::time::to_millis(v.subject.created_at));
                    });
                    subjects.build().execute(&mut *tx).await?;
                    let mut identifiers =
                        sqlx::QueryBuilder::<$db>::new("INSERT INTO identifiers (subject_id, kind, blind_index, created_at) ");
                    identifiers.push_values(chunk, |mut row, v| {
                        row.push_bind(v.subject.id.0)
                            .push_bind(cookie_kind)
                            .push_bind(v.cookie.0.to_vec())
                            .push_bind($crate::time::to_millis(v.subject.created_at));
                    });
                    identifiers.push(" ON CONFLICT (kind, blind_index) DO NOTHING RETURNING blind_index");
                    let added: std::collections::HashSet<Vec<u8>> =
                        identifiers.build_query_scalar::<Vec<u8>>().fetch_all(&mut *tx).await?.into_iter().collect();
                    // Another process recorded some of these cookies meanwhile: use its visitor.
                    for lost in chunk.iter().filter(|v| !added.contains(&v.cookie.0[..])) {
                        sqlx::query::<$db>("DELETE FROM subjects WHERE subject_id = $1")
                            .bind(lost.subject.id.0)
                            .execute(&mut *tx)
                            .await?;
                        let id = sqlx::query_scalar::<$db, uuid::Uuid>(
                            "SELECT subject_id FROM identifiers WHERE kind = $1 AND blind_index = $2",
                        )
                        .bind(cookie_kind)
                        .bind(&lost.cookie.0[..])
                        .fetch_one(&mut *tx)
                        .await?;
                        by_cookie.insert(lost.cookie.0, $crate::SubjectId(id));
                    }
                }
                let subject_of = |w: &$crate::ConsentWrite| match &w.visitor {
                    Some(v) => by_cookie[&v.cookie.0],
                    None => w.entry.subject_id,
                };

                // Sequence numbers continue each subject's ledger; a visitor made in this
                // transaction has none yet.
                let made: std::collections::HashSet<uuid::Uuid> = new_visitors.iter().map(|v| v.subject.id.0).collect();
                let mut subjects: Vec<uuid::Uuid> =
                    writes.iter().map(|w| subject_of(w).0).filter(|id| !made.contains(id)).collect();
                subjects.sort_unstable();
                subjects.dedup();
                let mut last_seq: std::collections::HashMap<uuid::Uuid, i64> = Default::default();
                for chunk in subjects.chunks(CHUNK) {
                    let mut max = sqlx::QueryBuilder::<$db>::new("SELECT subject_id, MAX(seq) FROM consents WHERE subject_id IN (");
                    let mut list = max.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    max.push(") GROUP BY subject_id");
                    last_seq.extend(max.build_query_as::<(uuid::Uuid, i64)>().persistent(false).fetch_all(&mut *tx).await?);
                }
                let mut written = Vec::with_capacity(writes.len());
                for w in writes {
                    let subject = subject_of(w);
                    let seq = last_seq.entry(subject.0).or_insert(0);
                    *seq += 1;
                    written.push((subject, *seq));
                }

                for (chunk, numbers) in writes.chunks(CHUNK).zip(written.chunks(CHUNK)) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO consents (subject_id, seq, purpose, granted, method, policy_version, at, text_version, source_ip) ",
                    );
                    insert.push_values(chunk.iter().zip(numbers), |mut row, (w, (subject, seq))| {
                        let e = &w.entry;
                        row.push_bind(subject.0)
                            .push_bind(*seq)
                            .push_bind(e.purpose.clone())
                            .push_bind(e.granted)
                            .push_bind(e.method.clone())
                            .push_bind(e.policy_version.clone())
                            .push_bind($crate::time::to_millis(e.at))
                            .push_bind(e.text_version.clone())
                            .push_bind(e.source_ip.clone());
                    });
                    insert.build().execute(&mut *tx).await.map_err(|e| {
                        $crate::error::not_found_on_foreign_key(e, || {
                            if chunk.len() == 1 { format!("subject {}", numbers[0].0) } else { "a subject".into() }
                        })
                    })?;
                }
                let audit: Vec<$crate::NewAuditEntry> = writes
                    .iter()
                    .zip(&written)
                    .filter_map(|(w, (subject, seq))| {
                        w.audit.as_ref().map(|a| $crate::subject_state::consent_audit(a, *subject, *seq))
                    })
                    .collect();
                let audit = if audit.is_empty() {
                    Vec::new()
                } else {
                    Self::lock_audit(&mut tx).await?;
                    Self::append_audit_rows(&mut *tx, &audit).await?
                };
                tx.commit().await?;
                Ok($crate::AppendedConsents { written, audit })
            }

            async fn consent_history(&self, subject: $crate::SubjectId) -> Result<Vec<$crate::StoredConsent>, $crate::StoreError> {
                if let Some(reads) = self.inline_reads() {
                    return reads.consent_history(subject);
                }
                let rows = match self.batched_ledger(subject).await {
                    Some(rows) => rows?,
                    None => {
                        sqlx::query_as::<$db, $crate::queries::ConsentRow>($crate::queries::CONSENT_HISTORY)
                            .bind(subject.0)
                            .fetch_all(&self.pool)
                            .await?
                    }
                };
                rows.into_iter().map(|row| $crate::queries::stored_consent(subject, row)).collect()
            }

            async fn reset_consents(&self, purpose: &str, since: jiff::Timestamp) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO consent_resets (purpose, since) VALUES ($1, $2) \
                     ON CONFLICT (purpose) DO UPDATE SET since = excluded.since",
                )
                .bind(purpose)
                .bind($crate::time::to_millis(since))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(())
            }

            async fn live_consents(&self, subject: $crate::SubjectId) -> Result<Vec<String>, $crate::StoreError> {
                Ok(sqlx::query_scalar::<$db, String>($crate::queries::LIVE_CONSENTS)
                    .bind(subject.0)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn record_objection(&self, subject: $crate::SubjectId, purpose: &str, at: jiff::Timestamp) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO objections (subject_id, purpose, at) VALUES ($1, $2, $3) \
                     ON CONFLICT (subject_id, purpose) DO NOTHING",
                )
                .bind(subject.0)
                .bind(purpose)
                .bind($crate::time::to_millis(at))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::not_found_on_foreign_key(e, || format!("subject {subject}")))?;
                Ok(())
            }

            async fn clear_objection(&self, subject: $crate::SubjectId, purpose: &str) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>("DELETE FROM objections WHERE subject_id = $1 AND purpose = $2")
                    .bind(subject.0)
                    .bind(purpose)
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn record_compelling_grounds(
                &self,
                subject: $crate::SubjectId,
                purpose: &str,
                grounds: &str,
            ) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>("UPDATE objections SET compelling_grounds = $3 WHERE subject_id = $1 AND purpose = $2")
                    .bind(subject.0)
                    .bind(purpose)
                    .bind(grounds)
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn objections(&self, subject: $crate::SubjectId) -> Result<Vec<(String, Option<String>)>, $crate::StoreError> {
                Ok(sqlx::query_as::<$db, (String, Option<String>)>(
                    "SELECT purpose, compelling_grounds FROM objections WHERE subject_id = $1 ORDER BY purpose",
                )
                .bind(subject.0)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn set_restriction(
                &self,
                subject: $crate::SubjectId,
                ground: Option<&str>,
                at: jiff::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                let result = match ground {
                    Some(ground) => {
                        sqlx::query::<$db>(
                            "INSERT INTO restrictions (subject_id, ground, since) VALUES ($1, $2, $3) \
                             ON CONFLICT (subject_id) DO UPDATE SET ground = excluded.ground",
                        )
                        .bind(subject.0)
                        .bind(ground)
                        .bind($crate::time::to_millis(at))
                        .execute(&mut *self.write_conn().await?)
                        .await
                    }
                    None => sqlx::query::<$db>("DELETE FROM restrictions WHERE subject_id = $1").bind(subject.0).execute(&mut *self.write_conn().await?).await,
                };
                match result {
                    Ok(_) => Ok(()),
                    Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                        Err($crate::StoreError::NotFound(format!("subject {subject}")))
                    }
                    Err(e) => Err(e.into()),
                }
            }

            async fn restricted(&self, subject: $crate::SubjectId) -> Result<bool, $crate::StoreError> {
                let n = sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM restrictions WHERE subject_id = $1")
                    .bind(subject.0)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n > 0)
            }

            async fn choices(&self, subject: $crate::SubjectId) -> Result<Option<$crate::Choices>, $crate::StoreError> {
                // One statement instead of four: every statement is a round trip (on
                // SQLite through sqlx, to the connection's thread), and a gated read asks
                // this first.
                if let Some(reads) = self.inline_reads() {
                    return reads.choices(subject);
                }
                if let Some(read) = self.batched_choices(subject).await {
                    return read;
                }
                let rows = sqlx::query_as::<$db, (i32, Option<String>, Option<String>)>($crate::queries::CHOICES)
                    .bind(subject.0)
                    .fetch_all(&self.pool)
                    .await?;
                Ok($crate::queries::choices(rows))
            }
        }

        #[async_trait::async_trait]
        impl $crate::TokenStore for $store {
            async fn create_token(&self, t: &$crate::ServiceToken) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO service_tokens (id, name, secret_hash, purposes, created_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&t.id)
                .bind(&t.name)
                .bind(&t.secret_hash[..])
                .bind(serde_json::to_string(&t.purposes).unwrap_or_else(|_| "[]".into()))
                .bind($crate::time::to_millis(t.created_at))
                .bind(t.revoked_at.map($crate::time::to_millis))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("token {} exists", t.id)))?;
                Ok(())
            }

            async fn token(&self, id: &str) -> Result<Option<$crate::ServiceToken>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (String, String, Vec<u8>, String, i64, Option<i64>)>(
                    "SELECT id, name, secret_hash, purposes, created_at, revoked_at FROM service_tokens WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::tokens::from_row).transpose()
            }

            async fn tokens(&self) -> Result<Vec<$crate::ServiceToken>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (String, String, Vec<u8>, String, i64, Option<i64>)>(
                    "SELECT id, name, secret_hash, purposes, created_at, revoked_at FROM service_tokens \
                     ORDER BY created_at DESC, id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::tokens::from_row).collect()
            }

            async fn revoke_token(&self, id: &str, at: jiff::Timestamp) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>("UPDATE service_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind($crate::time::to_millis(at))
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }

        #[async_trait::async_trait]
        impl $crate::EventStore for $store {
            async fn subject_events(
                &self,
                subject: $crate::SubjectId,
                limit: u32,
            ) -> Result<Vec<$crate::StoredEvent>, $crate::StoreError> {
                type Row = (
                    uuid::Uuid, i64, String, String, Option<String>, bool, Option<i64>,
                    Option<Vec<u8>>, Option<String>, Option<String>, Option<String>, Option<String>,
                );
                let rows = sqlx::query_as::<$db, Row>(
                    "SELECT event_id, at, kind, path, referrer, entry, duration_ms, sealed_ip, country, browser, os, device \
                     FROM events WHERE subject_id = $1 ORDER BY event_id LIMIT $2",
                )
                .bind(subject.0)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(event_id, at, kind, path, referrer, entry, duration_ms, sealed_ip, country, browser, os, device)| {
                        Ok($crate::StoredEvent {
                            visitor: $crate::EventVisitor::Subject(subject),
                            event_id,
                            at: $crate::time::from_millis(at)?,
                            kind,
                            path,
                            referrer,
                            entry,
                            duration_ms,
                            sealed_ip,
                            country,
                            browser,
                            os,
                            device,
                        })
                    })
                    .collect()
            }

            async fn insert_events(&self, events: &[$crate::StoredEvent]) -> Result<(), $crate::StoreError> {
                if let Some(writer) = self.inline_writer() {
                    return writer.write(events, $crate::sqlite::writer::insert_events).await;
                }
                let mut tx = self.begin_write().await?;
                Self::insert_event_rows(&mut *tx, events).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn insert_events_audited(
                &self,
                events: &[$crate::StoredEvent],
                audit: &[$crate::NewAuditEntry],
            ) -> Result<Vec<$crate::AuditEntry>, $crate::StoreError> {
                if let Some(writer) = self.inline_writer() {
                    let (events, audit) = (events.to_vec(), audit.to_vec());
                    return writer
                        .transaction(move |tx| {
                            $crate::sqlite::writer::insert_events(tx, &events)?;
                            if audit.is_empty() {
                                return Ok(Vec::new());
                            }
                            $crate::sqlite::writer::append_audit(tx, &audit)
                        })
                        .await;
                }
                let mut tx = self.begin_write().await?;
                Self::insert_event_rows(&mut *tx, events).await?;
                let appended = if audit.is_empty() {
                    Vec::new()
                } else {
                    Self::lock_audit(&mut tx).await?;
                    Self::append_audit_rows(&mut *tx, audit).await?
                };
                tx.commit().await?;
                Ok(appended)
            }

            async fn analytics_salt(&self, day: &str, candidate: &[u8; 32], now: jiff::Timestamp) -> Result<[u8; 32], $crate::StoreError> {
                sqlx::query::<$db>("INSERT INTO analytics_salts (day, salt, created_at) VALUES ($1, $2, $3) ON CONFLICT (day) DO NOTHING")
                    .bind(day)
                    .bind(&candidate[..])
                    .bind($crate::time::to_millis(now))
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                let salt = sqlx::query_scalar::<$db, Vec<u8>>("SELECT salt FROM analytics_salts WHERE day = $1")
                    .bind(day)
                    .fetch_one(&self.pool)
                    .await?;
                let len = salt.len();
                salt.try_into().map_err(|_| $crate::StoreError::Corrupt(format!("analytics salt of {len} bytes")))
            }

            async fn purge_salts(&self, before: jiff::Timestamp) -> Result<u64, $crate::StoreError> {
                Ok(sqlx::query::<$db>("DELETE FROM analytics_salts WHERE created_at < $1")
                    .bind($crate::time::to_millis(before))
                    .execute(&mut *self.write_conn().await?)
                    .await?
                    .rows_affected())
            }

            async fn event_totals(
                &self,
                from: jiff::Timestamp,
                to: jiff::Timestamp,
                top: u32,
            ) -> Result<$crate::EventTotals, $crate::StoreError> {
                let (from, to) = ($crate::time::to_millis(from), $crate::time::to_millis(to));
                let mut totals = $crate::EventTotals::default();
                let n = |v: i64| u64::try_from(v).unwrap_or(0);
                for (table, visitor) in [("events", "subject_id"), ("anonymous_events", "visitor_hash")] {
                    let sql = format!("SELECT COUNT(DISTINCT {visitor}) FROM {table} WHERE at >= $1 AND at < $2");
                    totals.visitors += n(sqlx::query_scalar::<$db, i64>(&sql).bind(from).bind(to).fetch_one(&self.pool).await?);
                    let sql = format!(
                        "SELECT COUNT(*) FROM {table} WHERE at >= $1 AND at < $2 AND kind = 'pageview' AND entry = $3"
                    );
                    totals.visits +=
                        n(sqlx::query_scalar::<$db, i64>(&sql).bind(from).bind(to).bind(true).fetch_one(&self.pool).await?);
                    let sql = format!("SELECT COUNT(*) FROM {table} WHERE at >= $1 AND at < $2 AND kind = 'pageview'");
                    totals.page_views += n(sqlx::query_scalar::<$db, i64>(&sql).bind(from).bind(to).fetch_one(&self.pool).await?);
                    let sql = format!(
                        "SELECT CAST(SUM(duration_ms) AS BIGINT), COUNT(duration_ms) FROM {table} \
                         WHERE at >= $1 AND at < $2 AND kind = 'leave'"
                    );
                    let (sum, measured) =
                        sqlx::query_as::<$db, (Option<i64>, i64)>(&sql).bind(from).bind(to).fetch_one(&self.pool).await?;
                    totals.duration.0 += sum.unwrap_or(0);
                    totals.duration.1 += n(measured);
                    for (column, filter, which) in [("path", "", 0), ("path", " AND entry = $4", 1), ("country", " AND country IS NOT NULL", 2)] {
                        let sql = format!(
                            "SELECT {column}, COUNT(*) AS n FROM {table} WHERE at >= $1 AND at < $2 AND kind = 'pageview'{filter} \
                             GROUP BY {column} ORDER BY n DESC, {column} LIMIT $3"
                        );
                        let mut query = sqlx::query_as::<$db, (String, i64)>(&sql).bind(from).bind(to).bind(i64::from(top));
                        if which == 1 {
                            query = query.bind(true);
                        }
                        let rows = query.fetch_all(&self.pool).await?;
                        let into = match which {
                            0 => &mut totals.pages,
                            1 => &mut totals.entry_pages,
                            _ => &mut totals.countries,
                        };
                        for (key, count) in rows {
                            match into.iter_mut().find(|(k, _)| *k == key) {
                                Some(slot) => slot.1 += n(count),
                                None => into.push((key, n(count))),
                            }
                        }
                    }
                }
                for list in [&mut totals.pages, &mut totals.entry_pages, &mut totals.countries] {
                    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                    list.truncate(top as usize);
                }
                Ok(totals)
            }
        }

        #[async_trait::async_trait]
        impl $crate::AccountStore for $store {
            async fn create_account(&self, a: &$crate::Account) -> Result<(), $crate::StoreError> {
                let result = sqlx::query::<$db>(
                    "INSERT INTO accounts (subject_id, password_hash, verified_at, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(a.subject_id.0)
                .bind(&a.password_hash)
                .bind(a.verified_at.map($crate::time::to_millis))
                .bind($crate::time::to_millis(a.created_at))
                .execute(&mut *self.write_conn().await?)
                .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                        Err($crate::StoreError::NotFound(format!("subject {}", a.subject_id)))
                    }
                    Err(e) => Err($crate::error::conflict_on_unique(e, || "the subject has an account".into())),
                }
            }

            async fn account(&self, subject: $crate::SubjectId) -> Result<Option<$crate::Account>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (String, Option<i64>, i64)>(
                    "SELECT password_hash, verified_at, created_at FROM accounts WHERE subject_id = $1",
                )
                .bind(subject.0)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(password_hash, verified, created)| {
                    Ok($crate::Account {
                        subject_id: subject,
                        password_hash,
                        verified_at: verified.map($crate::time::from_millis).transpose()?,
                        created_at: $crate::time::from_millis(created)?,
                    })
                })
                .transpose()
            }

            async fn set_password(&self, subject: $crate::SubjectId, hash: &str) -> Result<(), $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query::<$db>("UPDATE accounts SET password_hash = $2 WHERE subject_id = $1")
                    .bind(subject.0)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<$db>("DELETE FROM account_tokens WHERE subject_id = $1 AND kind = 'session'")
                    .bind(subject.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn mark_verified(&self, subject: $crate::SubjectId, at: jiff::Timestamp) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>("UPDATE accounts SET verified_at = $2 WHERE subject_id = $1 AND verified_at IS NULL")
                    .bind(subject.0)
                    .bind($crate::time::to_millis(at))
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(())
            }

            async fn put_token(
                &self,
                subject: $crate::SubjectId,
                hash: &[u8; 32],
                kind: &str,
                expires_at: jiff::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>("INSERT INTO account_tokens (subject_id, token_hash, kind, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(subject.0)
                    .bind(&hash[..])
                    .bind(kind)
                    .bind($crate::time::to_millis(expires_at))
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(())
            }

            async fn token_subject(
                &self,
                hash: &[u8; 32],
                kind: &str,
                now: jiff::Timestamp,
            ) -> Result<Option<$crate::SubjectId>, $crate::StoreError> {
                let id = sqlx::query_scalar::<$db, uuid::Uuid>(
                    "SELECT subject_id FROM account_tokens WHERE token_hash = $1 AND kind = $2 AND expires_at > $3",
                )
                .bind(&hash[..])
                .bind(kind)
                .bind($crate::time::to_millis(now))
                .fetch_optional(&self.pool)
                .await?;
                Ok(id.map($crate::SubjectId))
            }

            async fn account_holders(&self) -> Result<Vec<$crate::SubjectId>, $crate::StoreError> {
                let ids = sqlx::query_scalar::<$db, uuid::Uuid>("SELECT subject_id FROM accounts ORDER BY subject_id")
                    .fetch_all(&self.pool)
                    .await?;
                Ok(ids.into_iter().map($crate::SubjectId).collect())
            }

            async fn delete_token(&self, hash: &[u8; 32]) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>("DELETE FROM account_tokens WHERE token_hash = $1").bind(&hash[..]).execute(&mut *self.write_conn().await?).await?;
                Ok(done.rows_affected() > 0)
            }
        }

        #[async_trait::async_trait]
        impl $crate::RecordStore for $store {
            async fn put_record(&self, record: &$crate::NewRecord) -> Result<(), $crate::StoreError> {
                let result = sqlx::query::<$db>(
                    "INSERT INTO records (subject_id, record_id, category, purpose, policy_version, sealed, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(record.subject_id.0)
                .bind(record.record_id)
                .bind(&record.category)
                .bind(&record.purpose)
                .bind(&record.policy_version)
                .bind(&record.sealed)
                .bind($crate::time::to_millis(record.created_at))
                .bind(record.expires_at.map($crate::time::to_millis))
                .execute(&mut *self.write_conn().await?)
                .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                        Err($crate::StoreError::NotFound(format!("subject {}", record.subject_id)))
                    }
                    Err(e) => Err($crate::error::conflict_on_unique(e, || format!("record {} exists", record.record_id))),
                }
            }

            async fn records(&self, subject_id: $crate::SubjectId) -> Result<Vec<$crate::Record>, $crate::StoreError> {
                if let Some(reads) = self.inline_reads() {
                    return reads.records(subject_id);
                }
                let rows = sqlx::query::<$db>($crate::queries::RECORDS)
                .bind(subject_id.0)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::rows::record).collect()
            }

            async fn delete_record(&self, subject_id: $crate::SubjectId, record_id: uuid::Uuid) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>("DELETE FROM records WHERE subject_id = $1 AND record_id = $2")
                    .bind(subject_id.0)
                    .bind(record_id)
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(done.rows_affected() > 0)
            }
        }

        #[async_trait::async_trait]
        impl $crate::JobStore for $store {
            async fn enqueue_job(&self, job: &$crate::NewJob) -> Result<$crate::Enqueued, $crate::StoreError> {
                let inserted = Self::insert_job(&mut *self.write_conn().await?, job).await?;
                if let Some(id) = inserted {
                    return Ok($crate::Enqueued::New(id));
                }
                let existing = sqlx::query_scalar::<$db, i64>("SELECT id FROM jobs WHERE kind = $1 AND idempotency_key = $2")
                    .bind(&job.kind)
                    .bind(&job.idempotency_key)
                    .fetch_one(&self.pool)
                    .await?;
                Ok($crate::Enqueued::Duplicate(existing))
            }

            async fn claim_job(
                &self,
                worker: &str,
                kinds: &[&str],
                now: jiff::Timestamp,
                lease_until: jiff::Timestamp,
            ) -> Result<Option<$crate::Job>, $crate::StoreError> {
                if kinds.is_empty() {
                    return Ok(None);
                }
                self.claim_one(worker, kinds, $crate::time::to_millis(now), $crate::time::to_millis(lease_until)).await
            }

            async fn complete_job(&self, id: i64, worker: &str, now: jiff::Timestamp) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE jobs SET state = 'done', locked_until = NULL, locked_by = NULL, updated_at = $3 \
                     WHERE id = $1 AND state = 'running' AND locked_by = $2",
                )
                .bind(id)
                .bind(worker)
                .bind($crate::time::to_millis(now))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn fail_job(
                &self,
                id: i64,
                worker: &str,
                error: &str,
                outcome: &$crate::JobFailure,
                now: jiff::Timestamp,
            ) -> Result<bool, $crate::StoreError> {
                let (state, run_at) = match outcome {
                    $crate::JobFailure::RetryAt(at) => ("pending", Some($crate::time::to_millis(*at))),
                    $crate::JobFailure::Dead => ("dead", None),
                };
                let done = sqlx::query::<$db>(
                    "UPDATE jobs SET state = $3, run_at = COALESCE($4, run_at), last_error = $5, \
                     locked_until = NULL, locked_by = NULL, updated_at = $6 \
                     WHERE id = $1 AND state = 'running' AND locked_by = $2",
                )
                .bind(id)
                .bind(worker)
                .bind(state)
                .bind(run_at)
                .bind(error)
                .bind($crate::time::to_millis(now))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn job(&self, id: i64) -> Result<Option<$crate::Job>, $crate::StoreError> {
                let row = sqlx::query::<$db>("SELECT * FROM jobs WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map($crate::rows::job).transpose()
            }

            async fn jobs_in_state(&self, state: $crate::JobState, limit: u32) -> Result<Vec<$crate::Job>, $crate::StoreError> {
                let rows = sqlx::query::<$db>("SELECT * FROM jobs WHERE state = $1 ORDER BY id LIMIT $2")
                    .bind(state.as_str())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map($crate::rows::job).collect()
            }

            async fn retry_dead_job(&self, id: i64, now: jiff::Timestamp) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE jobs SET state = 'pending', attempts = 0, run_at = $2, locked_by = NULL, locked_until = NULL, \
                     updated_at = $2 WHERE id = $1 AND state = 'dead'",
                )
                .bind(id)
                .bind($crate::time::to_millis(now))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn count_jobs(&self) -> Result<$crate::JobCounts, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (String, i64)>("SELECT state, COUNT(*) FROM jobs GROUP BY state")
                    .fetch_all(&self.pool)
                    .await?;
                let mut counts = $crate::JobCounts::default();
                for (state, n) in rows {
                    counts.0.insert(state.parse()?, u64::try_from(n).unwrap_or(0));
                }
                Ok(counts)
            }
        }

        impl $store {
            /// Queues `job` on `conn` (in a transaction or not); `None` when a job of its kind
            /// with its idempotency key exists already, which is left as it is.
            async fn insert_job(
                conn: &mut <$db as sqlx::Database>::Connection,
                job: &$crate::NewJob,
            ) -> Result<Option<i64>, $crate::StoreError> {
                Ok(sqlx::query_scalar::<$db, i64>(
                    "INSERT INTO jobs (kind, payload, idempotency_key, state, priority, attempts, max_attempts, run_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'pending', $4, 0, $5, $6, $7, $7) \
                     ON CONFLICT (kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
                     RETURNING id",
                )
                .bind(&job.kind)
                .bind(job.payload.to_string())
                .bind(&job.idempotency_key)
                .bind(job.priority)
                .bind(i32::try_from(job.max_attempts.max(1)).unwrap_or(i32::MAX))
                .bind($crate::time::to_millis(job.run_at))
                .bind($crate::time::to_millis(jiff::Timestamp::now()))
                .fetch_optional(&mut *conn)
                .await?)
            }

            /// Stores `events` on `conn` inside a write transaction: a known visitor's in
            /// `events`, a cookieless one's in `anonymous_events`.
            async fn insert_event_rows(
                conn: &mut <$db as sqlx::Database>::Connection,
                events: &[$crate::StoredEvent],
            ) -> Result<(), $crate::StoreError> {
                if let Some(done) = Self::insert_events_as_arrays(&mut *conn, events).await {
                    return done;
                }
                // Multi-row INSERTs: one statement per 200 rows instead of one per row.
                let (known, anonymous): (Vec<&$crate::StoredEvent>, Vec<&$crate::StoredEvent>) =
                    events.iter().partition(|e| matches!(e.visitor, $crate::EventVisitor::Subject(_)));
                for chunk in known.chunks(200) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO events (subject_id, event_id, at, kind, path, referrer, entry, duration_ms, \
                         sealed_ip, country, browser, os, device) ",
                    );
                    insert.push_values(chunk, |mut row, e| {
                        if let $crate::EventVisitor::Subject(subject) = &e.visitor {
                            row.push_bind(subject.0);
                        }
                        row.push_bind(e.event_id)
                            .push_bind($crate::time::to_millis(e.at))
                            .push_bind(e.kind.clone())
                            .push_bind(e.path.clone())
                            .push_bind(e.referrer.clone())
                            .push_bind(e.entry)
                            .push_bind(e.duration_ms)
                            .push_bind(e.sealed_ip.clone())
                            .push_bind(e.country.clone())
                            .push_bind(e.browser.clone())
                            .push_bind(e.os.clone())
                            .push_bind(e.device.clone());
                    });
                    insert
                        .build()
                        .execute(&mut *conn)
                        .await
                        .map_err(|e| $crate::error::not_found_on_foreign_key(e, || "the event's subject".into()))?;
                }
                for chunk in anonymous.chunks(200) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO anonymous_events (visitor_hash, event_id, at, kind, path, referrer, entry, duration_ms, \
                         country, browser, os, device) ",
                    );
                    insert.push_values(chunk, |mut row, e| {
                        if let $crate::EventVisitor::Anonymous(hash) = &e.visitor {
                            row.push_bind(hash.to_vec());
                        }
                        row.push_bind(e.event_id)
                            .push_bind($crate::time::to_millis(e.at))
                            .push_bind(e.kind.clone())
                            .push_bind(e.path.clone())
                            .push_bind(e.referrer.clone())
                            .push_bind(e.entry)
                            .push_bind(e.duration_ms)
                            .push_bind(e.country.clone())
                            .push_bind(e.browser.clone())
                            .push_bind(e.os.clone())
                            .push_bind(e.device.clone());
                    });
                    insert.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// Appends `entries` after the chain's last entry, on `conn` inside a write
            /// transaction that holds the audit lock.
            async fn append_audit_rows(
                conn: &mut <$db as sqlx::Database>::Connection,
                entries: &[$crate::NewAuditEntry],
            ) -> Result<Vec<$crate::AuditEntry>, $crate::StoreError> {
                let last = sqlx::query_as::<$db, (i64, Vec<u8>)>("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *conn)
                    .await?;
                let (mut seq, mut prev_hash) = match last {
                    Some((seq, hash)) => {
                        let len = hash.len();
                        let hash: [u8; 32] = hash
                            .try_into()
                            .map_err(|_| $crate::StoreError::Corrupt(format!("audit hash of {len} bytes at seq {seq}")))?;
                        (seq, hash)
                    }
                    None => (0, $crate::GENESIS_HASH),
                };
                let mut appended = Vec::with_capacity(entries.len());
                for entry in entries {
                    seq += 1;
                    let hash = $crate::audit_hash(seq, &prev_hash, entry);
                    appended.push($crate::AuditEntry { seq, entry: entry.clone(), prev_hash, hash });
                    prev_hash = hash;
                }
                // Multi-row INSERTs: one statement per 200 entries instead of one per entry.
                for chunk in appended.chunks(200) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO audit_log (seq, at, actor, action, subject_id, purpose, detail, prev_hash, hash) ",
                    );
                    insert.push_values(chunk, |mut row, e| {
                        row.push_bind(e.seq)
                            .push_bind($crate::time::to_millis(e.entry.at))
                            .push_bind(e.entry.actor.clone())
                            .push_bind(e.entry.action.clone())
                            .push_bind(e.entry.subject_id.map(|s| s.0))
                            .push_bind(e.entry.purpose.clone())
                            .push_bind(e.entry.detail.to_string())
                            .push_bind(e.prev_hash.to_vec())
                            .push_bind(e.hash.to_vec());
                    });
                    insert.build().execute(&mut *conn).await?;
                }
                Ok(appended)
            }
        }

        #[async_trait::async_trait]
        impl $crate::AuditStore for $store {
            async fn append_audit(&self, entry: &$crate::NewAuditEntry) -> Result<$crate::AuditEntry, $crate::StoreError> {
                let mut appended = self.append_audit_batch(std::slice::from_ref(entry)).await?;
                appended.pop().ok_or_else(|| $crate::StoreError::Corrupt("no audit entry appended".into()))
            }

            async fn append_audit_batch(
                &self,
                entries: &[$crate::NewAuditEntry],
            ) -> Result<Vec<$crate::AuditEntry>, $crate::StoreError> {
                if let Some(writer) = self.inline_writer() {
                    return writer.write(entries, $crate::sqlite::writer::append_audit).await;
                }
                let mut tx = self.begin_write().await?;
                Self::lock_audit(&mut tx).await?;
                let appended = Self::append_audit_rows(&mut *tx, entries).await?;
                tx.commit().await?;
                Ok(appended)
            }

            async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<$crate::AuditEntry>, $crate::StoreError> {
                let rows = sqlx::query::<$db>("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map($crate::rows::audit_entry).collect()
            }
        }
        #[async_trait::async_trait]
        impl $crate::PolicyVersionStore for $store {
            async fn record_policy_version(&self, v: &$crate::StoredPolicyVersion) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "INSERT INTO policy_versions (hash, label, effective, canonical, first_seen_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash) DO NOTHING",
                )
                .bind(&v.hash)
                .bind(&v.label)
                .bind(&v.effective)
                .bind(&v.canonical)
                .bind($crate::time::to_millis(v.first_seen_at))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn policy_versions(&self) -> Result<Vec<$crate::StoredPolicyVersion>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (String, String, String, i64)>(
                    "SELECT hash, label, effective, first_seen_at FROM policy_versions ORDER BY first_seen_at, hash",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(hash, label, effective, seen)| {
                        Ok($crate::StoredPolicyVersion {
                            hash,
                            label,
                            effective,
                            canonical: String::new(),
                            first_seen_at: $crate::time::from_millis(seen)?,
                        })
                    })
                    .collect()
            }

            async fn policy_version(&self, hash: &str) -> Result<Option<$crate::StoredPolicyVersion>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (String, String, String, String, i64)>(
                    "SELECT hash, label, effective, canonical, first_seen_at FROM policy_versions WHERE hash = $1",
                )
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(hash, label, effective, canonical, seen)| {
                    Ok($crate::StoredPolicyVersion {
                        hash,
                        label,
                        effective,
                        canonical,
                        first_seen_at: $crate::time::from_millis(seen)?,
                    })
                })
                .transpose()
            }
        }
    };
}
pub(crate) use portable_store;

/// Implements [`crate::KeyStore`] for `$store` (pool `self.pool` of database `$db`); the
/// backend provides `migrate_keys_impl(&self)`.
macro_rules! portable_keystore {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::KeyStore for $store {
            async fn migrate_keys(&self) -> Result<Vec<$crate::AppliedMigration>, $crate::StoreError> {
                self.migrate_keys_impl().await
            }

            async fn put_data_key(&self, key: &$crate::StoredDataKey) -> Result<(), $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let erased = sqlx::query_scalar::<$db, i64>("SELECT erased_at FROM erased_subjects WHERE subject_id = $1")
                    .bind(key.subject_id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                if erased.is_some() {
                    return Err($crate::StoreError::Conflict(format!("subject {} was erased", key.subject_id)));
                }
                sqlx::query::<$db>(
                    "INSERT INTO data_keys (subject_id, master_key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(key.subject_id.0)
                .bind(&key.master_key_id)
                .bind(&key.wrapped)
                .bind($crate::time::to_millis(key.created_at))
                .execute(&mut *tx)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("subject {} has a data key", key.subject_id)))?;
                tx.commit().await?;
                Ok(())
            }

            async fn data_key(&self, subject: $crate::SubjectId) -> Result<$crate::DataKeyLookup, $crate::StoreError> {
                if let Some(reads) = self.inline_reads() {
                    return reads.data_key(subject);
                }
                let row = sqlx::query_as::<$db, (String, Vec<u8>, i64)>($crate::queries::DATA_KEY)
                .bind(subject.0)
                .fetch_optional(&self.pool)
                .await?;
                if let Some((master_key_id, wrapped, created)) = row {
                    return Ok($crate::DataKeyLookup::Found($crate::StoredDataKey {
                        subject_id: subject,
                        master_key_id,
                        wrapped,
                        created_at: $crate::time::from_millis(created)?,
                    }));
                }
                let erased = sqlx::query_scalar::<$db, i64>($crate::queries::ERASED_AT)
                    .bind(subject.0)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match erased {
                    Some(at) => $crate::DataKeyLookup::Erased($crate::time::from_millis(at)?),
                    None => $crate::DataKeyLookup::Missing,
                })
            }

            async fn destroy_data_key(&self, subject: $crate::SubjectId, at: jiff::Timestamp) -> Result<bool, $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let gone = sqlx::query::<$db>("DELETE FROM data_keys WHERE subject_id = $1")
                    .bind(subject.0)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<$db>(
                    "INSERT INTO erased_subjects (subject_id, erased_at) VALUES ($1, $2) ON CONFLICT (subject_id) DO NOTHING",
                )
                .bind(subject.0)
                .bind($crate::time::to_millis(at))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(gone.rows_affected() > 0)
            }

            async fn data_keys_under(
                &self,
                master_key_id: &str,
                after: Option<$crate::SubjectId>,
                limit: u32,
            ) -> Result<Vec<$crate::StoredDataKey>, $crate::StoreError> {
                let rows = match after {
                    Some(after) => {
                        sqlx::query_as::<$db, (uuid::Uuid, String, Vec<u8>, i64)>(
                            "SELECT subject_id, master_key_id, wrapped, created_at FROM data_keys \
                             WHERE master_key_id = $1 AND subject_id > $2 ORDER BY subject_id LIMIT $3",
                        )
                        .bind(master_key_id)
                        .bind(after.0)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?
                    }
                    None => {
                        sqlx::query_as::<$db, (uuid::Uuid, String, Vec<u8>, i64)>(
                            "SELECT subject_id, master_key_id, wrapped, created_at FROM data_keys \
                             WHERE master_key_id = $1 ORDER BY subject_id LIMIT $2",
                        )
                        .bind(master_key_id)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?
                    }
                };
                rows.into_iter()
                    .map(|(subject, master_key_id, wrapped, created)| {
                        Ok($crate::StoredDataKey {
                            subject_id: $crate::SubjectId(subject),
                            master_key_id,
                            wrapped,
                            created_at: $crate::time::from_millis(created)?,
                        })
                    })
                    .collect()
            }

            async fn rewrap_data_key(&self, key: &$crate::StoredDataKey, from: &str) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE data_keys SET master_key_id = $2, wrapped = $3 WHERE subject_id = $1 AND master_key_id = $4",
                )
                .bind(key.subject_id.0)
                .bind(&key.master_key_id)
                .bind(&key.wrapped)
                .bind(from)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn rewrap_data_keys(&self, keys: &[$crate::StoredDataKey], from: &str) -> Result<u64, $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let mut done = 0;
                for key in keys {
                    done += sqlx::query::<$db>(
                        "UPDATE data_keys SET master_key_id = $2, wrapped = $3 WHERE subject_id = $1 AND master_key_id = $4",
                    )
                    .bind(key.subject_id.0)
                    .bind(&key.master_key_id)
                    .bind(&key.wrapped)
                    .bind(from)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                tx.commit().await?;
                Ok(done)
            }

            async fn count_data_keys_by_master(&self) -> Result<Vec<(String, u64)>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (String, i64)>(
                    "SELECT master_key_id, COUNT(*) FROM data_keys GROUP BY master_key_id ORDER BY master_key_id",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(id, n)| (id, u64::try_from(n).unwrap_or(0))).collect())
            }

            async fn put_system_key(&self, key: &$crate::StoredSystemKey) -> Result<$crate::StoredSystemKey, $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO system_keys (name, master_key_id, wrapped, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(&key.name)
                .bind(&key.master_key_id)
                .bind(&key.wrapped)
                .bind($crate::time::to_millis(key.created_at))
                .execute(&mut *self.write_conn().await?)
                .await?;
                let (master_key_id, wrapped, created) = sqlx::query_as::<$db, (String, Vec<u8>, i64)>(
                    "SELECT master_key_id, wrapped, created_at FROM system_keys WHERE name = $1",
                )
                .bind(&key.name)
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::StoredSystemKey {
                    name: key.name.clone(),
                    master_key_id,
                    wrapped,
                    created_at: $crate::time::from_millis(created)?,
                })
            }

            async fn system_keys(&self) -> Result<Vec<$crate::StoredSystemKey>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (String, String, Vec<u8>, i64)>(
                    "SELECT name, master_key_id, wrapped, created_at FROM system_keys ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(name, master_key_id, wrapped, created)| {
                        Ok($crate::StoredSystemKey { name, master_key_id, wrapped, created_at: $crate::time::from_millis(created)? })
                    })
                    .collect()
            }

            async fn rewrap_system_key(&self, key: &$crate::StoredSystemKey, from: &str) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE system_keys SET master_key_id = $2, wrapped = $3 WHERE name = $1 AND master_key_id = $4",
                )
                .bind(&key.name)
                .bind(&key.master_key_id)
                .bind(&key.wrapped)
                .bind(from)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn audit_anchor(&self) -> Result<Option<(i64, [u8; 32])>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (i64, Vec<u8>)>("SELECT seq, hash FROM audit_anchor WHERE id = 1")
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|(seq, hash)| {
                    let len = hash.len();
                    let hash: [u8; 32] = hash
                        .try_into()
                        .map_err(|_| $crate::StoreError::Corrupt(format!("audit anchor hash of {len} bytes")))?;
                    Ok((seq, hash))
                })
                .transpose()
            }

            async fn advance_audit_anchor(&self, seq: i64, hash: &[u8; 32], at: jiff::Timestamp) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO audit_anchor (id, seq, hash, at) VALUES (1, $1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at = excluded.at \
                     WHERE audit_anchor.seq < excluded.seq",
                )
                .bind(seq)
                .bind(&hash[..])
                .bind($crate::time::to_millis(at))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(())
            }

            async fn close_keys(&self) {
                self.pool.close().await;
            }
        }
    };
}
pub(crate) use portable_keystore;
