import { describe, expect, it } from "vitest";
import { parseAppendBody } from "./parse-append-body.js";

const json = { "content-type": "application/json" };

describe("parseAppendBody", () => {
  it("reads one event or a batch from application/json", () => {
    expect(parseAppendBody(json, { type: "A" }).inputs).toEqual([{ type: "A" }]);
    const batch = parseAppendBody(
      { "content-type": "application/json; charset=utf-8" },
      { events: [{ type: "A" }, { type: "B" }] },
    );
    expect(batch.inputs).toHaveLength(2);
    expect(batch.pointer(1)).toBe("/events/1");
  });

  it("maps a CloudEvents batch and points at the failing member", () => {
    const headers = { "content-type": "application/cloudevents-batch+json" };
    const good = { specversion: "1.0", id: "1", source: "/s", type: "T", data: 1 };
    expect(parseAppendBody(headers, [good]).inputs).toEqual([
      { id: "1", type: "T", data: 1, metadata: { source: "/s" } },
    ]);
    expect(() => parseAppendBody(headers, [good, { ...good, id: "" }])).toThrow(/\/1\/id/);
  });

  it("keeps binary-mode bodies as JSON, text or base64 by content type", () => {
    const ce = { "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "T" };
    const text = parseAppendBody({ ...ce, "content-type": "text/plain" }, Buffer.from("hello"));
    expect(text.inputs[0]).toMatchObject({ data: "hello" });
    const octets = parseAppendBody(
      { ...ce, "content-type": "application/octet-stream" },
      Buffer.from([1, 2, 255]),
    );
    expect(octets.inputs[0]).toMatchObject({
      data: "AQL/",
      metadata: { dataEncoding: "base64", datacontenttype: "application/octet-stream" },
    });
    const vendorJson = parseAppendBody(
      { ...ce, "content-type": "application/vnd.acme+json" },
      Buffer.from('{"a":1}'),
    );
    expect(vendorJson.inputs[0]).toMatchObject({ data: { a: 1 } });
  });

  it("refuses other content types, empty and oversized batches", () => {
    expect(() => parseAppendBody({ "content-type": "application/xml" }, Buffer.from("<a/>"))).toThrow(
      expect.objectContaining({ code: "unsupported-media-type" }),
    );
    expect(() => parseAppendBody(json, { events: [] })).toThrow(
      expect.objectContaining({ code: "invalid-request" }),
    );
    const many = { events: Array.from({ length: 1001 }, () => ({ type: "A" })) };
    expect(() => parseAppendBody(json, many)).toThrow(expect.objectContaining({ code: "payload-too-large" }));
  });
});
