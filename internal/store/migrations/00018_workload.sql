-- +goose Up
-- The workload report (SPEC §11.3) counts each person's timeline events of
-- a period: for the people of a page, `actor_id IN (…) AND action IN (…)
-- AND created_at in [start, end)`. With the person and the action first,
-- each (person, action) is one range of the period's rows, and case_kind
-- last makes the count an index-only read. (actor_id, created_at, action)
-- would read every event of a person in the period, of every action; the
-- resolve events of a person before a time (whose follow-ups count to
-- them) are one range of this index too.
CREATE INDEX case_events_actor ON case_events (actor_id, action, created_at, case_kind);

-- The report's rows are grid workers then mediators, by id: a page in that
-- order reads the users of the two roles in index order.
CREATE INDEX users_role ON users (role, id);

-- +goose Down
DROP INDEX users_role ON users;
DROP INDEX case_events_actor ON case_events;
