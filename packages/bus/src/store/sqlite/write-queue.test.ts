import { describe, expect, it } from "vitest";
import { WriteQueue } from "./write-queue.js";
import type { WriteStatement } from "./writer-protocol.js";

/** A queue over a recording writer whose transactions finish when the test says so. */
function recordingQueue(lingerMs = 20) {
  const transactions: { statements: WriteStatement[]; durable: boolean }[] = [];
  const finish: (() => void)[] = [];
  const failures: unknown[] = [];
  const queue = new WriteQueue({
    lingerMs,
    write: (statements, durable) => {
      transactions.push({ statements, durable });
      return new Promise<void>((resolve) => finish.push(resolve));
    },
    onFailure: (error) => failures.push(error),
  });
  const finishAll = async () => {
    while (finish.length > 0) {
      finish.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { queue, transactions, finishAll, failures };
}

const statement = (sql: string, row?: string) => ({ sql, params: [], ...(row === undefined ? {} : { row }) });

describe("subscription write queue", () => {
  it("computes deferred parameters when writing, and never those of a statement replaced first", async () => {
    const { queue, transactions, finishAll } = recordingQueue();
    const computed: string[] = [];
    const deferred = (version: string) => () => {
      computed.push(version);
      return [version];
    };
    const first = queue.enqueue([{ sql: "p0", params: deferred("v1"), row: "p0" }], false);
    const second = queue.enqueue([{ sql: "p0", params: deferred("v2"), row: "p0" }], false);
    expect(computed).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await finishAll();
    await Promise.all([first, second]);
    expect(computed).toEqual(["v2"]);
    expect(transactions[0]?.statements).toEqual([{ sql: "p0", params: ["v2"] }]);
  });

  it("lets writes that may be lost wait for company, and keeps only the last statement per row", async () => {
    const { queue, transactions, finishAll } = recordingQueue();
    const first = queue.enqueue([statement("p0 v1", "p0"), statement("c1 upsert", "c1")], false);
    const second = queue.enqueue([statement("p0 v2", "p0"), statement("c1 delete", "c1")], false);
    expect(transactions).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(transactions).toEqual([
      {
        statements: [
          { sql: "p0 v2", params: [] },
          { sql: "c1 delete", params: [] },
        ],
        durable: false,
      },
    ]);
    await finishAll();
    await Promise.all([first, second]);
  });

  it("writes a durable write at once with what was queued before it, in order", async () => {
    const { queue, transactions, finishAll } = recordingQueue(10_000);
    void queue.enqueue([statement("ack", "p0")], false);
    const durable = queue.enqueue([statement("reset")], true);
    expect(transactions).toEqual([
      {
        statements: [
          { sql: "ack", params: [] },
          { sql: "reset", params: [] },
        ],
        durable: true,
      },
    ]);
    await finishAll();
    await durable;
  });

  it("sends what arrives during a transaction in the next one, and drains before a close", async () => {
    const { queue, transactions, finishAll } = recordingQueue(10_000);
    void queue.enqueue([statement("one")], true);
    const later = queue.enqueue([statement("two")], false);
    const drained = queue.drain();
    await finishAll();
    await drained;
    await later;
    expect(transactions.map((transaction) => transaction.statements.map((s) => s.sql))).toEqual([
      ["one"],
      ["two"],
    ]);
  });

  it("rejects the waiters of a failed transaction and reports it", async () => {
    const failures: unknown[] = [];
    const queue = new WriteQueue({
      write: () => Promise.reject(new Error("disk full")),
      onFailure: (error) => failures.push(error),
    });
    await expect(queue.enqueue([statement("x")], true)).rejects.toThrow("disk full");
    expect(failures).toHaveLength(1);
    await expect(queue.enqueue([statement("y")], true)).rejects.toThrow("disk full");
  });

  it("goes on writing after a failure whose listener threw", async () => {
    // Given a queue whose first transaction fails and whose failure listener throws
    let attempts = 0;
    const queue = new WriteQueue({
      write: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error("disk full");
      },
      onFailure: () => {
        throw new Error("the logger is broken");
      },
    });
    // When one write fails, then another is queued
    await expect(queue.enqueue([statement("x")], true)).rejects.toThrow("disk full");
    // Then the next one is written all the same
    await queue.enqueue([statement("y")], true);
    expect(attempts).toBe(2);
  });
});
