import { describe, expect, it } from "vitest";
import { type CombinedOutcome, createRequestCombiner } from "./request-combiner.js";

describe("createRequestCombiner", () => {
  it("runs an idle key's request alone, then whatever queued meanwhile as one batch", async () => {
    // Given a combiner whose batches are recorded and finish when released
    const batches: string[][] = [];
    const releases: (() => void)[] = [];
    const combiner = createRequestCombiner<string, string>(async (key, requests) => {
      batches.push(requests.map((request) => `${key}:${request}`));
      await new Promise<void>((resolve) => releases.push(resolve));
      return requests.map((request): CombinedOutcome<string> => ({ ok: true, value: request.toUpperCase() }));
    });
    // When three requests of one key and one of another arrive together
    const results = Promise.all([
      combiner.submit("s", "a"),
      combiner.submit("s", "b"),
      combiner.submit("s", "c"),
      combiner.submit("t", "x"),
    ]);
    await Promise.resolve();
    // Then each key's first request runs alone, and the rest wait for it
    expect(batches).toEqual([["s:a"], ["t:x"]]);
    releases.shift()?.();
    releases.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([["s:a"], ["t:x"], ["s:b", "s:c"]]);
    releases.shift()?.();
    expect(await results).toEqual(["A", "B", "C", "X"]);
  });

  it("gives each request its own outcome, and the batch's error to all when the batch fails", async () => {
    // Given a batch that fails request "bad" alone, and throws outright for "boom"
    const combiner = createRequestCombiner<string, string>(async (_key, requests) => {
      if (requests.includes("boom")) throw new Error("store down");
      return requests.map((request) =>
        request === "bad"
          ? { ok: false, error: new Error(`rejected ${request}`) }
          : { ok: true, value: request },
      );
    });
    // When
    const outcomes = await Promise.allSettled([
      combiner.submit("s", "good"),
      combiner.submit("s", "bad"),
      combiner.submit("s", "fine"),
    ]);
    const failed = await Promise.allSettled([combiner.submit("s", "boom")]);
    // Then
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(failed[0]).toMatchObject({ status: "rejected", reason: new Error("store down") });
    // And the key is free again afterwards
    expect(await combiner.submit("s", "again")).toBe("again");
  });
});
