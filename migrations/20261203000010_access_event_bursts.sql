-- A burst of identical refusals is one row with a count: the first refusal is
-- inserted, the next ones within a minute add to its count. Only the count,
-- the time of the latest and whether more than one address took part may
-- change; everything else stays append-only.
ALTER TABLE access_events
    ADD COLUMN count             integer     NOT NULL DEFAULT 1 CHECK (count >= 1),
    ADD COLUMN last_at           timestamptz,
    ADD COLUMN several_addresses boolean     NOT NULL DEFAULT false;

-- The latest row of a burst is found by what it is about.
CREATE INDEX access_events_bursts ON access_events (action, actor, id DESC);

CREATE FUNCTION access_events_only_repeats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.id = OLD.id
       AND NEW.at = OLD.at
       AND NEW.account_id IS NOT DISTINCT FROM OLD.account_id
       AND NEW.actor = OLD.actor
       AND NEW.action = OLD.action
       AND NEW.subject IS NOT DISTINCT FROM OLD.subject
       AND NEW.remote_addr IS NOT DISTINCT FROM OLD.remote_addr
       AND NEW.count > OLD.count
       AND NEW.last_at IS NOT NULL
       AND (NOT OLD.several_addresses OR NEW.several_addresses)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;

DROP TRIGGER access_events_append_only ON access_events;
CREATE TRIGGER access_events_append_only BEFORE UPDATE OR DELETE ON access_events
    FOR EACH ROW EXECUTE FUNCTION access_events_only_repeats();
