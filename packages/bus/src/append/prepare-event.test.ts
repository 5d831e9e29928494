import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { prepareEvent } from "./prepare-event.js";

describe("prepareEvent", () => {
  it("keeps the content digest stored by earlier versions: SHA-256 of the canonical tuple, base64url", () => {
    const event = prepareEvent("orders", {
      type: "OrderPlaced",
      key: "order-1",
      data: { total: 3, currency: "EUR", lines: [{ sku: "B", qty: 1 }] },
      metadata: { correlationId: "c-1" },
    });
    const canonical =
      '["orders","OrderPlaced","order-1",{"currency":"EUR","lines":[{"qty":1,"sku":"B"}],"total":3},{"correlationId":"c-1"}]';
    expect(event.digest).toBe(createHash("sha256").update(canonical).digest("base64url"));
  });

  it("leaves the schema version out of the digest but stores it in the metadata", () => {
    const input = { type: "OrderPlaced", data: { a: 1 } };
    const validated = prepareEvent("orders", input, 2);
    expect(validated.digest).toBe(prepareEvent("orders", input).digest);
    expect(JSON.parse(validated.metadataJson)).toEqual({ schemaVersion: 2 });
  });
});
