import { describe, expect, it } from "vitest";
import { formatResumeToken, parseResumeToken } from "./resume-token.js";

describe("resume tokens", () => {
  it("round-trips partitions and offsets in partition order", () => {
    const token = new Map([
      [3, 40],
      [0, 12],
    ]);
    expect(formatResumeToken(token)).toBe("0:12,3:40");
    expect(parseResumeToken("0:12,3:40")).toEqual(
      new Map([
        [0, 12],
        [3, 40],
      ]),
    );
  });

  it("refuses malformed tokens rather than guessing", () => {
    for (const text of ["", "x", "0:", "0:1,", "-1:3", "5000:1", "0:99999999999999999", "0:1;1:2"]) {
      expect(parseResumeToken(text)).toBeUndefined();
    }
    expect(parseResumeToken(undefined)).toBeUndefined();
  });
});
