// The HTTP ceiling of the machine: the single-event scenario's client and payloads against a
// Fastify route that only parses the JSON body and answers 201 with a fixed body — no validation,
// no store. No append over HTTP can go faster on the same machine, so the single-event figures are
// read against it.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createHttpClient } from "./http-client.js";
import { createEvents } from "./payloads.js";
import { measureBusSingle } from "./scenarios.js";

const serverScript = fileURLToPath(new URL("./http-ceiling-server.js", import.meta.url));

export async function measureHttpCeiling({ clients, warmupMs, durationMs, bodies }) {
  const server = fork(serverScript, [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  try {
    const port = await new Promise((resolve, reject) => {
      server.once("message", (message) => resolve(message.port));
      server.once("exit", (code) => reject(new Error(`the ceiling server exited (code ${code})`)));
    });
    const client = createHttpClient(`http://127.0.0.1:${port}`, { maxSockets: clients });
    const payloads = createEvents(bodies, 2).map((event) => JSON.stringify(event));
    const cpuBefore = process.cpuUsage();
    const figures = await measureBusSingle(client, "orders", payloads, { clients, warmupMs, durationMs });
    client.close?.();
    const cpu = process.cpuUsage(cpuBefore);
    return { ...figures, loadGeneratorCpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    server.kill("SIGKILL");
  }
}
