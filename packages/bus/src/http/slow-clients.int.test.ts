import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../server.js";
import { createTestStoreUrl, type TestStoreUrl } from "../testing/test-stores.js";

/** Short timeouts, so that a slow client is slow within a test. */
const timeouts = { headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveTimeoutMs: 500 };

interface Exchange {
  /** Everything the server sent before it closed the connection. */
  received: string;
  /** Milliseconds from the connection to its close. */
  elapsedMs: number;
}

/**
 * Opens a raw connection, sends `head` at once, then `trickle` one byte every `everyMs`, and
 * resolves when the server closes the connection (or after `giveUpMs`, with what came so far).
 */
function slowClient(port: number, head: string, trickle: string, everyMs: number, giveUpMs = 5000) {
  return new Promise<Exchange>((resolve) => {
    const started = Date.now();
    let received = "";
    let sent = 0;
    const socket: Socket = connect(port, "127.0.0.1", () => socket.write(head));
    const dribble = setInterval(() => {
      if (sent < trickle.length && socket.writable) socket.write(trickle.charAt(sent++));
    }, everyMs);
    const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(dribble);
      clearTimeout(giveUp);
      resolve({ received, elapsedMs: Date.now() - started });
    });
  });
}

function problemIn(received: string): Record<string, unknown> {
  return JSON.parse(received.slice(received.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
}

// One store is enough: the timeouts belong to the HTTP server, whatever the store.
describe("slow clients", () => {
  let location: TestStoreUrl;
  let server: RunningServer;
  let port: number;

  beforeAll(async () => {
    location = await createTestStoreUrl("sqlite");
    server = await startServer({ store: location.url, port: 0, push: false, logger: false, timeouts });
    port = Number(new URL(server.url).port);
    await server.bus.append("users", [{ type: "UserCreated", key: "user-1", data: {} }]);
    await server.bus.subscriptions.put("users-poll", { topic: "users", start: "latest" });
    await server.bus.subscriptions.put("users-stream", { topic: "users", start: "latest" });
  });

  afterAll(async () => {
    await server.close();
    await location.cleanup();
  });

  async function topicsAndHealth() {
    const health = await fetch(`${server.url}/healthz`);
    const topics = (await (await fetch(`${server.url}/v1/topics`)).json()) as { topics: { name: string }[] };
    return { health: health.status, topics: topics.topics.map((topic) => topic.name) };
  }

  it("disconnects a client that sends its headers too slowly, with a 408 problem", async () => {
    // When one client sends a header a byte at a time, never ending it, and another sends nothing
    const [slow, silent] = await Promise.all([
      slowClient(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n", `X-Slow: ${"a".repeat(100)}`, 50),
      slowClient(port, "", "", 1000),
    ]);
    // Then both are answered 408 and disconnected soon after the headers timeout
    for (const exchange of [slow, silent]) {
      expect(exchange.received).toMatch(/^HTTP\/1\.1 408 /);
      expect(exchange.received).toMatch(/content-type: application\/problem\+json/i);
      expect(problemIn(exchange.received)).toMatchObject({ code: "request-timeout", status: 408 });
      expect(exchange.elapsedMs).toBeGreaterThanOrEqual(450);
      expect(exchange.elapsedMs).toBeLessThan(2500);
    }
    // and the bus serves the others as before
    expect(await topicsAndHealth()).toEqual({ health: 200, topics: ["users"] });
  });

  it("disconnects a client that sends its body too slowly, and stores nothing of it", async () => {
    // When an append's body arrives a byte every 100 ms, too slowly to be whole within a second
    const body = JSON.stringify({ type: "UserCreated", key: "slow", data: { padding: "x".repeat(60) } });
    const head =
      "POST /v1/topics/slow/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
      `Content-Length: ${body.length}\r\n\r\n`;
    const exchange = await slowClient(port, head, body, 100);
    // Then it is answered 408 and disconnected after the request timeout
    expect(exchange.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(problemIn(exchange.received)).toMatchObject({ code: "request-timeout" });
    expect(exchange.elapsedMs).toBeGreaterThanOrEqual(950);
    expect(exchange.elapsedMs).toBeLessThan(3000);
    // and no topic was created, no event stored
    expect(await topicsAndHealth()).toEqual({ health: 200, topics: ["users"] });
    expect((await server.bus.getTopic("users")).events).toBe(1);
  });

  it("answers long-polls that outlast the request timeout", async () => {
    // When a partition read and a subscription poll each wait 2.5 s (the request timeout is 1 s)
    const started = Date.now();
    const [read, poll] = await Promise.all([
      fetch(`${server.url}/v1/topics/users/partitions/0/events?from=1000&wait=2500`),
      fetch(`${server.url}/v1/subscriptions/users-poll/poll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ consumer: "c-1", wait: 2500 }),
      }),
    ]);
    // Then both answer, empty, once their wait is over
    expect(Date.now() - started).toBeGreaterThanOrEqual(2400);
    expect([read.status, poll.status]).toEqual([200, 200]);
    expect((await read.json()) as unknown).toMatchObject({ events: [] });
    expect((await poll.json()) as unknown).toMatchObject({ events: [] });
  });

  it("keeps an event stream open past every timeout and delivers on it", async () => {
    // Given a client reading the subscription's event stream
    const controller = new AbortController();
    const response = await fetch(`${server.url}/v1/subscriptions/users-stream/stream?consumer=c-2`, {
      signal: controller.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended before ${pattern}: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(/: connected/);
    // When an event is appended after longer than the headers, request and keep-alive timeouts
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await server.bus.append("users", [{ type: "UserRenamed", key: "user-1", data: { late: true } }]);
    // Then it arrives on the same stream
    await readUntil(/"late":true/);
    controller.abort();
    await reader.cancel().catch(() => undefined);
    expect(text).toContain('"type":"UserRenamed"');
  });
});
