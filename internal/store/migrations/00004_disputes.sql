-- +goose Up
-- Disputes (SPEC §4.3, §8). As for incidents, the grid's ancestors are kept
-- beside it so that every scoped list is one equality on an indexed column
-- followed by the (created_at, id) order. level/level_code say who handles
-- the case now; resolved_level where it was settled (就地化解率).
CREATE TABLE disputes (
    id                VARCHAR(36)   NOT NULL PRIMARY KEY,
    case_no           VARCHAR(40)   NOT NULL,
    category          VARCHAR(64)   NOT NULL,
    description       TEXT          NOT NULL,
    lat               DOUBLE        NULL,
    lng               DOUBLE        NULL,
    address           VARCHAR(255)  NOT NULL DEFAULT '',
    region_code       VARCHAR(32)   NOT NULL,
    community_code    VARCHAR(32)   NOT NULL,
    township_code     VARCHAR(32)   NOT NULL,
    county_code       VARCHAR(32)   NOT NULL,
    city_code         VARCHAR(32)   NOT NULL,
    occurred_at       DATETIME(6)   NOT NULL,
    reported_at       DATETIME(6)   NOT NULL,
    client_created_at DATETIME(6)   NULL,
    reporter_id       VARCHAR(36)   NOT NULL,
    photo_ids         VARCHAR(4000) NOT NULL DEFAULT '',
    amount            BIGINT        NULL,
    risk_level        VARCHAR(16)   NOT NULL,
    status            VARCHAR(16)   NOT NULL,
    level             VARCHAR(16)   NOT NULL,
    level_code        VARCHAR(32)   NOT NULL,
    entered_level_at  DATETIME(6)   NOT NULL,
    assignee_id       VARCHAR(36)   NOT NULL DEFAULT '',
    due_at            DATETIME(6)   NULL,
    resolved_level    VARCHAR(16)   NOT NULL DEFAULT '',
    resolved_at       DATETIME(6)   NULL,
    outcome           TEXT          NOT NULL,
    follow_ups        INT           NOT NULL DEFAULT 0,
    last_follow_up_at DATETIME(6)   NULL,
    closed_at         DATETIME(6)   NULL,
    version           INT           NOT NULL,
    created_at        DATETIME(6)   NOT NULL,
    updated_at        DATETIME(6)   NOT NULL
);
CREATE UNIQUE INDEX disputes_case_no ON disputes (case_no);
CREATE INDEX disputes_created ON disputes (created_at, id);
CREATE INDEX disputes_county ON disputes (county_code, created_at, id);
CREATE INDEX disputes_township ON disputes (township_code, created_at, id);
CREATE INDEX disputes_community ON disputes (community_code, created_at, id);
CREATE INDEX disputes_grid ON disputes (region_code, created_at, id);
CREATE INDEX disputes_reporter ON disputes (reporter_id, created_at, id);
CREATE INDEX disputes_assignee ON disputes (assignee_id, created_at, id);
CREATE INDEX disputes_due ON disputes (status, due_at);
CREATE INDEX disputes_resolved ON disputes (resolved_at, county_code);

-- The parties of a dispute. Phone and ID number are AES-GCM sealed (with
-- the key id inside the value); phone_hash is a keyed hash for exact search.
CREATE TABLE dispute_parties (
    dispute_id  VARCHAR(36)  NOT NULL,
    position    INT          NOT NULL,
    role        VARCHAR(16)  NOT NULL,
    name        VARCHAR(255) NOT NULL,
    phone       VARCHAR(255) NOT NULL DEFAULT '',
    phone_hash  VARCHAR(64)  NOT NULL DEFAULT '',
    id_number   VARCHAR(255) NOT NULL DEFAULT '',
    PRIMARY KEY (dispute_id, position)
);
CREATE INDEX dispute_parties_phone ON dispute_parties (phone_hash);

-- What an action carried (session notes, agreement, reasons), as JSON.
ALTER TABLE case_events ADD COLUMN payload TEXT NULL;

-- +goose Down
ALTER TABLE case_events DROP COLUMN payload;
DROP TABLE dispute_parties;
DROP TABLE disputes;
