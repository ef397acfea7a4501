-- Nothing reads events by tenant (row-level security filters them, and lists
-- go by id): the index only cost each signature an index update.
DROP INDEX events_by_tenant;
