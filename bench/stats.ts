/** The p-th percentile (0..100) of samples, nearest rank. */
export function percentile(samples: number[], p: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Per-task latencies in ms and the wall time of a driven run. */
export interface DriveResult {
  latencies: number[];
  seconds: number;
}

/** Runs `task(i)` for i < total with `concurrency` workers; returns per-task latencies in ms and wall time. */
export async function drive(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<DriveResult> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        await task(i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - t0) / 1000 };
}

/** Formats a throughput/latency line. */
export function report(name: string, total: number, r: DriveResult): string {
  const rate = total / r.seconds;
  return `${name}: ${total} in ${r.seconds.toFixed(1)} s = ${rate.toFixed(0)}/s, p50 ${percentile(r.latencies, 50).toFixed(1)} ms, p99 ${percentile(r.latencies, 99).toFixed(1)} ms`;
}
