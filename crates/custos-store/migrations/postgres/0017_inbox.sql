-- The privacy mailbox (seed 7, 8, 9): requests that come in by mail. A thread is one
-- conversation with one sender; its messages are kept whole but sealed under the thread's
-- own data key (owner id = thread_id), the sender only as a blind index and sealed.
CREATE TABLE inbox_threads (
    thread_id     UUID    NOT NULL PRIMARY KEY,
    request_id    UUID,
    state         TEXT    NOT NULL CHECK (state IN ('request', 'triage', 'answered', 'closed')),
    intent        TEXT,
    language      TEXT    NOT NULL,
    confidence    INTEGER NOT NULL,
    sender_index  BYTEA    NOT NULL,
    sealed_sender BYTEA    NOT NULL,
    partner_id    UUID,
    received_at   BIGINT  NOT NULL,
    due_at        BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX inbox_threads_open ON inbox_threads (due_at, thread_id) WHERE state <> 'closed';
CREATE INDEX inbox_threads_request ON inbox_threads (request_id);

-- Every mail of a thread, in and out; header_hash is a MAC of its Message-ID, so replies
-- find their thread and a mail read twice is stored once.
CREATE TABLE inbox_messages (
    thread_id   UUID    NOT NULL REFERENCES inbox_threads (thread_id) ON DELETE CASCADE,
    message_id  UUID    NOT NULL,
    header_hash BYTEA    NOT NULL UNIQUE,
    direction   TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    source      TEXT    NOT NULL,
    sealed      BYTEA    NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (thread_id, message_id)
);

-- Requests about partners' data (seed 3.3): forwarded to the partner, or made by it
-- through the partner API for one of its pseudonyms (kept only as a MAC).
CREATE TABLE partner_requests (
    request_id      UUID    NOT NULL PRIMARY KEY,
    partner_id      UUID    NOT NULL,
    direction       TEXT    NOT NULL CHECK (direction IN ('forwarded', 'received')),
    kind            TEXT    NOT NULL,
    thread_id       UUID,
    pseudonym_index BYTEA,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'done', 'failed')),
    outcome         TEXT,
    received_at     BIGINT NOT NULL,
    done_at         BIGINT
);
CREATE INDEX partner_requests_partner ON partner_requests (partner_id, received_at);

-- Where a partner takes the rights requests custos forwards to it (https); without one,
-- they go by mail to its contact.
CREATE TABLE partner_webhooks (
    partner_id UUID    NOT NULL PRIMARY KEY,
    url        TEXT    NOT NULL,
    updated_at BIGINT NOT NULL
);
