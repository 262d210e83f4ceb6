import type { ConsoleContext } from '../context';
import { ok } from '../context';
import { html, money, type Html } from '../html';

/** The API's money-at-stake answer. */
export interface MoneyAtStake {
  delayDays: number;
  totals: { currency: string; perDay: number; delay: number; churn: number }[];
  programs: { id: string; name: string; currency: string; perDay: number; delay: number; churn: number }[];
}

/** What delaying changes to `systems` by `days` costs, from GET /impact. */
export async function stakeOf(ctx: ConsoleContext, systems: string[], days: number): Promise<MoneyAtStake | null> {
  if (!systems.length) return null;
  const q = new URLSearchParams({ systems: systems.join(','), delayDays: String(Math.max(0, Math.round(days * 100) / 100)) });
  return ok<MoneyAtStake>(await ctx.api.get(`/impact?${q}`));
}

/** The money at stake, as a board member reads it: per day of delay and over the given delay. */
export function stakeLine(stake: MoneyAtStake | null, what: string): Html {
  if (!stake?.totals.length) return html`<span class="muted">no program profile covers these systems</span>`;
  return html`${stake.totals.map(
    (t) =>
      html`<strong class="money">${money(t.perDay, t.currency)} per day of delay</strong>
        <span class="muted">(${money(t.delay, t.currency)} ${what}; churn risk ${money(t.churn, t.currency)} a year)</span> `,
  )}<span class="muted"> · ${stake.programs.map((p) => p.name).join(', ')}</span>`;
}

/** A status badge. */
export function badge(text: string, tone: 'ok' | 'warn' | 'bad' | 'neutral' = 'neutral'): Html {
  return html`<span class="badge ${tone}">${text}</span>`;
}

/** Days from now until `iso` (0 when past or absent). */
export function daysUntil(iso: string | null | undefined): number {
  return iso ? Math.max(0, (Date.parse(iso) - Date.now()) / 86_400_000) : 0;
}
