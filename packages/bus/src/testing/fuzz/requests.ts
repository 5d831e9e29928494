import type { Random } from "./random.js";
import type { BodyVariant, RouteCase } from "./route-case.js";
import {
  badPercentEncoding,
  binaryGarbage,
  garbageNumber,
  hostileText,
  invalidJsonText,
  nestedJson,
  poisonedJson,
} from "./values.js";

/** One generated request, as `app.inject` takes it, with why it must be refused. */
export interface FuzzRequest {
  route: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  /** The mutation that makes the route refuse it; undefined when it may be valid. */
  refusal?: string;
}

export interface BuildOptions {
  /**
   * Whether to make the request invalid: always, never (unless the route is never sent valid, or
   * a write may name seeded state), or by chance.
   */
  refuse: "always" | "never" | "sometimes";
  /** May name seeded state (only safe when something refuses the request). */
  useSeeded: boolean;
  /** Lean towards extreme valid values. */
  edge: boolean;
  /** API keys guard the bus: a valid write may name seeded state, since it will be refused anyway. */
  isGuarded?: boolean;
}

const methods = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"];
const jsonTypes = ["application/json", "application/cloudevents+json", "application/cloudevents-batch+json"];
const confluentJsonTypes = [
  "application/vnd.schemaregistry.v1+json",
  "application/json",
  "application/octet-stream",
];
const wrongTypes = ["text/plain", "application/xml", "multipart/form-data; boundary=x", "text/json", ""];
const confluentPath = /^\/schema-registry(?:[/?]|$)/;

/** A path segment, percent-encoded; lone surrogates (which encodeURIComponent refuses) become U+FFFD. */
function encodeSegment(value: string): string {
  const encoded = encodeURIComponent(value.replace(/\p{Surrogate}/gu, "\ufffd"));
  // `.` and `..` would be resolved away by URL normalization and name another route.
  return encoded === "." || encoded === ".." ? `${encoded}x` : encoded;
}

/** A header value: percent-encoded where not printable ASCII (CloudEvents binary mode decodes it). */
function headerValue(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return /^[\x20-\x7e]*$/.test(text) ? text : encodeSegment(text);
}

/** Whether any route takes `method` at `path` (HEAD is served by GET routes). */
export function createRouteMatcher(routes: string[]): (method: string, path: string) => boolean {
  const compiled = routes.map((route) => {
    const [method, pattern = ""] = route.split(" ");
    const source = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z]+/g, "[^/]*");
    return { method, regex: new RegExp(`^${source}$`) };
  });
  return (method, path) =>
    compiled.some(
      (route) =>
        (route.method === method || (method === "HEAD" && route.method === "GET")) && route.regex.test(path),
    );
}

/**
 * Builds requests for the routes of `cases`: valid ones (fresh names, or seeded ones when asked)
 * and refused ones, each made invalid by one mutation that the route refuses whatever the rest of
 * the request holds, then dressed up with noise (odd headers, CloudEvents headers without a type,
 * extra query parameters) that cannot make it valid again.
 */
export function createRequestBuilder(
  cases: RouteCase[],
  isRouted: (method: string, path: string) => boolean,
) {
  function pathOf(routeCase: RouteCase, random: Random, options: BuildOptions) {
    const pattern = routeCase.route.split(" ")[1] ?? "/";
    const encoded: Record<string, string> = {};
    for (const [name, param] of Object.entries(routeCase.params ?? {})) {
      const seeded = options.useSeeded && param.seeded !== undefined && random.chance(0.7);
      encoded[name] = encodeSegment(
        seeded ? random.pick(param.seeded ?? []) : param.fresh(random, options.edge),
      );
    }
    const path = (values: Record<string, string>) =>
      pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => values[name] ?? "x");
    return { encoded, path };
  }

  function queryOf(routeCase: RouteCase, random: Random): string {
    const parts: string[] = [];
    for (const [name, make] of Object.entries(routeCase.query ?? {})) {
      if (random.chance(0.5)) parts.push(`${name}=${encodeSegment(make(random))}`);
    }
    return parts.join("&");
  }

  function bodyOf(variant: BodyVariant, random: Random, edge: boolean) {
    const value = variant.shape.valid(random, edge);
    const payload = variant.isRaw ? (value as string | Buffer) : JSON.stringify(value);
    const headers: Record<string, string> = { "content-type": variant.contentType(random) };
    const extra = variant.headers?.valid(random, edge) as Record<string, unknown> | undefined;
    for (const [name, headerText] of Object.entries(extra ?? {})) headers[name] = headerValue(headerText);
    return { payload, headers };
  }

  /** The mutations that make this request refused whatever else it holds. */
  function refusals(routeCase: RouteCase, method: string, path: string) {
    const underConfluent = confluentPath.test(path);
    const found: string[] = ["method", "path"];
    if (routeCase.params !== undefined) found.push("percent");
    if (Object.values(routeCase.params ?? {}).some((param) => param.refused !== undefined))
      found.push("param");
    if (method !== "GET" && method !== "HEAD") {
      found.push("json-syntax", "json-depth", "json-poison");
      if (!underConfluent) found.push("json-empty");
    }
    if (routeCase.bodies !== undefined) found.push("content-type", "field", "field");
    return found;
  }

  function refuse(
    routeCase: RouteCase,
    request: FuzzRequest,
    random: Random,
    parts: {
      encoded: Record<string, string>;
      path: (values: Record<string, string>) => string;
      query: string;
    },
  ): string {
    const [method = "GET", pattern = "/"] = routeCase.route.split(" ");
    const refusal = random.pick(refusals(routeCase, method, pattern));
    const setPath = (path: string) => {
      request.url = parts.query === "" ? path : `${path}?${parts.query}`;
      return path;
    };
    const basePath = parts.path(parts.encoded);
    const underConfluent = confluentPath.test(basePath);
    const jsonType = () => random.pick(underConfluent ? confluentJsonTypes : jsonTypes);
    switch (refusal) {
      case "method": {
        const wrong = methods.filter((candidate) => !isRouted(candidate, basePath));
        if (wrong.length === 0) return refuse(routeCase, request, random, parts);
        request.method = random.pick(wrong);
        return `method ${request.method}`;
      }
      case "path": {
        const junk = random.pick(["x", "~", "%7E", "..;", "%2e%2e%2f", "%C3%A9", "a".repeat(300), ""]);
        const candidate = random.pick([
          `${basePath}/${junk}`,
          `/${basePath}`,
          basePath.toUpperCase(),
          `${basePath}//`,
        ]);
        if (isRouted(request.method, candidate)) return refuse(routeCase, request, random, parts);
        setPath(candidate);
        return `path ${candidate.slice(0, 80)}`;
      }
      case "percent": {
        const name = random.pick(Object.keys(parts.encoded));
        setPath(
          parts.path({ ...parts.encoded, [name]: `${parts.encoded[name]}${badPercentEncoding(random)}` }),
        );
        return `percent-encoding in ${name}`;
      }
      case "param": {
        const names = Object.entries(routeCase.params ?? {}).filter(
          ([, param]) => param.refused !== undefined,
        );
        const [name, param] = random.pick(names);
        setPath(parts.path({ ...parts.encoded, [name]: encodeSegment(param.refused?.(random) ?? "") }));
        return `param ${name}`;
      }
      case "json-syntax":
        request.headers["content-type"] = jsonType();
        request.payload = invalidJsonText(random);
        return "JSON syntax";
      case "json-depth":
        request.headers["content-type"] = jsonType();
        request.payload = nestedJson(random, random.pick([129, 130, 1000, 50_000]));
        return "JSON depth";
      case "json-poison":
        request.headers["content-type"] = jsonType();
        request.payload = poisonedJson(random, typeof request.payload === "string" ? request.payload : "{}");
        return "prototype poisoning";
      case "json-empty":
        request.headers["content-type"] = random.pick(jsonTypes);
        request.payload = "";
        return "empty JSON body";
      case "content-type": {
        for (const name of Object.keys(request.headers))
          if (name.startsWith("ce-")) delete request.headers[name];
        const type = random.pick(wrongTypes);
        if (type === "") delete request.headers["content-type"];
        else request.headers["content-type"] = type;
        if (random.chance(0.3)) request.payload = binaryGarbage(random, random.between(1, 64));
        return `content type ${type || "(none)"}`;
      }
      default: {
        const variant = random.pick(routeCase.bodies ?? []);
        const valid = bodyOf(variant, random, false);
        for (const name of Object.keys(request.headers))
          if (name.startsWith("ce-")) delete request.headers[name];
        request.headers["content-type"] = valid.headers["content-type"] ?? "application/json";
        if (variant.isRaw) {
          // Binary mode: the body is any data, so the refusal is in the CloudEvents headers.
          const refused = variant.headers?.invalid(random);
          if (typeof refused === "object" && refused !== null && !Array.isArray(refused)) {
            for (const [name, value] of Object.entries(refused)) request.headers[name] = headerValue(value);
          }
          request.payload = valid.payload;
          return "binary-mode headers";
        }
        request.payload = JSON.stringify(variant.shape.invalid(random));
        return "body field";
      }
    }
  }

  /** Headers and query parameters that change nothing about whether the request is valid. */
  function addNoise(request: FuzzRequest, random: Random): void {
    const noise: Record<string, () => string> = {
      accept: () => random.pick(["*/*", "text/html", "application/problem+json;q=0", "garbage"]),
      "x-forwarded-for": () => random.pick(["1.2.3.4, <script>", "::1", "a".repeat(2000)]),
      cookie: () => "session=abc; __proto__=x",
      "last-event-id": () => random.pick(["0:1", "garbage", "-1:-1", "9999999999999999999:1"]),
      "x-amz-target": () => "Kinesis_20131202.PutRecord",
      "content-encoding": () => random.pick(["gzip", "br", "identity"]),
      "ce-specversion": () => random.pick(["1.0", "0.3", ""]),
      "ce-id": () => "noise-1",
      "ce-source": () => "/noise",
      authorization: () => random.pick(["Bearer nope", "Basic dXNlcjpwYXNz", "Bearer trb_000000000000_x"]),
    };
    // CloudEvents headers only where there are none: with none of them, `ce-type` stays missing.
    const hasCloudEventHeaders = Object.keys(request.headers).some((name) => name.startsWith("ce-"));
    for (const [name, make] of Object.entries(noise)) {
      if (hasCloudEventHeaders && name.startsWith("ce-")) continue;
      if (random.chance(0.08) && request.headers[name] === undefined) request.headers[name] = make();
    }
    if (random.chance(0.15)) {
      const extra = random.pick([
        () => `zz=${encodeSegment(hostileText(random))}`,
        () => "__proto__[admin]=true&constructor[prototype][admin]=true",
        () => `limit=${encodeSegment(garbageNumber(random))}&limit=1`,
        () => Array.from({ length: 70 }, (_, index) => `p${index}=1`).join("&"),
        () => "&&&=&",
      ])();
      request.url += `${request.url.includes("?") ? "&" : "?"}${extra}`;
    }
  }

  /** A request for `routeCase`, refused or valid as `options.refuse` says. */
  function build(routeCase: RouteCase, random: Random, options: BuildOptions): FuzzRequest {
    const [method = "GET"] = routeCase.route.split(" ");
    const parts = { ...pathOf(routeCase, random, options), query: queryOf(routeCase, random) };
    const path = parts.path(parts.encoded);
    const request: FuzzRequest = {
      route: routeCase.route,
      method: method === "GET" && random.chance(0.1) ? "HEAD" : method,
      url: parts.query === "" ? path : `${path}?${parts.query}`,
      headers: {},
    };
    const variant = routeCase.bodies === undefined ? undefined : random.pick(routeCase.bodies);
    if (variant !== undefined) Object.assign(request, bodyOf(variant, random, options.edge));
    const mustRefuse =
      options.refuse === "always" ||
      (options.isGuarded !== true &&
        (routeCase.isNeverValid === true || (!routeCase.isRead && options.useSeeded))) ||
      (options.refuse === "sometimes" && random.chance(0.5));
    if (mustRefuse) request.refusal = refuse(routeCase, request, random, parts);
    addNoise(request, random);
    return request;
  }

  return {
    build,
    /** A request for a random route. */
    any: (random: Random, options: BuildOptions) => build(random.pick(cases), random, options),
  };
}
