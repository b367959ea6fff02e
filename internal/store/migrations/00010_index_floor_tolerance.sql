-- +goose Up
-- The Ping'an index as revised (SPEC §9.4 steps 1 and 3): each indicator's
-- base score F (floor; the last rank scores F, not 0) and tolerance τ (a
-- relative rise within it does not cost a region its self rank). Existing
-- indicators take the defaults, 60 and 0.05.
ALTER TABLE indicators ADD COLUMN floor DOUBLE NOT NULL DEFAULT 60;
ALTER TABLE indicators ADD COLUMN tolerance DOUBLE NOT NULL DEFAULT 0.05;

-- Results stored before were scored without F and τ, and without each
-- indicator's weight and contribution: they are derived data, so they go,
-- and the index backfill (SPEC §9.6) computes every past period again, oldest
-- first, from the cases and the values each period stored (index_values,
-- kept). Until then a period reads as not computed, with its pending job.
DELETE FROM index_results;

-- The backfill's progress counts its jobs by reason and status.
CREATE INDEX index_jobs_reason ON index_jobs (reason, status);

-- +goose Down
DROP INDEX index_jobs_reason ON index_jobs;
ALTER TABLE indicators DROP COLUMN tolerance;
ALTER TABLE indicators DROP COLUMN floor;
