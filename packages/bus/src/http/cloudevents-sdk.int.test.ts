import { type StoredEvent, toCloudEvent } from "@tributary/protocol";
import { CloudEvent, HTTP, type Message } from "cloudevents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpAnswer, request } from "../e2e/http.js";
import { type RunningServer, startServer } from "../server.js";
import { createTestStoreUrl, storeKinds, type TestStoreUrl } from "../testing/test-stores.js";

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/** A user-registration CloudEvent as a producer using the official SDK builds it. */
function userRegistered(id: string, extra: Record<string, unknown> = {}): CloudEvent<{ name: string }> {
  return new CloudEvent({
    id,
    type: "UserRegistered",
    source: "/users-service",
    subject: "user-ada",
    data: { name: "Ada" },
    correlationid: "signup-42",
    causationid: "command-7",
    traceparent,
    tenant: "acme",
    ...extra,
  });
}

describe.each(storeKinds)("CloudEvents from the cloudevents SDK, on %s", (kind) => {
  let location: TestStoreUrl;
  let server: RunningServer;

  const post = (
    message: Message,
    topic = "users",
  ): Promise<HttpAnswer<{ events: StoredEvent[]; code?: string }>> =>
    request(`${server.url}/v1/topics/${topic}/events`, {
      headers: message.headers as Record<string, string>,
      body: message.body as string | Uint8Array,
    });

  const stored = async (id: string) => (await request<StoredEvent>(`${server.url}/v1/events/${id}`)).body;

  /** What the CloudEvents mapping of docs/http-api.md makes of `userRegistered(id)`. */
  const expectMapped = (event: StoredEvent, cloudEvent: CloudEvent<unknown>) =>
    expect(event).toMatchObject({
      id: cloudEvent.id,
      topic: "users",
      type: "UserRegistered",
      key: "user-ada",
      data: { name: "Ada" },
      metadata: {
        source: "/users-service",
        correlationId: "signup-42",
        causationId: "command-7",
        traceparent,
        tenant: "acme",
        occurredAt: cloudEvent.time,
      },
    });

  beforeAll(async () => {
    location = await createTestStoreUrl(kind);
    server = await startServer({ store: location.url, port: 0, logger: false });
  });

  afterAll(async () => {
    await server?.close();
    await location?.cleanup();
  });

  it("stores a structured-mode event with the CloudEvents mapping, and replays a resend", async () => {
    // Given a CloudEvent in structured mode
    const cloudEvent = userRegistered("ce-structured-1");
    const message = HTTP.structured(cloudEvent);
    // When it is posted
    const created = await post(message);
    // Then it is stored with id, type, subject as key, source and extensions in the metadata
    expect(created.status).toBe(201);
    expectMapped(await stored("ce-structured-1"), cloudEvent);
    expect((await stored("ce-structured-1")).time).toBe(created.body.events[0]?.time);
    // and the same message again is an idempotent replay
    const again = await post(message);
    expect(again.status).toBe(200);
    expect(again.body.events).toEqual(created.body.events);
  });

  it("stores a binary-mode event the same way", async () => {
    // Given the same kind of event in binary mode (ce-* headers, the data as the body)
    const cloudEvent = userRegistered("ce-binary-1");
    // When it is posted
    const created = await post(HTTP.binary(cloudEvent));
    // Then the mapping is the same as in structured mode
    expect(created.status).toBe(201);
    expectMapped(await stored("ce-binary-1"), cloudEvent);
  });

  it("keeps text data as text and other binary data as base64 in both modes", async () => {
    const note = new CloudEvent({
      id: "ce-text-1",
      type: "UserNoteAdded",
      source: "/users-service",
      datacontenttype: "text/plain",
      data: "likes tea",
    });
    expect((await post(HTTP.binary(note))).status).toBe(201);
    expect(await stored("ce-text-1")).toMatchObject({ key: null, data: "likes tea" });

    for (const [id, toMessage] of [
      ["ce-avatar-binary", HTTP.binary],
      ["ce-avatar-structured", HTTP.structured],
    ] as const) {
      const avatar = new CloudEvent({
        id,
        type: "UserAvatarUploaded",
        source: "/users-service",
        subject: "user-ada",
        datacontenttype: "application/octet-stream",
        data: Buffer.from([1, 2, 3]),
      });
      expect((await post(toMessage(avatar))).status).toBe(201);
      expect(await stored(id)).toMatchObject({
        data: "AQID",
        metadata: { dataEncoding: "base64", datacontenttype: "application/octet-stream" },
      });
    }
  });

  it("stores a batch atomically, in order", async () => {
    // Given three CloudEvents of one organization
    const batch = ["ce-batch-1", "ce-batch-2", "ce-batch-3"].map(
      (id, index) =>
        new CloudEvent({
          id,
          type: index === 0 ? "OrganizationCreated" : "OrganizationRenamed",
          source: "/organizations-service",
          subject: "org-acme",
          data: { name: `Acme ${index}` },
        }),
    );
    const headers = { "content-type": "application/cloudevents-batch+json" };
    // When a batch holding an invalid event is posted, nothing of it is stored
    const invalid = [
      ...batch.map((event) => event.toJSON()),
      { ...batch[0]?.toJSON(), id: "ce-batch-4", source: "" },
    ];
    const refused = await post({ headers, body: JSON.stringify(invalid) }, "organizations");
    expect(refused.status).toBe(400);
    expect((await request(`${server.url}/v1/events/ce-batch-1`)).status).toBe(404);
    // When the valid batch is posted
    const created = await post(
      { headers, body: JSON.stringify(batch.map((event) => event.toJSON())) },
      "organizations",
    );
    // Then all three are stored, in order, as one entity stream
    expect(created.status).toBe(201);
    expect(created.body.events.map((event) => [event.id, event.version])).toEqual([
      ["ce-batch-1", 1],
      ["ce-batch-2", 2],
      ["ce-batch-3", 3],
    ]);
    const stream = await request<{ events: StoredEvent[] }>(
      `${server.url}/v1/topics/organizations/keys/org-acme/events`,
    );
    expect(stream.body.events.map((event) => [event.type, event.data, event.metadata.source])).toEqual([
      ["OrganizationCreated", { name: "Acme 0" }, "/organizations-service"],
      ["OrganizationRenamed", { name: "Acme 1" }, "/organizations-service"],
      ["OrganizationRenamed", { name: "Acme 2" }, "/organizations-service"],
    ]);
  });

  it("maps a stored event back to a CloudEvent that the SDK accepts", async () => {
    // Given a stored event that came in as a CloudEvent
    expect((await post(HTTP.structured(userRegistered("ce-round-trip-1")))).status).toBe(201);
    const event = await stored("ce-round-trip-1");
    // When it is turned back into a CloudEvent and read by the SDK
    const cloudEvent = new CloudEvent(toCloudEvent(event) as ConstructorParameters<typeof CloudEvent>[0]);
    // Then the attributes and extensions round-trip
    expect(cloudEvent).toMatchObject({
      id: "ce-round-trip-1",
      type: "UserRegistered",
      source: "/users-service",
      subject: "user-ada",
      data: { name: "Ada" },
      correlationid: "signup-42",
      traceparent,
      topic: "users",
      offset: event.offset,
    });
  });
});
