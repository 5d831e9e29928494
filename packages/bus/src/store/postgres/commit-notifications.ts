import type { ListenMeta, Sql } from "postgres";
import type { CommitNotice } from "../event-store.js";
import { runAfterCommit } from "../store-observer.js";
import type { CommitPayload } from "./append-group.js";

export interface CommitNotificationsOptions {
  /** The driver instance to LISTEN with, made on first use. */
  sql(): Sql;
  /** The schema's NOTIFY channel. */
  channel: string;
  /** This store instance's id in payloads: its own commits are announced directly, not heard back. */
  source: string;
  /** Current head of every partition, announced after a reconnect (commits meanwhile went unheard). */
  readHeads(): Promise<CommitNotice[]>;
  /** Hears what a listener threw (`step` names which kind); the other listeners hear all the same. */
  listenerFailed?: (error: unknown, step: string) => void;
}

/** Fans commit notices out to `onCommit` listeners. */
export interface CommitNotifications {
  /** Adds a listener; the first one starts listening on the channel. Returns an unsubscribe. */
  subscribe(listener: (notice: CommitNotice) => void): () => void;
  /** Adds a listener of subscription changes committed by other processes. Returns an unsubscribe. */
  subscribeSubscriptionChanges(listener: (name: string) => void): () => void;
  /** Adds a listener of schema registry changes committed by other processes. Returns an unsubscribe. */
  subscribeRegistryChanges(listener: () => void): () => void;
  /** Announces this instance's own commit to its listeners at once, without a trip to the server. */
  announce(notices: readonly CommitNotice[]): void;
  /**
   * Stops listening and forgets every listener: a notification still on its way is heard by none.
   * The pool's `end()` closes the listening connection itself.
   */
  close(): void;
}

/** The payload of a subscription change on the schema's channel (beside commit payloads). */
export interface SubscriptionChangePayload {
  source: string;
  subscription: string;
}

function parseSubscriptionChange(payload: string): SubscriptionChangePayload | undefined {
  if (!payload.includes('"subscription"')) return undefined;
  try {
    const value = JSON.parse(payload) as Partial<SubscriptionChangePayload> | null;
    if (typeof value?.source === "string" && typeof value.subscription === "string") {
      return value as SubscriptionChangePayload;
    }
  } catch {
    // Not ours: ignored like any other foreign payload.
  }
  return undefined;
}

/** Whether a payload is `{ source, registry: true }` sent by another store instance. */
function isRegistryChangeFromElsewhere(payload: string, ownSource: string): boolean {
  try {
    const value = JSON.parse(payload) as { source?: unknown; registry?: unknown } | null;
    return value?.registry === true && typeof value.source === "string" && value.source !== ownSource;
  } catch {
    return false;
  }
}

function parsePayload(payload: string): CommitPayload | undefined {
  try {
    const value = JSON.parse(payload) as Partial<CommitPayload> | null;
    if (
      typeof value?.source === "string" &&
      typeof value.topic === "string" &&
      typeof value.partition === "number" &&
      typeof value.nextOffset === "number"
    ) {
      return value as CommitPayload;
    }
  } catch {
    // Not ours: anyone may NOTIFY on the channel. Ignored like any foreign payload.
  }
  return undefined;
}

/**
 * Commit notices from every process sharing the schema, this one included: other processes' commits
 * arrive by LISTEN on the schema's channel (PostgreSQL delivers them at COMMIT), this instance's own
 * are announced directly after its commit, so its readers wake even while the listening connection
 * is down. The driver re-listens after a lost connection, retrying until the server is back; since
 * commits made meanwhile were not heard, every partition's head is then announced once, which wakes
 * any reader that was waiting (a notice never says more than that the head reached `nextOffset`).
 */
export function createCommitNotifications(options: CommitNotificationsOptions): CommitNotifications {
  const listeners = new Set<(notice: CommitNotice) => void>();
  const changeListeners = new Set<(name: string) => void>();
  const registryListeners = new Set<() => void>();
  let listening: Promise<ListenMeta | undefined> | undefined;
  let hasListened = false;
  let missedStart = false;
  let isClosed = false;

  const report = options.listenerFailed;
  // A listener's failure is its own: it must not starve the other listeners, nor fail the append
  // whose commit it was told about.
  const emit = (notice: CommitNotice) => {
    for (const listener of [...listeners]) runAfterCommit("commit listener", () => listener(notice), report);
  };
  const emitRegistryChange = () => {
    for (const listener of [...registryListeners]) runAfterCommit("registry listener", listener, report);
  };

  const onNotify = (payload: string) => {
    // Heard while closing, before the UNLISTEN took effect: nobody is listening any more.
    if (isClosed) return;
    if (payload.includes('"registry":true')) {
      if (isRegistryChangeFromElsewhere(payload, options.source)) emitRegistryChange();
      return;
    }
    const change = parseSubscriptionChange(payload);
    if (change !== undefined) {
      if (change.source === options.source) return;
      for (const listener of [...changeListeners]) {
        runAfterCommit("subscription listener", () => listener(change.subscription), report);
      }
      return;
    }
    const parsed = parsePayload(payload);
    if (parsed === undefined || parsed.source === options.source) return;
    emit({ topic: parsed.topic, partition: parsed.partition, nextOffset: parsed.nextOffset });
  };

  const onListen = () => {
    const isCatchUp = hasListened || missedStart;
    hasListened = true;
    if (!isCatchUp || isClosed) return;
    // Registry changes made while not listening went unheard too: caches start over.
    emitRegistryChange();
    options.readHeads().then(
      (heads) => {
        if (!isClosed) heads.forEach(emit);
      },
      () => {
        // The connection dropped again; the next re-listen catches up.
      },
    );
  };

  const start = () => {
    if (listening !== undefined || isClosed) return;
    listening = options
      .sql()
      .listen(options.channel, onNotify, onListen)
      .then(
        (meta) => meta,
        () => {
          // The server is unreachable. The driver keeps retrying the LISTEN in the background and
          // calls onListen when it succeeds.
          missedStart = true;
          return undefined;
        },
      );
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      start();
      return () => {
        listeners.delete(listener);
      };
    },
    subscribeRegistryChanges(listener) {
      const subscription = () => listener();
      registryListeners.add(subscription);
      start();
      return () => {
        registryListeners.delete(subscription);
      };
    },
    subscribeSubscriptionChanges(listener) {
      changeListeners.add(listener);
      start();
      return () => {
        changeListeners.delete(listener);
      };
    },
    announce(notices) {
      notices.forEach(emit);
    },
    close() {
      isClosed = true;
      listeners.clear();
      changeListeners.clear();
      registryListeners.clear();
      void listening?.then((meta) => meta?.unlisten().catch(() => undefined));
    },
  };
}
