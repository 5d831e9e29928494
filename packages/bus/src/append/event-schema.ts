import { limits } from "@tributary/protocol";

/**
 * Printable text: no C0/C1 control characters, no DEL, no lone surrogates (not Unicode text:
 * stores write them as U+FFFD, so the stored id would differ from the one sent).
 */
const printable = "^[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$";

/** JSON Schema of one event as producers send it (`EventInput`). */
export const eventInputSchema = {
  type: "object",
  required: ["type"],
  additionalProperties: false,
  properties: {
    id: { type: "string", minLength: 1, maxLength: limits.maxIdLength, pattern: printable },
    type: { type: "string", minLength: 1, maxLength: limits.maxTypeLength, pattern: printable },
    key: { type: "string", minLength: 1, maxLength: limits.maxKeyLength, pattern: printable },
    data: {},
    metadata: {
      type: "object",
      properties: {
        correlationId: { type: "string", maxLength: limits.maxIdLength },
        causationId: { type: "string", maxLength: limits.maxIdLength },
        traceparent: { type: "string", maxLength: 128 },
        source: { type: "string", maxLength: 1024 },
        schemaVersion: { type: "integer", minimum: 1 },
      },
    },
    expectedVersion: {
      anyOf: [{ enum: ["no_stream", "any"] }, { type: "integer", minimum: 0 }],
    },
  },
} as const;
