import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { startTcpProxy, type TcpProxy } from "../e2e/tcp-proxy.js";
import { createPostgresStore } from "../store/postgres/postgres-store.js";
import { createTestSchema, type TestSchema } from "../testing/postgres-test-schema.js";
import { createApp } from "./app.js";

interface LogLine {
  level: number;
  msg: string;
}

describe("the log of a PostgreSQL outage", () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let bus: Bus;
  let app: FastifyInstance;
  const lines: LogLine[] = [];
  let clock = 0;

  beforeAll(async () => {
    schema = await createTestSchema();
    const direct = new URL(schema.url);
    proxy = await startTcpProxy(Number(direct.port || 5432));
    const relayed = new URL(schema.url);
    relayed.hostname = "127.0.0.1";
    relayed.port = String(proxy.port);
    const store = createPostgresStore({ url: relayed.toString(), schema: schema.schema, maxConnections: 2 });
    await store.migrate();
    bus = createBus({ store });
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    app = createApp({ bus, logger, storeOutageLog: { now: () => clock } });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
    await proxy.close();
    await schema.drop();
  });

  const listTopics = () => app.inject({ method: "GET", url: "/v1/topics" });

  it("has the outage's start, a summary every 10 s and its end, not a line per refused request", async () => {
    // Given a bus that serves requests
    expect((await listTopics()).statusCode).toBe(200);
    // When its database goes away for 20 s, during which 3 × 20 requests are refused
    await proxy.cut();
    const statuses: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      if (round > 0) clock += 10_000;
      for (let request = 0; request < 20; request += 1) statuses.push((await listTopics()).statusCode);
    }
    expect(new Set(statuses)).toEqual(new Set([503]));
    // and then comes back
    await proxy.restore();
    let status = 0;
    for (let attempt = 0; attempt < 100 && status !== 200; attempt += 1) {
      status = (await listTopics()).statusCode;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    // Then the log has four lines about it: the start (an error, with the cause), two summaries, the end
    const messages = lines.map((line) => `${line.level} ${line.msg}`);
    expect(messages.filter((message) => message.includes("request failed"))).toEqual([]);
    const outage = messages.filter((message) => message.includes("store "));
    expect(outage).toHaveLength(4);
    expect(outage[0]).toBe("50 store unavailable: requests are refused with 503 until it answers again");
    expect(outage[1]).toBe("40 store unavailable: 21 requests refused in the last 10 s");
    expect(outage[2]).toBe("40 store unavailable: 20 requests refused in the last 10 s");
    expect(outage[3]).toMatch(/^30 store available again after 20 s; \d+ requests were refused meanwhile$/);
  });
});
