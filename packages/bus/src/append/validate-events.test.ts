import { describe, expect, it } from "vitest";
import { exceedsDepth, validateEvents } from "./validate-events.js";

const pointer = (index: number) => `/events/${index}`;

describe("validateEvents", () => {
  it("accepts well-formed events", () => {
    const events = [
      { type: "UserCreated", key: "user-1", data: { name: "Ada" }, expectedVersion: "no_stream" },
      {
        id: "e-2",
        type: "UserRenamed",
        key: "user-1",
        data: null,
        metadata: { correlationId: "c" },
        expectedVersion: 1,
      },
    ];
    expect(validateEvents(events, pointer)).toBe(events);
  });

  it("lists each invalid event with the JSON pointer of its problem", () => {
    try {
      validateEvents([{ type: "A" }, { type: "" }, { type: "B", expectedVersion: "later" }], pointer);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: "invalid-request" });
      const errors = (error as { details: { errors: { pointer: string }[] } }).details.errors;
      expect(errors.map((issue) => issue.pointer)).toEqual(["/events/1/type", "/events/2/expectedVersion"]);
    }
  });

  it("refuses deep nesting without recursing", () => {
    let deep: unknown = 1;
    for (let level = 0; level < 100_000; level++) deep = [deep];
    expect(exceedsDepth(deep, 64)).toBe(true);
    expect(exceedsDepth({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(() => validateEvents([{ type: "A", data: deep }], pointer)).toThrow(/deeper than 64/);
  });
});
