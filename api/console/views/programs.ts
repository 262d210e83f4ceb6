import { ok, type ConsoleContext, type View } from '../context';
import { html, money, when } from '../html';
import { badge } from './common';

interface Program {
  id: string;
  name: string;
  currency: string;
  systems: string[];
  budget: number | null;
  spent: number;
  updatedAt: string;
  figures: { delayExposurePerDay: number; annualChurnLoss: number; budgetRatio: number | null; overrun: number };
}

/** `/programs`: what each program's delay costs and how its spend stands against budget. */
export async function programsView(ctx: ConsoleContext): Promise<View> {
  const { items } = ok<{ items: Program[] }>(await ctx.api.get('/programs'));
  return {
    title: 'Programs',
    active: '/programs',
    body: items.length
      ? html`<table>
          <thead><tr><th>Program</th><th>Systems</th><th>A day of delay</th><th>Churn risk a year</th><th>Spent against budget</th><th>Updated</th></tr></thead>
          <tbody>${items.map((p) => {
            const ratio = p.figures.budgetRatio;
            const tone = ratio === null ? 'neutral' : ratio > 1 ? 'bad' : ratio > 0.9 ? 'warn' : 'ok';
            return html`<tr id="program-${p.id}">
              <td>${p.name}</td><td>${p.systems.join(', ')}</td>
              <td class="money">${money(p.figures.delayExposurePerDay, p.currency)}</td>
              <td>${money(p.figures.annualChurnLoss, p.currency)}</td>
              <td>${p.budget === null ? html`${money(p.spent, p.currency)} ${badge('no budget')}` : html`${money(p.spent, p.currency)} of ${money(p.budget, p.currency)}
                ${badge(ratio! > 1 ? `${Math.round((ratio! - 1) * 100)}% over` : `${Math.round(ratio! * 100)}%`, tone)}`}</td>
              <td>${when(p.updatedAt)}</td></tr>`;
          })}</tbody>
        </table>`
      : html`<p class="muted">No program profile yet: finance or the chair sets one with <code>PUT /api/v1/programs/{id}</code>.</p>`,
  };
}
