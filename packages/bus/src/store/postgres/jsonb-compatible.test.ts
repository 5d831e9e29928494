import { describe, expect, it } from "vitest";
import { isJsonbCompatible } from "./jsonb-compatible.js";

describe("isJsonbCompatible", () => {
  it("accepts ordinary JSON, paired surrogates and other escapes", () => {
    expect(isJsonbCompatible(JSON.stringify({ name: "Ada", emoji: "😀", tab: "\t", bell: "\u0007" }))).toBe(
      true,
    );
  });

  it("refuses NUL characters and lone surrogates", () => {
    expect(isJsonbCompatible(JSON.stringify({ name: "a\u0000b" }))).toBe(false);
    expect(isJsonbCompatible(JSON.stringify(["\ud800"]))).toBe(false);
    expect(isJsonbCompatible(JSON.stringify("x\udc00"))).toBe(false);
  });

  it("accepts text that only looks like an escape", () => {
    expect(isJsonbCompatible(JSON.stringify({ path: "C:\\u0000" }))).toBe(true);
    expect(isJsonbCompatible(JSON.stringify({ path: "C:\\\\u0000" }))).toBe(true);
    expect(isJsonbCompatible(JSON.stringify({ path: "C:\\\u0000" }))).toBe(false);
  });
});
