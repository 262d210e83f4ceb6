/** One step's response times as projected from an escalation; null where the step never got that far. */
export type TimingSample = { level: number; timeToAcknowledgeMs: number | null; timeToResolveMs: number | null };

export type Summary = { count: number; medianMs: number | null; p90Ms: number | null };
export type LevelReport = { level: number; acknowledge: Summary; resolve: Summary };
export type EscalationReport = { levels: LevelReport[]; breachesByMonth: { month: string; count: number }[] };

function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The middle value, or the mean of the two middle values for an even count; null when there are none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = sorted(values);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Nearest-rank percentile: the smallest value with at least p% of the values at or below it. It always reports a
 * time that really happened, which is what someone held to a response window can check.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = sorted(values);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1];
}

function summarize(values: readonly number[]): Summary {
  return { count: values.length, medianMs: median(values), p90Ms: percentile(values, 90) };
}

/** Median and p90 time to acknowledge and resolve per level, and window breaches per calendar month (UTC). */
export function escalationReport(
  samples: readonly TimingSample[],
  breaches: readonly { dueAt: string }[],
): EscalationReport {
  const levels = [...new Set(samples.map((s) => s.level))].sort((a, b) => a - b);
  const present = (values: (number | null)[]) => values.filter((v): v is number => v !== null);
  const counts = new Map<string, number>();
  for (const b of breaches) {
    const month = new Date(Date.parse(b.dueAt)).toISOString().slice(0, 7);
    counts.set(month, (counts.get(month) ?? 0) + 1);
  }
  return {
    levels: levels.map((level) => {
      const atLevel = samples.filter((s) => s.level === level);
      return {
        level,
        acknowledge: summarize(present(atLevel.map((s) => s.timeToAcknowledgeMs))),
        resolve: summarize(present(atLevel.map((s) => s.timeToResolveMs))),
      };
    }),
    breachesByMonth: [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([month, count]) => ({ month, count })),
  };
}
