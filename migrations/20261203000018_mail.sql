-- E-mail: what each account asked to be told about (subscriptions), the mail
-- queued for sending (in the same transaction as its cause), and addresses that
-- asked for no more invitation mail. See docs/email.md.

-- An account's subscription: events of these types (empty: every type the
-- account may see), about these motions (empty: every motion; events about no
-- motion always match). Tenant events reach an account only if it may see the
-- tenant, whatever the filters say.
CREATE TABLE mail_subscriptions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    event_types text[]      NOT NULL DEFAULT '{}'
                            CHECK (cardinality(event_types) <= 20),
    motions     text[]      NOT NULL DEFAULT '{}'
                            CHECK (cardinality(motions) <= 50),
    -- Made by the server (a sponsor's acceptance.stale subscription) rather
    -- than by the account itself; unsubscribing removes it all the same.
    automatic   boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX mail_subscriptions_by_account ON mail_subscriptions (account_id, id);

-- An address that followed the unsubscribe link of an invitation mail: no
-- invitation is mailed to it again (the operator still sees the link).
CREATE TABLE mail_suppressions (
    email      text        PRIMARY KEY
               CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The outgoing mail queue. Bodies are rendered when the mail is queued and
-- erased once it is sent or given up: an invitation's body carries its token.
CREATE TABLE mail_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text        NOT NULL
                                CHECK (kind IN ('invitation', 'event', 'stale_acceptance')),
    recipient       text        NOT NULL
                                CHECK (char_length(recipient) BETWEEN 3 AND 254),
    subject         text        NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 300),
    text_body       text,
    html_body       text,
    -- The link of its List-Unsubscribe header (it carries the token).
    unsubscribe_url text,
    event_id        bigint      REFERENCES events (id) ON DELETE CASCADE,
    -- The subscription an event mail was sent for: unsubscribing (or the
    -- subscription's removal) stops its pending mail.
    subscription_id bigint      REFERENCES mail_subscriptions (id) ON DELETE SET NULL,
    invitation_id   bigint      REFERENCES invitations (id) ON DELETE CASCADE,
    -- SHA-256 of the mail's own unsubscribe token (the token itself is only in
    -- the mail): it removes the subscription, or for an invitation suppresses
    -- the address.
    unsubscribe_hash text       NOT NULL UNIQUE CHECK (unsubscribe_hash ~ '^[0-9a-f]{64}$'),
    -- pending: to be tried (again) at next_attempt_at; sent: the relay took it;
    -- failed: given up (too old, or its subscription went away).
    status          text        NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    last_attempt_at timestamptz,
    last_error      text        CHECK (char_length(last_error) <= 500),
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'invitation') = (invitation_id IS NOT NULL)),
    CHECK (status = 'pending'
           OR (text_body IS NULL AND html_body IS NULL AND unsubscribe_url IS NULL)),
    UNIQUE (event_id, subscription_id)
);

CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'pending';

-- Every buyer sponsor is told when their tenant's signed acceptance goes stale;
-- new sponsors get the same subscription when they accept their invitation.
INSERT INTO mail_subscriptions (account_id, event_types, automatic)
SELECT id, ARRAY['acceptance.stale'], true FROM accounts WHERE role = 'buyer_sponsor';
