-- +goose Up
-- The Ping'an index (SPEC §9). Periods are local calendar days or months,
-- kept as their text: '2026-10' for a month, '2026-10-15' for a day, so that
-- they sort and compare as text and mean the same in every time zone setting.

-- Indicators and how each is scored. source is 'auto' (method names what is
-- computed from the platform's own cases, with its filter as JSON) or
-- 'manual' (department data entry).
CREATE TABLE indicators (
    code        VARCHAR(64)  NOT NULL PRIMARY KEY,
    name_zh     VARCHAR(100) NOT NULL,
    name_en     VARCHAR(100) NOT NULL DEFAULT '',
    direction   VARCHAR(16)  NOT NULL,
    weight      DOUBLE       NOT NULL,
    periods     VARCHAR(32)  NOT NULL,
    levels      VARCHAR(64)  NOT NULL,
    source      VARCHAR(16)  NOT NULL,
    method      VARCHAR(64)  NOT NULL DEFAULT '',
    filter      TEXT         NOT NULL,
    per_capita  BOOLEAN      NOT NULL,
    smoothing   VARCHAR(16)  NOT NULL DEFAULT '',
    window_size INT          NOT NULL,
    alpha       DOUBLE       NOT NULL,
    mapping     VARCHAR(16)  NOT NULL,
    step        DOUBLE       NOT NULL DEFAULT 0,
    active      BOOLEAN      NOT NULL,
    version     INT          NOT NULL,
    updated_at  DATETIME(6)  NOT NULL
);

-- Department data entry: one value per indicator, region and period.
CREATE TABLE indicator_values (
    indicator   VARCHAR(64)  NOT NULL,
    region_code VARCHAR(32)  NOT NULL,
    period      VARCHAR(10)  NOT NULL,
    value       DOUBLE       NOT NULL,
    note        VARCHAR(500) NOT NULL DEFAULT '',
    entered_by  VARCHAR(36)  NOT NULL,
    updated_at  DATETIME(6)  NOT NULL,
    PRIMARY KEY (indicator, period, region_code)
);

-- Computed results, one row per level, period kind, period and region; the
-- intermediates of every indicator are kept as JSON for the "why" view.
CREATE TABLE index_results (
    level        VARCHAR(16)  NOT NULL,
    period_kind  VARCHAR(8)   NOT NULL,
    period       VARCHAR(10)  NOT NULL,
    region_code  VARCHAR(32)  NOT NULL,
    parent_code  VARCHAR(32)  NOT NULL,
    score        DOUBLE       NOT NULL,
    rank_city    INT          NOT NULL,
    band         VARCHAR(16)  NOT NULL,
    complete     BOOLEAN      NOT NULL,
    detail       TEXT         NOT NULL,
    computed_at  DATETIME(6)  NOT NULL,
    PRIMARY KEY (level, period_kind, period, region_code)
);
CREATE INDEX index_results_region ON index_results (region_code, period_kind, period);

-- The value x of each indicator, level, period and region as last computed:
-- a later period's window reads its past periods here instead of
-- aggregating their cases again.
CREATE TABLE index_values (
    period_kind VARCHAR(8)  NOT NULL,
    period      VARCHAR(10) NOT NULL,
    indicator   VARCHAR(64) NOT NULL,
    level       VARCHAR(16) NOT NULL,
    region_code VARCHAR(32) NOT NULL,
    value       DOUBLE      NOT NULL,
    PRIMARY KEY (period_kind, period, indicator, level, region_code)
);

-- Jobs: a period to compute; leases make exactly one instance run each.
CREATE TABLE index_jobs (
    id           VARCHAR(36)  NOT NULL PRIMARY KEY,
    period_kind  VARCHAR(8)   NOT NULL,
    period       VARCHAR(10)  NOT NULL,
    status       VARCHAR(16)  NOT NULL,
    reason       VARCHAR(32)  NOT NULL,
    requested_by VARCHAR(36)  NOT NULL DEFAULT '',
    owner        VARCHAR(36)  NOT NULL DEFAULT '',
    lease_until  DATETIME(6)  NULL,
    attempts     INT          NOT NULL DEFAULT 0,
    error        VARCHAR(500) NOT NULL DEFAULT '',
    created_at   DATETIME(6)  NOT NULL,
    finished_at  DATETIME(6)  NULL
);
CREATE INDEX index_jobs_status ON index_jobs (status, created_at);
CREATE INDEX index_jobs_period ON index_jobs (period_kind, period, status);

-- Auto indicators count cases by when they happened, per community and
-- category: these indexes hold every column those counts read, so a month
-- is one index range scan that never touches the rows.
CREATE INDEX incidents_occurred_cover ON incidents (occurred_at, community_code, township_code, county_code, category);
CREATE INDEX disputes_occurred_cover ON disputes (occurred_at, community_code, township_code, county_code, category);
CREATE INDEX disputes_resolved_cover ON disputes (resolved_at, community_code, township_code, county_code, resolved_level);
CREATE INDEX disputes_due_cover ON disputes (due_at, resolved_at, community_code, township_code, county_code);
CREATE INDEX disputes_followed ON disputes (last_follow_up_at);

-- +goose Down
DROP INDEX disputes_followed ON disputes;
DROP INDEX disputes_due_cover ON disputes;
DROP INDEX disputes_resolved_cover ON disputes;
DROP INDEX disputes_occurred_cover ON disputes;
DROP INDEX incidents_occurred_cover ON incidents;
DROP TABLE index_jobs;
DROP TABLE index_values;
DROP TABLE index_results;
DROP TABLE indicator_values;
DROP TABLE indicators;
