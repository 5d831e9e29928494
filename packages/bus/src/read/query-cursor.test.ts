import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "./query-cursor.js";

describe("query cursors", () => {
  it("round-trip a position for the same order", () => {
    expect(decodeCursor(encodeCursor("desc", 12345), "desc")).toBe(12345);
  });

  it("refuse a cursor of the other order or a forged one", () => {
    expect(() => decodeCursor(encodeCursor("asc", 1), "desc")).toThrow(
      expect.objectContaining({ code: "invalid-request" }),
    );
    expect(() => decodeCursor("not-a-cursor", "asc")).toThrow(
      expect.objectContaining({ code: "invalid-request" }),
    );
  });
});
