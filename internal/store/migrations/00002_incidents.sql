-- +goose Up
-- Incidents (SPEC §4.3). The ancestors of the grid are kept beside it so
-- that every list, whatever level it is scoped to, is one equality on an
-- indexed column followed by the (created_at, id) order: a page reads only
-- the rows it returns.
CREATE TABLE incidents (
    id                VARCHAR(36)   NOT NULL PRIMARY KEY,
    case_no           VARCHAR(40)   NOT NULL,
    category          VARCHAR(64)   NOT NULL,
    severity          VARCHAR(16)   NOT NULL,
    status            VARCHAR(16)   NOT NULL,
    description       TEXT          NOT NULL,
    lat               DOUBLE        NULL,
    lng               DOUBLE        NULL,
    address           VARCHAR(255)  NOT NULL DEFAULT '',
    region_code       VARCHAR(32)   NOT NULL,
    community_code    VARCHAR(32)   NOT NULL,
    township_code     VARCHAR(32)   NOT NULL,
    county_code       VARCHAR(32)   NOT NULL,
    occurred_at       DATETIME(6)   NOT NULL,
    reported_at       DATETIME(6)   NOT NULL,
    client_created_at DATETIME(6)   NULL,
    reporter_id       VARCHAR(36)   NOT NULL,
    version           INT           NOT NULL,
    created_at        DATETIME(6)   NOT NULL,
    updated_at        DATETIME(6)   NOT NULL
);
CREATE UNIQUE INDEX incidents_case_no ON incidents (case_no);
CREATE INDEX incidents_created ON incidents (created_at, id);
CREATE INDEX incidents_county ON incidents (county_code, created_at, id);
CREATE INDEX incidents_township ON incidents (township_code, created_at, id);
CREATE INDEX incidents_community ON incidents (community_code, created_at, id);
CREATE INDEX incidents_grid ON incidents (region_code, created_at, id);
CREATE INDEX incidents_reporter ON incidents (reporter_id, created_at, id);
CREATE INDEX incidents_updated ON incidents (updated_at, id);
CREATE INDEX incidents_occurred ON incidents (county_code, occurred_at);

-- Every state change of a case, in order (the timeline).
CREATE TABLE case_events (
    id          VARCHAR(36)  NOT NULL PRIMARY KEY,
    case_id     VARCHAR(36)  NOT NULL,
    case_kind   VARCHAR(16)  NOT NULL,
    actor_id    VARCHAR(36)  NOT NULL,
    action      VARCHAR(32)  NOT NULL,
    from_status VARCHAR(16)  NOT NULL DEFAULT '',
    to_status   VARCHAR(16)  NOT NULL,
    note        TEXT         NOT NULL,
    request_id  VARCHAR(64)  NOT NULL DEFAULT '',
    created_at  DATETIME(6)  NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, created_at, id);

-- Per-county, per-day sequence numbers for case_no.
CREATE TABLE case_counters (
    prefix VARCHAR(64) NOT NULL PRIMARY KEY,
    n      BIGINT      NOT NULL
);

-- Presigned uploads waiting for their complete call.
CREATE TABLE uploads (
    id           VARCHAR(36)  NOT NULL PRIMARY KEY,
    user_id      VARCHAR(36)  NOT NULL,
    object_key   VARCHAR(255) NOT NULL,
    content_type VARCHAR(32)  NOT NULL,
    size         BIGINT       NOT NULL,
    sha256       VARCHAR(64)  NOT NULL DEFAULT '',
    expires_at   DATETIME(6)  NOT NULL,
    photo_id     VARCHAR(36)  NULL,
    created_at   DATETIME(6)  NOT NULL
);
CREATE INDEX uploads_created ON uploads (created_at);

-- Stored, sanitised photos; case_id is set once, when a case takes them.
CREATE TABLE photos (
    id           VARCHAR(36)  NOT NULL PRIMARY KEY,
    uploader_id  VARCHAR(36)  NOT NULL,
    case_id      VARCHAR(36)  NULL,
    case_kind    VARCHAR(16)  NOT NULL DEFAULT '',
    object_key   VARCHAR(255) NOT NULL,
    thumb_key    VARCHAR(255) NOT NULL,
    content_type VARCHAR(32)  NOT NULL,
    size         BIGINT       NOT NULL,
    sha256       VARCHAR(64)  NOT NULL,
    width        INT          NOT NULL,
    height       INT          NOT NULL,
    created_at   DATETIME(6)  NOT NULL
);
CREATE INDEX photos_case ON photos (case_id, created_at);
CREATE INDEX photos_unattached ON photos (case_id, uploader_id);

-- Idempotency records (SPEC §6): one per (user, key), kept ≥ 24 h.
CREATE TABLE idempotency_keys (
    user_id         VARCHAR(36)  NOT NULL,
    key_hash        VARCHAR(64)  NOT NULL,
    request_hash    VARCHAR(64)  NOT NULL,
    owner           VARCHAR(36)  NOT NULL,
    locked_until    DATETIME(6)  NOT NULL,
    done            BOOLEAN      NOT NULL DEFAULT FALSE,
    response_status INT          NOT NULL DEFAULT 0,
    response_headers TEXT        NULL,
    response_body   LONGTEXT     NULL,
    created_at      DATETIME(6)  NOT NULL,
    PRIMARY KEY (user_id, key_hash)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Append-only audit log (SPEC §8.6).
CREATE TABLE audit_log (
    id         VARCHAR(36)  NOT NULL PRIMARY KEY,
    at         DATETIME(6)  NOT NULL,
    actor_id   VARCHAR(36)  NOT NULL,
    actor_role VARCHAR(16)  NOT NULL,
    action     VARCHAR(64)  NOT NULL,
    entity     VARCHAR(32)  NOT NULL,
    entity_id  VARCHAR(64)  NOT NULL,
    request_id VARCHAR(64)  NOT NULL DEFAULT '',
    client_ip  VARCHAR(64)  NOT NULL DEFAULT '',
    details    TEXT         NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_entity ON audit_log (entity, at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE idempotency_keys;
DROP TABLE photos;
DROP TABLE uploads;
DROP TABLE case_counters;
DROP TABLE case_events;
DROP TABLE incidents;
