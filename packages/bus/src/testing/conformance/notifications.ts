import { partitionForKey } from "@tributary/protocol";
import { describe, expect, it, vi } from "vitest";
import type { CommitNotice } from "../../store/event-store.js";
import {
  appendCommand,
  type ConformanceContext,
  expectCommitted,
  userCreated,
  userRenamed,
} from "./fixtures.js";

/** onCommit: notices of the partitions a commit grew. */
export function describeNotificationConformance(context: ConformanceContext): void {
  describe("onCommit", () => {
    it("announces each partition a commit grew, with its new head", async () => {
      // Given a listener on a store with the users topic of 4 partitions
      const store = context.store();
      await store.putTopic("users", { partitions: 4 });
      const notices: CommitNotice[] = [];
      const unsubscribe = store.onCommit((notice) => notices.push(notice));

      // When user-1 is created, then renamed twice with user-2 created
      expectCommitted(await appendCommand(store, "users", [userCreated("user-1")]));
      expectCommitted(
        await appendCommand(store, "users", [
          userRenamed("user-1", "Ada"),
          userRenamed("user-1", "Ada L."),
          userCreated("user-2"),
        ]),
      );

      // Then the listener heard of every partition head the commits produced
      const topic = await store.getTopic("users");
      const user1 = partitionForKey("user-1", 4);
      const user2 = partitionForKey("user-2", 4);
      await vi.waitFor(() => {
        expect(notices).toContainEqual({ topic: "users", partition: user1, nextOffset: 1 });
        for (const partition of new Set([user1, user2])) {
          expect(notices).toContainEqual({
            topic: "users",
            partition,
            nextOffset: topic!.headOffsets[partition],
          });
        }
      });
      for (const notice of notices) {
        expect(notice.topic).toBe("users");
        expect([user1, user2]).toContain(notice.partition);
      }
      unsubscribe();
    });

    it("stops announcing to a listener that unsubscribed", async () => {
      // Given a listener that heard of user-1's creation
      const store = context.store();
      await store.putTopic("users", { partitions: 1 });
      const notices: CommitNotice[] = [];
      const unsubscribe = store.onCommit((notice) => notices.push(notice));
      expectCommitted(await appendCommand(store, "users", [userCreated("user-1")]));
      await vi.waitFor(() => expect(notices).toContainEqual({ topic: "users", partition: 0, nextOffset: 1 }));

      // When it unsubscribes and user-2 is created
      unsubscribe();
      expectCommitted(await appendCommand(store, "users", [userCreated("user-2")]));
      await new Promise((resolve) => setTimeout(resolve, 100));

      // Then it heard nothing of the second commit
      expect(notices.filter((notice) => notice.nextOffset > 1)).toEqual([]);
    });
  });
}
