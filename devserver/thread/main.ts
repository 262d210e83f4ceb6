import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { startDevServer, type DevServer } from '../server';
import type { ThreadMessage, ThreadOptions } from './protocol';

const port = parentPort!;
const post = (m: ThreadMessage) => port.postMessage(m);
const opts = workerData as ThreadOptions;
// Log lines go to the parent, which writes them through its own logger (format, level, destination).
const logger = pino({ level: opts.logLevel ?? 'warn', base: undefined }, { write: (line: string) => post({ type: 'log', line }) });

let server: DevServer | undefined;
port.on('message', (m: { type: 'stop' }) => {
  if (m.type !== 'stop') return;
  void (server?.stop() ?? Promise.resolve()).finally(() => post({ type: 'stopped' }));
});

startDevServer({ ...opts, logger }).then(
  (s) => {
    server = s;
    post({ type: 'ready', port: s.port, address: s.address, httpPort: s.httpPort, uiPort: s.uiPort });
  },
  (err: unknown) => post({ type: 'failed', message: (err as Error).message ?? String(err) }),
);
