import type { SubscriptionInfo } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import type { Subscriptions } from "../subscription-service.js";
import { createPushDispatcher } from "./push-dispatcher.js";

describe("push dispatcher", () => {
  it("goes on discovering after an unexpected failure, and logs it", async () => {
    // Given subscriptions whose first listing holds a definition discovery cannot read
    const listings: SubscriptionInfo[][] = [[{ name: "broken" } as SubscriptionInfo], []];
    let listed = 0;
    const subscriptions = {
      list: async () => listings[Math.min(listed++, listings.length - 1)] ?? [],
    } as unknown as Subscriptions;
    const warnings: string[] = [];
    // When the dispatcher starts (its first discovery fails) and is asked to look again
    const dispatcher = createPushDispatcher({
      subscriptions,
      discoveryIntervalMs: 60_000,
      log: { warn: (_details, message) => warnings.push(message) },
    });
    await dispatcher.refresh();
    // Then the second discovery ran, and the first failure was logged
    expect(listed).toBe(2);
    expect(warnings).toEqual(["push: discovering the subscriptions failed; trying again"]);
    // and it stops cleanly
    await dispatcher.stop();
  });
});
