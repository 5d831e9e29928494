/** One schema change, applied once per schema and recorded in `schema_migrations`. */
export interface Migration {
  /** Strictly increasing; the order of application. */
  version: number;
  name: string;
  /** Runs with `search_path` set to the store's schema, inside the migration transaction. */
  sql: string;
}

/**
 * The PostgreSQL schema of the store, oldest first. A released migration never changes: a change
 * is a new entry with the next version.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "events",
    sql: `
CREATE TABLE topics (
  name text PRIMARY KEY,
  partitions integer NOT NULL CHECK (partitions > 0),
  retention jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
);

-- One row per partition: its lock serializes appends to the partition, next_offset is its head.
CREATE TABLE partitions (
  topic text NOT NULL REFERENCES topics (name),
  partition integer NOT NULL,
  next_offset bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (topic, partition)
);

-- The current version of each entity stream (topic, key).
CREATE TABLE streams (
  topic text NOT NULL,
  key text NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (topic, key)
);

-- No foreign keys on the hot tables: a per-row check would cost more than the append itself,
-- and rows are only written under the partition lock by code that resolved the topic.
CREATE TABLE events (
  position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  topic text NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL,
  key text,
  version bigint,
  type text NOT NULL,
  time timestamptz NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  digest text NOT NULL,
  UNIQUE (topic, partition, "offset")
);

CREATE INDEX events_stream_idx ON events (topic, key, version) WHERE key IS NOT NULL;
CREATE INDEX events_topic_position_idx ON events (topic, position);
CREATE INDEX events_type_position_idx ON events (type, position);
CREATE INDEX events_time_idx ON events (time);
CREATE INDEX events_correlation_idx ON events ((metadata->>'correlationId'), position)
  WHERE (metadata->>'correlationId') IS NOT NULL;
`,
  },
  {
    version: 2,
    name: "stream versions from the events",
    // The version of a stream is that of its latest event, one probe of events_stream_idx under the
    // partition lock that every append of the key takes. A separate row per stream, updated on every
    // append, cost an upsert per key, and its dead row versions slowed the reads down.
    sql: `
DROP TABLE streams;
`,
  },
  {
    version: 3,
    name: "subscriptions",
    // Times of the delivery state are epoch milliseconds in bigints: the core computes with numbers,
    // and a timestamptz would cost a conversion each way on the hottest rows. Ids are compared and
    // sorted bytewise (COLLATE "C"), as SQLite does, so that keyset pages of dead letters and the
    // order of lists are the same on both stores whatever the database's collation; the primary
    // keys then serve the ordered reads directly.
    sql: `
-- One row per subscription: its lock (FOR UPDATE, held to commit) serializes every change to the
-- subscription's delivery state across bus processes. definition holds the whole SubscriptionInfo.
CREATE TABLE subscriptions (
  name text COLLATE "C" PRIMARY KEY,
  topic text NOT NULL,
  definition jsonb NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE subscription_partitions (
  subscription text COLLATE "C" NOT NULL REFERENCES subscriptions (name) ON DELETE CASCADE,
  partition integer NOT NULL,
  checkpoint bigint NOT NULL,
  cursor bigint NOT NULL,
  pending jsonb NOT NULL DEFAULT '[]',
  owner text,
  lease_expires_at bigint NOT NULL DEFAULT 0,
  ack_deadline bigint NOT NULL DEFAULT 0,
  retry_at bigint NOT NULL DEFAULT 0,
  last_error jsonb,
  PRIMARY KEY (subscription, partition)
);

CREATE TABLE subscription_consumers (
  subscription text COLLATE "C" NOT NULL REFERENCES subscriptions (name) ON DELETE CASCADE,
  consumer text COLLATE "C" NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (subscription, consumer)
);

CREATE TABLE subscription_dead_letters (
  subscription text COLLATE "C" NOT NULL REFERENCES subscriptions (name) ON DELETE CASCADE,
  event_id text COLLATE "C" NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL,
  attempts integer NOT NULL,
  error text NOT NULL,
  dead_at bigint NOT NULL,
  PRIMARY KEY (subscription, event_id)
);
`,
  },
  {
    version: 4,
    name: "schema registry",
    // Schema texts are kept for good once they have an id (Confluent ids never change meaning);
    // versions point at them. A topic's validation policy says whether appends are checked.
    sql: `
ALTER TABLE topics ADD COLUMN validation text NOT NULL DEFAULT 'if-registered';

CREATE TABLE registry_schemas (
  id bigint PRIMARY KEY,
  schema text NOT NULL UNIQUE
);

CREATE TABLE registry_versions (
  subject text COLLATE "C" NOT NULL,
  version integer NOT NULL,
  schema_id bigint NOT NULL REFERENCES registry_schemas (id),
  deleted boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (subject, version)
);

CREATE INDEX registry_versions_schema_idx ON registry_versions (schema_id);

-- subject '' is the registry-wide setting.
CREATE TABLE registry_config (
  subject text COLLATE "C" PRIMARY KEY,
  compatibility text NOT NULL
);
`,
  },
  {
    version: 5,
    name: "principals and api keys",
    // Keys keep the hash of their secret only. Revoked keys stay, so `keys list` shows their history.
    sql: `
CREATE TABLE auth_principals (
  name text COLLATE "C" PRIMARY KEY,
  grants jsonb NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE auth_keys (
  id text COLLATE "C" PRIMARY KEY,
  principal text COLLATE "C" NOT NULL REFERENCES auth_principals (name),
  secret_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
`,
  },
  {
    version: 6,
    name: "schema texts of any length",
    // The UNIQUE constraint's B-tree refused schema texts of more than a few kilobytes ("index row
    // requires 8912 bytes, maximum size is 8191"). A hash index finds a text by equality at any
    // length; uniqueness needs no constraint: registry writes hold the registry's advisory lock
    // and look for the text before they insert it.
    sql: `
ALTER TABLE registry_schemas DROP CONSTRAINT registry_schemas_schema_key;
CREATE INDEX registry_schemas_schema_idx ON registry_schemas USING hash (schema);
`,
  },
];
