// Public face of the bootstrap agent: what the CLI, the demo and the bench call.
export { Agent, AgentStoppedError, NoConfigurationError, type AgentDeps, type UpResult } from './bootstrap.js';
export { bringDown, AgentRunningError, RELEASE_WAIT_MAX_MS, type DownDeps, type DownResult } from './down.js';
export { previewPlan, parseTopologyText, PlanSourceError, type PlanSource, type Preview } from './plan-preview.js';
export {
  loadAgentConfig, loadAgentLocations, AgentConfig, AgentConfigFile, AGENT_DEFAULTS, DEFAULT_CONFIG_FILE, DEFAULT_CACHE_DIR, ENV_NAMES, FLAG_NAMES, CONFIG_ENV,
  type ConfigSources, type LoadedAgentConfig, type TextSettings,
} from './agent-config.js';
export { resolveAgentSettings, featuresOff, type AgentSettings } from './settings.js';
export { makeAgentLog, silentAgentLog, type AgentLog, type AgentLogLevel } from './agent-log.js';
export { readStatus, writeStatus, statusPath, isProcessAlive, AgentStatus, AgentMode, STATUS_FILE, StatusError } from './status.js';
export { renderStatus, renderStackTree } from './status-render.js';
export { addressRequests, managementAliases, type AddressRequest } from './address-requests.js';
export { desiredInputFor, leaseRecord, leasesFor, type LeaseMap } from './leases-to-desired.js';
export { fetchTopology, judgeTopology, type TopologyAnswer, type Judgement } from './topology-source.js';
export { makeAgentRuntime, FEATURE_FLAG, FEATURE_NAMES, type AgentRuntime, type Feature } from './runtime.js';
export { statusSnapshot, type SnapshotInput } from './status-snapshot.js';
