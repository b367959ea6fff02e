-- +goose Up
-- A retry of a refresh within its grace gets the first answer byte for byte
-- (SPEC §6.1): the answer (access token, refresh token, user as shown) is
-- kept with the spent token, sealed with the data key like successor_sealed.
ALTER TABLE refresh_tokens ADD COLUMN answer_sealed TEXT NULL;

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN answer_sealed;
