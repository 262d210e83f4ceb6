import { escape, raw, type Html } from './html';

/** One point of a series: an x label and a value. */
export interface Point {
  label: string;
  value: number;
}

const W = 520;
const H = 180;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4);
}

/**
 * A line chart of a metric against its threshold: points above the passing side are drawn red.
 * `passes(v)` says which side of the threshold passes. Pure SVG, no script.
 */
export function thresholdChart(opts: { title: string; points: Point[]; threshold: number; passes: (v: number) => boolean; unit?: string }): Html {
  const { points, threshold } = opts;
  const values = [...points.map((p) => p.value), threshold];
  const max = Math.max(...values) * 1.15 || 1;
  const min = Math.min(0, ...values);
  const x = (i: number) => PAD.left + (points.length <= 1 ? 0.5 : i / (points.length - 1)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - (v - min) / (max - min)) * (H - PAD.top - PAD.bottom);
  const line = points.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const dots = points
    .map(
      (p, i) =>
        `<circle cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3.5" class="${opts.passes(p.value) ? 'pass' : 'fail'}"><title>${escape(p.label)}: ${escape(fmt(p.value))}${escape(opts.unit ?? '')}</title></circle>`,
    )
    .join('');
  const labels = points
    .map((p, i) => (points.length > 8 && i % Math.ceil(points.length / 8) ? '' : `<text x="${x(i).toFixed(1)}" y="${H - 8}" class="axis" text-anchor="${points.length > 1 && i === points.length - 1 ? 'end' : i === 0 && points.length > 1 ? 'start' : 'middle'}">${escape(p.label)}</text>`))
    .join('');
  const ty = y(threshold).toFixed(1);
  return raw(
    `<figure class="chart"><figcaption>${escape(opts.title)}</figcaption>` +
      `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escape(opts.title)}">` +
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${ty}" y2="${ty}" class="threshold"/>` +
      `<text x="${W - PAD.right}" y="${Number(ty) - 4}" class="axis" text-anchor="end">threshold ${escape(fmt(threshold))}${escape(opts.unit ?? '')}</text>` +
      `<text x="${PAD.left - 6}" y="${PAD.top + 8}" class="axis" text-anchor="end">${escape(fmt(max))}</text>` +
      `<text x="${PAD.left - 6}" y="${H - PAD.bottom}" class="axis" text-anchor="end">${escape(fmt(min))}</text>` +
      (points.length ? `<path d="${line}" class="series"/>${dots}${labels}` : `<text x="${W / 2}" y="${H / 2}" class="axis" text-anchor="middle">no data yet</text>`) +
      `</svg></figure>`,
  );
}

/** Horizontal bars (e.g. median response time per level), labelled with their values. */
export function barChart(opts: { title: string; bars: { label: string; value: number | null; note?: string }[]; unit: string }): Html {
  const max = Math.max(1, ...opts.bars.map((b) => b.value ?? 0));
  const rowH = 24;
  const h = Math.max(1, opts.bars.length) * rowH + 8;
  const rows = opts.bars
    .map((b, i) => {
      const w = b.value === null ? 0 : (b.value / max) * (W - 200);
      const text = b.value === null ? 'no data' : `${fmt(b.value)} ${opts.unit}${b.note ? ` · ${b.note}` : ''}`;
      return `<text x="0" y="${i * rowH + 16}" class="axis">${escape(b.label)}</text><rect x="110" y="${i * rowH + 4}" width="${w.toFixed(1)}" height="16" class="bar"/><text x="${(116 + w).toFixed(1)}" y="${i * rowH + 16}" class="axis">${escape(text)}</text>`;
    })
    .join('');
  return raw(`<figure class="chart"><figcaption>${escape(opts.title)}</figcaption><svg viewBox="0 0 ${W} ${h}" role="img" aria-label="${escape(opts.title)}">${rows}</svg></figure>`);
}
