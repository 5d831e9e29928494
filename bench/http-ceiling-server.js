// Child process of http-ceiling.js: an empty append endpoint on an ephemeral loopback port.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.post("/v1/topics/:topic/events", async (request, reply) => {
  reply.code(201);
  return {
    events: [
      {
        id: request.body.id ?? "x",
        topic: request.params.topic,
        partition: 0,
        offset: 0,
        position: 0,
        version: 1,
      },
    ],
  };
});
await app.listen({ host: "127.0.0.1", port: 0 });
process.send({ port: app.server.address().port });
