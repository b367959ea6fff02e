-- +goose Up
-- Offline sync (SPEC §6) returns the disputes changed in the caller's scope
-- after a cursor, by (updated_at, id), as it does incidents.
CREATE INDEX disputes_updated ON disputes (updated_at, id);

-- +goose Down
DROP INDEX disputes_updated ON disputes;
