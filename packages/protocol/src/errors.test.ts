import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { errorCatalogue } from "./errors.js";

const docs = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");

describe("error catalogue", () => {
  it("documents every code with its status", () => {
    for (const [code, definition] of Object.entries(errorCatalogue)) {
      expect(docs).toContain(`| \`${code}\` | ${definition.status} |`);
    }
  });

  it("documents no code that does not exist", () => {
    const documented = [...docs.matchAll(/^\| `([a-z-]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(Object.keys(errorCatalogue).sort());
  });
});
