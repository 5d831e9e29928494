export type { CloudEvent, CloudEventIssue } from "./cloudevents.js";
export {
  cloudEventsBatchContentType,
  cloudEventsContentType,
  fromBinaryCloudEvent,
  fromCloudEvent,
  toCloudEvent,
} from "./cloudevents.js";
export type { ErrorCode, ErrorDefinition, TributaryErrorOptions } from "./errors.js";
export {
  errorCatalogue,
  isErrorCode,
  isIdConflict,
  isNotFound,
  isStoreUnavailable,
  isTributaryError,
  isVersionConflict,
  problemTypePrefix,
  TributaryError,
} from "./errors.js";
export type {
  AppendResponse,
  EventCoordinates,
  EventInput,
  EventMetadata,
  ExpectedVersion,
  KeyPage,
  PartitionPage,
  QueryPage,
  RetentionPolicy,
  StoredEvent,
  TopicInfo,
  TopicSettings,
} from "./event.js";
export { hasControlCharacters, isValidTopicName, limits, topicNamePattern } from "./limits.js";
export { partitionForKey, partitionHashRange } from "./partitioner.js";
export type { ProblemDocument } from "./problem.js";
export { fromProblem, problemContentType, toProblem } from "./problem.js";
