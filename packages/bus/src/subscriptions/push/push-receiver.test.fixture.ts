import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { CloudEvent } from "@tributary/protocol";

/** What the receiver does with one request: answer with a status, or never answer. */
export type ReceiverAnswer = { status: number } | "hang";

/** One POST as the receiver saw it. */
export interface ReceivedBatch {
  events: CloudEvent[];
  contentType: string | undefined;
  subscription: string | undefined;
  attempt: number;
  answer: ReceiverAnswer;
}

/**
 * A push endpoint over loopback HTTP for the push tests. `answer` decides each request's fate from
 * the number of requests before it; `accepted` holds the events of batches answered 2xx, in the
 * order they were accepted.
 */
export interface Receiver {
  url: string;
  batches: ReceivedBatch[];
  accepted: CloudEvent[];
  answer: (request: number, events: CloudEvent[]) => ReceiverAnswer;
  /** Distinct ids among the accepted events. */
  acceptedIds(): Set<string>;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts a receiver on a free loopback port; it accepts everything until `answer` is replaced. */
export async function startReceiver(): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: "",
    batches: [],
    accepted: [],
    answer: () => ({ status: 200 }),
    acceptedIds: () => new Set(receiver.accepted.map((event) => event.id)),
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer(async (request, response) => {
    const events = JSON.parse(await readBody(request)) as CloudEvent[];
    const answer = receiver.answer(receiver.batches.length, events);
    receiver.batches.push({
      events,
      contentType: request.headers["content-type"],
      subscription: request.headers["x-tributary-subscription"] as string | undefined,
      attempt: Number(request.headers["x-tributary-attempt"]),
      answer,
    });
    if (answer === "hang") {
      // Held until the bus gives up on it (its timeout closes the connection) or the receiver closes.
      hanging.add(response);
      response.on("close", () => hanging.delete(response));
      return;
    }
    if (answer.status >= 200 && answer.status < 300) receiver.accepted.push(...events);
    response.writeHead(answer.status, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/users`;
  return receiver;
}

/** A loopback URL where nothing listens: a port that was free a moment ago. */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hooks/users`;
}

/**
 * Checks per-key order: among the first arrivals of each id, versions increase per key (a
 * redelivered event may arrive again later, which at-least-once allows).
 */
export function firstArrivalVersionsByKey(events: readonly CloudEvent[]): Map<string, number[]> {
  const seen = new Set<string>();
  const byKey = new Map<string, number[]>();
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const key = String(event.subject);
    const versions = byKey.get(key) ?? [];
    versions.push(Number(event.version));
    byKey.set(key, versions);
  }
  return byKey;
}
