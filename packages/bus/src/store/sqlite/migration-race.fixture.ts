import { createInterface } from "node:readline";
import { createSqliteStore } from "./sqlite-store.js";

/*
 * A process of the migration race in sqlite-store.int.test.ts. For each database file named in
 * TRIBUTARY_SQLITE_PATHS (one per line) it announces "ready", waits for "go" on stdin, so that every
 * racer starts each round together, then opens the file, migrates it and closes it. Any failure
 * ends the process with a non-zero exit code and the error on stderr.
 */
const paths = (process.env.TRIBUTARY_SQLITE_PATHS ?? "").split("\n").filter((path) => path !== "");
if (paths.length === 0) throw new Error("TRIBUTARY_SQLITE_PATHS names the database files to migrate");

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
for (const path of paths) {
  process.stdout.write("ready\n");
  const line = await lines.next();
  if (line.done === true || line.value.trim() !== "go") throw new Error("the race was called off");
  const store = createSqliteStore({ path });
  await store.migrate();
  await store.close();
}
process.stdout.write("done\n");
process.exit(0);
