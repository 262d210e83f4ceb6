import { DISCREPANCY_KINDS } from '../../../domain/reconcile';
import { thresholdChart } from '../charts';
import { ok, type ConsoleContext, type View } from '../context';
import { html, relative, when } from '../html';
import { badge, stakeLine, stakeOf } from './common';
import { Cutover as CutoverSchema, DiscrepancyPage as DiscrepancyPageSchema } from '../../routes/cutovers/schemas';
import type { z } from '../../schemas';

// The console reads what the API answers, so its types are the API's own schemas.
type Cutover = z.output<typeof CutoverSchema>;
type DiscrepancyPage = z.output<typeof DiscrepancyPageSchema>;

/** `/cutovers`: every parallel run with its state and clean streak. */
export async function cutoversView(ctx: ConsoleContext): Promise<View> {
  const { items } = ok<{ items: { id: string; status: string; cleanStreak?: number; changeRequestId: string; updatedAt: string }[] }>(await ctx.api.get('/cutovers?limit=100'));
  return {
    title: 'Cutovers',
    active: '/cutovers',
    body: items.length
      ? html`<table><thead><tr><th>Cutover</th><th>State</th><th>Clean streak</th><th>Updated</th></tr></thead>
          <tbody>${items.map((c) => html`<tr><td><a href="/cutovers/${c.id}">${c.id.slice(0, 8)}</a></td><td>${badge(c.status)}</td><td>${c.cleanStreak ?? '—'}</td><td>${relative(c.updatedAt)}</td></tr>`)}</tbody></table>`
      : html`<p class="muted">No cutovers yet.</p>`,
  };
}

/** `/cutovers/{id}`: the discrepancy rate per window against the threshold, the streak, rehearsal, drill-down. */
export async function cutoverView(ctx: ConsoleContext): Promise<View> {
  const id = encodeURIComponent(ctx.req.params.id as string);
  const c = ok<Cutover>(await ctx.api.get(`/cutovers/${id}`));
  const threshold = c.rules.thresholds.maxDiscrepancyRate;
  const drill = typeof ctx.req.query.window === 'string' ? ctx.req.query.window : c.windows.at(-1)?.window;
  const kind = typeof ctx.req.query.kind === 'string' ? ctx.req.query.kind : '';
  const [page, cr] = await Promise.all([
    drill ? ctx.api.get(`/cutovers/${id}/windows/${encodeURIComponent(drill)}/discrepancies?limit=50${kind ? `&kind=${encodeURIComponent(kind)}` : ''}`) : null,
    ctx.api.get(`/change-requests/${c.changeRequestId}`),
  ]);
  const discrepancies = page?.status === 200 ? (page.body as DiscrepancyPage) : null;
  const stake = await stakeOf(ctx, cr.status === 200 ? (cr.body as { affectedSystems: string[] }).affectedSystems : [], 1);
  return {
    title: `Cutover ${c.id.slice(0, 8)}`,
    active: '/cutovers',
    body: html`
      <p class="meta">${badge(c.status)} clean streak <strong>${c.cleanStreak}</strong> of ${c.rules.cleanWindowsRequired} needed
        ${c.status === 'switched' ? html` · watch ${c.watchClean} of ${c.rules.watchWindows}` : null} · opened ${when(c.openedAt)}</p>
      <p>Money at stake per day of delay: ${stakeLine(stake, 'for one day')}</p>
      ${thresholdChart({
        title: `Discrepancy rate per window (threshold ${threshold})`,
        points: c.windows.map((w) => ({ label: w.window, value: w.rate })),
        threshold,
        passes: (v) => v <= threshold,
      })}
      <table>
        <thead><tr><th>Window</th><th>Phase</th><th>Rate</th><th>Verdict</th><th>Counts</th></tr></thead>
        <tbody>${c.windows.map(
          (w) => html`<tr>
            <td><a href="/cutovers/${c.id}?window=${encodeURIComponent(w.window)}">${w.window}</a></td><td>${w.phase}</td><td>${w.rate}</td>
            <td>${w.clean ? badge('clean', 'ok') : badge('spike', 'bad')} ${w.reasons.join('; ')}</td>
            <td>${Object.entries(w.counts).map(([k, n]) => `${k} ${n}`).join(' · ')}</td></tr>`,
        )}</tbody>
      </table>
      ${c.pending.length ? html`<p>Reconciling: ${c.pending.join(', ')}</p>` : null}
      ${Object.entries(c.failed).map(([w, f]) => html`<p>${badge('failed', 'bad')} window ${w} could not be reconciled (${when(f.at)}): ${f.message}. Queue it again to retry.</p>`)}
      ${Object.entries(c.invalid).map(([w, v]) => html`<p>${badge('refused', 'warn')} window ${w}: ${v.problemCount} malformed rows; upload it again.</p>`)}
      <h2>Fallback rehearsal</h2>
      ${c.rehearsal
        ? html`<p>${badge(c.rehearsal.passed ? 'passed' : 'failed', c.rehearsal.passed ? 'ok' : 'bad')} by ${c.rehearsal.by}, ${when(c.rehearsal.at)}</p>
            <ul>${c.rehearsal.steps.map((s) => html`<li>${s.passed ? '✓' : '✗'} ${s.step}${s.note ? html` — ${s.note}` : null}</li>`)}</ul>`
        : html`<p>${badge('not rehearsed', 'warn')} switching is refused until the fallback (${c.rules.fallbackSteps.join(', ')}) has passed a rehearsal.</p>`}
      <p>Switch approvals: lead ${c.switchRequest.lead ? `${c.switchRequest.lead.by}` : '—'}, chair ${c.switchRequest.chair ? `${c.switchRequest.chair.by}` : '—'}</p>
      <h2>Discrepancies ${drill ? html`in window ${drill}` : null}</h2>
      ${discrepancies
        ? html`<p class="filters">${['', ...DISCREPANCY_KINDS].map(
            (k) => html`<a href="/cutovers/${c.id}?window=${encodeURIComponent(drill ?? '')}${k ? `&kind=${k}` : ''}" class="${k === kind ? 'active' : ''}">${k || 'all'}</a> `,
          )}</p>
          <table><thead><tr><th>Key</th><th>Kind</th><th>Fields</th><th>Lines (legacy / new)</th></tr></thead>
          <tbody>${discrepancies.items.map((d) => html`<tr><td>${d.key}</td><td>${d.critical ? badge(d.kind, 'bad') : d.kind}</td><td>${d.fields.join(', ')}</td><td>${d.legacyLine ?? '—'} / ${d.newLine ?? '—'}</td></tr>`)}</tbody></table>
          ${discrepancies.nextCursor ? html`<p class="muted">First 50 shown; the API pages the rest.</p>` : null}`
        : html`<p class="muted">No reconciled window to drill into yet.</p>`}`,
  };
}
