import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runTributary } from "../testing/spawn-bus.js";
import { createTestStoreUrl, type TestStoreUrl } from "../testing/test-stores.js";
import { readComposeServices, readImageSpec } from "./container-spec.js";
import { freePort, request } from "./http.js";

const repository = fileURLToPath(new URL("../../../../", import.meta.url));
const image = readImageSpec(join(repository, "Dockerfile"));
const composeServices = readComposeServices(join(repository, "compose.yaml"));

/**
 * The image's ENTRYPOINT and CMD as a command on this machine. The image's WORKDIR holds the
 * repository (the build copies it there), so a relative path in the command is that path in the
 * repository; `node` is the node running the tests.
 */
function imageCommand(): { file: string; args: string[] } {
  const [program, ...args] = [...image.entrypoint, ...image.cmd];
  expect(program).toBe("node");
  return {
    file: process.execPath,
    args: args.map((arg) => {
      if (arg.startsWith("-") || isAbsolute(arg) || !arg.includes("/")) return arg;
      const inRepository = join(repository, arg);
      if (!existsSync(inRepository)) throw new Error(`${arg} (relative to WORKDIR) is not in the repository`);
      return inRepository;
    }),
  };
}

interface Container {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();

/**
 * Runs the image's command with exactly `env` (nothing of the test's own environment but PATH), in
 * a working directory of its own, as the container's `/app` with its `data/` folder.
 */
function runContainer(env: Record<string, string>, folder: string): Container {
  mkdirSync(join(folder, "data"), { recursive: true });
  const { file, args } = imageCommand();
  const child = spawn(file, args, {
    cwd: folder,
    env: { PATH: process.env.PATH ?? "", HOME: folder, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      output += chunk;
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

/** Resolves once the container says it listens; rejects with its output when it exits first. */
async function listening(container: Container): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (container.output().includes("Tributary listening on")) resolve();
    };
    container.child.stdout?.on("data", onData);
    void container.exited.then((code) =>
      reject(new Error(`the container exited (${code}) before listening:\n${container.output()}`)),
    );
  });
}

describe("the container image, run as a plain process", () => {
  const folders: string[] = [];
  const locations: TestStoreUrl[] = [];
  const folder = () => {
    const path = mkdtempSync(join(tmpdir(), "tributary-container-"));
    folders.push(path);
    return path;
  };

  afterEach(async () => {
    await Promise.all(
      [...running].map((child) => {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        return exited;
      }),
    );
  });

  afterAll(async () => {
    for (const location of locations) await location.cleanup();
    for (const path of folders) rmSync(path, { recursive: true, force: true });
  });

  it("describes what it runs: a bus listening beyond loopback on the port it exposes", () => {
    expect(image.workdir).toBe("/app");
    expect(image.env.TRIBUTARY_HOST).toBe("0.0.0.0");
    expect(image.exposed).toEqual([Number(image.env.TRIBUTARY_PORT)]);
    expect(Object.keys(composeServices)).toEqual(["bus-1", "bus-2"]);
    for (const service of Object.values(composeServices)) {
      expect(service.containerPorts).toEqual([Number(image.env.TRIBUTARY_PORT)]);
    }
  });

  it("starts the compose replicas at once on one new store, each with the admin key from its secret", async () => {
    // Given the admin key as `tributary keys generate` makes it, in the file compose mounts
    const generated = await runTributary(["keys", "generate"]);
    expect(generated.code).toBe(0);
    const key = generated.stdout.trim();
    const secretFolder = folder();
    const location = await createTestStoreUrl("postgres");
    locations.push(location);

    // When every bus service starts at once with the image's and compose's environment, rewritten
    // only where it cannot work outside a container: the port, the database host, the secret's path
    const started = await Promise.all(
      Object.entries(composeServices).map(async ([name, service]) => {
        const env: Record<string, string> = { ...image.env, ...service.environment };
        const port = await freePort();
        env.TRIBUTARY_PORT = String(port);
        const store = new URL(env.TRIBUTARY_STORE ?? "");
        expect(store.protocol).toBe("postgres:");
        expect(store.hostname).toBe("postgres");
        env.TRIBUTARY_STORE = location.url;
        const secretPath = env.TRIBUTARY_ADMIN_KEY_FILE ?? "";
        const secret = /^\/run\/secrets\/([^/]+)$/.exec(secretPath)?.[1];
        expect(secret, "TRIBUTARY_ADMIN_KEY_FILE is a compose secret").toBeDefined();
        expect(Object.keys(service.secrets)).toContain(secret);
        const secretFile = join(secretFolder, `${name}-${secret}`);
        writeFileSync(secretFile, `${key}\n`, { mode: 0o600 });
        env.TRIBUTARY_ADMIN_KEY_FILE = secretFile;
        return { name, url: `http://127.0.0.1:${port}`, container: runContainer(env, folder()) };
      }),
    );
    await Promise.all(started.map(({ container }) => listening(container)));

    // Then each answers /readyz, takes the key, and refuses a request without it
    const headers = { authorization: `Bearer ${key}` };
    for (const { url } of started) {
      expect((await request(`${url}/readyz`)).status).toBe(200);
      expect((await request(`${url}/v1/topics`)).status).toBe(401);
      expect((await request(`${url}/v1/topics`, { headers })).status).toBe(200);
    }
    const [first, second] = started;
    const appended = await request(`${first?.url}/v1/topics/users/events`, {
      body: { type: "UserRegistered", key: "u1" },
      headers,
    });
    expect(appended.status).toBe(201);
    const read = await request<{ events: unknown[] }>(`${second?.url}/v1/events?topic=users`, { headers });
    expect(read.body.events).toHaveLength(1);
    // And the key was stored once, for admin, and never printed
    const listed = await runTributary(["keys", "list", "--store", location.url]);
    expect(listed.stdout.trim().split("\n")).toEqual([expect.stringMatching(/\tadmin\t.*\tactive\tadmin$/)]);
    for (const { container } of started) {
      container.child.kill("SIGTERM");
      expect(await container.exited).toBe(0);
      expect(container.output()).not.toContain(key.slice("trb_".length + 13));
    }
  });

  it("refuses to start without a key, saying how to give one", async () => {
    // Given the image's own environment and no secret (docker run without one), on a new store
    const env: Record<string, string> = { ...image.env, TRIBUTARY_PORT: String(await freePort()) };
    expect(env.TRIBUTARY_ADMIN_KEY_FILE).toBeUndefined();
    // When it starts
    const container = runContainer(env, folder());
    // Then it exits at once with a message that says why and what to do, and no stack trace
    expect(await container.exited).toBe(1);
    expect(container.output()).toMatch(/refusing to listen on 0\.0\.0\.0 with no API keys in the store/);
    expect(container.output()).toContain("TRIBUTARY_ADMIN_KEY_FILE");
    expect(container.output()).not.toMatch(/\n\s+at /);
    expect(container.output()).not.toContain("listening");
  });
});
