/** One schema change, applied once per database file and recorded in `schema_migrations`. */
export interface SqliteMigration {
  /** Strictly increasing; the order of application. */
  version: number;
  name: string;
  /** Runs inside the migration's `BEGIN IMMEDIATE` transaction. */
  sql: string;
}

/**
 * The SQLite schema of the store, oldest first. A released migration never changes: a change is a
 * new entry with the next version. `partition` and `offset` are quoted because both are SQL
 * keywords.
 */
export const sqliteMigrations: readonly SqliteMigration[] = [
  {
    version: 1,
    name: "events",
    sql: `
CREATE TABLE topics (
  name TEXT PRIMARY KEY,
  partitions INTEGER NOT NULL CHECK (partitions > 0),
  retention TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL
) STRICT;

-- One row per partition: next_offset is its head, the offset the next event gets.
CREATE TABLE partitions (
  topic TEXT NOT NULL REFERENCES topics (name),
  "partition" INTEGER NOT NULL,
  next_offset INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (topic, "partition")
) STRICT, WITHOUT ROWID;

-- The current version of each entity stream (topic, key).
CREATE TABLE streams (
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (topic, key)
) STRICT, WITHOUT ROWID;

-- AUTOINCREMENT so that a position is never reused, even after the newest events were deleted.
-- No foreign keys on the hot tables: a per-row check would cost a lookup per insert, and rows are
-- only written by the append code that resolved the topic in the same transaction.
CREATE TABLE events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  "partition" INTEGER NOT NULL,
  "offset" INTEGER NOT NULL,
  key TEXT,
  version INTEGER,
  type TEXT NOT NULL,
  time TEXT NOT NULL,
  data TEXT NOT NULL,
  metadata TEXT NOT NULL,
  digest TEXT NOT NULL,
  UNIQUE (topic, "partition", "offset")
) STRICT;

-- Key first: readKey gives both columns, and a query by key alone across topics can use it too.
CREATE UNIQUE INDEX events_stream_idx ON events (key, topic, version) WHERE key IS NOT NULL;
-- An index on one column also holds the rowid (position), so these serve "ORDER BY position".
CREATE INDEX events_topic_idx ON events (topic);
CREATE INDEX events_type_idx ON events (type);
CREATE INDEX events_time_idx ON events (time);
CREATE INDEX events_correlation_idx ON events (json_extract(metadata, '$.correlationId'))
  WHERE json_extract(metadata, '$.correlationId') IS NOT NULL;
`,
  },
  {
    version: 2,
    name: "subscriptions",
    // Times are epoch milliseconds of the bus's wall clock. A partition's pending deliveries are a
    // JSON array: one row read and written per poll or ack, however many events are in flight.
    sql: `
CREATE TABLE subscriptions (
  name TEXT PRIMARY KEY,
  topic TEXT NOT NULL,
  definition TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE subscription_partitions (
  subscription TEXT NOT NULL REFERENCES subscriptions (name) ON DELETE CASCADE,
  "partition" INTEGER NOT NULL,
  checkpoint INTEGER NOT NULL,
  cursor INTEGER NOT NULL,
  pending TEXT NOT NULL DEFAULT '[]',
  owner TEXT,
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  ack_deadline INTEGER NOT NULL DEFAULT 0,
  retry_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  PRIMARY KEY (subscription, "partition")
) STRICT, WITHOUT ROWID;

CREATE TABLE subscription_consumers (
  subscription TEXT NOT NULL REFERENCES subscriptions (name) ON DELETE CASCADE,
  consumer TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (subscription, consumer)
) STRICT, WITHOUT ROWID;

CREATE TABLE subscription_dead_letters (
  subscription TEXT NOT NULL REFERENCES subscriptions (name) ON DELETE CASCADE,
  event_id TEXT NOT NULL,
  "partition" INTEGER NOT NULL,
  "offset" INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  error TEXT NOT NULL,
  dead_at INTEGER NOT NULL,
  PRIMARY KEY (subscription, event_id)
) STRICT, WITHOUT ROWID;
`,
  },
  {
    version: 3,
    name: "schema registry",
    // Schema texts are kept for good once they have an id (Confluent ids never change meaning);
    // versions point at them. A topic's validation policy says whether appends are checked.
    sql: `
ALTER TABLE topics ADD COLUMN validation TEXT NOT NULL DEFAULT 'if-registered';

CREATE TABLE registry_schemas (
  id INTEGER PRIMARY KEY,
  schema TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE registry_versions (
  subject TEXT NOT NULL,
  version INTEGER NOT NULL,
  schema_id INTEGER NOT NULL REFERENCES registry_schemas (id),
  deleted INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  PRIMARY KEY (subject, version)
) STRICT, WITHOUT ROWID;

CREATE INDEX registry_versions_schema_idx ON registry_versions (schema_id);

-- subject '' is the registry-wide setting.
CREATE TABLE registry_config (
  subject TEXT PRIMARY KEY,
  compatibility TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`,
  },
  {
    version: 4,
    name: "principals and api keys",
    // Keys keep the hash of their secret only. Revoked keys stay, so `keys list` shows their history.
    sql: `
CREATE TABLE auth_principals (
  name TEXT PRIMARY KEY,
  grants TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE auth_keys (
  id TEXT PRIMARY KEY,
  principal TEXT NOT NULL REFERENCES auth_principals (name),
  secret_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;
`,
  },
];
