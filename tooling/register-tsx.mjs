/**
 * Registers tsx's TypeScript hooks in the thread that imports it: `node --import
 * ./tooling/register-tsx.mjs file.ts`. The test processes load it (vitest.config.ts), and the worker
 * threads they start inherit the flag, so a worker started from a `.ts` module runs the sources under
 * test rather than a build of them in `dist/`. (`--import tsx` alone registers in the main thread only,
 * and Node 20 does not pass module hooks on to worker threads.)
 */
import { register } from "tsx/esm/api";

register();
