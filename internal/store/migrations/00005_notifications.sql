-- +goose Up
-- Notifications (SPEC §7): one row per message in a user's inbox. Ids are
-- UUIDv7, so (user_id, id) is a user's inbox in time order: newest first
-- for the list, after the last id sent for a stream. dedupe_key is NULL
-- when not given (NULLs never collide in a unique index); otherwise a
-- second notification with the same (user_id, dedupe_key) is skipped.
CREATE TABLE notifications (
    id         VARCHAR(36)  NOT NULL PRIMARY KEY,
    user_id    VARCHAR(36)  NOT NULL,
    kind       VARCHAR(16)  NOT NULL,
    case_kind  VARCHAR(16)  NOT NULL DEFAULT '',
    case_id    VARCHAR(36)  NOT NULL DEFAULT '',
    case_no    VARCHAR(40)  NOT NULL DEFAULT '',
    title      VARCHAR(200) NOT NULL,
    dedupe_key VARCHAR(191) NULL,
    created_at DATETIME(6)  NOT NULL,
    read_at    DATETIME(6)  NULL
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, read_at, id);
CREATE UNIQUE INDEX notifications_dedupe ON notifications (user_id, dedupe_key);

-- The webhook outbox: one row per notification to forward, written in the
-- notification's transaction. A worker leases a due row by a conditional
-- UPDATE of (owner, next_attempt_at), so several instances share the work.
CREATE TABLE webhook_deliveries (
    id              VARCHAR(36)  NOT NULL PRIMARY KEY,
    notification_id VARCHAR(36)  NOT NULL,
    body            TEXT         NOT NULL,
    status          VARCHAR(16)  NOT NULL,
    attempts        INT          NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6)  NOT NULL,
    owner           VARCHAR(36)  NOT NULL DEFAULT '',
    last_status     INT          NOT NULL DEFAULT 0,
    last_error      VARCHAR(255) NOT NULL DEFAULT '',
    created_at      DATETIME(6)  NOT NULL,
    updated_at      DATETIME(6)  NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_updated ON webhook_deliveries (updated_at);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE notifications;
