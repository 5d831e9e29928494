import { defineConfig } from "vitest/config";

/** Test processes run TypeScript natively too: worker threads and children they start from the sources. */
const typescriptLoader = new URL("./tooling/typescript-loader.mjs", import.meta.url).href;

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    poolOptions: { forks: { singleFork: false, execArgv: ["--import", typescriptLoader] } },
  },
});
