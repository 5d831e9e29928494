import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { serveFlags, serveUsage } from "./serve-options.js";

const repository = new URL("../../../../", import.meta.url);
const readme = readFileSync(new URL("README.md", repository), "utf8");

/** The text of a README section, from its `## title` to the next heading of that level. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`the README has no section "## ${title}"`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The rows of the first Markdown table in `text`, as cells, without its header and rule. */
function tableRows(text: string): string[][] {
  const lines = text.split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.split("|").slice(1, -1));
  }
  return rows;
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

describe("the README's table of serve options", () => {
  const rows = tableRows(section("Running the bus"));
  const documentedFlags = sorted(rows.flatMap(([option = ""]) => option.match(/--[a-z][a-z-]*/g) ?? []));
  const documentedVariables = sorted(
    rows.flatMap(([, environment = ""]) => environment.match(/TRIBUTARY_[A-Z_]+/g) ?? []),
  );

  it("lists every flag the parser takes, and no other", () => {
    const parsed = Object.keys(serveFlags)
      .filter((name) => name !== "help")
      .map((name) => `--${name}`);
    expect(documentedFlags).toEqual(sorted(parsed));
  });

  it("lists every environment variable the parser reads, and no other", () => {
    const source = readFileSync(new URL("./serve-options.ts", import.meta.url), "utf8");
    const read = source.match(/(?<=\benv\.)TRIBUTARY_[A-Z_]+/g) ?? [];
    expect(read.length).toBeGreaterThan(0);
    expect(documentedVariables).toEqual(sorted(read));
  });

  it("agrees with `tributary serve --help`", () => {
    const usageFlags = serveUsage.match(/(?<=^ {2})--[a-z][a-z-]*/gm) ?? [];
    const usageVariables = serveUsage.match(/(?<=\[)TRIBUTARY_[A-Z_]+/g) ?? [];
    expect(sorted(usageFlags)).toEqual(documentedFlags);
    expect(sorted(usageVariables)).toEqual(documentedVariables);
  });
});

/** Whether the repository is a git checkout (a packed release is not, and has no tree to compare). */
function trackedFiles(): string[] | undefined {
  try {
    return execFileSync("git", ["ls-files"], { cwd: repository, encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  } catch {
    return undefined;
  }
}

describe("the README's map of the tree", () => {
  const files = trackedFiles();

  it.skipIf(files === undefined)("names every top-level file and folder tracked by git, and no other", () => {
    const block = /```\n([\s\S]*?)```/.exec(section("The tree"))?.[1] ?? "";
    // A line that starts at the margin names a top-level entry: `docs/`, `Dockerfile`, `.ci/run`.
    const named = block
      .split("\n")
      .filter((line) => /^\S/.test(line))
      .map((line) => line.split(/\s+/)[0] ?? "")
      .map((path) => (path.includes("/") ? `${path.split("/")[0]}/` : path));
    const tracked = (files ?? []).map((path) => (path.includes("/") ? `${path.split("/")[0]}/` : path));
    expect(sorted(named)).toEqual(sorted(tracked));
  });
});
