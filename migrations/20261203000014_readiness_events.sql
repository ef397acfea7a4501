-- Freshness that warns before it lapses: the last known state of each watched
-- subject (a proof's freshness, a readiness source answering or quiet), and an
-- event for each change of it, kept for a later notification to send.
-- A change is recorded once: writers lock the subject's row, compare, and write
-- the event in the same transaction.

CREATE TABLE readiness_watch (
    subject_kind text        NOT NULL CHECK (subject_kind IN ('proof', 'source')),
    subject      text        NOT NULL,
    state        text        NOT NULL,
    since        timestamptz NOT NULL,
    PRIMARY KEY (subject_kind, subject)
);

CREATE TABLE readiness_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('proof_expiring', 'proof_expired',
                                                      'proof_recovered', 'source_stale',
                                                      'source_recovered')),
    subject_kind text        NOT NULL CHECK (subject_kind IN ('proof', 'source')),
    subject      text        NOT NULL,
    -- When the change happened by the data (a window's end, the last answer),
    -- and when a server noticed it.
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    -- Public-safe words: names and times, never a value.
    detail       text        NOT NULL DEFAULT '' CHECK (char_length(detail) <= 500)
);

CREATE INDEX readiness_events_subject ON readiness_events (subject_kind, subject, id DESC);
