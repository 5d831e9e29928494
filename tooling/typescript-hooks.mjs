/**
 * Module hooks (see typescript-loader.mjs): a relative `./x.js` imported by a `.ts` module is its
 * `./x.ts` sibling when that exists (the sources import each other by their compiled names), and a
 * `.ts` module is compiled by esbuild, types stripped, with no type check (`tsc -b` does that).
 * Compiled modules are kept by content hash, so a worker thread started again reuses them.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transform, version } from "esbuild";

const cacheFolder = fileURLToPath(new URL("../node_modules/.cache/typescript-loader/", import.meta.url));

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.endsWith(".ts") && /^\.\.?\//.test(specifier) && specifier.endsWith(".js")) {
    const source = new URL(`${specifier.slice(0, -".js".length)}.ts`, parent);
    if (existsSync(fileURLToPath(source))) return { url: source.href, format: "module", shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, "utf8");
  const hash = createHash("sha256").update(version).update("\0").update(url).update("\0").update(source);
  const cached = `${cacheFolder}${hash.digest("hex")}.js`;
  try {
    return { format: "module", source: await readFile(cached, "utf8"), shortCircuit: true };
  } catch {
    // Not compiled yet: compile it below.
  }
  const { code } = await transform(source, {
    loader: "ts",
    format: "esm",
    target: "node20",
    sourcefile: path,
    sourcemap: "inline",
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
  });
  // Written aside and renamed, so that a thread reading the cache never sees half a file.
  await mkdir(cacheFolder, { recursive: true });
  const partial = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(partial, code);
  await rename(partial, cached);
  return { format: "module", source: code, shortCircuit: true };
}
