export type {
  BackoffPolicy,
  ConsumerStatus,
  DeadLetter,
  DeadLetterPage,
  DeliveredEvent,
  DeliveryMode,
  EventCoordinates,
  EventInput,
  EventMetadata,
  ExpectedVersion,
  KeyPage,
  PartitionPage,
  PartitionStatus,
  PollResponse,
  QueryPage,
  ResetTarget,
  StartPosition,
  StoredEvent,
  SubscriptionInfo,
  SubscriptionSettings,
  SubscriptionStatus,
  TopicInfo,
  TopicSettings,
} from "@tributary/protocol";
export {
  isDeliveryNotHeld,
  isIdConflict,
  isNotFound,
  isStoreUnavailable,
  isTributaryError,
  isVersionConflict,
  TributaryError,
} from "@tributary/protocol";
export type {
  AppendResult,
  ClientOptions,
  QueryOptions,
  ReadKeyOptions,
  ReadPartitionOptions,
  TributaryClient,
} from "./client.js";
export { createClient } from "./client.js";
export type { Consumer, EventHandler, HandlerContext, SubscribeOptions } from "./consumer.js";
export type {
  ConsumeOptions,
  ConsumerErrorContext,
  ConsumerOperation,
  ConsumerSettings,
} from "./consumer-options.js";
export type {
  IdempotencyStore,
  IdempotencyStoreOptions,
  IdempotentOptions,
  TransactionalHandler,
} from "./idempotent.js";
export { idempotent } from "./idempotent.js";
export type { Message, MessageStream } from "./message-stream.js";
export type { PostgresQueryable, PostgresSql } from "./postgres-idempotency-store.js";
export { postgresIdempotencyStore } from "./postgres-idempotency-store.js";
export type { SqliteDatabase } from "./sqlite-idempotency-store.js";
export { sqliteIdempotencyStore } from "./sqlite-idempotency-store.js";
export type {
  AckResult,
  HeartbeatResult,
  ListDeadLettersOptions,
  NackOptions,
  NackResult,
  PollOptions,
  SubscriptionCalls,
} from "./subscription-calls.js";
