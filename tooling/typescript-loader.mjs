/**
 * Lets Node run the TypeScript sources of this repository: `node --import ./tooling/typescript-loader.mjs
 * file.ts`. The test processes load it (vitest.config.ts), so that a worker thread or child process
 * they start from a `.ts` module runs the sources under test rather than a build of them in `dist/`.
 */
import { register } from "node:module";

register(new URL("./typescript-hooks.mjs", import.meta.url));
