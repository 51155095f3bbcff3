// skalds/controller: the System Controller's decisions (monitors, dispatcher, failover), the commands users give a
// task, one leader among several controllers, alerts, and its HTTP face (REST API, health) as SystemController.
export { ControlPlane, DEFAULT_CONTROLLER_RETRY, type ControlPlaneOptions, type LeaderCheck } from './control-plane.ts'
export type { ControlEvent } from './control-events.ts'
export { NodeMonitor, type NodeView, type LoadSample, type NodeChange, type NodeMonitorOptions } from './node-monitor.ts'
export { TaskMonitor, type TaskMonitorOptions, type ControllerRetryPolicy } from './task-monitor.ts'
export { Dispatcher, dependencyState, type DispatcherOptions, type SweepReport, type DependencyState } from './dispatcher.ts'
export { DISPATCH_STRATEGIES, createPicker, loadScore, type Candidate, type Picker } from './strategies.ts'
export { TaskCommands, TaskStateError, type TaskCommandsOptions } from './task-commands.ts'
export { AttachmentCheck, AttachmentsInvalidError, type AttachmentCheckOptions, type AttachmentIssue } from './attachment-check.ts'
export { createLeadership, Leadership, NotLeaderError, type LeadershipOptions, type LeaderTerm, type DemotionReason } from './leadership.ts'
export {
  createAlerts,
  alertPayload,
  ALERT_FORMAT_VERSION,
  USER_AGENT as ALERTS_USER_AGENT,
  type Alerts,
  type AlertInput,
  type AlertFields,
  type AlertPayload,
  type AlertBatchPayload,
  type AlertsStats,
  type TaskFailedAlert,
  type NodeOfflineAlert,
  type TaskFailoverAlert,
  type WebhookStats,
} from './alerts.ts'
export {
  ALERT_KINDS,
  ALERTS_DEFAULTS,
  AlertsOptionsError,
  parseAlertWebhooksEnv,
  type AlertKind,
  type AlertsOptions,
  type AlertWebhookOptions,
  type AlertRetryOptions,
  type AlertRateLimitOptions,
  type AlertsFetch,
} from './alerts-options.ts'
export { SystemController, CONTROLLER_VERSION, type SystemControllerOptions } from './system-controller.ts'
export { buildControllerApi, type ApiExtension } from './http/app.ts'
export { ApiOptionsError, type ControllerApiOptions, type ApiCorsOptions } from './http/options.ts'
export type { ControllerApiDeps, PublicConfig } from './http/deps.ts'
export { storeReads, type TaskReads, type TaskChange } from './task-reads.ts'
export { SkaldNotFoundError, ApiAuthError, ApiInputError, FeatureUnavailableError, type ApiErrorBody } from './http/errors.ts'
export { TaskFeed, type TaskFeedChange, type TaskFeedOptions } from './task-feed.ts'
export { createHealthCheck, type HealthChecksOptions, type HealthReport, type HealthStatus } from './health.ts'
export { ControllerMetrics, freeSlots, type ControllerMetricsOptions } from './metrics.ts'
export { runController, controllerOptionsFromConfig, type RunControllerOptions, type RunningController } from './run.ts'
// Live events (SSE): the hub, what feeds it, their payloads, and the /api/events routes as a Fastify plugin.
export {
  LiveHub,
  LiveOptionsError,
  type LiveHubOptions,
  type LiveHubStats,
  type LiveSink,
  type LiveConnection,
  type LiveConnectOptions,
  type LiveResume,
} from './live/hub.ts'
export { createLiveSources, newLogLines, type LiveSources, type LiveSourcesOptions, type LiveTickReport, type LiveNodeView, type WatchedTask } from './live/sources.ts'
export type {
  LiveStream,
  LiveFilter,
  LiveEvent,
  SkaldLiveEvent,
  TaskLiveEvent,
  SkaldStatusEvent,
  SkaldHeartbeatEvent,
  TaskHeartbeatEvent,
  TaskErrorEvent,
  TaskExceptionEvent,
  TaskStatusEvent,
  TaskProgressEvent,
  TaskLogEvent,
} from './live/events.ts'
export { eventsRoutes, type EventsRoutesOptions } from './http/routes/events.ts'
export {
  createTaskCaches,
  cachedTaskReads,
  cleanupOperations,
  TASK_CACHE_TYPES,
  TASK_CACHE_DEFAULT_TTLS,
  TASK_CHANGE_KINDS,
  MAX_VIEW_LOG_LINES,
  TaskCacheOptionsError,
  TaskCacheArgumentError,
  type TaskCaches,
  type TaskCachesOptions,
  type TaskCacheType,
  type TaskCacheTtls,
  type TaskChangeKind,
  type TaskProgressView,
  type TaskExecutionSummary,
  type TaskStatistics,
  type TaskStateSource,
  type TaskCacheStats,
  type TaskCacheTypeStats,
  type TaskCacheCounters,
  type TaskCacheOwnCounters,
  type TaskCacheCleanupReport,
} from './task-cache/index.ts'
