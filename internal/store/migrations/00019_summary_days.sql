-- +goose Up
-- The period summary's daily counts (SPEC §11.1, §13.1; docs/reports.md,
-- "Daily counts"): for each local day that has ended, the summary's
-- figures of that day for the city, every county, township and community
-- and each case kind, counted from the facts and the cases by the
-- scheduler. A summary adds up the days of its period instead of reading
-- every case and fact of it.
--
-- depth is the region's level (1 city, 2 county, 3 township, 4
-- community); region_code is '' for the city. counts is the day's counts
-- as JSON (the store's encoding of report.Counts). opened, closed, due and
-- due_closed are the day's flows (report.Flow), whose sums over every day
-- up to one are the cases open at its end and how many of them are
-- overdue.
CREATE TABLE summary_days (
    depth       SMALLINT     NOT NULL,
    region_code VARCHAR(32)  NOT NULL,
    case_kind   VARCHAR(16)  NOT NULL,
    day         CHAR(10)     NOT NULL,
    counts      MEDIUMTEXT   NOT NULL,
    opened      INT          NOT NULL,
    closed      INT          NOT NULL,
    due         INT          NOT NULL,
    due_closed  INT          NOT NULL,
    PRIMARY KEY (depth, region_code, case_kind, day)
);

-- The days counted, each with when its count began: a day's rows are
-- replaced only by a count that began later.
-- A day's rows, replaced when it is counted again.
CREATE INDEX summary_days_day ON summary_days (day);

CREATE TABLE summary_counted (
    day        CHAR(10)    NOT NULL PRIMARY KEY,
    counted_at DATETIME(6) NOT NULL
);

-- One row (id 1): every change to a case made before at minus the
-- settling time (report.Settle) is in the counted days' rows. A case
-- changed since marks its day to be counted again, and a summary counts
-- that day's cases reported from the case tables meanwhile. zone is the
-- time zone the days are local days of (PINGAN_TZ); another zone makes
-- the scheduler count every day again.
CREATE TABLE summary_watermark (
    id   INT         NOT NULL PRIMARY KEY,
    at   DATETIME(6) NOT NULL,
    zone VARCHAR(64) NOT NULL
);

-- The deadlines that began on a day (a day's flow of open disputes, and
-- the deadlines due that day because they began after their due time),
-- and the deadlines due on a day with their start.
CREATE INDEX case_deadlines_started ON case_deadlines (case_kind, started_at, due_at, county_code, township_code,
    community_code, region_code, category, met_at, breached_at, ended_at);
DROP INDEX case_deadlines_due ON case_deadlines;
CREATE INDEX case_deadlines_due ON case_deadlines (case_kind, due_at, community_code, township_code, county_code, category,
    breached_at, ended_at, met_at, region_code, started_at);

-- The cases changed since a time, with the day they were reported: the
-- change feeds' (updated_at, id) indexes hold the report time too.
DROP INDEX incidents_updated ON incidents;
CREATE INDEX incidents_updated ON incidents (updated_at, id, created_at);
DROP INDEX disputes_updated ON disputes;
CREATE INDEX disputes_updated ON disputes (updated_at, id, created_at);

-- +goose Down
DROP INDEX case_deadlines_due ON case_deadlines;
CREATE INDEX case_deadlines_due ON case_deadlines (case_kind, due_at, community_code, township_code, county_code, category,
    breached_at, ended_at, met_at, region_code);
DROP INDEX case_deadlines_started ON case_deadlines;
DROP INDEX disputes_updated ON disputes;
CREATE INDEX disputes_updated ON disputes (updated_at, id);
DROP INDEX incidents_updated ON incidents;
CREATE INDEX incidents_updated ON incidents (updated_at, id);
DROP TABLE summary_watermark;
DROP TABLE summary_counted;
DROP INDEX summary_days_day ON summary_days;
DROP TABLE summary_days;
