import { afterEach, beforeEach, describe } from "vitest";
import type { EventStore } from "../store/event-store.js";
import { describeAppendConformance } from "./conformance/append.js";
import { describeAppendProblemConformance } from "./conformance/append-problems.js";
import { describeBoundedPageConformance } from "./conformance/bounded-pages.js";
import { describeBoundedReadConformance } from "./conformance/bounded-reads.js";
import { describeConcurrencyConformance } from "./conformance/concurrency.js";
import { describeDeliveryReadConformance } from "./conformance/delivery-reads.js";
import { describeExpectedVersionConformance } from "./conformance/expected-version.js";
import type { ConformanceContext } from "./conformance/fixtures.js";
import { describeIdempotencyConformance } from "./conformance/idempotency.js";
import { describeLifecycleConformance } from "./conformance/lifecycle.js";
import { describeNotificationConformance } from "./conformance/notifications.js";
import { describeOffsetsAtConformance } from "./conformance/offsets-at.js";
import { describeQueryConformance } from "./conformance/query.js";
import { describeReadConformance } from "./conformance/reads.js";
import { describeSubscriptionReadConformance } from "./conformance/subscription-reads.js";
import { describeSubscriptionTransactConformance } from "./conformance/subscription-transact.js";
import { describeSubscriptionConformance } from "./conformance/subscriptions.js";
import { describeTopicConformance } from "./conformance/topics.js";

export interface StoreConformanceOptions {
  /** Names the adapter in the test report, e.g. `"sqlite"`. */
  name: string;
  /** A fresh, migrated, empty store on every call. The suite closes each store it creates. */
  create(): Promise<EventStore>;
}

/**
 * Registers the conformance suite of the storage port: every behaviour `EventStore` promises
 * (topics, append coordinates, atomic commands in independent groups, expected versions,
 * idempotency, the problem documents of failed appends, reads (bounded by count and by bytes),
 * queries, entity streams and queries bounded by bytes, commit notices, concurrent appends,
 * offsets at a time or position, subscription state, its transactions and its lock-free reads,
 * lifecycle), tested through the port only, so that
 * every adapter runs the same tests. Each test gets its own store from `create` and closes it
 * afterwards; the example domain is users and organizations.
 *
 * @example
 * describeStoreConformance({
 *   name: "sqlite",
 *   create: async () => {
 *     const store = createSqliteStore({ path: join(mkdtempSync(join(tmpdir(), "store-")), "events.db") });
 *     await store.migrate();
 *     return store;
 *   },
 * });
 */
export function describeStoreConformance(options: StoreConformanceOptions): void {
  describe(`EventStore conformance: ${options.name}`, () => {
    let current: EventStore | undefined;

    beforeEach(async () => {
      current = await options.create();
    });

    afterEach(async () => {
      const store = current;
      current = undefined;
      await store?.close();
    });

    const context: ConformanceContext = {
      store() {
        if (current === undefined) throw new Error("the conformance store is only available inside a test");
        return current;
      },
    };

    describeTopicConformance(context);
    describeAppendConformance(context);
    describeExpectedVersionConformance(context);
    describeIdempotencyConformance(context);
    describeAppendProblemConformance(context);
    describeReadConformance(context);
    describeDeliveryReadConformance(context);
    describeBoundedReadConformance(context);
    describeBoundedPageConformance(context);
    describeQueryConformance(context);
    describeNotificationConformance(context);
    describeConcurrencyConformance(context);
    describeOffsetsAtConformance(context);
    describeSubscriptionConformance(context);
    describeSubscriptionTransactConformance(context);
    describeSubscriptionReadConformance(context);
    describeLifecycleConformance(context);
  });
}
