-- +goose Up
-- Portable SQL: MySQL 8, MariaDB >= 10.6, TiDB and SQLite all accept it
-- (SPEC §13.4). Times are UTC DATETIME(6); ids are UUIDv7 strings.
CREATE TABLE regions (
    code         VARCHAR(32)  NOT NULL PRIMARY KEY,
    name         VARCHAR(100) NOT NULL,
    level        VARCHAR(16)  NOT NULL,
    parent_code  VARCHAR(32)  NULL,
    path         VARCHAR(255) NOT NULL,
    population   BIGINT       NOT NULL DEFAULT 0,
    centroid_lat DOUBLE       NULL,
    centroid_lng DOUBLE       NULL,
    boundary     LONGTEXT     NULL,
    created_at   DATETIME(6)  NOT NULL,
    updated_at   DATETIME(6)  NOT NULL
);
CREATE INDEX regions_parent ON regions (parent_code, code);
CREATE INDEX regions_level ON regions (level, code);
CREATE INDEX regions_path ON regions (path);

CREATE TABLE users (
    id            VARCHAR(36)  NOT NULL PRIMARY KEY,
    username      VARCHAR(64)  NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    name          VARCHAR(100) NOT NULL,
    phone_enc     VARCHAR(255) NOT NULL DEFAULT '',
    phone_hash    VARCHAR(64)  NOT NULL DEFAULT '',
    role          VARCHAR(16)  NOT NULL,
    region_code   VARCHAR(32)  NOT NULL,
    active        BOOLEAN      NOT NULL DEFAULT TRUE,
    created_at    DATETIME(6)  NOT NULL,
    updated_at    DATETIME(6)  NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (username);
CREATE INDEX users_region ON users (region_code, username);

CREATE TABLE categories (
    kind    VARCHAR(16)  NOT NULL,
    code    VARCHAR(64)  NOT NULL,
    name_zh VARCHAR(100) NOT NULL,
    name_en VARCHAR(100) NOT NULL,
    active  BOOLEAN      NOT NULL DEFAULT TRUE,
    PRIMARY KEY (kind, code)
);

CREATE TABLE refresh_tokens (
    id               VARCHAR(36)  NOT NULL PRIMARY KEY,
    family_id        VARCHAR(36)  NOT NULL,
    user_id          VARCHAR(36)  NOT NULL,
    token_hash       VARCHAR(64)  NOT NULL,
    expires_at       DATETIME(6)  NOT NULL,
    created_at       DATETIME(6)  NOT NULL,
    used_at          DATETIME(6)  NULL,
    successor_id     VARCHAR(36)  NULL,
    successor_sealed VARCHAR(512) NULL,
    revoked_at       DATETIME(6)  NULL
);
CREATE UNIQUE INDEX refresh_tokens_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE login_failures (
    id          VARCHAR(36)  NOT NULL PRIMARY KEY,
    limiter_key VARCHAR(255) NOT NULL,
    at          DATETIME(6)  NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (limiter_key, at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE refresh_tokens;
DROP TABLE categories;
DROP TABLE users;
DROP TABLE regions;
