-- Task runners' signs of life: a task pinned to a node (its staged data or its user's token
-- live there) is given up by another node once that node has been silent for a lease.
CREATE TABLE nodes (
  id           TEXT    NOT NULL PRIMARY KEY,
  heartbeat_at INTEGER NOT NULL
) WITHOUT ROWID;
