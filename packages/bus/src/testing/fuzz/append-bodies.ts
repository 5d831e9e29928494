import { limits } from "@tributary/protocol";
import { anyText, type BodyVariant, json } from "./route-case.js";
import {
  anyJson,
  anyOf,
  array,
  constant,
  integer,
  object,
  oneOf,
  refusing,
  type Shape,
  text,
} from "./shapes.js";
import { printableText } from "./values.js";

const event = object({
  id: text({ max: limits.maxIdLength }),
  type: text({ max: limits.maxTypeLength }),
  key: text({ max: limits.maxKeyLength }),
  // Two levels over the producer's: the event object and its data field.
  data: anyJson(limits.maxJsonDepth, limits.maxJsonDepth + 2),
  metadata: object(
    {
      correlationId: text({ min: 0, max: limits.maxIdLength, isPrintable: false }),
      traceparent: text({ min: 0, max: 128, isPrintable: false }),
      source: text({ min: 0, max: 1024, isPrintable: false }),
      schemaVersion: integer(1),
    },
    { isClosed: false },
  ),
  expectedVersion: anyOf([oneOf(["no_stream", "any"]), integer(0)], ["never", -1, 1.5, {}, [], "1", null]),
});
const stringOnly: Shape = {
  valid: (random) => anyText(random),
  invalid: (random) => random.pick([5, {}, [], true]),
};
const cloudEvent = refusing(
  object(
    {
      specversion: constant("1.0", ["0.3", "1", "", 1, {}]),
      id: text({ max: limits.maxIdLength }),
      source: text({ max: 1024, isPrintable: false }),
      type: text({ max: limits.maxTypeLength }),
      subject: text({ max: limits.maxKeyLength }),
      time: stringOnly,
      datacontenttype: stringOnly,
      data: anyJson(limits.maxJsonDepth, limits.maxJsonDepth + 2),
    },
    { required: ["specversion", "id", "source", "type"], isClosed: false },
  ),
  [() => ({ specversion: "1.0", id: "1", source: "s", type: "T", offset: 3 })],
);
/** A header: refusals are text too (any value would be read as text), empty, long or decoded to a control. */
const headerText = (max: number, refused: string[] = []): Shape => ({
  valid: (random, edge) => printableText(random, max, edge),
  invalid: (random) => random.pick(["", "y".repeat(max + random.between(1, 50)), ...refused]),
});
const binaryHeaders = refusing(
  object(
    {
      "ce-specversion": constant("1.0", ["0.3", "", "2.0"]),
      "ce-id": headerText(limits.maxIdLength, ["a%00b"]),
      "ce-source": headerText(1024),
      "ce-type": headerText(limits.maxTypeLength, ["%0A"]),
    },
    { required: ["ce-specversion", "ce-id", "ce-source", "ce-type"], isClosed: false },
  ),
  [() => ({ "ce-specversion": "1.0", "ce-id": "1", "ce-source": "s" })],
);
const rawData: Shape = {
  valid: (random) => random.pick([Buffer.from([0, 255, 1]), "plain text", "💥", ""]),
  invalid: () => undefined,
};

/** The append route's bodies: one event, a batch, CloudEvents structured, batch and binary. */
export const appendBodies: BodyVariant[] = [
  { contentType: json, shape: event },
  { contentType: json, shape: object({ events: array(event, { min: 1, max: limits.maxEventsPerRequest }) }) },
  { contentType: () => "application/cloudevents+json", shape: cloudEvent },
  {
    contentType: () => "application/cloudevents-batch+json",
    shape: array(cloudEvent, { min: 1, max: limits.maxEventsPerRequest }),
  },
  {
    contentType: (random) => random.pick(["text/plain", "application/octet-stream", "image/png"]),
    shape: rawData,
    isRaw: true,
    headers: binaryHeaders,
  },
];
