-- Signing is one plain transaction in the server (`server/src/rooms/signing.rs`):
-- lock the acceptance chain's head, read the room, check and digest in Rust,
-- insert the record, advance the head, commit. The read and append functions of
-- migrations 6 and 7, and the composite types they handed rows over in, go.
--
-- Row-level security, the append-only triggers and the row checks stay. The row
-- checks (`clearance_*_valid`) repeat the field limits the server enforces
-- (`app::domain::launch_room`, where the limits live): on purpose, as the last
-- word on what a ledger row may hold whoever writes it, since the chains are
-- evidence and the database may be written by more than this server.

DROP FUNCTION clearance_append_acceptance(
    text, text, integer, text, bigint, integer, text, text, text, text, text, text[], text,
    text, jsonb, text[], bigint, text, timestamptz, text, text);
DROP FUNCTION clearance_signing_room(text, text, bigint);
DROP TYPE acceptance_record_row;
DROP TYPE evidence_change_row;
