import { ok, type ConsoleContext, type View } from '../context';
import { html, relative } from '../html';
import { badge } from './common';

interface InboxItem {
  kind?: string;
  action: string;
  roles: string[];
  dueAt?: string | null;
  changeRequest?: { id: string; title: string; slaDueAt: string | null };
  rollout?: { id: string; title?: string; name?: string; currentPhase?: string };
  review?: { id: string; rolloutId?: string; dueAt?: string };
  escalation?: { id: string; title: string; level: number; responsible: string };
}

/** Where an inbox item is acted on in the console. */
function target(item: InboxItem): { href: string; label: string } {
  if (item.changeRequest) {
    const anchor = item.action === 'retrospective' ? `#retro-${item.changeRequest.id}` : item.action === 'decide' ? `#cr-${item.changeRequest.id}` : '';
    return { href: `/board${anchor}`, label: item.changeRequest.title };
  }
  if (item.rollout) return { href: `/rollouts/${item.rollout.id}`, label: item.rollout.title ?? item.rollout.name ?? item.rollout.id };
  if (item.review) return { href: item.review.rolloutId ? `/rollouts/${item.review.rolloutId}` : '/rollouts', label: `stewardship review ${item.review.id.slice(0, 8)}` };
  if (item.escalation) return { href: '/escalations', label: `${item.escalation.title} (level ${item.escalation.level})` };
  return { href: '/', label: item.kind ?? 'item' };
}

/** `/`: everything the user can act on now, soonest deadline first. */
export async function inboxView(ctx: ConsoleContext): Promise<View> {
  const { items } = ok<{ items: InboxItem[] }>(await ctx.api.get('/inbox'));
  const due = (i: InboxItem) => i.dueAt ?? i.changeRequest?.slaDueAt ?? null;
  const sorted = [...items].sort((a, b) => (due(a) ?? '9999').localeCompare(due(b) ?? '9999'));
  return {
    title: 'Your inbox',
    active: '/',
    body: sorted.length
      ? html`<table>
          <thead><tr><th>What</th><th>Action</th><th>As</th><th>Due</th></tr></thead>
          <tbody>
            ${sorted.map((i) => {
              const t = target(i);
              const d = due(i);
              return html`<tr>
                <td><a href="${t.href}">${t.label}</a> ${badge(i.kind ?? 'change-request')}</td>
                <td>${i.action}</td>
                <td>${i.roles.join(', ') || 'you'}</td>
                <td class="${d && Date.parse(d) < Date.now() ? 'late' : ''}">${relative(d)}</td>
              </tr>`;
            })}
          </tbody>
        </table>`
      : html`<p class="muted">Nothing waits for you right now.</p>`,
  };
}
