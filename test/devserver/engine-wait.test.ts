// Waiting on a run's changes (long polls for history and update outcomes) without the SDK in the way.
import pino from 'pino';
import { Engine } from '../../devserver/engine/engine';
import { MemoryStore } from '../../devserver/store/store';
import { systemClock } from '../../devserver/timers/clock';

function engine(): Engine {
  return new Engine({ clock: systemClock, store: new MemoryStore(), log: pino({ level: 'silent' }) });
}

/** An abort signal the test fires by hand, as a cancelled gRPC call would. */
function abortable() {
  const listeners: (() => void)[] = [];
  return { signal: { onAbort: (fn: () => void) => void listeners.push(fn) }, abort: () => listeners.forEach((f) => f()) };
}

test('waitFor: when a woken waiter is aborted afterwards, a later waiter on the same run is still woken', async () => {
  const e = engine();
  let version = 0;
  const first = abortable();
  const a = e.waitFor('run-1', () => version >= 1, 10_000, first.signal);
  version = 1;
  (e as unknown as { notify(key: string): void }).notify('run-1');
  await expect(a).resolves.toBe(true);

  const b = e.waitFor('run-1', () => version >= 2, 10_000);
  first.abort(); // the first call goes away after it was answered
  version = 2;
  (e as unknown as { notify(key: string): void }).notify('run-1');
  await expect(Promise.race([b, new Promise((r) => setTimeout(() => r('not woken'), 500))])).resolves.toBe(true);
});

test('waitFor: when aborted before the change, the waiter resolves false at once', async () => {
  const e = engine();
  const { signal, abort } = abortable();
  const waiting = e.waitFor('run-2', () => false, 10_000, signal);
  abort();
  await expect(waiting).resolves.toBe(false);
});
