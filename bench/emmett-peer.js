// The peer: Emmett (`@event-driven-io/emmett-postgresql`, pinned in the root package.json), the
// leading TypeScript event store on PostgreSQL, on a database of its own on the same server. It runs
// in this process and appends with `appendToStream`, so it pays no HTTP: the bus is held to beating
// it over loopback HTTP all the same.
import { getPostgreSQLEventStore } from "@event-driven-io/emmett-postgresql";
import { connect, createBenchDatabase } from "./raw-postgres.js";
import { measureBatches } from "./scenarios.js";

/**
 * Emmett's stream for a batch: one `appendToStream` writes one stream, so each batch goes to the
 * stream of its first event's key (`order-12345`, stream type "order"). The batches' streams are thus
 * spread over the same 50,000 keys as the bus's events and two concurrent appends practically never
 * touch the same stream row.
 */
export function emmettStreamOf(batch) {
  return batch[0].key;
}

/**
 * Creates a database for Emmett on the benchmark's server and an event store on it (its schema is
 * created by Emmett's own migration, outside the timed runs). `close` ends the pool and drops the
 * database.
 */
export async function createEmmettPeer(adminUrl) {
  const database = await createBenchDatabase(adminUrl, "tributary_bench_emmett");
  let store;
  try {
    store = getPostgreSQLEventStore(database.url);
    await store.schema.migrate();
  } catch (error) {
    await store?.close().catch(() => undefined);
    await database.drop();
    throw error;
  }
  return {
    database: database.name,
    /** Appends one batch of `{ type, key, data }` events to its stream, in one call. */
    async appendBatch(batch) {
      await store.appendToStream(
        emmettStreamOf(batch),
        batch.map((event) => ({ type: event.type, data: event.data })),
      );
    },
    /** Events in Emmett's messages table (a check that the run stored what it claims). */
    async countStored() {
      const sql = connect(database.url);
      try {
        const [{ count }] = await sql`SELECT count(*)::int AS count FROM emt_messages`;
        return count;
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
    close: async () => {
      try {
        await store.close();
      } finally {
        await database.drop();
      }
    },
  };
}

/**
 * Batched append through Emmett: each batch in one `appendToStream`, on `streams` concurrent callers
 * (as the bus gets `streams` concurrent requests). The first `warmupBatches` are not timed.
 */
export function measureEmmettBatched(peer, batches, options) {
  return measureBatches((batch) => peer.appendBatch(batch), batches, options);
}

/** Combines Emmett runs (one before and one after the bus's) into one rate. */
export function combineRuns(runs) {
  const events = runs.reduce((sum, run) => sum + run.events, 0);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  return { events, seconds, eventsPerSecond: events / seconds, runs };
}
