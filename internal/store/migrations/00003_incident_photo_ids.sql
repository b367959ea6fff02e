-- +goose Up
-- The photo ids of an incident, kept on its row (comma-separated, written in
-- the transaction that attaches them), so that lists and reads need no
-- second query.
ALTER TABLE incidents ADD COLUMN photo_ids VARCHAR(400) NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN photo_ids;
