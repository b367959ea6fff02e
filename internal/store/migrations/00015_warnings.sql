-- +goose Up
-- Early warning (SPEC §10): the warnings raised, one row per episode (key),
-- and the key-date calendar with every year's dates of an event.
CREATE TABLE warnings (
    id           VARCHAR(36)   NOT NULL PRIMARY KEY,
    episode_key  VARCHAR(191)  NOT NULL,
    kind         VARCHAR(16)   NOT NULL,
    region_code  VARCHAR(32)   NOT NULL,
    region_path  VARCHAR(191)  NOT NULL,
    level        VARCHAR(16)   NOT NULL,
    case_kind    VARCHAR(16)   NOT NULL DEFAULT '',
    category     VARCHAR(64)   NOT NULL DEFAULT '',
    period_kind  VARCHAR(8)    NOT NULL,
    first_day    VARCHAR(10)   NOT NULL,
    last_day     VARCHAR(10)   NOT NULL,
    method       VARCHAR(16)   NOT NULL DEFAULT '',
    methods      VARCHAR(64)   NOT NULL DEFAULT '',
    observed     DOUBLE        NOT NULL,
    expected     DOUBLE        NULL,
    threshold    DOUBLE        NULL,
    statistic    DOUBLE        NULL,
    p            DOUBLE        NULL,
    severity     VARCHAR(8)    NOT NULL,
    status       VARCHAR(16)   NOT NULL,
    series       TEXT          NOT NULL,
    detail       TEXT          NOT NULL,
    summary      VARCHAR(200)  NOT NULL,
    acked_by     VARCHAR(36)   NOT NULL DEFAULT '',
    acked_at     DATETIME(6)   NULL,
    closed_by    VARCHAR(36)   NOT NULL DEFAULT '',
    closed_at    DATETIME(6)   NULL,
    close_note   VARCHAR(2000) NOT NULL DEFAULT '',
    version      INT           NOT NULL,
    created_at   DATETIME(6)   NOT NULL,
    updated_at   DATETIME(6)   NOT NULL
);
CREATE UNIQUE INDEX warnings_episode_key ON warnings (episode_key);
CREATE INDEX warnings_created ON warnings (created_at, id);
CREATE INDEX warnings_path ON warnings (region_path, created_at, id);
CREATE INDEX warnings_episode ON warnings (kind, region_code, case_kind, category, last_day);

CREATE TABLE key_dates (
    id         VARCHAR(36)  NOT NULL PRIMARY KEY,
    name       VARCHAR(191) NOT NULL,
    version    INT          NOT NULL,
    created_at DATETIME(6)  NOT NULL,
    updated_at DATETIME(6)  NOT NULL
);
CREATE UNIQUE INDEX key_dates_name ON key_dates (name);

CREATE TABLE key_date_days (
    key_date_id VARCHAR(36) NOT NULL,
    start_day   VARCHAR(10) NOT NULL,
    end_day     VARCHAR(10) NOT NULL,
    PRIMARY KEY (key_date_id, start_day)
);

-- +goose Down
DROP TABLE key_date_days;
DROP TABLE key_dates;
DROP TABLE warnings;
