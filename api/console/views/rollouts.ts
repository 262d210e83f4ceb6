import { thresholdChart } from '../charts';
import { field, ok, withMessage, type ConsoleContext, type View } from '../context';
import { html, relative, when } from '../html';
import { csrfField } from '../layout';
import { badge, stakeLine, stakeOf } from './common';

interface Criterion {
  metric: string;
  comparator: string;
  threshold: number;
  allowance: boolean;
  value: number | null;
  sample: number;
  status: 'pass' | 'fail' | 'inconclusive';
  reason: string;
}

interface Review {
  id: string;
  phase: string;
  dueAt: string;
  status: string;
  trigger: { value: number };
  overdueAt: string | null;
  escalationId: string | null;
}

interface Rollout {
  id: string;
  changeRequestId: string;
  status: string;
  phase: string;
  phaseIndex: number;
  phases: string[];
  phaseEnteredAt: string;
  holdReason: string | null;
  gate: { at: string; status: string; criteria: Criterion[] } | null;
  readiness: { ready: boolean; blockers: { code: string; message: string; until?: string }[] };
  openReviews: Review[];
  visits: { phase: string; enteredAt: string; leftAt: string | null; leftBecause: string | null }[];
}

interface Point {
  metric: string;
  value: number;
  windowEnd: string;
}

const TONE = { pass: 'ok', fail: 'bad', inconclusive: 'warn' } as const;

const COMPARE: Record<string, (v: number, t: number) => boolean> = {
  '<': (v, t) => v < t,
  '<=': (v, t) => v <= t,
  '>': (v, t) => v > t,
  '>=': (v, t) => v >= t,
  '==': (v, t) => v === t,
};

/** `/rollouts`: every rollout with its phase and gate. */
export async function rolloutsView(ctx: ConsoleContext): Promise<View> {
  const { items } = ok<{ items: { id: string; changeRequestId: string; status: string; phase: string; gateStatus: string | null; readyToAdvance: boolean; updatedAt: string }[] }>(
    await ctx.api.get('/rollouts?limit=100'),
  );
  return {
    title: 'Rollouts',
    active: '/rollouts',
    body: items.length
      ? html`<table>
          <thead><tr><th>Rollout</th><th>Status</th><th>Phase</th><th>Gate</th><th>Updated</th></tr></thead>
          <tbody>${items.map(
            (r) => html`<tr>
              <td><a href="/rollouts/${r.id}">${r.id.slice(0, 8)}</a></td>
              <td>${badge(r.status)}</td>
              <td>${r.phase}</td>
              <td>${r.gateStatus ? badge(r.gateStatus, TONE[r.gateStatus as keyof typeof TONE] ?? 'neutral') : '—'} ${r.readyToAdvance ? badge('ready to advance', 'ok') : null}</td>
              <td>${relative(r.updatedAt)}</td>
            </tr>`,
          )}</tbody>
        </table>`
      : html`<p class="muted">No rollouts yet.</p>`,
  };
}

/** `/rollouts/{id}`: phases as a timeline, each criterion charted against its threshold, reviews, actions. */
export async function rolloutView(ctx: ConsoleContext): Promise<View> {
  const id = encodeURIComponent(ctx.req.params.id as string);
  const r = ok<Rollout>(await ctx.api.get(`/rollouts/${id}`));
  const [series, cr] = await Promise.all([
    ok<{ items: Point[] }>(await ctx.api.get(`/rollouts/${id}/measurements?phase=${encodeURIComponent(r.phase)}`)),
    ctx.api.get(`/change-requests/${r.changeRequestId}`),
  ]);
  const systems = cr.status === 200 ? (cr.body as { affectedSystems: string[] }).affectedSystems : [];
  const stake = await stakeOf(ctx, systems, 1);
  const criteria = r.gate?.criteria ?? [];
  const blockers = r.readiness.blockers;
  return {
    title: `Rollout ${r.id.slice(0, 8)}`,
    active: '/rollouts',
    body: html`
      <p class="meta">${badge(r.status)} phase <strong>${r.phase}</strong> since ${when(r.phaseEnteredAt)} (${relative(r.phaseEnteredAt)})
        ${r.holdReason ? html` · held: ${r.holdReason}` : null}</p>
      <p>Money at stake if its systems stall: ${stakeLine(stake, 'for one day')}</p>
      <ol class="timeline">${r.phases.map((p, i) => {
        const visit = [...r.visits].reverse().find((v) => v.phase === p);
        const state = i < r.phaseIndex ? 'done' : i === r.phaseIndex ? 'current' : 'todo';
        return html`<li class="${state}"><strong>${p}</strong><span class="muted">${visit ? when(visit.enteredAt) : 'not yet'}</span></li>`;
      })}</ol>
      <h2>Gate of ${r.phase} ${r.gate ? badge(r.gate.status, TONE[r.gate.status as keyof typeof TONE] ?? 'neutral') : badge('not evaluated')}</h2>
      <table class="criteria">
        <thead><tr><th>Criterion</th><th>Latest</th><th>Sample</th><th>Verdict</th><th>Why</th></tr></thead>
        <tbody>${criteria.map(
          (c) => html`<tr id="criterion-${c.metric}">
            <td>${c.metric} ${c.comparator} ${c.threshold}${c.allowance ? html` ${badge('first-month allowance', 'warn')}` : null}</td>
            <td>${c.value ?? '—'}</td><td>${c.sample}</td>
            <td>${badge(c.status, TONE[c.status])}</td><td>${c.reason}</td>
          </tr>`,
        )}</tbody>
      </table>
      <div class="charts">${criteria.map((c) =>
        thresholdChart({
          title: `${c.metric} (${c.comparator} ${c.threshold})`,
          points: series.items.filter((p) => p.metric === c.metric).map((p) => ({ label: p.windowEnd.slice(5, 16).replace('T', ' '), value: p.value })),
          threshold: c.threshold,
          passes: (v) => (COMPARE[c.comparator] ?? (() => true))(v, c.threshold),
        }),
      )}</div>
      <h2>Stewardship reviews</h2>
      ${r.openReviews.length
        ? html`<ul>${r.openReviews.map((v) => html`<li>${badge('open', 'warn')} ${v.phase}: error rate ${v.trigger.value}, due ${relative(v.dueAt)}${v.escalationId ? html` · escalated` : null}</li>`)}</ul>`
        : html`<p class="muted">No open review.</p>`}
      <h2>Actions</h2>
      ${blockers.length
        ? html`<ul class="blockers">${blockers.map((b) => html`<li>${badge(b.code, 'bad')} ${b.message}${b.until ? html` (until ${when(b.until)})` : null}</li>`)}</ul>`
        : html`<p>${badge('ready to advance', 'ok')}</p>`}
      <div class="actions">
        <form method="post" action="/rollouts/${r.id}/advance">${csrfField(ctx.csrf)}
          <input type="hidden" name="from" value="${r.phase}" />
          <label>Override reason (ccb-chair only) <input name="override" /></label>
          <button type="submit">Advance</button></form>
        <form method="post" action="/rollouts/${r.id}/hold">${csrfField(ctx.csrf)}
          <label>Reason <input name="reason" required /></label><button type="submit">Hold</button></form>
        <form method="post" action="/rollouts/${r.id}/resume">${csrfField(ctx.csrf)}<button type="submit">Resume</button></form>
        <form method="post" action="/rollouts/${r.id}/rollback">${csrfField(ctx.csrf)}
          <label>To <select name="to"><option value="previous">previous phase</option><option value="start">the start</option></select></label>
          <label>Reason <input name="reason" required /></label><button type="submit" class="reject">Roll back</button></form>
      </div>`,
  };
}

export const rolloutActions = {
  /** advance / hold / resume / rollback through the rollout API. */
  async act(ctx: ConsoleContext): Promise<string> {
    const id = ctx.req.params.id as string;
    const action = ctx.req.params.action as string;
    const bodies: Record<string, () => object> = {
      advance: () => {
        const reason = field(ctx.req, 'override');
        return { from: field(ctx.req, 'from') || undefined, ...(reason ? { override: { reason } } : {}) };
      },
      hold: () => ({ reason: field(ctx.req, 'reason') }),
      resume: () => ({}),
      rollback: () => ({ to: field(ctx.req, 'to') || 'previous', reason: field(ctx.req, 'reason') }),
    };
    const body = bodies[action];
    const here = `/rollouts/${encodeURIComponent(id)}`;
    if (!body) return withMessage(here, 'error', `unknown action ${action}`);
    const r = ok<Rollout>(await ctx.api.post(`/rollouts/${encodeURIComponent(id)}/${action}`, body()));
    return withMessage(here, 'notice', `${action} done: the rollout is ${r.status} in phase ${r.phase}.`);
  },
};
