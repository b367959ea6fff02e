-- +goose Up
-- Case facts (SPEC §4.3): what statistics are made of, each written once in
-- the transaction of the action it records and never erased. A fact's id
-- is the id of its timeline event; a deadline's the id of the event that
-- opened it. Each row copies what never changes of its case (kind,
-- category, places, report time), so that a period's statistic is one range
-- scan of an index that holds every column it reads. Migration 00011 fills
-- both tables from the timelines of the cases already stored.
CREATE TABLE case_facts (
    id             VARCHAR(36)  NOT NULL PRIMARY KEY,
    case_id        VARCHAR(36)  NOT NULL,
    case_kind      VARCHAR(16)  NOT NULL,
    fact           VARCHAR(16)  NOT NULL,
    at             DATETIME(6)  NOT NULL,
    level          VARCHAR(16)  NOT NULL DEFAULT '',
    satisfaction   INT          NULL,
    category       VARCHAR(64)  NOT NULL,
    county_code    VARCHAR(32)  NOT NULL,
    township_code  VARCHAR(32)  NOT NULL,
    community_code VARCHAR(32)  NOT NULL,
    region_code    VARCHAR(32)  NOT NULL,
    reporter_id    VARCHAR(36)  NOT NULL,
    reported_at    DATETIME(6)  NOT NULL
);
CREATE INDEX case_facts_at ON case_facts (case_kind, fact, at, community_code, township_code, county_code, category, level, satisfaction);
CREATE INDEX case_facts_case ON case_facts (case_id, at);

-- Every deadline a case had (SPEC §8.3): due_at, then met_at when its step
-- was done, breached_at (= due_at) once it passed with the step not done,
-- ended_at when it stopped running. At most one per case has no ended_at.
CREATE TABLE case_deadlines (
    id             VARCHAR(36)  NOT NULL PRIMARY KEY,
    case_id        VARCHAR(36)  NOT NULL,
    case_kind      VARCHAR(16)  NOT NULL,
    kind           VARCHAR(16)  NOT NULL,
    level          VARCHAR(16)  NOT NULL,
    category       VARCHAR(64)  NOT NULL,
    county_code    VARCHAR(32)  NOT NULL,
    township_code  VARCHAR(32)  NOT NULL,
    community_code VARCHAR(32)  NOT NULL,
    region_code    VARCHAR(32)  NOT NULL,
    reporter_id    VARCHAR(36)  NOT NULL,
    started_at     DATETIME(6)  NOT NULL,
    due_at         DATETIME(6)  NOT NULL,
    met_at         DATETIME(6)  NULL,
    breached_at    DATETIME(6)  NULL,
    ended_at       DATETIME(6)  NULL
);
-- The period's deadlines and whether each was breached, read from the index alone.
CREATE INDEX case_deadlines_due ON case_deadlines (case_kind, due_at, community_code, township_code, county_code, category,
    breached_at, ended_at);
CREATE INDEX case_deadlines_case ON case_deadlines (case_id, ended_at);

-- Statistics no longer read the disputes' current resolution, deadline or
-- follow-up: their indexes for that go (the lists use (status, due_at)).
DROP INDEX disputes_resolved ON disputes;
DROP INDEX disputes_resolved_cover ON disputes;
DROP INDEX disputes_due_cover ON disputes;
DROP INDEX disputes_followed ON disputes;

-- +goose Down
CREATE INDEX disputes_followed ON disputes (last_follow_up_at);
CREATE INDEX disputes_due_cover ON disputes (due_at, resolved_at, community_code, township_code, county_code);
CREATE INDEX disputes_resolved_cover ON disputes (resolved_at, community_code, township_code, county_code, resolved_level);
CREATE INDEX disputes_resolved ON disputes (resolved_at, county_code);
DROP TABLE case_deadlines;
DROP TABLE case_facts;
