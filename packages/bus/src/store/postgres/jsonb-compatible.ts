import { TributaryError } from "@tributary/protocol";
import type { PreparedEvent } from "../event-store.js";

/**
 * A `\u0000` escape or an escaped lone UTF-16 surrogate (`\ud800`…`\udfff`) preceded by an even
 * number of backslashes, i.e. an escape and not the text of one. `JSON.stringify` writes paired
 * surrogates as the character itself, so any surrogate escape it wrote is a lone one.
 */
const unstorableEscape = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Whether PostgreSQL's `jsonb` can store this JSON text. It refuses the NUL character and lone
 * surrogates in strings, both valid JSON that `JSON.stringify` can produce; an append that carries
 * them must fail alone (`invalid-request`) instead of aborting the whole group's transaction.
 */
export function isJsonbCompatible(json: string): boolean {
  return !json.includes("\\u") || !unstorableEscape.test(json);
}

/**
 * The planner's check of this store's own limit (`PlanAppendOptions.refuseEvent`): an event whose
 * data or metadata `jsonb` cannot hold fails its command with `invalid-request`.
 */
export function refuseUnstorableJson(event: PreparedEvent): TributaryError | undefined {
  if (isJsonbCompatible(event.dataJson) && isJsonbCompatible(event.metadataJson)) return undefined;
  return new TributaryError("invalid-request", {
    message: `event ${JSON.stringify(event.id)} holds a NUL character or a lone surrogate, which the store cannot keep`,
    details: { id: event.id },
  });
}
