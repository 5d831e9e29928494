/**
 * The writer thread of a SQLite store: it owns the connection that appends, so that the fsync of
 * every group commit (and the statements before it) run beside the event loop instead of blocking
 * it. One request at a time, in the order they arrive.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Statement } from "better-sqlite3";
import { appendGroupInTransaction } from "./append-group.js";
import { openDatabase } from "./open-database.js";
import { prepareStatements } from "./statements.js";
import {
  toWireError,
  toWireOutcome,
  type WriterRequest,
  type WriterResponse,
  type WriteStatement,
} from "./writer-protocol.js";

const port = parentPort;
if (port === null) throw new Error("the SQLite writer runs as a worker thread");

const db = openDatabase((workerData as { path: string }).path);
const statements = prepareStatements(db);
const appendTransaction = db.transaction(appendGroupInTransaction);
/** Partition counts of committed topics: they never change, so entries never go stale. */
const partitionCounts = new Map<string, number>();

const answer = (response: WriterResponse) => port.postMessage(response);

/** Statements of `write` requests, prepared once per distinct SQL text (there are a handful). */
const prepared = new Map<string, Statement<unknown[]>>();
const writeTransaction = db.transaction((statementsToRun: WriteStatement[]) => {
  for (const { sql, params } of statementsToRun) {
    let statement = prepared.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      prepared.set(sql, statement);
    }
    statement.run(...params);
  }
});

port.on("message", (request: WriterRequest) => {
  if (request.kind === "close") {
    db.close();
    answer({ kind: "closed" });
    port.close();
    return;
  }
  if (request.kind === "write") {
    try {
      // Updates that may be lost on a power failure (only redelivery follows) skip the fsync.
      if (!request.durable) db.pragma("synchronous = NORMAL");
      try {
        writeTransaction.immediate(request.statements);
      } finally {
        if (!request.durable) db.pragma("synchronous = FULL");
      }
      answer({ kind: "written", id: request.id });
    } catch (error) {
      answer({ kind: "failed", id: request.id, error: toWireError(error) });
    }
    return;
  }
  try {
    const result = appendTransaction.immediate(
      statements,
      partitionCounts,
      request.commands,
      request.options,
    );
    // Only now that the group committed may the topics it created be trusted by later groups.
    for (const [name, partitions] of result.partitionCounts) partitionCounts.set(name, partitions);
    answer({
      kind: "appended",
      id: request.id,
      outcomes: result.outcomes.map(toWireOutcome),
      notices: result.notices,
    });
  } catch (error) {
    answer({ kind: "failed", id: request.id, error: toWireError(error) });
  }
});
