import { configDefaults, defineConfig } from "vitest/config";

/** Test processes, and the threads they start, run TypeScript sources through tsx. */
const typescriptLoader = new URL("./tooling/register-tsx.mjs", import.meta.url).href;

const tests = "packages/*/src/**";

/**
 * One project per kind of test, named by what it needs (`vitest run --project unit`): `unit` runs
 * `*.test.ts` (pure), `int` runs `*.int.test.ts` (a database or a server), `e2e` runs
 * `*.e2e.test.ts` (processes, the built `dist/`).
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    poolOptions: { forks: { singleFork: false, execArgv: ["--import", typescriptLoader] } },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [`${tests}/*.test.ts`],
          exclude: [...configDefaults.exclude, "**/*.int.test.ts", "**/*.e2e.test.ts"],
        },
      },
      { extends: true, test: { name: "int", include: [`${tests}/*.int.test.ts`] } },
      { extends: true, test: { name: "e2e", include: [`${tests}/*.e2e.test.ts`] } },
    ],
  },
});
