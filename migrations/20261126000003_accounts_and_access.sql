-- Accounts, the tenants buyer sponsors belong to, and the audit of access.
-- Sessions live in the tower_sessions schema, created by the session store at start-up.

CREATE TABLE tenants (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text        NOT NULL UNIQUE
                  CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254
                         AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    role          text        NOT NULL CHECK (role IN ('operator', 'commercial_owner', 'buyer_sponsor')),
    -- A buyer sponsor belongs to exactly one tenant; nobody else belongs to one.
    tenant_id     bigint      REFERENCES tenants (id),
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    CHECK ((role = 'buyer_sponsor') = (tenant_id IS NOT NULL))
);

-- Who did what to access, when and from where. Append-only.
CREATE TABLE access_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    account_id  bigint      REFERENCES accounts (id),
    actor       text        NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 300),
    action      text        NOT NULL CHECK (action ~ '^[a-z_]+$'),
    subject     text        CHECK (char_length(subject) <= 300),
    remote_addr text        CHECK (char_length(remote_addr) <= 100)
);

CREATE INDEX access_events_latest ON access_events (id DESC);

CREATE FUNCTION refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;

CREATE TRIGGER access_events_append_only BEFORE UPDATE OR DELETE ON access_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Sessions, in the layout tower-sessions' PostgreSQL store reads and writes.
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
    id          text        PRIMARY KEY NOT NULL,
    data        bytea       NOT NULL,
    expiry_date timestamptz NOT NULL
);
CREATE INDEX session_expiry ON tower_sessions.session (expiry_date);
