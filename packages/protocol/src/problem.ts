import { type ErrorCode, errorCatalogue, isErrorCode, problemTypePrefix, TributaryError } from "./errors.js";

/** An RFC 9457 problem document, as the API sends it (`application/problem+json`). */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  retriable: boolean;
  [extension: string]: unknown;
}

export const problemContentType = "application/problem+json";

/** The problem document of an error; `details` fields become extension members. */
export function toProblem(error: TributaryError, instance?: string): ProblemDocument {
  const definition = errorCatalogue[error.code];
  return {
    ...error.details,
    type: `${problemTypePrefix}${error.code}`,
    title: definition.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    retriable: error.retriable,
    ...(instance === undefined ? {} : { instance }),
  };
}

const reservedMembers = new Set(["type", "title", "status", "detail", "code", "instance", "retriable"]);

/**
 * Turns a problem response back into a `TributaryError` (the SDK's side of `toProblem`). A body
 * that is not one of ours becomes `internal` (5xx) or `malformed-request` (4xx), keeping the status
 * in `details.status`.
 */
export function fromProblem(status: number, body: unknown): TributaryError {
  if (typeof body === "object" && body !== null && isErrorCode((body as { code?: unknown }).code)) {
    const problem = body as ProblemDocument;
    const details: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(problem)) {
      if (!reservedMembers.has(name)) details[name] = value;
    }
    return new TributaryError(problem.code, {
      message: typeof problem.detail === "string" ? problem.detail : undefined,
      details,
    });
  }
  const code: ErrorCode =
    status === 503 ? "store-unavailable" : status >= 500 ? "internal" : "malformed-request";
  return new TributaryError(code, {
    message: `HTTP ${status}${typeof body === "string" && body ? `: ${body.slice(0, 200)}` : ""}`,
    details: { status },
  });
}
