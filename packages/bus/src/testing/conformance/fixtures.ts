import type { EventCoordinates, EventInput, TributaryError } from "@tributary/protocol";
import { expect } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import type {
  AppendCommand,
  AppendGroupOptions,
  AppendOutcome,
  EventStore,
  PreparedEvent,
} from "../../store/event-store.js";

/** What every section of the conformance suite gets: the store of the running test. */
export interface ConformanceContext {
  /** The fresh, migrated, empty store of the current test; the suite closes it afterwards. */
  store(): EventStore;
}

/** Group options of a bus that creates unknown topics with 4 partitions (the default). */
export const autoCreate: AppendGroupOptions = { autoCreate: true, defaultPartitions: 4 };

/** Group options of a bus run with `--no-auto-create`. */
export const noAutoCreate: AppendGroupOptions = { autoCreate: false, defaultPartitions: 4 };

/** An event of the `users` topic of the example domain, prepared as the core would. */
export function userEvent(
  type: string,
  key: string | undefined,
  input: Partial<EventInput> = {},
): PreparedEvent {
  return prepareEvent("users", {
    type,
    ...(key === undefined ? {} : { key }),
    data: { userId: key ?? null, name: `Name of ${key ?? "nobody"}` },
    ...input,
  });
}

/** `UserCreated` of `key`. */
export function userCreated(key: string, input: Partial<EventInput> = {}): PreparedEvent {
  return userEvent("UserCreated", key, input);
}

/** `UserRenamed` of `key` to `name`. */
export function userRenamed(key: string, name: string, input: Partial<EventInput> = {}): PreparedEvent {
  return userEvent("UserRenamed", key, { data: { userId: key, name }, ...input });
}

/** An event of the `organizations` topic. */
export function organizationEvent(type: string, key: string, input: Partial<EventInput> = {}): PreparedEvent {
  return prepareEvent("organizations", { type, key, data: { organizationId: key }, ...input });
}

/** Appends one command as a group of its own and returns its outcome. */
export async function appendCommand(
  store: EventStore,
  topic: string,
  events: PreparedEvent[],
  options: AppendGroupOptions = autoCreate,
): Promise<AppendOutcome> {
  const outcomes = await store.appendGroup([{ topic, events }], options);
  expect(outcomes).toHaveLength(1);
  return outcomes[0]!;
}

/** Appends a group of commands and returns the outcomes, checking there is one per command. */
export async function appendGroup(
  store: EventStore,
  commands: AppendCommand[],
  options: AppendGroupOptions = autoCreate,
): Promise<AppendOutcome[]> {
  const outcomes = await store.appendGroup(commands, options);
  expect(outcomes).toHaveLength(commands.length);
  return outcomes;
}

/** Asserts a successful outcome and returns its coordinates. */
export function expectCommitted(outcome: AppendOutcome | undefined, replayed = false): EventCoordinates[] {
  expect(outcome, "outcome").toBeDefined();
  if (outcome === undefined || !outcome.ok) {
    throw new Error(
      `expected the command to commit, it failed: ${outcome?.error.code} ${outcome?.error.message}`,
    );
  }
  expect(outcome.replayed, "replayed").toBe(replayed);
  return outcome.events;
}

/** Asserts a failed outcome with `code` and returns its error. */
export function expectFailed(
  outcome: AppendOutcome | undefined,
  code: TributaryError["code"],
): TributaryError {
  expect(outcome, "outcome").toBeDefined();
  if (outcome === undefined || outcome.ok)
    throw new Error(`expected the command to fail ${code}, it committed`);
  expect(outcome.error.code).toBe(code);
  return outcome.error;
}

/** Asserts that `promise` rejects with a `TributaryError` of `code`. */
export async function expectRejection(
  promise: Promise<unknown>,
  code: TributaryError["code"],
): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: "TributaryError", code });
}

/** Waits long enough for the clock to move past the last commit's millisecond. */
export function waitForClockTick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

/** The numbers `0 … count - 1`. */
export function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}
