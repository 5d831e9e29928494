export type {
  EventCoordinates,
  EventInput,
  EventMetadata,
  ExpectedVersion,
  KeyPage,
  PartitionPage,
  QueryPage,
  StoredEvent,
  TopicInfo,
  TopicSettings,
} from "@tributary/protocol";
export {
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
