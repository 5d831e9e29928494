import { describe, expect, it } from "vitest";
import { exceedsJsonDepth } from "./hardening.js";

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

describe("exceedsJsonDepth", () => {
  it("counts objects and arrays, up to the limit and past it", () => {
    expect(exceedsJsonDepth(nested(3), 3)).toBe(false);
    expect(exceedsJsonDepth(nested(4), 3)).toBe(true);
    expect(exceedsJsonDepth("[[[]]]", 3)).toBe(false);
    expect(exceedsJsonDepth("[[[[]]]]", 3)).toBe(true);
    expect(exceedsJsonDepth('[{"a":[1]},{"b":[2]}]', 3)).toBe(false);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(exceedsJsonDepth('{"a":"[[[[{{{{"}', 1)).toBe(false);
    expect(exceedsJsonDepth('{"a":"\\"[[[[\\""}', 1)).toBe(false);
    expect(exceedsJsonDepth('{"a\\\\":[[1]]}', 2)).toBe(true);
  });

  it("stops at the first level too deep, however long the text", () => {
    const started = performance.now();
    expect(exceedsJsonDepth("[".repeat(10 * 1024 * 1024), 128)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("leaves text that is not JSON to the parser", () => {
    expect(exceedsJsonDepth('{"unterminated', 1)).toBe(false);
    expect(exceedsJsonDepth("]]]]", 1)).toBe(false);
  });
});
