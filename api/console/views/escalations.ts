import { barChart } from '../charts';
import { ok, type ConsoleContext, type View } from '../context';
import { html, money, relative } from '../html';
import { badge } from './common';

interface Escalation {
  id: string;
  title: string;
  severity: string;
  status: string;
  level: number;
  levelName: string | null;
  topLevel: number;
  owner: string;
  responsible: string | null;
  costRoute: string | null;
  costCents: number;
  acknowledgeBy: string | null;
  resolveBy: string | null;
  slaBreachedAt: string | null;
}

interface Report {
  levels: { level: number; acknowledge: { count: number; medianMs: number | null; p90Ms: number | null }; resolve: { count: number; medianMs: number | null; p90Ms: number | null } }[];
  breachesByMonth: { month: string; count: number }[];
}

const hours = (ms: number | null) => (ms === null ? null : ms / 3_600_000);

/** `/escalations`: open ladders with level, owner and time left; the response-time report as charts. */
export async function escalationsView(ctx: ConsoleContext): Promise<View> {
  const [open, acknowledged, report] = await Promise.all([
    ctx.api.get('/escalations?status=open&limit=100'),
    ctx.api.get('/escalations?status=acknowledged&limit=100'),
    ctx.api.get('/reports/escalations'),
  ]);
  const items = [...ok<{ items: Escalation[] }>(open).items, ...ok<{ items: Escalation[] }>(acknowledged).items];
  const r = ok<Report>(report);
  const left = (e: Escalation) => (e.status === 'open' ? e.acknowledgeBy : e.resolveBy);
  items.sort((a, b) => (left(a) ?? '9999').localeCompare(left(b) ?? '9999'));
  return {
    title: 'Escalations',
    active: '/escalations',
    body: html`
      ${items.length
        ? html`<table>
            <thead><tr><th>Issue</th><th>Severity</th><th>Status</th><th>Level</th><th>Answer owed by</th><th>Time left</th><th>Costs</th></tr></thead>
            <tbody>${items.map((e) => {
              const due = left(e);
              const late = due !== null && Date.parse(due) < Date.now();
              return html`<tr>
                <td>${e.title}</td><td>${badge(e.severity, e.severity === 'critical' ? 'bad' : 'neutral')}</td>
                <td>${badge(e.status)} ${e.slaBreachedAt ? badge('SLA breached', 'bad') : null}</td>
                <td>${e.level} of ${e.topLevel}${e.levelName ? ` (${e.levelName})` : ''}</td>
                <td>${e.responsible ?? e.owner}</td>
                <td class="${late ? 'late' : ''}">${relative(due)} ${e.status === 'open' ? 'to acknowledge' : 'to resolve'}</td>
                <td>${e.costCents ? `${money(e.costCents / 100, 'USD')} → ${e.costRoute}` : '—'}</td>
              </tr>`;
            })}</tbody>
          </table>`
        : html`<p class="muted">No open escalation.</p>`}
      <h2>Response times</h2>
      <div class="charts">
        ${barChart({ title: 'Median time to acknowledge, per level', unit: 'h', bars: r.levels.map((l) => ({ label: `level ${l.level}`, value: hours(l.acknowledge.medianMs), note: `p90 ${hours(l.acknowledge.p90Ms)?.toFixed(2) ?? '—'} h, n=${l.acknowledge.count}` })) })}
        ${barChart({ title: 'Median time to resolve, per level', unit: 'h', bars: r.levels.map((l) => ({ label: `level ${l.level}`, value: hours(l.resolve.medianMs), note: `p90 ${hours(l.resolve.p90Ms)?.toFixed(2) ?? '—'} h, n=${l.resolve.count}` })) })}
        ${barChart({ title: 'SLA breaches per month', unit: '', bars: r.breachesByMonth.map((m) => ({ label: m.month, value: m.count })) })}
      </div>`,
  };
}
