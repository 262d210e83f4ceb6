/** A business refusal: never thrown, so a workflow validator can turn it into a typed failure. */
export type Refusal<Code extends string> = {
  ok: false;
  code: Code;
  message: string;
  details?: Record<string, unknown>;
};

/** What every state transition returns: the next state and the events to record, or a refusal. */
export type Transition<State, Event, Code extends string> = { ok: true; state: State; events: Event[] } | Refusal<Code>;

/** Builds a refusal; `details` is left out when empty so results compare cleanly in tests. */
export function refuse<Code extends string>(
  code: Code,
  message: string,
  details?: Record<string, unknown>,
): Refusal<Code> {
  return details === undefined ? { ok: false, code, message } : { ok: false, code, message, details };
}
