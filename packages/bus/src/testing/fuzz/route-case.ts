import { limits } from "@tributary/protocol";
import type { Random } from "./random.js";
import type { Shape } from "./shapes.js";
import { garbageNumber, hostileText, invalidTopicName, printableText, topicName } from "./values.js";

/** What the fuzz run seeds before it starts, so that requests can name existing state. */
export const seeded = {
  topic: "users",
  otherTopic: "orders",
  type: "UserCreated",
  subscription: "users-sub",
  confluentSubject: "kafka-value",
  principal: "fuzz-reader",
} as const;

/** A path parameter. */
export interface Param {
  /** A name of nothing the route could change: new for creating routes, unknown for the rest. */
  fresh(random: Random, edge: boolean): string;
  /** Names of seeded state, used only when something else in the request is refused. */
  seeded?: readonly string[];
  /** A value the route refuses whatever the rest of the request holds; absent when it takes any. */
  refused?(random: Random): string;
}

/** One way to send a body: its content type, its shape, and for CloudEvents binary mode, headers. */
export interface BodyVariant {
  contentType: (random: Random) => string;
  /** Serialized with `JSON.stringify`, unless `isRaw` (then the shape gives the payload itself). */
  shape: Shape;
  isRaw?: boolean;
  /** Headers that carry part of the request (binary mode); their refusals refuse it too. */
  headers?: Shape;
}

/** A route, and what the fuzzer knows of it. */
export interface RouteCase {
  /** `METHOD /pattern`, as Fastify lists the route. */
  route: string;
  params?: Record<string, Param>;
  /** Query parameters and values for them, valid or not. */
  query?: Record<string, (random: Random) => string>;
  /** The ways to send a body; absent when the route reads none. */
  bodies?: BodyVariant[];
  /** A valid request changes nothing (a read, a check, a lookup), so it may answer 2xx. */
  isRead?: boolean;
  /** Never sent valid: it would change what the run relies on (a first API key closes the bus). */
  isNeverValid?: boolean;
}

export const json = () => "application/json";

/** A name made for this run, `prefix` first (no seeded name has it). */
export const freshName = (prefix: string) => (random: Random, edge: boolean) =>
  topicName(random, edge, prefix);

/** Any text for a query value: printable or hostile. */
export const anyText = (random: Random) =>
  random.chance(0.5) ? printableText(random, 40, false) : hostileText(random);

/** A number as query text: one of `valid`, or one of many refused forms. */
export const numberText = (valid: string[]) => (random: Random) =>
  random.chance(0.4) ? random.pick(valid) : garbageNumber(random);

export const topic: Param = {
  fresh: freshName("fz-"),
  seeded: [seeded.topic, seeded.otherTopic],
  refused: invalidTopicName,
};

/** Free text up to `max` characters; refused longer or with NUL. */
export const freeText = (max: number): Param => ({
  fresh: (random, edge) => `fz${printableText(random, max - 2, edge)}`,
  refused: (random) => (random.chance(0.5) ? "y".repeat(max + random.between(1, 100)) : `a\u0000b`),
});

export const eventType: Param = { ...freeText(limits.maxTypeLength), seeded: [seeded.type] };

/** Any path segment, for reads that take any. */
export const anySegment: Param = { fresh: (random) => hostileText(random) || "x" };

export const limitQuery = numberText(["1", "1000", "100"]);
