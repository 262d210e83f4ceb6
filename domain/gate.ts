import { z } from 'zod';
import {
  blackoutAt,
  Metric,
  phaseNamed,
  type Comparator,
  type Criterion,
  type Phase,
  type RolloutPlan,
} from './rollout-plan';
import { maxChars } from './text';

const Timestamp = z.iso.datetime({ offset: true });

/** One measurement of one metric for one phase, over the window it covers, from a named source. */
export const Measurement = z
  .strictObject({
    phase: z.string().regex(/^[a-z][a-z0-9-]*$/, { error: 'a phase name is lower-case kebab-case' }),
    metric: Metric,
    value: z.number().finite(),
    sampleSize: z.int().min(0),
    windowStart: Timestamp,
    windowEnd: Timestamp,
    source: maxChars(z.string().trim().min(1), 200),
  })
  .refine((m) => Date.parse(m.windowStart) <= Date.parse(m.windowEnd), {
    error: 'windowEnd must not be before windowStart',
    path: ['windowEnd'],
  });
export type Measurement = z.infer<typeof Measurement>;

/** The most measurements one batch may carry, by API or by signal. */
export const MAX_MEASUREMENTS = 10_000;

/** A row of a batch that cannot be recorded: its index, where in the row (`measurements.3.sampleSize`) and why. */
export type MeasurementProblem = { index: number; path: string; message: string };

/**
 * Checks every row of a batch on its own against the schema and the plan's phases: the measurements, or every
 * problem with the index of its row. A batch with any problem is refused whole, so nothing of it is recorded.
 */
export function checkMeasurements(
  plan: RolloutPlan,
  raw: readonly unknown[],
): { rows: Measurement[]; problems: MeasurementProblem[] } {
  const rows: Measurement[] = [];
  const problems: MeasurementProblem[] = [];
  raw.forEach((value, index) => {
    const parsed = Measurement.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push({ index, path: ['measurements', index, ...issue.path].join('.'), message: issue.message });
      }
    } else if (!phaseNamed(plan, parsed.data.phase)) {
      problems.push({
        index,
        path: `measurements.${index}.phase`,
        message: `the plan has no phase ${parsed.data.phase}`,
      });
    } else {
      rows.push(parsed.data);
    }
  });
  return { rows, problems };
}

/** What gate evaluation reads of a measurement. */
export type Observation = Pick<Measurement, 'phase' | 'metric' | 'value' | 'sampleSize' | 'windowEnd'>;

export type CriterionStatus = 'pass' | 'fail' | 'inconclusive';

/** One criterion judged at one moment: the value it saw, over how much data, and the verdict. */
export type CriterionResult = {
  metric: Metric;
  comparator: Comparator;
  threshold: number;
  /** True when the first-month allowance replaced the threshold. */
  allowance: boolean;
  value: number | null;
  sample: number;
  measurements: number;
  status: CriterionStatus;
  reason: string;
};

/** A phase's exit gate at one moment: fail if any criterion fails, else inconclusive if any is, else pass. */
export type GateResult = {
  phase: string;
  at: string;
  status: CriterionStatus;
  criteria: CriterionResult[];
};

/** When the gate is judged and when the rollout began (the first month runs from then). */
export type GateClock = { at: string; rolloutStartedAt: string };

// Weighted means of decimal inputs carry binary noise (2.0000000000000004); judge and report at six decimals.
const round = (n: number) => Math.round(n * 1e6) / 1e6;

/** True when `value comparator threshold` holds. */
export function compare(value: number, comparator: Comparator, threshold: number): boolean {
  switch (comparator) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '==':
      return value === threshold;
  }
}

/** True while the rollout is within its first month, when allowances apply. */
export function inFirstMonth(plan: RolloutPlan, clock: GateClock): boolean {
  return Date.parse(clock.at) - Date.parse(clock.rolloutStartedAt) < plan.firstMonth;
}

type Sums = { weighted: number; sample: number; count: number; latest: { value: number; sample: number } | null };

function judge(criterion: Criterion, sums: Sums, allowance: boolean): CriterionResult {
  const threshold =
    allowance && criterion.firstMonthThreshold !== undefined ? criterion.firstMonthThreshold : criterion.threshold;
  const usedAllowance = allowance && criterion.firstMonthThreshold !== undefined;
  const latest = criterion.aggregate === 'latest';
  const sample = latest ? (sums.latest?.sample ?? 0) : sums.sample;
  const raw = latest ? (sums.latest?.value ?? null) : sums.sample > 0 ? sums.weighted / sums.sample : null;
  const value = raw === null ? null : round(raw);
  const base = {
    metric: criterion.metric,
    comparator: criterion.comparator,
    threshold,
    allowance: usedAllowance,
    value,
    sample,
    measurements: sums.count,
  };
  if (sums.count === 0) return { ...base, status: 'inconclusive', reason: 'no measurement in the window' };
  if (value === null || sample < criterion.minimumSample) {
    return {
      ...base,
      status: 'inconclusive',
      reason: `sample ${sample} is below the minimum of ${criterion.minimumSample}`,
    };
  }
  const holds = compare(value, criterion.comparator, threshold);
  return {
    ...base,
    status: holds ? 'pass' : 'fail',
    reason: `${value} ${holds ? 'meets' : 'does not meet'} ${criterion.comparator} ${threshold}`,
  };
}

/** Judges one criterion over the phase's measurements of its metric, at `clock.at`. */
export function evaluateCriterion(
  criterion: Criterion,
  observations: readonly Observation[],
  clock: GateClock,
  allowance: boolean,
): CriterionResult {
  const atMs = Date.parse(clock.at);
  const fromMs = atMs - criterion.window;
  const sums: Sums = { weighted: 0, sample: 0, count: 0, latest: null };
  let latestEnd = -Infinity;
  for (const o of observations) {
    if (o.metric !== criterion.metric) continue;
    const end = Date.parse(o.windowEnd);
    if (end <= fromMs || end > atMs) continue;
    sums.weighted += o.value * o.sampleSize;
    sums.sample += o.sampleSize;
    sums.count += 1;
    // A later-recorded measurement of the same window supersedes an earlier one for `latest`.
    if (end >= latestEnd) {
      latestEnd = end;
      sums.latest = { value: o.value, sample: o.sampleSize };
    }
  }
  return judge(criterion, sums, allowance);
}

/** Overall status: any failure fails, otherwise anything inconclusive is inconclusive, otherwise pass. */
export function overallStatus(criteria: readonly { status: CriterionStatus }[]): CriterionStatus {
  if (criteria.some((c) => c.status === 'fail')) return 'fail';
  if (criteria.some((c) => c.status === 'inconclusive')) return 'inconclusive';
  return 'pass';
}

/** Judges `phase`'s exit gate over the measurements recorded for it. Measurements of other phases are ignored. */
export function evaluateGate(
  plan: RolloutPlan,
  phase: string,
  observations: readonly Observation[],
  clock: GateClock,
): GateResult {
  const spec = phaseNamed(plan, phase);
  if (!spec) throw new RangeError(`plan has no phase "${phase}"`);
  const own = observations.filter((o) => o.phase === phase);
  const allowance = inFirstMonth(plan, clock);
  const criteria = spec.exitCriteria.map((c) => evaluateCriterion(c, own, clock, allowance));
  return { phase, at: clock.at, status: overallStatus(criteria), criteria };
}

/**
 * The first moment after `clock.at` at which a criterion's verdict would change with no new measurement: a counted
 * measurement leaves its window, one whose window ends later enters it, or the first month's allowance ends. Null
 * when nothing recorded can change the gate any more. `observations` may include measurements ending after
 * `clock.at`; each criterion's are walked once in time order with sliding sums, as what-if replays them.
 */
export function nextGateChange(
  plan: RolloutPlan,
  phase: string,
  observations: readonly Observation[],
  clock: GateClock,
): string | null {
  const spec = phaseNamed(plan, phase);
  if (!spec) throw new RangeError(`plan has no phase "${phase}"`);
  const atMs = Date.parse(clock.at);
  const monthEndMs = Date.parse(clock.rolloutStartedAt) + plan.firstMonth;
  let next = Infinity;
  for (const criterion of spec.exitCriteria) {
    const items: Timed[] = observations
      .filter((o) => o.phase === phase && o.metric === criterion.metric)
      .map((o) => ({ endMs: Date.parse(o.windowEnd), value: o.value, sampleSize: o.sampleSize }))
      .filter((m) => m.endMs > atMs - criterion.window)
      .sort((a, b) => a.endMs - b.endMs);
    const moments = new Set<number>();
    for (const m of items) {
      if (m.endMs > atMs) moments.add(m.endMs);
      moments.add(m.endMs + criterion.window);
    }
    if (criterion.firstMonthThreshold !== undefined && monthEndMs > atMs) moments.add(monthEndMs);
    const window = slider(items, criterion.window);
    window.advance(atMs);
    const now = judge(criterion, window.sums, atMs < monthEndMs).status;
    for (const t of [...moments].sort((a, b) => a - b)) {
      if (t >= next) break;
      window.advance(t);
      if (judge(criterion, window.sums, t < monthEndMs).status !== now) {
        next = t;
        break;
      }
    }
  }
  return next === Infinity ? null : new Date(next).toISOString();
}

/** The first moment after `at` at which a blackout starts or ends or the phase's soak is served; null if none. */
export function nextTimingChange(plan: RolloutPlan, phase: Phase, enteredAt: string, at: string): string | null {
  const atMs = Date.parse(at);
  const moments = [
    Date.parse(enteredAt) + phase.minimumSoak,
    ...plan.blackouts.flatMap((b) => [Date.parse(b.start), Date.parse(b.end)]),
  ].filter((t) => t > atMs);
  return moments.length === 0 ? null : new Date(Math.min(...moments)).toISOString();
}

/** The criteria that keep a gate shut, as `metric: reason` lines for a refusal message. */
export function blockingCriteria(gate: GateResult): CriterionResult[] {
  return gate.criteria.filter((c) => c.status !== 'pass');
}

/** Measurements that trigger a data-stewardship review under the plan (error rate above 2% by default). */
export function stewardshipBreaches<O extends Observation>(plan: RolloutPlan, observations: readonly O[]): O[] {
  const rule = plan.stewardship;
  return observations.filter(
    (o) => o.metric === rule.metric && o.sampleSize >= rule.minimumSample && round(o.value) > rule.above,
  );
}

/** Why a phase may not advance at `at` apart from its gate: a blackout or too short a soak. */
export function timingBlock(
  plan: RolloutPlan,
  phase: Phase,
  enteredAt: string,
  at: string,
):
  | { code: 'BLACKOUT'; message: string; until: string }
  | { code: 'SOAK_INCOMPLETE'; message: string; until: string }
  | null {
  const blackout = blackoutAt(plan, at);
  if (blackout) {
    return {
      code: 'BLACKOUT',
      message: `blackout "${blackout.name}" lasts until ${blackout.end}`,
      until: blackout.end,
    };
  }
  const soakEnd = Date.parse(enteredAt) + phase.minimumSoak;
  if (Date.parse(at) < soakEnd) {
    const until = new Date(soakEnd).toISOString();
    return { code: 'SOAK_INCOMPLETE', message: `phase ${phase.name} must soak until ${until}`, until };
  }
  return null;
}

/** One gate's replayed course under a candidate plan. */
export type WhatIfPhase = {
  phase: string;
  evaluations: number;
  firstPassAt: string | null;
  firstFailAt: string | null;
  /** First moment the phase could have advanced: gate passing, soak served, outside blackouts. Null without entry time. */
  couldAdvanceAt: string | null;
  finalStatus: CriterionStatus;
  /** Every change of status, in time order. */
  changes: { at: string; status: CriterionStatus; failing: Metric[] }[];
  /** Measurements that would have opened a stewardship review. */
  reviewTriggers: { at: string; value: number; sampleSize: number }[];
};

/** What a candidate plan would have decided over recorded measurements; nothing is changed. */
export type WhatIfResult = { phases: WhatIfPhase[]; measurements: number; unknownPhases: string[] };

/**
 * Replays recorded measurements under a candidate plan: each phase's gate is judged every time a measurement of
 * that phase ends its window, with sliding sums so a replay stays linear in the number of measurements.
 */
export function whatIf(
  plan: RolloutPlan,
  observations: readonly Observation[],
  history: { rolloutStartedAt: string; phaseEnteredAt?: Record<string, string> },
): WhatIfResult {
  const known = new Set(plan.phases.map((p) => p.name));
  const unknownPhases = [...new Set(observations.map((o) => o.phase).filter((p) => !known.has(p)))];
  const phases = plan.phases.map((phase) =>
    replayPhase(
      plan,
      phase,
      observations.filter((o) => o.phase === phase.name),
      history,
    ),
  );
  return { phases, measurements: observations.length, unknownPhases };
}

type Timed = { endMs: number; value: number; sampleSize: number };

// A sliding window over one metric's measurements sorted by end time: `advance(t)` admits everything ending at or
// before t and drops everything ending at or before t - window.
function slider(items: Timed[], window: number) {
  let head = 0;
  let tail = 0;
  const sums: Sums = { weighted: 0, sample: 0, count: 0, latest: null };
  return {
    sums,
    advance(t: number) {
      while (head < items.length && items[head].endMs <= t) {
        const m = items[head++];
        sums.weighted += m.value * m.sampleSize;
        sums.sample += m.sampleSize;
        sums.count += 1;
        sums.latest = { value: m.value, sample: m.sampleSize };
      }
      while (tail < head && items[tail].endMs <= t - window) {
        const m = items[tail++];
        sums.weighted -= m.value * m.sampleSize;
        sums.sample -= m.sampleSize;
        sums.count -= 1;
      }
      if (sums.count === 0) {
        sums.weighted = 0;
        sums.sample = 0;
        sums.latest = null;
      }
    },
  };
}

function replayPhase(
  plan: RolloutPlan,
  phase: Phase,
  own: readonly Observation[],
  history: { rolloutStartedAt: string; phaseEnteredAt?: Record<string, string> },
): WhatIfPhase {
  const byMetric = new Map<Metric, Timed[]>();
  for (const o of own) {
    const list = byMetric.get(o.metric) ?? [];
    list.push({ endMs: Date.parse(o.windowEnd), value: o.value, sampleSize: o.sampleSize });
    byMetric.set(o.metric, list);
  }
  for (const list of byMetric.values()) list.sort((a, b) => a.endMs - b.endMs);
  const sliders = phase.exitCriteria.map((c) => slider(byMetric.get(c.metric) ?? [], c.window));
  const times = [...new Set(own.map((o) => Date.parse(o.windowEnd)))].sort((a, b) => a - b);
  const enteredAt = history.phaseEnteredAt?.[phase.name];

  const result: WhatIfPhase = {
    phase: phase.name,
    evaluations: 0,
    firstPassAt: null,
    firstFailAt: null,
    couldAdvanceAt: null,
    finalStatus: 'inconclusive',
    changes: [],
    reviewTriggers: stewardshipBreaches(plan, own)
      .map((o) => ({ at: o.windowEnd, value: o.value, sampleSize: o.sampleSize }))
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at)),
  };
  let previous: CriterionStatus | null = null;
  for (const t of times) {
    const at = new Date(t).toISOString();
    const allowance = inFirstMonth(plan, { at, rolloutStartedAt: history.rolloutStartedAt });
    const criteria = phase.exitCriteria.map((c, i) => {
      sliders[i].advance(t);
      return judge(c, sliders[i].sums, allowance);
    });
    const status = overallStatus(criteria);
    result.evaluations += 1;
    if (status === 'pass') result.firstPassAt ??= at;
    if (status === 'fail') result.firstFailAt ??= at;
    if (
      status === 'pass' &&
      result.couldAdvanceAt === null &&
      enteredAt !== undefined &&
      t >= Date.parse(enteredAt) &&
      timingBlock(plan, phase, enteredAt, at) === null
    ) {
      result.couldAdvanceAt = at;
    }
    if (status !== previous) {
      result.changes.push({ at, status, failing: criteria.filter((c) => c.status === 'fail').map((c) => c.metric) });
      previous = status;
    }
    result.finalStatus = status;
  }
  return result;
}
