import { limits } from "@tributary/protocol";
import {
  anySegment,
  anyText,
  freeText,
  freshName,
  json,
  limitQuery,
  type Param,
  type RouteCase,
  seeded,
} from "./route-case.js";
import { anyOf, array, constant, integer, object, oneOf, type Shape, text } from "./shapes.js";
import { invalidTopicName, soupText } from "./values.js";

const subscription: Param = {
  fresh: freshName("fz-"),
  seeded: [seeded.subscription],
  refused: invalidTopicName,
};
/** A stream of an existing subscription would hold the run: only names no request creates. */
const unknownSubscription: Param = { fresh: freshName("nx-"), refused: invalidTopicName };

const dateTime = text({
  max: 64,
  make: (random) =>
    random.pick(["2020-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999+14:00"]),
  refused: (random) => random.pick(["yesterday", "2020-13-01T00:00:00Z", "2020-01-01", "1e3"]),
});
const consumer = text({
  max: 128,
  make: (random) => `c-${soupText(random, 3).replace(/[^A-Za-z0-9._:-]/g, "x")}`,
  refused: (random) => random.pick(["a b", "é", "a/b", "*", "c\u0000"]),
});
const eventIds = array(text({ max: limits.maxIdLength }), { min: 1, max: limits.maxReadLimit });
const startPosition = [
  oneOf(["earliest", "latest"]),
  object({ time: dateTime }, { required: ["time"] }),
  object({ position: integer(0) }, { required: ["position"] }),
];
const startRefusals = ["middle", 5, [], {}, { time: "x" }, { position: -1 }, { position: 0, time: "x" }];

const subscriptionBody = object(
  {
    topic: text({ max: 128, make: freshName("fz-"), refused: invalidTopicName }),
    types: anyOf(
      [array(text({ max: limits.maxTypeLength }), { min: 1, max: 100 }), constant(null, [])],
      ["x", 5, {}, [], [""], [{}]],
    ),
    start: anyOf(startPosition, startRefusals),
    delivery: anyOf(
      [
        object({ mode: oneOf(["pull"]) }, { required: ["mode"] }),
        object(
          {
            mode: oneOf(["push"]),
            url: text({ max: 2048, isPrintable: false, make: () => "http://127.0.0.1:9/hook" }),
            batchSize: integer(1, limits.maxReadLimit),
            timeoutMs: integer(100, 300_000),
          },
          { required: ["mode", "url"] },
        ),
      ],
      ["pull", 5, {}, { mode: "x" }, { mode: "push" }, { mode: "push", url: "" }, { mode: "pull", url: "x" }],
    ),
    maxAttempts: integer(1, 1000),
    backoff: object({ initialMs: integer(0, 86_400_000), maxMs: integer(0, 86_400_000) }),
    onFailure: oneOf(["dead-letter", "block"]),
    ackTimeoutMs: integer(100, 86_400_000),
    leaseMs: integer(100, 3_600_000),
  },
  { required: ["topic"] },
);

const offsets: Shape = {
  valid: (random) => ({ "0": random.between(0, 5), "1": random.pick([0, 2 ** 53 - 1]) }),
  invalid: (random) => random.pick([{}, { "0": -1 }, { "0": "x" }, { "0": 1.5 }, "x", []]),
};

/** The subscription routes: definitions, pull delivery, reset, dead letters, the event stream. */
export const subscriptionRouteCases: RouteCase[] = [
  { route: "GET /v1/subscriptions", isRead: true },
  {
    route: "PUT /v1/subscriptions/:name",
    params: { name: subscription },
    bodies: [{ contentType: json, shape: subscriptionBody }],
  },
  { route: "GET /v1/subscriptions/:name", params: { name: subscription }, isRead: true },
  { route: "DELETE /v1/subscriptions/:name", params: { name: subscription } },
  {
    route: "POST /v1/subscriptions/:name/poll",
    params: { name: subscription },
    bodies: [
      {
        contentType: json,
        shape: object(
          { consumer, max: integer(1, limits.maxReadLimit), wait: integer(0, limits.maxWaitMs, 20) },
          { required: ["consumer"] },
        ),
      },
    ],
  },
  {
    route: "POST /v1/subscriptions/:name/ack",
    params: { name: subscription },
    bodies: [
      {
        contentType: json,
        shape: object({ consumer, events: eventIds }, { required: ["consumer", "events"] }),
      },
    ],
  },
  {
    route: "POST /v1/subscriptions/:name/nack",
    params: { name: subscription },
    bodies: [
      {
        contentType: json,
        shape: object(
          {
            consumer,
            events: eventIds,
            error: text({ min: 0, max: 4096, isPrintable: false }),
            retryAfterMs: integer(0, 86_400_000),
          },
          { required: ["consumer", "events"] },
        ),
      },
    ],
  },
  {
    route: "POST /v1/subscriptions/:name/heartbeat",
    params: { name: subscription },
    bodies: [{ contentType: json, shape: object({ consumer }, { required: ["consumer"] }) }],
  },
  {
    route: "DELETE /v1/subscriptions/:name/consumers/:consumer",
    params: {
      name: subscription,
      consumer: { fresh: (random) => `c-${random.between(0, 1e6)}`, refused: () => "a b" },
    },
  },
  {
    route: "POST /v1/subscriptions/:name/reset",
    params: { name: subscription },
    bodies: [
      {
        contentType: json,
        shape: object(
          { to: anyOf([...startPosition, object({ offsets }, { required: ["offsets"] })], startRefusals) },
          { required: ["to"] },
        ),
      },
    ],
  },
  {
    route: "GET /v1/subscriptions/:name/dead-letters",
    params: { name: subscription },
    query: { limit: limitQuery, after: anyText },
    isRead: true,
  },
  {
    route: "POST /v1/subscriptions/:name/dead-letters/redrive",
    params: { name: subscription },
    bodies: [{ contentType: json, shape: object({ ids: eventIds }) }],
  },
  {
    route: "GET /v1/subscriptions/:name/dead-letters/:id",
    params: { name: subscription, id: anySegment },
    isRead: true,
  },
  {
    route: "DELETE /v1/subscriptions/:name/dead-letters/:id",
    params: { name: subscription, id: { ...freeText(limits.maxIdLength), refused: () => "y".repeat(300) } },
  },
  {
    route: "GET /v1/subscriptions/:name/stream",
    params: { name: unknownSubscription },
    query: { consumer: anyText, max: limitQuery },
    isRead: true,
  },
];
