import { hash } from "node:crypto";
import type { EventInput } from "@tributary/protocol";
import { v7 as uuidv7 } from "uuid";
import type { PreparedEvent } from "../store/event-store.js";
import { canonicalJson } from "./canonical-json.js";

/**
 * Turns a validated event input into what the store commits: assigns a UUIDv7 id when the producer
 * gave none, serializes `data` and `metadata` once, and digests the content that decides whether a
 * resend of the same id is the same event (topic, type, key, data, metadata — not
 * `expectedVersion`, which a retry may legitimately change). `schemaVersion`, when the event was
 * validated, goes into the stored metadata but not into the digest: a resend after a new schema
 * version was registered is still the same event.
 */
export function prepareEvent(topic: string, input: EventInput, schemaVersion?: number): PreparedEvent {
  const key = input.key ?? null;
  const data = input.data === undefined ? null : input.data;
  const metadata = input.metadata ?? {};
  const stored = schemaVersion === undefined ? metadata : { ...metadata, schemaVersion };
  // One-shot `hash` costs a third of `createHash().update().digest()` for a few hundred bytes.
  const digest = hash("sha256", canonicalJson([topic, input.type, key, data, metadata]), "base64url");
  return {
    id: input.id ?? uuidv7(),
    type: input.type,
    key,
    dataJson: JSON.stringify(data),
    metadataJson: JSON.stringify(stored),
    expectedVersion: input.expectedVersion ?? "any",
    digest,
    idAssigned: input.id === undefined,
  };
}
