import { limits } from "@tributary/protocol";
import { appendBodies } from "./append-bodies.js";
import { confluentRouteCases, schemaRouteCases } from "./registry-route-cases.js";
import {
  anySegment,
  anyText,
  json,
  limitQuery,
  numberText,
  type Param,
  type RouteCase,
  seeded,
  topic,
} from "./route-case.js";
import { anyOf, array, boolean, constant, integer, object, oneOf, text } from "./shapes.js";
import { subscriptionRouteCases } from "./subscription-route-cases.js";
import { invalidTopicName, soupText } from "./values.js";

const readTopic: Param = { fresh: topic.fresh, seeded: [seeded.topic], refused: invalidTopicName };

const grantPattern = text({
  max: 213,
  make: (random) => random.pick(["users", "orders.*", "*", "subscription:fz-*", "fz-a.b_c-d"]),
  refused: (random) => random.pick(["bad pattern!", "a:b", "subscription:", "é"]),
});
const grants = {
  produce: array(grantPattern, { max: 100 }),
  consume: array(grantPattern, { max: 100 }),
  admin: boolean(),
};
const principal = text({
  max: 128,
  make: (random) => `fz-${soupText(random, 4).replace(/[^A-Za-z0-9._@-]/g, "x")}`,
  refused: (random) => random.pick(["-lead", "a b", "é", "a/b"]),
});

/** Every route of the app, with what the fuzzer knows of it. */
export const routeCases: RouteCase[] = [
  { route: "GET /healthz", isRead: true },
  { route: "GET /readyz", isRead: true },
  { route: "GET /metrics", isRead: true },
  { route: "GET /openapi.json", isRead: true },
  { route: "GET /asyncapi.json", isRead: true },
  { route: "GET /v1/topics", isRead: true },
  { route: "GET /v1/topics/:topic", params: { topic: readTopic }, isRead: true },
  {
    route: "PUT /v1/topics/:topic",
    params: { topic },
    bodies: [
      {
        contentType: json,
        shape: object({
          partitions: integer(1, limits.maxPartitions),
          retention: object({ maxAgeMs: anyOf([integer(1), constant(null, [])], ["x", -1, 1.5, {}, []]) }),
          validation: oneOf(["none", "if-registered", "required"]),
        }),
      },
    ],
  },
  { route: "POST /v1/topics/:topic/events", params: { topic }, bodies: appendBodies },
  {
    route: "GET /v1/topics/:topic/partitions/:partition/events",
    params: { topic: readTopic, partition: { fresh: numberText(["0", "3", "1024"]) } },
    query: {
      from: numberText(["0", "1", "9007199254740991"]),
      limit: limitQuery,
      wait: numberText(["0", "5"]),
    },
    isRead: true,
  },
  {
    route: "GET /v1/topics/:topic/keys/:key/events",
    params: { topic: readTopic, key: anySegment },
    query: { fromVersion: numberText(["1", "2"]), asOf: anyText, limit: limitQuery },
    isRead: true,
  },
  {
    route: "GET /v1/events",
    query: {
      topic: (random) => (random.chance(0.5) ? seeded.topic : invalidTopicName(random)),
      type: anyText,
      key: anyText,
      correlationId: anyText,
      from: anyText,
      to: anyText,
      after: anyText,
      order: (random) => random.pick(["asc", "desc", "sideways", ""]),
      limit: limitQuery,
    },
    isRead: true,
  },
  { route: "GET /v1/events/:id", params: { id: anySegment }, isRead: true },
  { route: "GET /v1/admin/keys", isRead: true },
  {
    route: "POST /v1/admin/keys",
    bodies: [{ contentType: json, shape: object({ principal, ...grants }, { required: ["principal"] }) }],
    isNeverValid: true,
  },
  {
    route: "DELETE /v1/admin/keys/:id",
    params: {
      id: { fresh: (random) => random.between(0, 2 ** 40).toString(16), refused: () => "k".repeat(65) },
    },
  },
  { route: "GET /v1/admin/principals", isRead: true },
  {
    route: "PUT /v1/admin/principals/:name",
    params: {
      name: {
        fresh: (random) => `fz-${random.between(0, 1e9)}`,
        seeded: [seeded.principal],
        refused: () => "p".repeat(129),
      },
    },
    bodies: [{ contentType: json, shape: object(grants) }],
  },
  ...schemaRouteCases,
  ...subscriptionRouteCases,
  ...confluentRouteCases(),
];
