import { ok, type ConsoleContext, type View } from '../context';
import { html, relative, when } from '../html';
import { badge } from './common';

interface Summary {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string;
  closeTime: string | null;
  historyLength: number;
}

interface Detail extends Summary {
  taskQueue: string;
  pendingActivities: { activityId: string; type: string; state: string; attempt: number; maximumAttempts: number; lastFailure: string | null; nextAttemptTime: string | null }[];
  pendingChildren: { workflowId: string; type: string }[];
  temporalUiUrl: string | null;
}

const STATUSES = ['', 'Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut'];
const TYPES = ['', 'changeRequest', 'rollout', 'stewardshipReview', 'cutover', 'escalation'];
const tone = (s: string) => (s === 'Running' ? 'warn' : s === 'Completed' ? 'ok' : s === 'ContinuedAsNew' ? 'neutral' : 'bad');

/** `/operator`: every workflow, filtered by type, status and start time. */
export async function operatorView(ctx: ConsoleContext): Promise<View> {
  const q = ctx.req.query;
  const pick = (name: string) => (typeof q[name] === 'string' && q[name] ? (q[name] as string) : undefined);
  const params = new URLSearchParams();
  for (const name of ['type', 'status', 'startedAfter', 'pageToken']) {
    const v = pick(name);
    if (v) params.set(name, name === 'startedAfter' ? new Date(v).toISOString() : v);
  }
  const page = ok<{ items: Summary[]; nextPageToken: string | null }>(await ctx.api.get(`/workflows?${params}`));
  const next = new URLSearchParams(params);
  if (page.nextPageToken) next.set('pageToken', page.nextPageToken);
  return {
    title: 'Workflows',
    active: '/operator',
    body: html`
      <form method="get" action="/operator" class="filters">
        <label>Type <select name="type">${TYPES.map((t) => html`<option value="${t}" ${t === (pick('type') ?? '') ? 'selected' : ''}>${t || 'any'}</option>`)}</select></label>
        <label>Status <select name="status">${STATUSES.map((s) => html`<option value="${s}" ${s === (pick('status') ?? '') ? 'selected' : ''}>${s || 'any'}</option>`)}</select></label>
        <label>Started after <input type="datetime-local" name="startedAfter" value="${pick('startedAfter') ?? ''}" /></label>
        <button type="submit">Filter</button>
      </form>
      <table>
        <thead><tr><th>Workflow</th><th>Type</th><th>Status</th><th>Started</th><th>Closed</th><th>Events</th></tr></thead>
        <tbody>${page.items.map(
          (w) => html`<tr>
            <td><a href="/operator/workflows/${encodeURIComponent(w.workflowId)}?runId=${w.runId}">${w.workflowId}</a></td>
            <td>${w.type}</td><td>${badge(w.status, tone(w.status))}</td>
            <td>${when(w.startTime)}</td><td>${when(w.closeTime)}</td><td>${w.historyLength}</td></tr>`,
        )}</tbody>
      </table>
      ${page.nextPageToken ? html`<p><a href="/operator?${next}">Next page</a></p>` : null}`,
  };
}

/** `/operator/workflows/{id}`: one execution: pending work with attempts and failures, and its history as a timeline. */
export async function workflowView(ctx: ConsoleContext): Promise<View> {
  const id = encodeURIComponent(ctx.req.params.workflowId as string);
  const run = typeof ctx.req.query.runId === 'string' ? `?runId=${encodeURIComponent(ctx.req.query.runId)}` : '';
  const [detail, timeline] = await Promise.all([ctx.api.get(`/workflows/${id}${run}`), ctx.api.get(`/workflows/${id}/history${run}`)]);
  const w = ok<Detail>(detail);
  const { events } = ok<{ events: { eventId: string; type: string; time: string; who: string | null; summary: string }[] }>(timeline);
  return {
    title: w.workflowId,
    active: '/operator',
    body: html`
      <p class="meta">${w.type} ${badge(w.status, tone(w.status))} on ${w.taskQueue} · run ${w.runId} · started ${when(w.startTime)}
        ${w.temporalUiUrl ? html` · <a href="${w.temporalUiUrl}">open in Temporal UI</a>` : null}</p>
      <h2>Pending activities</h2>
      ${w.pendingActivities.length
        ? html`<table><thead><tr><th>Activity</th><th>State</th><th>Attempt</th><th>Last failure</th><th>Next attempt</th></tr></thead>
            <tbody>${w.pendingActivities.map((a) => html`<tr><td>${a.type} (${a.activityId})</td><td>${a.state}</td><td>${a.attempt}${a.maximumAttempts ? ` of ${a.maximumAttempts}` : ''}</td><td>${a.lastFailure ?? '—'}</td><td>${a.nextAttemptTime ? relative(a.nextAttemptTime) : '—'}</td></tr>`)}</tbody></table>`
        : html`<p class="muted">None.</p>`}
      ${w.pendingChildren.length ? html`<h2>Child workflows</h2><ul>${w.pendingChildren.map((c) => html`<li><a href="/operator/workflows/${encodeURIComponent(c.workflowId)}">${c.workflowId}</a> (${c.type})</li>`)}</ul>` : null}
      <h2>History</h2>
      <table class="timeline-table">
        <thead><tr><th>#</th><th>Event</th><th>Time</th><th>Who</th><th>What</th></tr></thead>
        <tbody>${events.map((e) => html`<tr><td>${e.eventId}</td><td>${e.type}</td><td>${e.time.slice(11, 23)}</td><td>${e.who ?? ''}</td><td class="summary">${e.summary}</td></tr>`)}</tbody>
      </table>`,
  };
}
