import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json.js";

describe("canonicalJson", () => {
  it("gives equal JSON values the same text whatever their key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
  });

  it("keeps arrays in order and tells different values apart", () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: "1" })).not.toBe(canonicalJson({ a: 1 }));
  });

  it("drops undefined fields as JSON.stringify does", () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(canonicalJson(undefined)).toBe("null");
  });

  it("gives the text of the former implementation (sort, map, join) for the same values", () => {
    const former = (value: unknown): string => {
      if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
      if (Array.isArray(value)) return `[${value.map((item) => former(item ?? null)).join(",")}]`;
      const record = value as Record<string, unknown>;
      const entries = Object.keys(record)
        .filter((name) => record[name] !== undefined)
        .sort()
        .map((name) => `${JSON.stringify(name)}:${former(record[name])}`);
      return `{${entries.join(",")}}`;
    };
    const values: unknown[] = [
      {
        orderId: "o-1",
        customerId: "c",
        sku: "S",
        quantity: 2,
        note: 'é\u0000"',
        nested: { z: [1, null, { b: 0, a: -0 }] },
      },
      [undefined, 1.5e300, "x", [], {}],
      { "": 1, B: 2, a: 3, "\u00e9": 4, "10": 5, "9": 6, ä: true, skip: undefined },
      "text",
      42,
      false,
    ];
    for (const value of values) expect(canonicalJson(value)).toBe(former(value));
  });
});
