import { readFileSync } from "node:fs";
import { parse } from "yaml";

/** What the last stage of a Dockerfile runs: its environment, working directory and command. */
export interface ImageSpec {
  env: Record<string, string>;
  workdir: string;
  entrypoint: string[];
  cmd: string[];
  /** The ports of its EXPOSE lines. */
  exposed: number[];
}

/** The lines of a Dockerfile with comments dropped and `\` continuations joined. */
function instructions(text: string): { keyword: string; rest: string }[] {
  const lines = text.split("\n").filter((line) => !/^\s*#/.test(line));
  const joined: string[] = [];
  let current = "";
  for (const line of lines) {
    if (line.trimEnd().endsWith("\\")) {
      current += `${line.trimEnd().slice(0, -1)} `;
      continue;
    }
    joined.push(current + line);
    current = "";
  }
  return joined
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => {
      const keyword = line.split(/\s+/, 1)[0] ?? "";
      return { keyword: keyword.toUpperCase(), rest: line.slice(keyword.length).trim() };
    });
}

/** `KEY=value KEY2="value 2"` (or the old `KEY value` form) into pairs. */
function envPairs(rest: string): [string, string][] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(rest)) {
    const [key = "", ...value] = rest.split(/\s+/);
    return [[key, value.join(" ")]];
  }
  const pairs: [string, string][] = [];
  for (const match of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = match[2] ?? "";
    pairs.push([match[1] ?? "", raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]);
  }
  return pairs;
}

function execForm(keyword: string, rest: string): string[] {
  const value: unknown = JSON.parse(rest);
  if (!Array.isArray(value) || !value.every((part) => typeof part === "string")) {
    throw new Error(`${keyword} is not in exec form (a JSON array of strings): ${rest}`);
  }
  return value;
}

/**
 * Reads the last stage of a Dockerfile: ENV, WORKDIR, ENTRYPOINT and CMD (exec form only, as a
 * shell form would run under a shell the test does not have), and EXPOSE.
 */
export function readImageSpec(path: string): ImageSpec {
  const all = instructions(readFileSync(path, "utf8"));
  const lastFrom = all.map((instruction) => instruction.keyword).lastIndexOf("FROM");
  const spec: ImageSpec = { env: {}, workdir: "/", entrypoint: [], cmd: [], exposed: [] };
  for (const { keyword, rest } of all.slice(lastFrom + 1)) {
    if (keyword === "ENV") for (const [key, value] of envPairs(rest)) spec.env[key] = value;
    if (keyword === "WORKDIR") spec.workdir = rest;
    if (keyword === "ENTRYPOINT") spec.entrypoint = execForm(keyword, rest);
    if (keyword === "CMD") spec.cmd = execForm(keyword, rest);
    if (keyword === "EXPOSE")
      spec.exposed.push(...rest.split(/\s+/).map((port) => Number.parseInt(port, 10)));
  }
  return spec;
}

/** What compose gives one service on top of its image. */
export interface ServiceSpec {
  environment: Record<string, string>;
  /** Secret name → the host file compose mounts at `/run/secrets/<name>`. */
  secrets: Record<string, string>;
  /** The container ports it publishes. */
  containerPorts: number[];
}

interface ComposeFile {
  services?: Record<
    string,
    {
      environment?: Record<string, unknown> | string[];
      secrets?: (string | { source: string })[];
      ports?: string[];
    }
  >;
  secrets?: Record<string, { file?: string }>;
}

/** Reads the services of a compose file that are built from the repository's Dockerfile. */
export function readComposeServices(path: string): Record<string, ServiceSpec> {
  // Compose resolves YAML merge keys (`<<: *bus`); so does this.
  const compose = parse(readFileSync(path, "utf8"), { merge: true }) as ComposeFile;
  const services: Record<string, ServiceSpec> = {};
  for (const [name, service] of Object.entries(compose.services ?? {})) {
    if (!("build" in service)) continue;
    const environment: Record<string, string> = {};
    if (Array.isArray(service.environment)) {
      for (const entry of service.environment) {
        const [key = "", ...value] = entry.split("=");
        environment[key] = value.join("=");
      }
    } else {
      for (const [key, value] of Object.entries(service.environment ?? {})) environment[key] = String(value);
    }
    const secrets: Record<string, string> = {};
    for (const entry of service.secrets ?? []) {
      const secret = typeof entry === "string" ? entry : entry.source;
      const file = compose.secrets?.[secret]?.file;
      if (file === undefined) throw new Error(`service ${name} uses secret ${secret}, which has no file`);
      secrets[secret] = file;
    }
    const containerPorts = (service.ports ?? []).map((port) =>
      Number.parseInt(port.split(":").at(-1) ?? "", 10),
    );
    services[name] = { environment, secrets, containerPorts };
  }
  return services;
}
