import type { EventCoordinates, EventInput } from "@tributary/protocol";
import { request, sleep } from "./http.js";

export interface AppendLoadOptions {
  /** Bus base URLs: each writer spreads its requests over them in turn. */
  urls: string[];
  topic: string;
  writers: number;
  /** Requests per writer at most: the bound of each writer's loop. */
  maxRequests: number;
  /** Starts every event id, so that a test knows its own events. */
  prefix: string;
  /** Largest batch; a request holds 1 to `maxBatch` events, about half of them single events. Default 4. */
  maxBatch?: number;
  /** Keys per writer (`user-<prefix>-w<writer>-k<n>`). Default 3. */
  keysPerWriter?: number;
  /** Keep going after a network error (a store outage) instead of stopping the writer (a crash). */
  continueOnNetworkError?: boolean;
  /** Pause after a failed request, so that a writer does not spin on 503s (default 20 ms). */
  pauseAfterFailureMs?: number;
  /** A request unanswered this long is abandoned and counts as a network error (default 15,000 ms). */
  requestTimeoutMs?: number;
}

/** One request a writer sent, and how it ended. */
export interface SentRequest {
  ids: string[];
  status?: number;
  /** The problem `code` of an error answer. */
  code?: string;
  /** The socket failed (connection refused or reset) before an answer came. */
  isNetworkError: boolean;
  isDone: boolean;
}

export interface AppendLoad {
  /** Events answered 201/200, by id, with the coordinates of the answer. */
  readonly acked: Map<string, EventCoordinates>;
  readonly requests: SentRequest[];
  /** Requests sent and not answered yet. */
  inFlight(): SentRequest[];
  /** Writers stop after their current request. */
  stop(): void;
  /** Settles when every writer stopped. */
  readonly done: Promise<void>;
}

/**
 * Concurrent writers appending events with client-chosen ids: single events and small batches, in
 * the users example domain. Each writer's loop is bounded by `maxRequests`; it records every answer,
 * so that a test can check that each acknowledged event survived whatever happened to the bus.
 */
export function startAppendLoad(options: AppendLoadOptions): AppendLoad {
  const acked = new Map<string, EventCoordinates>();
  const requests: SentRequest[] = [];
  const maxBatch = options.maxBatch ?? 4;
  const keysPerWriter = options.keysPerWriter ?? 3;
  let isStopped = false;

  const eventFor = (writer: number, seq: number, index: number): EventInput => ({
    id: `${options.prefix}-w${writer}-r${seq}-e${index}`,
    type: index === 0 ? "UserRegistered" : "UserRenamed",
    key: `user-${options.prefix}-w${writer}-k${(seq + index) % keysPerWriter}`,
    data: { writer, seq, index, name: `user ${writer}.${seq}.${index}` },
    metadata: { correlationId: options.prefix, source: "users-service" },
  });

  async function writer(writer: number): Promise<void> {
    for (let seq = 0; seq < options.maxRequests && !isStopped; seq += 1) {
      const size = Math.random() < 0.5 ? 1 : 1 + Math.floor(Math.random() * maxBatch);
      const events = Array.from({ length: size }, (_, index) => eventFor(writer, seq, index));
      const sent: SentRequest = {
        ids: events.map((event) => event.id as string),
        isNetworkError: false,
        isDone: false,
      };
      requests.push(sent);
      const url = options.urls[(writer + seq) % options.urls.length] as string;
      try {
        const answer = await request<{ events?: EventCoordinates[]; code?: string }>(
          `${url}/v1/topics/${options.topic}/events`,
          {
            body: size === 1 ? events[0] : { events },
            ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
          },
        );
        sent.status = answer.status;
        if (answer.status === 200 || answer.status === 201) {
          for (const coordinates of answer.body.events ?? []) acked.set(coordinates.id, coordinates);
        } else {
          sent.code = answer.body.code;
          await sleep(options.pauseAfterFailureMs ?? 20);
        }
      } catch {
        sent.isNetworkError = true;
        if (!options.continueOnNetworkError) return;
        await sleep(options.pauseAfterFailureMs ?? 20);
      } finally {
        sent.isDone = true;
      }
    }
  }

  const done = Promise.all(Array.from({ length: options.writers }, (_, index) => writer(index))).then(
    () => {},
  );
  return {
    acked,
    requests,
    inFlight: () => requests.filter((sent) => !sent.isDone),
    stop() {
      isStopped = true;
    },
    done,
  };
}
