-- +goose Up
-- The heat map (SPEC §11.2, docs/reports.md): each case keeps the geohash
-- of its location (8 characters, a cell of about 38 m × 19 m; NULL when it
-- has none), written with the case, so that a map of any precision from 5
-- to 8 counts the prefixes of one column instead of encoding every point on
-- each request. The index leads with the report time and holds every column
-- a map reads (the cell, the category, the scope's codes), so that a
-- period's map is one range scan of it. The geohashes of the cases stored
-- before are filled in Go right after this migration (store.fillGeohash).
ALTER TABLE incidents ADD COLUMN geohash CHAR(8) NULL;
ALTER TABLE disputes ADD COLUMN geohash CHAR(8) NULL;
CREATE INDEX incidents_heat ON incidents (created_at, geohash, category, county_code, township_code, community_code, region_code);
CREATE INDEX disputes_heat ON disputes (created_at, geohash, category, county_code, township_code, community_code, region_code);

-- +goose Down
DROP INDEX disputes_heat ON disputes;
DROP INDEX incidents_heat ON incidents;
ALTER TABLE disputes DROP COLUMN geohash;
ALTER TABLE incidents DROP COLUMN geohash;
