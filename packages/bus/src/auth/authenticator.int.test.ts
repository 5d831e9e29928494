import { randomBytes } from "node:crypto";
import { isStoreUnavailable, TributaryError } from "@tributary/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createTestStore, storeKinds, type TestStore } from "../testing/test-stores.js";
import { generateApiKey } from "./api-keys.js";
import type { AuthStore } from "./auth-store.js";
import { type AuthenticatorOptions, createAuthenticator } from "./authenticator.js";

/** The real auth store of a bus, counting the key lookups that reach it. */
function countingStore(store: AuthStore): AuthStore & { readonly lookups: number } {
  let lookups = 0;
  return {
    ...store,
    key(id) {
      lookups += 1;
      return store.key(id);
    },
    get lookups() {
      return lookups;
    },
  };
}

const randomKey = () => `trb_${randomBytes(6).toString("hex")}_${randomBytes(32).toString("base64url")}`;
const bearer = (key: string) => `Bearer ${key}`;
const noLimit: AuthenticatorOptions["failureLimits"] = { burst: 0, perSecond: 0 };
const consumer = { produce: [], consume: ["users"], admin: false };

describe.each(storeKinds)("authenticating API keys on %s", (kind) => {
  let testStore: TestStore;

  afterEach(async () => {
    await testStore.cleanup();
  });

  it("looks a random key up once per address budget, then answers 429 before any lookup", async () => {
    // Given an authenticator allowing 20 failures per address, refilled too slowly to matter here
    testStore = await createTestStore(kind);
    const store = countingStore(testStore.store.auth);
    const auth = createAuthenticator({ store, failureLimits: { burst: 20, perSecond: 0.001 } });
    const { key } = await auth.createKey("search", consumer);
    expect(await auth.authenticate(bearer(key), "10.0.0.1")).toMatchObject({ name: "search" });
    const before = store.lookups;

    // When one address sends 200 random keys
    const outcomes = [];
    for (let attempt = 0; attempt < 200; attempt++) {
      outcomes.push(
        await auth.authenticate(bearer(randomKey()), "10.0.0.1").then(
          (principal) => principal ?? "unauthorized",
          (error: { code?: string }) => error.code,
        ),
      );
    }

    // Then 20 reached the store and were refused, and every later one was rate limited
    expect(store.lookups - before).toBe(20);
    expect(outcomes.slice(0, 20)).toEqual(Array(20).fill("unauthorized"));
    expect(new Set(outcomes.slice(20))).toEqual(new Set(["rate-limited"]));
    // And the address's working key still works, as does an unknown key from another address
    expect(await auth.authenticate(bearer(key), "10.0.0.1")).toMatchObject({ name: "search" });
    expect(await auth.authenticate(bearer(randomKey()), "10.0.0.2")).toBeUndefined();
  });

  it("remembers an unknown key: asking again costs no lookup", async () => {
    // Given an authenticator without a failure limit, and a key that does not exist
    testStore = await createTestStore(kind);
    const store = countingStore(testStore.store.auth);
    const auth = createAuthenticator({ store, failureLimits: noLimit, cacheMs: 600_000 });
    await auth.createKey("search", consumer);
    const unknown = randomKey();

    // When it is tried 50 times
    for (let attempt = 0; attempt < 50; attempt++) {
      expect(await auth.authenticate(bearer(unknown), "10.0.0.1")).toBeUndefined();
    }

    // Then the store was asked once
    expect(store.lookups).toBe(1);
  });

  it("takes a key created through another bus process within the cache time, even if it was tried before", async () => {
    // Given two bus processes' authenticators on one store, the second caching for 100 ms
    testStore = await createTestStore(kind);
    const creator = createAuthenticator({ store: testStore.store.auth });
    await creator.createKey("ops", { produce: [], consume: [], admin: true });
    const store = countingStore(testStore.store.auth);
    const other = createAuthenticator({ store, failureLimits: noLimit, cacheMs: 100 });
    // And a key that the second process is asked about before it exists
    const generated = generateApiKey();
    expect(await other.authenticate(bearer(generated.key), "10.0.0.1")).toBeUndefined();
    expect(await other.authenticate(bearer(generated.key), "10.0.0.1")).toBeUndefined();
    expect(store.lookups).toBe(1);

    // When the key is stored (as the first process's `keys create` does)
    await testStore.store.auth.createKey({
      id: generated.id,
      principal: "search",
      secretHash: generated.secretHash,
      grants: consumer,
      createdAt: new Date().toISOString(),
    });

    // Then the second process takes it once its negative answer has expired
    await expect
      .poll(() => other.authenticate(bearer(generated.key), "10.0.0.1"), { timeout: 10_000, interval: 20 })
      .toMatchObject({ name: "search" });
  });
});

// The caches are the authenticator's own: one store kind shows them (10,000 lookups take a while on PostgreSQL).
describe("the key caches", () => {
  let testStore: TestStore;

  afterEach(async () => {
    await testStore.cleanup();
  });

  it("keeps a valid key cached through a flood of more unknown keys than the cache holds", async () => {
    // Given a valid key in use
    testStore = await createTestStore("sqlite");
    const store = countingStore(testStore.store.auth);
    const auth = createAuthenticator({ store, failureLimits: noLimit, cacheMs: 600_000 });
    const { key } = await auth.createKey("search", consumer);
    expect(await auth.authenticate(bearer(key), "10.0.0.1")).toMatchObject({ name: "search" });

    // When 10,001 random keys are tried
    for (let attempt = 0; attempt < 10_001; attempt++) {
      await auth.authenticate(bearer(randomKey()), `10.0.${attempt >> 8}.${attempt & 255}`);
    }
    const afterFlood = store.lookups;

    // Then the valid key authenticates without a lookup
    expect(await auth.authenticate(bearer(key), "10.0.0.1")).toMatchObject({ name: "search" });
    expect(store.lookups).toBe(afterFlood);
  });

  it("remembers nothing of a store failure: neither an unknown key nor a spent token", async () => {
    // Given a budget of one failure, and a store whose key lookups fail for a while
    testStore = await createTestStore("sqlite");
    const real = testStore.store.auth;
    let isDown = true;
    const store: AuthStore = {
      ...real,
      key: (id) => (isDown ? Promise.reject(new TributaryError("store-unavailable")) : real.key(id)),
    };
    const auth = createAuthenticator({
      store,
      failureLimits: { burst: 1, perSecond: 0.001 },
      cacheMs: 600_000,
    });
    const { key } = await auth.createKey("search", consumer);

    // When a valid key is tried three times while the store is down
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(auth.authenticate(bearer(key), "10.0.0.1")).rejects.toSatisfy(isStoreUnavailable);
    }

    // Then once it is back, the key works, and the address still has its one failure to spend
    isDown = false;
    expect(await auth.authenticate(bearer(key), "10.0.0.1")).toMatchObject({ name: "search" });
    expect(await auth.authenticate(bearer(randomKey()), "10.0.0.1")).toBeUndefined();
    await expect(auth.authenticate(bearer(randomKey()), "10.0.0.1")).rejects.toMatchObject({
      code: "rate-limited",
    });
  });
});
