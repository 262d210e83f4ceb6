import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/** Options for createLogger. */
export interface LogOptions {
  level: string;
  /** Human-readable output; defaults to whether stdout is a terminal. */
  pretty?: boolean;
  /** stderr for one-shot commands whose stdout is their result; stdout otherwise. */
  stream?: 'stdout' | 'stderr';
  /** Where JSON lines go instead of a standard stream; tests pass one to read what was logged. */
  destination?: NodeJS.WritableStream;
}

/** The process logger: pretty in a terminal, JSON lines otherwise. Never log tokens or payloads. */
export function createLogger(opts: LogOptions): Logger {
  const base = {
    level: opts.level,
    base: undefined,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  };
  const fd = opts.stream === 'stderr' ? 2 : 1;
  const wantPretty = opts.pretty ?? Boolean((fd === 2 ? process.stderr : process.stdout).isTTY);
  if (wantPretty) {
    // A synchronous stream rather than a transport: transports run in worker threads that do not
    // inherit the TypeScript loader and may lose the last lines on exit.
    return pino(base, pretty({ colorize: true, sync: true, ignore: 'pid,hostname', destination: fd }));
  }
  return pino(
    base,
    (opts.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: fd, sync: true }),
  );
}
