-- +goose Up
-- Service accounts of departments (SPEC §9.3): an API key bound to a set of
-- indicators and a scope, with which a department's system pushes index
-- data. Only the key's SHA-256 is kept; the key itself is shown once.
CREATE TABLE service_accounts (
    id          VARCHAR(36)   NOT NULL PRIMARY KEY,
    name        VARCHAR(100)  NOT NULL,
    key_hash    VARCHAR(64)   NOT NULL,
    key_prefix  VARCHAR(16)   NOT NULL,
    indicators  VARCHAR(1000) NOT NULL,
    region_code VARCHAR(32)   NOT NULL,
    created_by  VARCHAR(36)   NOT NULL,
    created_at  DATETIME(6)   NOT NULL,
    revoked_at  DATETIME(6)   NULL
);
CREATE UNIQUE INDEX service_accounts_key ON service_accounts (key_hash);

-- +goose Down
DROP TABLE service_accounts;
