import type {
  DeadLetter,
  DeadLetterPage,
  PollResponse,
  ResetTarget,
  SubscriptionInfo,
  SubscriptionSettings,
  SubscriptionStatus,
} from "@tributary/protocol";

export interface PollOptions {
  /** The consumer instance id (`[A-Za-z0-9._:-]{1,128}`); polling keeps it live and leases it partitions. */
  consumer: string;
  /** Events in the answer at most (1–1000, server default 100). */
  max?: number;
  /** Long-poll: milliseconds to wait for an event when none is ready (0–60,000, default 0). */
  wait?: number;
  signal?: AbortSignal;
}

export interface NackOptions {
  /** Why the events failed; kept as the partition's `lastError` and in dead letters. */
  error?: string;
  /** Redeliver after this many milliseconds instead of the subscription's backoff. */
  retryAfterMs?: number;
}

export interface AckResult {
  acked: number;
}

export interface NackResult {
  nacked: number;
  /** Ids of the nacked events that reached `maxAttempts` and went to the dead letters. */
  deadLettered: string[];
}

export interface HeartbeatResult {
  /** The partitions leased to the consumer now. */
  partitions: number[];
}

export interface ListDeadLettersOptions {
  limit?: number;
  /** Cursor from a previous page's `next`. */
  after?: string;
}

/** The subscription calls of the client: one HTTP request each (see docs/subscriptions.md). */
export interface SubscriptionCalls {
  /**
   * Creates the subscription, or updates the one of that name in place (every setting but `topic` and
   * `start`). A different `topic` or `start` than the existing one's throws `subscription-conflict`:
   * `reset` moves a subscription.
   */
  putSubscription(name: string, settings: SubscriptionSettings): Promise<SubscriptionInfo>;
  /** The definition with its consumers, per-partition checkpoints, lag and dead-letter count. */
  getSubscription(name: string): Promise<SubscriptionStatus>;
  listSubscriptions(): Promise<SubscriptionInfo[]>;
  /** Removes the subscription with its checkpoints, consumers and dead letters. */
  deleteSubscription(name: string): Promise<void>;
  /**
   * Leases partitions to the consumer and returns the next events of its partitions. A partition gives
   * nothing more until every event of its previous batch is acked or nacked (or timed out). With
   * `wait`, the request timeout is extended by `wait`. Low-level: `subscribe` runs the whole loop.
   */
  poll(name: string, options: PollOptions): Promise<PollResponse>;
  /**
   * Acknowledges events: they are done for this subscription. Throws `delivery-not-held` (and changes
   * nothing) when one is not in flight to this consumer (already acked, reset, or moved away).
   */
  ack(name: string, consumer: string, ids: string[]): Promise<AckResult>;
  /**
   * Reports events as failed: they are delivered again after `retryAfterMs` or the backoff, together
   * with the later in-flight events of their partitions (which do not count as failed). An event that
   * failed `maxAttempts` times is dead-lettered instead. Throws `delivery-not-held` like `ack`.
   */
  nack(name: string, consumer: string, ids: string[], options?: NackOptions): Promise<NackResult>;
  /** Keeps the consumer live (its leases) without polling, e.g. while a long handler runs. */
  heartbeat(name: string, consumer: string): Promise<HeartbeatResult>;
  /**
   * Ends the consumer instance now: its partitions go to the other instances at once and its
   * unacknowledged events are delivered to them (not counted as failed).
   */
  leave(name: string, consumer: string): Promise<void>;
  /** Moves the checkpoints and drops in-flight deliveries (their acks then fail `delivery-not-held`). */
  reset(name: string, to: ResetTarget): Promise<SubscriptionStatus>;
  listDeadLetters(name: string, options?: ListDeadLettersOptions): Promise<DeadLetterPage>;
  getDeadLetter(name: string, id: string): Promise<DeadLetter>;
  /**
   * Delivers dead letters again (all of them when `ids` is absent), before their partitions' newer
   * events, with a fresh attempt count. Resolves with how many were redriven.
   */
  redriveDeadLetters(name: string, ids?: string[]): Promise<number>;
  discardDeadLetter(name: string, id: string): Promise<void>;
}

/** What the subscription calls need of the client's request helper. */
export interface SubscriptionRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  extraTimeoutMs?: number;
}

/** Builds the subscription calls on the client's `call` helper (retries and problem mapping included). */
export function createSubscriptionCalls(
  call: <T>(spec: SubscriptionRequest) => Promise<T>,
): SubscriptionCalls {
  const path = (name: string, rest = "") => `/v1/subscriptions/${encodeURIComponent(name)}${rest}`;
  return {
    putSubscription: (name, settings) =>
      call<SubscriptionInfo>({ method: "PUT", path: path(name), body: settings }),

    getSubscription: (name) => call<SubscriptionStatus>({ method: "GET", path: path(name) }),

    async listSubscriptions() {
      const body = await call<{ subscriptions: SubscriptionInfo[] }>({
        method: "GET",
        path: "/v1/subscriptions",
      });
      return body.subscriptions;
    },

    async deleteSubscription(name) {
      await call({ method: "DELETE", path: path(name) });
    },

    poll(name, { consumer, max, wait, signal }) {
      return call<PollResponse>({
        method: "POST",
        path: path(name, "/poll"),
        body: { consumer, max, wait },
        extraTimeoutMs: wait ?? 0,
        ...(signal === undefined ? {} : { signal }),
      });
    },

    ack: (name, consumer, ids) =>
      call<AckResult>({ method: "POST", path: path(name, "/ack"), body: { consumer, events: ids } }),

    nack: (name, consumer, ids, { error, retryAfterMs } = {}) =>
      call<NackResult>({
        method: "POST",
        path: path(name, "/nack"),
        body: { consumer, events: ids, error, retryAfterMs },
      }),

    heartbeat: (name, consumer) =>
      call<HeartbeatResult>({ method: "POST", path: path(name, "/heartbeat"), body: { consumer } }),

    async leave(name, consumer) {
      await call({ method: "DELETE", path: path(name, `/consumers/${encodeURIComponent(consumer)}`) });
    },

    reset: (name, to) =>
      call<SubscriptionStatus>({ method: "POST", path: path(name, "/reset"), body: { to } }),

    listDeadLetters: (name, { limit, after } = {}) =>
      call<DeadLetterPage>({ method: "GET", path: path(name, "/dead-letters"), query: { limit, after } }),

    getDeadLetter: (name, id) =>
      call<DeadLetter>({ method: "GET", path: path(name, `/dead-letters/${encodeURIComponent(id)}`) }),

    async redriveDeadLetters(name, ids) {
      const body = await call<{ redriven: number }>({
        method: "POST",
        path: path(name, "/dead-letters/redrive"),
        body: ids === undefined ? {} : { ids },
      });
      return body.redriven;
    },

    async discardDeadLetter(name, id) {
      await call({ method: "DELETE", path: path(name, `/dead-letters/${encodeURIComponent(id)}`) });
    },
  };
}
