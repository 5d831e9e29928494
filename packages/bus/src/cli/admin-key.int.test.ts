import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { generateApiKey } from "../auth/api-keys.js";
import { createAuthenticator } from "../auth/authenticator.js";
import { openStore } from "../store/open-store.js";
import { createTestStore, storeKinds, type TestStore } from "../testing/test-stores.js";
import { ensureAdminKey, readAdminKey } from "./admin-key.js";

describe("readAdminKey", () => {
  const folder = mkdtempSync(join(tmpdir(), "tributary-admin-key-"));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("reads a key from a file, without the newline, or from TRIBUTARY_ADMIN_KEY", () => {
    const { key } = generateApiKey();
    const file = join(folder, "key");
    writeFileSync(file, `${key}\n`);
    expect(readAdminKey({ file }, {})).toBe(key);
    expect(readAdminKey({ env: "TRIBUTARY_ADMIN_KEY" }, { TRIBUTARY_ADMIN_KEY: ` ${key} ` })).toBe(key);
  });

  it("refuses what is not a key, or a file it cannot read, without saying what it holds", () => {
    const file = join(folder, "password");
    writeFileSync(file, "hunter2-but-much-longer-than-that\n");
    expect(() => readAdminKey({ file }, {})).toThrow(
      `TRIBUTARY_ADMIN_KEY_FILE (${file}) does not hold an API key: a key looks like trb_<12 hex digits>_<43 base64url characters>`,
    );
    expect(() => readAdminKey({ file }, {})).not.toThrow(/hunter2/);
    expect(() => readAdminKey({ env: "TRIBUTARY_ADMIN_KEY" }, { TRIBUTARY_ADMIN_KEY: "" })).toThrow(
      /TRIBUTARY_ADMIN_KEY does not hold an API key/,
    );
    expect(() => readAdminKey({ file: join(folder, "missing") }, {})).toThrow(
      /cannot read the admin key from TRIBUTARY_ADMIN_KEY_FILE \(.*missing\): ENOENT/,
    );
  });
});

describe.each(storeKinds)("ensureAdminKey on %s", (kind) => {
  let test: TestStore;
  const opened: TestStore[] = [];
  beforeEach(async () => {
    test = await createTestStore(kind);
    opened.push(test);
  });
  afterAll(async () => {
    for (const store of opened) await store.cleanup();
  });

  it("makes the key the first key of an empty store, for admin, and finds it on the next start", async () => {
    // Given an empty store and a generated key
    const { key } = generateApiKey();
    // When the bus starts with it, twice
    expect(await ensureAdminKey(test.store.auth, key)).toBe("created");
    expect(await ensureAdminKey(test.store.auth, key)).toBe("present");
    // Then the store has that one key, and it authenticates as admin
    expect(await test.store.auth.countKeys()).toBe(1);
    const principal = await createAuthenticator({ store: test.store.auth }).authenticate(
      `Bearer ${key}`,
      "127.0.0.1",
    );
    expect(principal).toMatchObject({ name: "admin", grants: { admin: true } });
  });

  it("keeps a revoked admin key revoked, and stores nothing in a store that has keys", async () => {
    const auth = createAuthenticator({ store: test.store.auth });
    const { key } = generateApiKey();
    await ensureAdminKey(test.store.auth, key);
    expect(await auth.revokeKey(key.slice(4, 16))).toBe(true);
    expect(await ensureAdminKey(test.store.auth, key)).toBe("revoked");
    expect(await auth.authenticate(`Bearer ${key}`, "127.0.0.1")).toBeUndefined();
    // A new key on a store that has keys already is not stored
    const other = generateApiKey().key;
    expect(await ensureAdminKey(test.store.auth, other)).toBe("ignored");
    expect(await auth.authenticate(`Bearer ${other}`, "127.0.0.1")).toBeUndefined();
    expect(await test.store.auth.countKeys()).toBe(1);
  });

  it("refuses a key whose id is stored with another secret", async () => {
    const { key } = generateApiKey();
    await ensureAdminKey(test.store.auth, key);
    const forged = `${key.slice(0, 17)}${"A".repeat(43)}`;
    await expect(ensureAdminKey(test.store.auth, forged)).rejects.toThrow(
      `the store holds another key with the admin key's id ${key.slice(4, 16)}`,
    );
  });

  it("stores the key once when several processes start with it at once", async () => {
    // Given several stores on the same database, as replicas starting together
    const replicas = Array.from({ length: 6 }, () => openStore(test.url));
    try {
      await Promise.all(replicas.map((replica) => replica.migrate()));
      const { key } = generateApiKey();
      // When each ensures the key at the same moment
      const outcomes = await Promise.all(replicas.map((replica) => ensureAdminKey(replica.auth, key)));
      // Then one stored it and the others found it
      expect(outcomes.filter((outcome) => outcome === "created")).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === "present")).toHaveLength(replicas.length - 1);
      expect(await replicas[0]?.auth.countKeys()).toBe(1);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });
});
