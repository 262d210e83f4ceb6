import type { Logger } from 'pino';
import type { Limits } from './engine/limits';

/** Dynamic config values by key, as `--dynamic-config-value KEY=JSON-VALUE` gives them. */
export type DynamicConfig = Record<string, unknown>;

/** A `--dynamic-config-value` that cannot be used; its message names the value and the problem. */
export class DynamicConfigError extends Error {}

// The real server's keys (temporalio/temporal common/dynamicconfig/constants.go) for the limits this
// server enforces.
const LIMIT_KEYS: Record<string, keyof Limits> = {
  'limit.blobSize.error': 'payloadErrorBytes',
  'limit.blobSize.warn': 'payloadWarnBytes',
  'limit.memoSize.error': 'memoErrorBytes',
  'limit.memoSize.warn': 'memoWarnBytes',
  'limit.maxIDLength': 'idMaxLength',
  'limit.historyCount.error': 'historyEventsError',
  'limit.historyCount.warn': 'historyEventsWarn',
  'limit.historySize.error': 'historyBytesError',
  'limit.historySize.warn': 'historyBytesWarn',
  'limit.historyCount.suggestContinueAsNew': 'historyEventsSuggestContinueAsNew',
  'limit.historySize.suggestContinueAsNew': 'historyBytesSuggestContinueAsNew',
  'limit.numPendingActivities.error': 'pendingActivities',
  'limit.numPendingChildExecutions.error': 'pendingChildren',
  'limit.numPendingSignals.error': 'pendingSignals',
  'limit.numPendingCancelRequests.error': 'pendingCancels',
  'history.maxInFlightUpdates': 'updatesInFlight',
  'history.maxTotalUpdates': 'updatesTotal',
};

// Switches of the real server this one honours, with the engine option each sets.
const FLAG_KEYS = {
  'system.enableActivityEagerExecution': 'eagerActivityExecution',
} as const;
type FlagKey = keyof typeof FLAG_KEYS;
const isFlag = (key: string): key is FlagKey => key in FLAG_KEYS;

// Keys the SDK's test environments and start-dev users commonly pass for features this server
// either always has or never offers: accepted quietly.
const IGNORED_KEYS = new Set([
  'frontend.enableServerVersionCheck',
  'frontend.enableUpdateWorkflowExecution',
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted',
  'frontend.enableExecuteMultiOperation',
  'frontend.activityAPIsEnabled',
  'frontend.workerVersioningDataAPIs',
  'frontend.workerVersioningWorkflowAPIs',
  'frontend.workerVersioningRuleAPIs',
  'frontend.namespaceRPS',
  'system.enableEagerWorkflowStart',
  'system.enableNexus',
  'system.forceSearchAttributesCacheRefreshOnRead',
  'system.refreshNexusEndpointsMinWait',
  'history.enableChasm',
  'history.enableTransitionHistory',
  'history.enableRequestIdRefLinks',
  'activity.enableStandalone',
  'worker.buildIdScavengerEnabled',
  'matching.numTaskqueueReadPartitions',
  'matching.numTaskqueueWritePartitions',
]);

/**
 * Parses `KEY=JSON-VALUE` strings as the Temporal CLI does (split at the first '=', the rest is
 * JSON; a later value for a key wins) and checks the values of the keys this server uses.
 */
export function parseDynamicConfigValues(values: string[]): DynamicConfig {
  const out: DynamicConfig = {};
  for (const item of values) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new DynamicConfigError(`bad --dynamic-config-value ${item}: expected KEY=JSON-VALUE`);
    const key = item.slice(0, eq);
    let value: unknown;
    try {
      value = JSON.parse(item.slice(eq + 1));
    } catch {
      throw new DynamicConfigError(`bad --dynamic-config-value ${item}: the value is not JSON (strings need quotes)`);
    }
    checkValue(key, value, item);
    out[key] = value;
  }
  return out;
}

function checkValue(key: string, value: unknown, item: string): void {
  if (isFlag(key) && typeof value !== 'boolean') throw new DynamicConfigError(`bad --dynamic-config-value ${item}: ${key} takes true or false`);
  if (key in LIMIT_KEYS && !(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0))
    throw new DynamicConfigError(`bad --dynamic-config-value ${item}: ${key} takes a whole number of at least 0`);
}

/**
 * The limits a dynamic config sets, over the real server's defaults. Keys for features this server
 * does not configure are logged at debug, unknown keys with a warning; like the real server, it
 * starts either way.
 */
export function limitsFromDynamicConfig(config: DynamicConfig | undefined, log: Logger): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const [key, value] of Object.entries(config ?? {})) {
    const limit = LIMIT_KEYS[key];
    checkValue(key, value, `${key}=${JSON.stringify(value)}`);
    if (limit) limits[limit] = value as number;
    else if (isFlag(key)) continue;
    else if (IGNORED_KEYS.has(key)) log.debug({ key, value }, 'dynamic config key accepted; it does not change this server');
    else log.warn({ key, value }, 'unknown dynamic config key ignored');
  }
  return limits;
}

/** The engine switches a dynamic config turns on or off (the real server's defaults otherwise). */
export function flagsFromDynamicConfig(config: DynamicConfig | undefined): { eagerActivityExecution?: boolean } {
  const flags: { eagerActivityExecution?: boolean } = {};
  for (const [key, value] of Object.entries(config ?? {})) if (isFlag(key)) flags[FLAG_KEYS[key]] = value as boolean;
  return flags;
}
