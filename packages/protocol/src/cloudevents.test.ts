import { describe, expect, it } from "vitest";
import { fromBinaryCloudEvent, fromCloudEvent, toCloudEvent } from "./cloudevents.js";
import type { StoredEvent } from "./event.js";

describe("CloudEvents mapping", () => {
  it("maps a structured event onto an event input", () => {
    // Given a CloudEvent with extensions
    const result = fromCloudEvent({
      specversion: "1.0",
      id: "evt-1",
      source: "/users-service",
      type: "UserCreated",
      subject: "user-1",
      time: "2026-01-02T03:04:05Z",
      datacontenttype: "application/json",
      correlationid: "corr-1",
      tenant: "acme",
      data: { name: "Ada" },
    });
    // Then the mapping follows the one docs/http-api.md describes
    expect(result.issues).toEqual([]);
    expect(result.input).toEqual({
      id: "evt-1",
      type: "UserCreated",
      key: "user-1",
      data: { name: "Ada" },
      metadata: {
        source: "/users-service",
        occurredAt: "2026-01-02T03:04:05Z",
        correlationId: "corr-1",
        tenant: "acme",
      },
    });
  });

  it("reports every missing required attribute with its pointer", () => {
    const result = fromCloudEvent({ specversion: "0.3", type: 7 }, "/2");
    expect(result.issues.map((issue) => issue.pointer)).toEqual([
      "/2/specversion",
      "/2/id",
      "/2/source",
      "/2/type",
    ]);
  });

  it("refuses attributes the bus assigns", () => {
    const result = fromCloudEvent({ specversion: "1.0", id: "1", source: "s", type: "T", offset: 3 });
    expect(result.issues).toEqual([
      { pointer: "/offset", message: "offset is assigned by the bus on commit" },
    ]);
  });

  it("reads binary mode from ce- headers", () => {
    const result = fromBinaryCloudEvent(
      {
        "ce-specversion": "1.0",
        "ce-id": "b-1",
        "ce-source": "/orgs",
        "ce-type": "OrgCreated",
        "ce-subject": "org%201",
      },
      { name: "Acme" },
      "application/json",
    );
    expect(result.input).toMatchObject({
      id: "b-1",
      type: "OrgCreated",
      key: "org 1",
      data: { name: "Acme" },
    });
  });

  it("turns a stored event into a CloudEvent with the commit coordinates as extensions", () => {
    const stored: StoredEvent = {
      id: "evt-1",
      topic: "users",
      partition: 2,
      offset: 10,
      position: 99,
      version: 3,
      time: "2026-01-02T03:04:05.000Z",
      type: "UserRenamed",
      key: "user-1",
      data: { name: "Grace" },
      metadata: { source: "/users-service", correlationId: "corr-1" },
    };
    expect(toCloudEvent(stored)).toEqual({
      specversion: "1.0",
      id: "evt-1",
      source: "/users-service",
      type: "UserRenamed",
      subject: "user-1",
      time: "2026-01-02T03:04:05.000Z",
      datacontenttype: "application/json",
      data: { name: "Grace" },
      topic: "users",
      partition: 2,
      offset: 10,
      position: 99,
      version: 3,
      correlationid: "corr-1",
    });
  });
});
