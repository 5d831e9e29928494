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
  isDeliveryNotHeld,
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
export type {
  CompatibilityMode,
  CompatibilityReport,
  JsonSchema,
  SchemaIncompatibility,
  SchemaRegistration,
  SchemaSubject,
  SchemaVersion,
  ValidationPolicy,
} from "./schema.js";
export { compatibilityModes, defaultCompatibility, subjectOf, validationPolicies } from "./schema.js";
export type {
  BackoffPolicy,
  BreakerStatus,
  ConsumerStatus,
  DeadLetter,
  DeadLetterPage,
  DeliveredEvent,
  DeliveryError,
  DeliveryMode,
  PartitionStatus,
  PollResponse,
  ResetTarget,
  StartPosition,
  SubscriptionInfo,
  SubscriptionSettings,
  SubscriptionStatus,
} from "./subscription.js";
export { consumerIdPattern, isValidConsumerId } from "./subscription.js";
