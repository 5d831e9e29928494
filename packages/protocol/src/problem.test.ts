import { describe, expect, it } from "vitest";
import { isVersionConflict, TributaryError } from "./errors.js";
import { fromProblem, toProblem } from "./problem.js";

describe("problem documents", () => {
  it("round-trip an error through RFC 9457 JSON", () => {
    // Given an error with details
    const error = new TributaryError("version-conflict", {
      message: "user-1 is at version 3, not 2",
      details: { key: "user-1", expectedVersion: 2, actualVersion: 3 },
    });
    // When it becomes a problem and back
    const problem = toProblem(error);
    const back = fromProblem(409, JSON.parse(JSON.stringify(problem)));
    // Then the type, code and details survive
    expect(problem).toMatchObject({
      type: "urn:tributary:problem:version-conflict",
      status: 409,
      code: "version-conflict",
      title: "Version conflict",
      detail: "user-1 is at version 3, not 2",
      key: "user-1",
    });
    expect(isVersionConflict(back)).toBe(true);
    expect(back.details).toEqual({ key: "user-1", expectedVersion: 2, actualVersion: 3 });
  });

  it("keeps a foreign error body as a generic error with its status", () => {
    const error = fromProblem(502, "<html>bad gateway</html>");
    expect(error.code).toBe("internal");
    expect(error.details).toEqual({ status: 502 });
    expect(fromProblem(503, undefined).retriable).toBe(true);
  });

  it("cannot be tricked into overriding the catalogue's status", () => {
    const problem = toProblem(new TributaryError("id-conflict", { details: { status: 200, code: "x" } }));
    expect(problem.status).toBe(409);
    expect(problem.code).toBe("id-conflict");
  });
});
