-- +goose Up
-- The period summary (SPEC §11.1) reads the case facts and the cases in
-- one range scan each, so each of its queries gets an index that holds
-- every column it reads, down to the grid (the children of a community).

-- An incident that ends without being resolved (rejected, cancelled) ends
-- as a fact too, so that the incidents open at the end of a past period
-- are counted from facts. Filled here from the timeline of the incidents
-- stored before; the live actions write it from now on.
INSERT INTO case_facts (id, case_id, case_kind, fact, at, level, satisfaction, category, county_code, township_code,
    community_code, region_code, reporter_id, reported_at)
SELECT e.id, e.case_id, 'incident', CASE e.action WHEN 'reject' THEN 'rejected' ELSE 'cancelled' END, e.created_at, '',
    NULL, i.category, i.county_code, i.township_code, i.community_code, i.region_code, i.reporter_id, i.reported_at
FROM case_events e JOIN incidents i ON i.id = e.case_id
WHERE e.case_kind = 'incident' AND e.action IN ('reject', 'cancel')
  AND NOT EXISTS (SELECT 1 FROM case_facts f WHERE f.id = e.id);

-- Cases reported in a period, by category, current status and level.
CREATE INDEX incidents_reported_cover ON incidents (created_at, county_code, township_code, community_code, region_code,
    category, status);
CREATE INDEX disputes_reported_cover ON disputes (created_at, county_code, township_code, community_code, region_code,
    category, status, level);
-- Incidents open now, for the incidents open at the end of a period.
CREATE INDEX incidents_open ON incidents (status, created_at, county_code, township_code, community_code, region_code,
    category);

-- Facts of a period with the report time (days to resolve), the grid and
-- the case (its first acceptance).
DROP INDEX case_facts_at ON case_facts;
CREATE INDEX case_facts_at ON case_facts (case_kind, fact, at, community_code, township_code, county_code, category, level,
    satisfaction, region_code, reported_at, case_id);
-- A case's first acceptance.
CREATE INDEX case_facts_case_fact ON case_facts (case_id, fact, at);

-- Deadlines due in a period, met or breached; deadlines running at an
-- instant (the disputes open then, and overdue).
DROP INDEX case_deadlines_due ON case_deadlines;
CREATE INDEX case_deadlines_due ON case_deadlines (case_kind, due_at, community_code, township_code, county_code, category,
    breached_at, ended_at, met_at, region_code);
CREATE INDEX case_deadlines_running ON case_deadlines (case_kind, ended_at, started_at, due_at, county_code, township_code,
    community_code, region_code, category);

-- +goose Down
DROP INDEX case_deadlines_running ON case_deadlines;
DROP INDEX case_deadlines_due ON case_deadlines;
CREATE INDEX case_deadlines_due ON case_deadlines (case_kind, due_at, community_code, township_code, county_code, category,
    breached_at, ended_at);
DROP INDEX case_facts_case_fact ON case_facts;
DROP INDEX case_facts_at ON case_facts;
CREATE INDEX case_facts_at ON case_facts (case_kind, fact, at, community_code, township_code, county_code, category, level,
    satisfaction);
DROP INDEX incidents_open ON incidents;
DROP INDEX disputes_reported_cover ON disputes;
DROP INDEX incidents_reported_cover ON incidents;
DELETE FROM case_facts WHERE case_kind = 'incident' AND fact IN ('rejected', 'cancelled');
