import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const packagesFolder = fileURLToPath(new URL("../../../", import.meta.url));

interface PackageJson {
  name: string;
  exports?: Record<string, { default: string }>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * Modules started by URL rather than imported, which no import reaches: the SQLite writer thread
 * (`new Worker(new URL("./writer-worker.js", import.meta.url))`).
 */
const startedByUrl: Record<string, string[]> = { bus: ["src/store/sqlite/writer-worker.ts"] };

function manifest(folder: string): PackageJson {
  return JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as PackageJson;
}

/** The specifiers a module imports or re-exports, type-only ones included (they reach the `.d.ts`). */
function importsOf(file: string): string[] {
  return ts
    .preProcessFile(readFileSync(file, "utf8"), true, true)
    .importedFiles.map((entry) => entry.fileName);
}

/** The source of a published path: `dist/x.js` is built from `src/x.ts`. */
function sourceOf(folder: string, published: string): string {
  return join(folder, published.replace(/^(\.\/)?dist\//, "src/").replace(/\.js$/, ".ts"));
}

/** The entry points: the `exports`, the modules the `bin` scripts import, and those started by URL. */
function entryPoints(name: string, folder: string): string[] {
  const pkg = manifest(folder);
  const entries = Object.values(pkg.exports ?? {}).map((target) => sourceOf(folder, target.default));
  for (const script of Object.values(pkg.bin ?? {})) {
    const path = join(folder, script);
    for (const specifier of importsOf(path)) {
      entries.push(sourceOf(folder, relative(folder, resolve(dirname(path), specifier))));
    }
  }
  for (const path of startedByUrl[name] ?? []) entries.push(join(folder, path));
  return entries;
}

/** Every source module the entry points reach through relative imports. */
function reachableSources(name: string, folder: string): Set<string> {
  const reached = new Set<string>();
  const pending = entryPoints(name, folder);
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (reached.has(file)) continue;
    reached.add(file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith(".")) pending.push(resolve(dirname(file), specifier).replace(/\.js$/, ".ts"));
    }
  }
  return reached;
}

/** The source files the package's build (its `tsconfig.json`) compiles. */
function builtSources(folder: string): Set<string> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(folder, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
      },
    },
  );
  return new Set((config?.fileNames ?? []).map((file) => resolve(file)));
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

const packages = ["protocol", "client", "bus"].map((name) => ({ name, folder: join(packagesFolder, name) }));

describe.each(packages)("the published $name package", ({ name, folder }) => {
  const local = (files: Iterable<string>) => [...files].map((file) => relative(folder, file)).sort();

  it("builds exactly the modules its entry points reach: no test, fixture or test helper", () => {
    // Given what the entry points reach
    const reached = reachableSources(name, folder);

    // When the build's sources are listed
    const built = builtSources(folder);

    // Then they are the same files
    expect(local(built)).toEqual(local(reached));
  });

  it("declares every package its published modules import, as a dependency or a peer", () => {
    // Given the package's declared dependencies and peers
    const pkg = manifest(folder);
    const declared = new Set([
      pkg.name,
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}),
    ]);

    // When the bare imports of its published modules are collected
    const undeclared = new Set<string>();
    for (const file of reachableSources(name, folder)) {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
        const imported = packageName(specifier);
        if (builtinModules.includes(imported) || declared.has(imported)) continue;
        undeclared.add(`${imported} (imported by ${relative(folder, file)})`);
      }
    }

    // Then none is missing from package.json
    expect([...undeclared].sort()).toEqual([]);
  });

  it("packs only the build of those modules, and no build cache", () => {
    // Given a build (`tsc -b` first, as for every test that runs dist/)
    expect(existsSync(join(folder, "dist/index.js")), "dist/index.js: run `npx tsc -b` first").toBe(true);
    const reached = new Set(local(reachableSources(name, folder)));

    // When npm lists what it would publish
    const output = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: folder,
      encoding: "utf8",
    });
    const [packed] = JSON.parse(output) as { files: { path: string }[] }[];
    const files = (packed?.files ?? []).map((file) => file.path);

    // Then every file of dist/ is the output of a reached source. The output of a source that is
    // gone is a leftover of an older build (a clean build, as CI's, has none): it is not counted.
    const strays = files.filter((path) => {
      if (["package.json", "README.md", "LICENSE"].includes(path) || path.startsWith("bin/")) return false;
      const output = /^dist\/(.+)\.(js|d\.ts)(\.map)?$/.exec(path);
      // Not the output of a module: a build cache or any other file.
      if (output === null) return true;
      const source = `src/${output[1]}.ts`;
      return !reached.has(source) && existsSync(join(folder, source));
    });
    expect(strays).toEqual([]);
    expect(files).toContain("dist/index.js");
  });
});
