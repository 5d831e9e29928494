import { TributaryError } from "@tributary/protocol";
import type { FastifyRequest } from "fastify";

/**
 * For routes that take JSON only: a body of any other type is a 415 before schema validation
 * (the catch-all parser hands such bodies over as a Buffer). An absent body is left to the schema.
 */
export async function requireJsonBody(request: FastifyRequest): Promise<void> {
  if (Buffer.isBuffer(request.body)) {
    throw new TributaryError("unsupported-media-type", { message: "this route takes application/json" });
  }
}
