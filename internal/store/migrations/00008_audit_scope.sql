-- +goose Up
-- The audit log is read in the reader's scope (SPEC §8.6): each entry keeps
-- the region path of its entity (a case's grid, a user's, a service
-- account's or a department value's region), or of its actor's scope for
-- entities without a region.
-- Existing entries are placed the same way; the system's own entries and any
-- whose actor is gone sit at the root, which only city-wide readers see.
-- No index of its own: every write anywhere appends to this table, and an
-- index on the path measurably slowed the ingest of reports; a scoped page
-- walks (at, id) newest first and keeps the entries under the path.
ALTER TABLE audit_log ADD COLUMN region_path VARCHAR(255) NOT NULL DEFAULT '';
UPDATE audit_log SET region_path = COALESCE(
    CASE entity
        WHEN 'incident' THEN (SELECT r.path FROM incidents i JOIN regions r ON r.code = i.region_code WHERE i.id = audit_log.entity_id)
        WHEN 'dispute' THEN (SELECT r.path FROM disputes d JOIN regions r ON r.code = d.region_code WHERE d.id = audit_log.entity_id)
        WHEN 'user' THEN (SELECT r.path FROM users u JOIN regions r ON r.code = u.region_code WHERE u.id = audit_log.entity_id)
        WHEN 'service_account' THEN (SELECT r.path FROM service_accounts a JOIN regions r ON r.code = a.region_code WHERE a.id = audit_log.entity_id)
    END,
    (SELECT r.path FROM users u JOIN regions r ON r.code = u.region_code WHERE u.id = audit_log.actor_id),
    (SELECT r.path FROM service_accounts a JOIN regions r ON r.code = a.region_code WHERE a.id = audit_log.actor_id),
    '/');

-- +goose Down
ALTER TABLE audit_log DROP COLUMN region_path;
