import { cloudEventsBatchContentType, type DeliveredEvent, toCloudEvent } from "@tributary/protocol";

export interface PostBatchRequest {
  url: string;
  subscription: string;
  /** The events of one partition, in offset order. */
  events: readonly DeliveredEvent[];
  timeoutMs: number;
  /** Aborts the POST without a verdict (the dispatcher is stopping). */
  signal: AbortSignal;
}

/**
 * How a POST ended: `delivered` on a 2xx, `failed` (with the message recorded as the delivery
 * error) on any other status, a timeout or a network error, `aborted` when `signal` ended it.
 */
export type PostOutcome = { kind: "delivered" } | { kind: "failed"; error: string } | { kind: "aborted" };

/** Node's network error codes, as a person reading a subscription's `lastError` would put them. */
const networkErrors: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_SOCKET: "connection closed",
  UND_ERR_CLOSED: "connection closed",
};

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  if (code !== undefined) return networkErrors[code] ?? `network error ${code}`;
  const message = typeof cause?.message === "string" ? cause.message : String(error);
  return `network error: ${message.slice(0, 200)}`;
}

/**
 * POSTs one partition's batch as `application/cloudevents-batch+json` (each event in CloudEvents
 * form, its commit coordinates as extension attributes) with the headers
 * `x-tributary-subscription` and `x-tributary-attempt` (the highest attempt in the batch).
 * Redirects are not followed: a 3xx is a failure, so that a subscription cannot be bounced to
 * another host. The timeout covers the whole exchange, body included; the answer's body is read
 * and dropped so that the connection can be reused.
 */
export async function postBatch(request: PostBatchRequest): Promise<PostOutcome> {
  const timeout = new AbortController();
  // A timer of our own rather than AbortSignal.timeout: it is cleared at once, so no timer outlives
  // the POST.
  const timer = setTimeout(() => timeout.abort(), request.timeoutMs);
  const onStop = () => timeout.abort();
  request.signal.addEventListener("abort", onStop, { once: true });
  const attempt = request.events.reduce((most, event) => Math.max(most, event.attempt), 1);
  try {
    if (request.signal.aborted) return { kind: "aborted" };
    const response = await fetch(request.url, {
      method: "POST",
      headers: {
        "content-type": cloudEventsBatchContentType,
        "x-tributary-subscription": request.subscription,
        "x-tributary-attempt": String(attempt),
      },
      body: JSON.stringify(request.events.map(({ attempt: _attempt, ...event }) => toCloudEvent(event))),
      redirect: "manual",
      signal: timeout.signal,
    });
    const isDelivered = response.status >= 200 && response.status < 300;
    try {
      await response.arrayBuffer();
    } catch (error) {
      // A 2xx was the receiver's verdict even if its body is cut short.
      if (!isDelivered) throw error;
    }
    return isDelivered ? { kind: "delivered" } : { kind: "failed", error: `HTTP ${response.status}` };
  } catch (error) {
    if (request.signal.aborted) return { kind: "aborted" };
    if (timeout.signal.aborted) return { kind: "failed", error: `timeout after ${request.timeoutMs} ms` };
    return { kind: "failed", error: describeNetworkError(error) };
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", onStop);
  }
}
