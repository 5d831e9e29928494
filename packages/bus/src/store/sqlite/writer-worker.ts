/**
 * The writer thread of a SQLite store: it owns the connection that writes, so that the fsync of
 * every commit (and the statements before it), as well as any wait for the write lock, happen
 * beside the event loop instead of blocking it. One request at a time, in the order they arrive.
 */
import { parentPort, workerData } from "node:worker_threads";
import { appendGroupInTransaction } from "./append-group.js";
import { openDatabase } from "./open-database.js";
import { prepareStatements } from "./statements.js";
import { applyWriteOperation, createWriteOperations } from "./write-operations.js";
import { toWireError, toWireOutcome, type WriterRequest, type WriterResponse } from "./writer-protocol.js";

const port = parentPort;
if (port === null) throw new Error("the SQLite writer runs as a worker thread");

const db = openDatabase((workerData as { path: string }).path);
const statements = prepareStatements(db);
const appendTransaction = db.transaction(appendGroupInTransaction);
const operations = createWriteOperations(db, () => statements);
/** Partition counts of committed topics: they never change, so entries never go stale. */
const partitionCounts = new Map<string, number>();

const answer = (response: WriterResponse) => port.postMessage(response);

port.on("message", (request: WriterRequest) => {
  if (request.kind === "close") {
    db.close();
    answer({ kind: "closed" });
    port.close();
    return;
  }
  if (request.kind === "operation") {
    try {
      const result = applyWriteOperation(operations, request.operation);
      answer({ kind: "done", id: request.id, result });
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
