import { field, ok, withMessage, type ConsoleContext, type View } from '../context';
import { html, relative, safeUrl, when } from '../html';
import { csrfField } from '../layout';
import { badge, daysUntil, stakeLine, stakeOf } from './common';

interface Vote {
  round: number;
  role: string;
  decision: string;
  reason?: string;
  by: string;
  at: string;
}

interface ChangeRequest {
  id: string;
  title: string;
  description: string;
  class: string;
  risk: string;
  affectedSystems: string[];
  requester: string;
  status: string;
  round: number;
  votes: Vote[];
  evidence: { kind: string; title: string; uri?: string }[];
  pendingRoles: string[];
  missingEvidence: string[];
  slaDueAt: string | null;
  closedAt: string | null;
  retrospective: { dueAt: string; owner: string; overdueAt: string | null } | null;
}

type InboxItem = { kind?: string; action: string; roles: string[]; changeRequest?: { id: string } };

const DECISIONS = [
  ['approve', 'Approve'],
  ['request_changes', 'Request changes'],
  ['reject', 'Reject'],
] as const;

function card(ctx: ConsoleContext, cr: ChangeRequest, stake: Awaited<ReturnType<typeof stakeOf>>, roles: string[]) {
  const slaDays = daysUntil(cr.slaDueAt);
  const late = cr.slaDueAt !== null && Date.parse(cr.slaDueAt) < Date.now();
  return html`<article class="card" id="cr-${cr.id}">
    <h2>${cr.title}</h2>
    <p class="meta">
      ${badge(cr.class)} ${badge(`risk ${cr.risk}`, cr.risk === 'high' || cr.risk === 'critical' ? 'bad' : cr.risk === 'medium' ? 'warn' : 'ok')}
      round ${cr.round} · requested by ${cr.requester} · decision due <span class="${late ? 'late' : ''}">${relative(cr.slaDueAt)}</span> (${when(cr.slaDueAt)})
    </p>
    <p>${cr.description}</p>
    <dl>
      <dt>Affected systems</dt><dd>${cr.affectedSystems.join(', ')}</dd>
      <dt>Money at stake</dt><dd class="stake">${stakeLine(stake, `by the deadline, ${slaDays.toFixed(1)} days`)}</dd>
      <dt>Evidence</dt>
      <dd>${cr.evidence.length ? html`<ul>${cr.evidence.map((e) => {
        const href = safeUrl(e.uri);
        return html`<li>${badge(e.kind)} ${href ? html`<a href="${href}" rel="noreferrer noopener">${e.title}</a>` : e.title}</li>`;
      })}</ul>` : 'none'}
        ${cr.missingEvidence.length ? html`<p class="late">missing: ${cr.missingEvidence.join(', ')}</p>` : null}</dd>
      <dt>Votes this round</dt>
      <dd>${cr.votes.length ? html`<ul>${cr.votes.map((v) => html`<li>${v.decision} as ${v.role} by ${v.by}${v.reason ? html` — “${v.reason}”` : null}</li>`)}</ul>` : 'none yet'}</dd>
      <dt>Still needed</dt><dd>${cr.pendingRoles.join(', ') || 'quorum reached'}</dd>
    </dl>
    <form method="post" action="/board/${cr.id}/decide" class="decide">
      ${csrfField(ctx.csrf)}
      <label>As <select name="role">${roles.map((r) => html`<option value="${r}">${r}</option>`)}</select></label>
      <label>Reason <textarea name="reason" rows="2" placeholder="required to reject or request changes"></textarea></label>
      <div class="buttons">${DECISIONS.map(([value, label]) => html`<button type="submit" name="decision" value="${value}" class="${value}">${label}</button>`)}</div>
    </form>
  </article>`;
}

/** An approved emergency change whose retrospective review the user's role owes, with the form to record it. */
function retrospectiveCard(ctx: ConsoleContext, cr: ChangeRequest) {
  const due = cr.retrospective!.dueAt;
  return html`<article class="card" id="retro-${cr.id}">
    <h2>${cr.title}</h2>
    <p class="meta">
      ${badge(cr.class)} ${badge('retrospective review', 'warn')}
      approved ${when(cr.closedAt)} · requested by ${cr.requester} · review due <span class="${Date.parse(due) < Date.now() ? 'late' : ''}">${relative(due)}</span> (${when(due)})
    </p>
    <p>${cr.description}</p>
    <dl>
      <dt>Affected systems</dt><dd>${cr.affectedSystems.join(', ')}</dd>
      <dt>Approved by</dt>
      <dd><ul>${cr.votes.map((v) => html`<li>${v.role}: ${v.by}${v.reason ? html` — “${v.reason}”` : null}</li>`)}</ul></dd>
    </dl>
    <form method="post" action="/board/${cr.id}/retrospective" class="decide">
      ${csrfField(ctx.csrf)}
      <label>Findings <textarea name="notes" rows="3" required placeholder="what the review found"></textarea></label>
      <div class="buttons">${RETROSPECTIVE_OUTCOMES.map(([value, label]) => html`<button type="submit" name="outcome" value="${value}" class="${value === 'ratified' ? 'approve' : 'request_changes'}">${label}</button>`)}</div>
    </form>
  </article>`;
}

const RETROSPECTIVE_OUTCOMES = [
  ['ratified', 'Ratify'],
  ['follow_up_required', 'Follow-up required'],
] as const;

/**
 * `/board`: change requests awaiting one of the user's roles, with what a slow decision costs, decided in place;
 * then approved emergency changes whose retrospective review the user's role owes, recorded in place.
 */
export async function boardView(ctx: ConsoleContext): Promise<View> {
  const { items } = ok<{ items: InboxItem[] }>(await ctx.api.get('/inbox'));
  const read = async (i: InboxItem) => ok<ChangeRequest>(await ctx.api.get(`/change-requests/${i.changeRequest!.id}`));
  const cards = await Promise.all(
    items
      .filter((i) => i.changeRequest && i.action === 'decide')
      .map(async (i) => {
        const cr = await read(i);
        const stake = await stakeOf(ctx, cr.affectedSystems, Math.max(1, daysUntil(cr.slaDueAt)));
        return card(ctx, cr, stake, i.roles);
      }),
  );
  const reviews = await Promise.all(
    items.filter((i) => i.changeRequest && i.action === 'retrospective').map(async (i) => retrospectiveCard(ctx, await read(i))),
  );
  return {
    title: 'Change-control board',
    active: '/board',
    body: html`${cards.length ? cards : html`<p class="muted">No change request awaits your roles.</p>`}
      ${reviews.length ? html`<h2>Retrospective reviews owed</h2>${reviews}` : null}`,
  };
}

export const boardActions = {
  /** Records the user's decision through POST /change-requests/{id}/decisions. */
  async decide(ctx: ConsoleContext): Promise<string> {
    const id = String(ctx.req.params.id);
    const decision = field(ctx.req, 'decision');
    const reason = field(ctx.req, 'reason');
    const body = { decision, role: field(ctx.req, 'role'), ...(reason ? { reason } : {}) };
    const cr = ok<ChangeRequest>(await ctx.api.post(`/change-requests/${encodeURIComponent(id)}/decisions`, body));
    const verb = { approve: 'approved', reject: 'rejected', request_changes: 'sent back for changes' }[decision] ?? decision;
    return withMessage('/board', 'notice', `“${cr.title}” ${verb} as ${body.role}; it is now ${cr.status.replace('_', ' ')}.`);
  },

  /** Records the retrospective review through POST /change-requests/{id}/retrospective. */
  async retrospective(ctx: ConsoleContext): Promise<string> {
    const id = String(ctx.req.params.id);
    const body = { outcome: field(ctx.req, 'outcome'), notes: field(ctx.req, 'notes') };
    const cr = ok<ChangeRequest>(await ctx.api.post(`/change-requests/${encodeURIComponent(id)}/retrospective`, body));
    const found = body.outcome === 'ratified' ? 'ratified' : 'recorded as needing follow-up';
    return withMessage('/board', 'notice', `The retrospective review of “${cr.title}” is ${found}.`);
  },
};
