import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ThreadMessage, ThreadOptions } from './protocol';

/** The embedded server running on its own thread. */
export interface ThreadedDevServer {
  readonly port: number;
  readonly address: string;
  readonly httpPort?: number;
  readonly uiPort?: number;
  stop(): Promise<void>;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const STOP_TIMEOUT_MS = 5000;

/** Writes a JSON log line from the thread through the parent's logger, at its level. */
function relay(log: Logger, line: string): void {
  try {
    const { level, msg, time: _time, ...fields } = JSON.parse(line) as { level: number; msg?: string; time?: number };
    const name = LEVELS[Math.min(5, Math.max(0, Math.floor(level / 10) - 1))];
    log[name](fields, msg ?? '');
  } catch {
    log.info(line.trim());
  }
}

/**
 * Starts the embedded server on a thread of its own, so its gRPC, encoding and store work use a core
 * the process's other work (API, worker, client) does not. Resolves once it accepts connections.
 */
export function startDevServerThread(opts: ThreadOptions & { log: Logger }): Promise<ThreadedDevServer> {
  const { log, ...options } = opts;
  const worker = new Worker(path.join(__dirname, 'entry.js'), { workerData: options, name: 'temporal-server' });
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => ((exited = true), resolve())));
  let stopped: () => void = () => undefined;
  const stoppedCleanly = new Promise<void>((resolve) => (stopped = resolve));
  return new Promise((resolve, reject) => {
    let ready = false;
    worker.on('error', (err) => {
      if (!ready) reject(err);
      else log.error({ err }, 'embedded Temporal server thread failed');
    });
    void exit.then(() => {
      if (!ready) reject(new Error('the embedded Temporal server thread exited before it was ready'));
    });
    worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'log') return relay(log, m.line);
      if (m.type === 'stopped') return stopped();
      if (m.type === 'failed') {
        void worker.terminate();
        return reject(new Error(m.message));
      }
      if (m.type !== 'ready') return;
      ready = true;
      resolve({
        port: m.port,
        address: m.address,
        httpPort: m.httpPort,
        uiPort: m.uiPort,
        async stop() {
          if (exited) return;
          worker.postMessage({ type: 'stop' });
          // The store is closed once the thread says so; whatever else it still holds can go.
          let force: NodeJS.Timeout | undefined;
          await Promise.race([stoppedCleanly, exit, new Promise((r) => (force = setTimeout(r, STOP_TIMEOUT_MS)))]);
          clearTimeout(force);
          await worker.terminate();
        },
      });
    });
  });
}
