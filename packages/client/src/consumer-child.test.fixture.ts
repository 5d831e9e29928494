import { createClient } from "./client.js";
import { type EffectsLocation, openEffects } from "./consumer-effects.test.fixture.js";

/** What the parent test passes as the one argument (JSON). */
export interface ConsumerChildConfig {
  url: string;
  subscription: string;
  consumer: string;
  effects: EffectsLocation;
  /** After this many committed effects, every further handler call hangs (prints `stuck`). */
  hangAfter: number;
  handlerDelayMs: number;
  max: number;
}

// A consumer instance in a process of its own, for the parent test to kill with SIGKILL mid-batch.
// It prints `ready` once polling, `handled <event id>` after each committed effect, and `stuck` when a
// handler starts hanging.
const config = JSON.parse(process.argv[2] ?? "{}") as ConsumerChildConfig;
const effects = await openEffects(config.effects);
const apply = effects.handler(config.consumer);
const client = createClient({ url: config.url });
let committed = 0;

await client.subscribe(
  config.subscription,
  { ensure: false, consumer: config.consumer, max: config.max, wait: 500, onError: () => {} },
  async (event, context) => {
    if (committed >= config.hangAfter) {
      process.stdout.write("stuck\n");
      await new Promise(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, config.handlerDelayMs));
    await apply(event, context);
    committed += 1;
    process.stdout.write(`handled ${event.id}\n`);
  },
);
process.stdout.write("ready\n");
