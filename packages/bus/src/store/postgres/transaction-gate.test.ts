import { describe, expect, it } from "vitest";
import { createTransactionGate } from "./transaction-gate.js";

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

describe("transaction gate", () => {
  it("runs works of one name one after the other, in arrival order", async () => {
    // Given a gate with plenty of slots
    const gate = createTransactionGate(10);
    const log: string[] = [];

    // When three works of one name arrive at once
    await Promise.all(
      ["a", "b", "c"].map((label) =>
        gate.run("user-mailer", async () => {
          log.push(`start ${label}`);
          await tick();
          log.push(`end ${label}`);
        }),
      ),
    );

    // Then each started after the previous ended
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("runs works of different names together, at most `slots` at once", async () => {
    // Given a gate of 2 slots
    const gate = createTransactionGate(2);
    let running = 0;
    let most = 0;

    // When 6 works of different names arrive at once
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map((index) =>
        gate.run(`subscription-${index}`, async () => {
          running += 1;
          most = Math.max(most, running);
          await tick();
          running -= 1;
        }),
      ),
    );

    // Then two ran at a time
    expect(most).toBe(2);
  });

  it("lets the next work of a name run after one that failed", async () => {
    // Given a gate of 1 slot and a failing work of user-mailer
    const gate = createTransactionGate(1);
    const failure = new Error("failed");
    const failing = gate.run("user-mailer", async () => {
      throw failure;
    });

    // When another work of user-mailer and one of audit follow
    const next = gate.run("user-mailer", async () => "next");
    const other = gate.run("audit", async () => "other");

    // Then the failure comes out as is, and both others still run
    await expect(failing).rejects.toBe(failure);
    await expect(next).resolves.toBe("next");
    await expect(other).resolves.toBe("other");
  });

  it("refuses fewer than one slot", () => {
    expect(() => createTransactionGate(0)).toThrow(/1 slot or more/);
  });
});
