import {
  type DeadLetter,
  type DeadLetterPage,
  isValidConsumerId,
  isValidTopicName,
  type PollResponse,
  type ResetTarget,
  type SubscriptionInfo,
  type SubscriptionSettings,
  type SubscriptionStatus,
  type TopicInfo,
  TributaryError,
} from "@tributary/protocol";
import { Wakeups } from "../read/wakeups.js";
import type { EventStore } from "../store/event-store.js";
import { type AckRequest, acknowledgeAll, heartbeatOf, heldDeliveries } from "./acknowledgements.js";
import { deadLettersWithin, toDeadLetter } from "./dead-letter-events.js";
import { EventCache } from "./event-cache.js";
import { failDeliveries, releaseOutstanding } from "./partition-state.js";
import { type DeliveredJson, pollOnce } from "./poll-once.js";
import { resetPartitions, startOffsets } from "./positions.js";
import { createRequestCombiner } from "./request-combiner.js";
import { buildStatus } from "./status.js";
import { mergeSubscription, normalizeSubscription } from "./subscription-settings.js";
import type { DeadLetterRecord, PartitionState, SubscriptionState } from "./subscription-store.js";

/** What the subscriptions need of the topics: the bus resolves (and may auto-create) them. */
export interface TopicAccess {
  /** The topic; created with the default partition count when unknown and auto-create is on. */
  ensure(topic: string): Promise<TopicInfo>;
  get(topic: string): Promise<TopicInfo>;
}

/** Counters the subscriptions report (Prometheus metrics hang off them). */
export interface DeliveryObserver {
  delivered(subscription: string, events: number, redelivered: number): void;
  deadLettered(subscription: string, events: number): void;
}

export interface PollRequest {
  consumer: string;
  max: number;
  waitMs: number;
  /** Ends a long-poll early (the client went away); what was delivered before stays delivered. */
  signal?: AbortSignal;
}

export interface NackRequest {
  error: string;
  retryAfterMs?: number;
}

/** Consumer groups: definitions, pull delivery with leases, dead letters, replay and status. */
export interface Subscriptions {
  put(
    name: string,
    settings: SubscriptionSettings,
  ): Promise<{ subscription: SubscriptionInfo; created: boolean }>;
  get(name: string): Promise<SubscriptionInfo>;
  list(): Promise<SubscriptionInfo[]>;
  delete(name: string): Promise<void>;
  status(name: string): Promise<SubscriptionStatus>;
  /**
   * Delivers events of the partitions leased to `consumer`; long-polls up to `waitMs` for some.
   * `eventsJson` holds each event as UTF-8 JSON (with its attempt), ready to send.
   */
  poll(name: string, request: PollRequest): Promise<PollResponse & { eventsJson: DeliveredJson[] }>;
  ack(name: string, consumer: string, ids: string[]): Promise<{ acked: number }>;
  nack(
    name: string,
    consumer: string,
    ids: string[],
    request: NackRequest,
  ): Promise<{ nacked: number; deadLettered: string[] }>;
  heartbeat(name: string, consumer: string): Promise<{ partitions: number[] }>;
  leave(name: string, consumer: string): Promise<void>;
  reset(name: string, to: ResetTarget): Promise<SubscriptionStatus>;
  listDeadLetters(name: string, options: { after?: string; limit: number }): Promise<DeadLetterPage>;
  getDeadLetter(name: string, id: string): Promise<DeadLetter>;
  redrive(name: string, ids?: string[]): Promise<{ redriven: number }>;
  discardDeadLetter(name: string, id: string): Promise<void>;
  /** Ends every long-poll now; later polls do not wait. */
  endWaits(): void;
}

export interface SubscriptionsOptions {
  store: EventStore;
  topics: TopicAccess;
  /**
   * Bytes of event JSON in one poll's batch at most (default 4 MiB), besides its count: a poll
   * response, a push POST, a batch of the event stream, a page of dead letters. The first event
   * goes out whatever its size.
   */
  batchBytes?: number;
  /** Bytes of recently delivered events kept in memory for every subscription (default 64 MiB). */
  eventCacheBytes?: number;
  observer?: DeliveryObserver;
  /** The push breaker of this process, reported in status (push subscriptions). */
  breakerStatus?: (name: string) => SubscriptionStatus["push"];
}

/** Default of `SubscriptionsOptions.batchBytes` (and of the bus's other reads): 4 MiB. */
export const defaultBatchBytes = 4 * 1024 * 1024;

export function assertSubscriptionName(name: string): void {
  if (!isValidTopicName(name)) {
    throw new TributaryError("invalid-request", {
      message: "subscription names match [a-z0-9][a-z0-9._-]{0,127}",
      details: { errors: [{ pointer: "/name", message: "must match [a-z0-9][a-z0-9._-]{0,127}" }] },
    });
  }
}

function assertConsumer(consumer: string): void {
  if (!isValidConsumerId(consumer)) {
    throw new TributaryError("invalid-request", {
      message: "consumer ids match [A-Za-z0-9._:-]{1,128}",
      details: { errors: [{ pointer: "/consumer", message: "must match [A-Za-z0-9._:-]{1,128}" }] },
    });
  }
}

/** Creates the subscription core over a migrated store. */
export function createSubscriptions(options: SubscriptionsOptions): Subscriptions {
  const { store, topics } = options;
  const wakeups = new Wakeups(store);
  /** When instances left, per `name\0consumer`: polls of theirs already waiting then end empty. */
  const leftAt = new Map<string, number>();
  /** The topic of each subscription polled lately, by name. */
  const topicOf = new Map<string, string>();
  let waitsEnded = false;
  /**
   * Acks of one subscription that queue up while one of its transactions runs go as one
   * transaction, each checked on its own: a consumer acking per partition sends several at once.
   */
  const acks = createRequestCombiner<AckRequest, number>((name, requests) =>
    store.subscriptions.transact(name, (state) => acknowledgeAll(state, requests)),
  );

  async function get(name: string): Promise<SubscriptionInfo> {
    assertSubscriptionName(name);
    const subscription = await store.subscriptions.get(name);
    if (subscription === undefined) {
      throw new TributaryError("subscription-not-found", { details: { subscription: name } });
    }
    return subscription;
  }

  const cache = new EventCache(
    options.eventCacheBytes === undefined ? {} : { maxBytes: options.eventCacheBytes },
  );
  const batchBytes = options.batchBytes ?? defaultBatchBytes;
  const readerFor = (topic: string) => (partition: number, from: number, limit: number, maxBytes: number) =>
    cache.read(topic, partition, from, limit, maxBytes, (offset, count, bytes) =>
      store.readPartitionForDelivery(topic, partition, offset, count, bytes),
    );

  const service: Subscriptions = {
    async put(name, settings) {
      assertSubscriptionName(name);
      const wanted = normalizeSubscription(name, settings, new Date().toISOString());
      const topic = await topics.ensure(wanted.topic);
      const existing = await store.subscriptions.get(name);
      if (existing === undefined) {
        const offsets = await startOffsets(store, topic, wanted.start);
        const partitions = offsets.map((offset, partition) => emptyPartition(partition, offset));
        const created = await store.subscriptions.create(wanted, partitions);
        if (created.created) return created;
        return { subscription: await updateDefinition(name, wanted), created: false };
      }
      return { subscription: await updateDefinition(name, wanted), created: false };
    },

    get,

    list: () => store.subscriptions.list(),

    async delete(name) {
      assertSubscriptionName(name);
      topicOf.delete(name);
      if (!(await store.subscriptions.delete(name))) {
        throw new TributaryError("subscription-not-found", { details: { subscription: name } });
      }
      wakeups.changed(name);
    },

    async status(name) {
      const subscription = await get(name);
      // Reads only: no lock, so a status (or a metrics scrape) never waits for polls, acks or
      // appends in flight, nor makes them wait.
      const [topic, state, deadLetters] = await Promise.all([
        topics.get(subscription.topic),
        store.subscriptions.read(name),
        store.subscriptions.countDeadLetters(name),
      ]);
      if (state === undefined) {
        throw new TributaryError("subscription-not-found", { details: { subscription: name } });
      }
      return buildStatus(state, topic.headOffsets, deadLetters, options.breakerStatus?.(name));
    },

    async poll(name, request) {
      assertSubscriptionName(name);
      assertConsumer(request.consumer);
      // Topics of subscriptions never change in place (a PUT with another topic is refused), so the
      // topic is looked up once; the transaction's own copy of the definition is what reads use.
      let topic = topicOf.get(name);
      if (topic === undefined) {
        topic = (await get(name)).topic;
        topicOf.set(name, topic);
      }
      const startedAt = Date.now();
      const deadline = startedAt + request.waitMs;
      const leftKey = `${name}\u0000${request.consumer}`;
      for (;;) {
        // The instance left while this poll waited (its client gave up on it): taking partitions
        // for it now would lease them to an instance that is gone.
        if ((leftAt.get(leftKey) ?? Number.NEGATIVE_INFINITY) >= startedAt) {
          return { events: [], eventsJson: [], partitions: [] };
        }
        const wakeup = wakeups.arm({ topic, subscription: name });
        let result: Awaited<ReturnType<typeof pollOnce>>["result"];
        try {
          result = await store.subscriptions.transact(name, (state) => {
            // Deleted and created again on another topic: follow it from the next wait on.
            topic = state.subscription.topic;
            topicOf.set(name, topic);
            return pollOnce(state, request.consumer, request.max, batchBytes, readerFor(topic));
          });
        } catch (error) {
          wakeup.cancel();
          throw error;
        }
        if (result.eventsJson.length > 0) {
          options.observer?.delivered(name, result.eventsJson.length, result.redelivered);
        }
        if (result.deadLettered > 0) options.observer?.deadLettered(name, result.deadLettered);
        const remaining = deadline - Date.now();
        if (result.eventsJson.length > 0 || remaining <= 0 || waitsEnded || request.signal?.aborted) {
          wakeup.cancel();
          // Objects only for callers that read them (push, SSE): the pull route sends the JSON.
          const { eventsJson, partitions } = result;
          return {
            get events() {
              return result.events;
            },
            eventsJson,
            partitions,
          };
        }
        const abort = () => wakeup.cancel();
        request.signal?.addEventListener("abort", abort, { once: true });
        // Any new event in a partition that waits for one; a commit to one whose batch is still in
        // flight delivers nothing new.
        await wakeup.wait(
          Math.min(remaining, result.recheckInMs ?? remaining),
          new Map(result.waitingForEvents.map((partition) => [partition, 0])),
        );
        request.signal?.removeEventListener("abort", abort);
      }
    },

    async ack(name, consumer, ids) {
      assertSubscriptionName(name);
      assertConsumer(consumer);
      const unique = [...new Set(ids)];
      const acked = await acks.submit(name, { consumer, ids: unique });
      wakeups.changed(name);
      return { acked };
    },

    async nack(name, consumer, ids, request) {
      assertSubscriptionName(name);
      assertConsumer(consumer);
      const unique = [...new Set(ids)];
      const deadLettered = await store.subscriptions.transact(name, (state) => {
        const held = heldDeliveries(state, consumer, unique);
        const partitions: PartitionState[] = [];
        const deadLetters: DeadLetterRecord[] = [];
        for (const partition of state.partitions) {
          const failed = held.get(partition.partition);
          if (failed === undefined) continue;
          const outcome = failDeliveries(
            state.subscription,
            partition,
            failed,
            request.error,
            state.now,
            request.retryAfterMs,
          );
          partitions.push(outcome.partition);
          deadLetters.push(...outcome.deadLetters);
        }
        return {
          result: deadLetters.map((letter) => letter.eventId),
          partitions,
          insertDeadLetters: deadLetters,
          upsertConsumers: [heartbeatOf(state, consumer)],
          mayLoseOnCrash: true,
          announce: true,
        };
      });
      if (deadLettered.length > 0) options.observer?.deadLettered(name, deadLettered.length);
      wakeups.changed(name);
      return { nacked: unique.length, deadLettered };
    },

    async heartbeat(name, consumer) {
      assertSubscriptionName(name);
      assertConsumer(consumer);
      // A heartbeat is a poll that takes no events: it renews the lease and rebalances.
      const result = await store.subscriptions.transact(name, (state) =>
        pollOnce(state, consumer, 0, batchBytes, readerFor(state.subscription.topic)),
      );
      return { partitions: result.partitions };
    },

    async leave(name, consumer) {
      assertSubscriptionName(name);
      assertConsumer(consumer);
      const now = Date.now();
      for (const [key, at] of leftAt) if (now - at > 60_000) leftAt.delete(key);
      leftAt.set(`${name}\u0000${consumer}`, now);
      await store.subscriptions.transact(name, (state) => ({
        result: undefined,
        partitions: state.partitions
          .filter((partition) => partition.owner === consumer)
          .map((partition) => ({ ...releaseOutstanding(partition), owner: null, leaseExpiresAt: 0 })),
        deleteConsumers: [consumer],
        announce: true,
      }));
      wakeups.changed(name);
    },

    async reset(name, to) {
      const subscription = await get(name);
      const topic = await topics.get(subscription.topic);
      const targets = await resetPartitions(store, topic, to);
      await store.subscriptions.transact(name, (state) => ({
        result: undefined,
        partitions: state.partitions
          .filter((partition) => targets.has(partition.partition))
          .map((partition) => {
            const offset = targets.get(partition.partition) as number;
            return {
              ...partition,
              checkpoint: offset,
              cursor: offset,
              pending: partition.pending.filter((entry) => entry.redriven === true && !entry.outstanding),
              ackDeadline: 0,
              retryAt: 0,
            };
          }),
        announce: true,
      }));
      wakeups.changed(name);
      return service.status(name);
    },

    async listDeadLetters(name, { after, limit }) {
      await get(name);
      const records = await store.subscriptions.listDeadLetters(name, {
        ...(after === undefined ? {} : { after }),
        limit,
      });
      const deadLetters = await deadLettersWithin(store, records, batchBytes);
      const isCut = deadLetters.length < records.length;
      const last = deadLetters[deadLetters.length - 1];
      const isFull = isCut || records.length === limit;
      return { deadLetters, next: isFull && last !== undefined ? last.id : null };
    },

    async getDeadLetter(name, id) {
      await get(name);
      const [record] = await store.subscriptions.listDeadLetters(name, { ids: [id], limit: 1 });
      if (record === undefined) {
        throw new TributaryError("dead-letter-not-found", {
          details: { subscription: name, id: id.slice(0, 256) },
        });
      }
      return toDeadLetter(store, record);
    },

    async redrive(name, ids) {
      await get(name);
      let redriven = 0;
      let after: string | undefined;
      for (;;) {
        const records = await store.subscriptions.listDeadLetters(name, {
          limit: 1000,
          ...(ids === undefined ? {} : { ids }),
          ...(after === undefined ? {} : { after }),
        });
        if (records.length === 0) break;
        redriven += await store.subscriptions.transact(name, (state) => redriveInto(state, records));
        after = records[records.length - 1]?.eventId;
        if (records.length < 1000) break;
      }
      wakeups.changed(name);
      return { redriven };
    },

    async discardDeadLetter(name, id) {
      const record = await service.getDeadLetter(name, id);
      await store.subscriptions.transact(name, () => ({
        result: undefined,
        deleteDeadLetters: [record.id],
      }));
    },

    endWaits() {
      waitsEnded = true;
      wakeups.close();
    },
  };

  async function updateDefinition(name: string, wanted: SubscriptionInfo): Promise<SubscriptionInfo> {
    return store.subscriptions.transact(name, (state) => {
      const merged = mergeSubscription(state.subscription, wanted);
      return merged === state.subscription ? { result: merged } : { result: merged, subscription: merged };
    });
  }

  return service;
}

export function emptyPartition(partition: number, offset: number): PartitionState {
  return {
    partition,
    checkpoint: offset,
    cursor: offset,
    pending: [],
    owner: null,
    leaseExpiresAt: 0,
    ackDeadline: 0,
    retryAt: 0,
    lastError: null,
  };
}

/** Puts dead letters back in their partitions' queues, ahead of newer events, with fresh counts. */
function redriveInto(state: SubscriptionState, records: DeadLetterRecord[]) {
  const byPartition = new Map<number, DeadLetterRecord[]>();
  for (const record of records) {
    const list = byPartition.get(record.partition) ?? [];
    list.push(record);
    byPartition.set(record.partition, list);
  }
  const partitions: PartitionState[] = [];
  for (const partition of state.partitions) {
    const letters = byPartition.get(partition.partition);
    if (letters === undefined) continue;
    const known = new Set(partition.pending.map((entry) => entry.id));
    const added = letters
      .filter((letter) => !known.has(letter.eventId))
      .map((letter) => ({
        offset: letter.offset,
        id: letter.eventId,
        failures: 0,
        outstanding: false,
        redriven: true,
      }));
    const pending = [...partition.pending, ...added].sort((a, b) => a.offset - b.offset);
    partitions.push({ ...partition, pending });
  }
  return {
    result: records.length,
    partitions,
    deleteDeadLetters: records.map((record) => record.eventId),
    announce: true,
  };
}
