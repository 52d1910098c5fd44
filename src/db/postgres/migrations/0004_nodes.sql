-- Task runners' signs of life (PostgreSQL edition of the SQLite migration of the same number).
CREATE TABLE nodes (
  id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  heartbeat_at BIGINT NOT NULL
);
