import fs from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { loadConfig, type Config } from '../config';
import { ClearwayError } from '../errors';
import { createLogger, type Logger } from '../log';

/** The process surroundings a command runs in; tests pass their own. */
export interface CliContext {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * The configuration from the environment, with an optional `.env` in the working directory filling
 * in what the environment leaves unset. This is the only place the environment is read.
 */
export function configFrom(ctx: CliContext): Config {
  const file = path.join(ctx.cwd, '.env');
  const fromFile = fs.existsSync(file) ? parseDotenv(fs.readFileSync(file)) : {};
  const config = loadConfig({ ...fromFile, ...ctx.env });
  const fromCwd = (file: string | undefined) => (file === undefined ? undefined : path.resolve(ctx.cwd, file));
  return {
    ...config,
    DATA_DIR: path.resolve(ctx.cwd, config.DATA_DIR),
    CHANGE_CONTROL_POLICY: fromCwd(config.CHANGE_CONTROL_POLICY),
    ESCALATION_POLICY: fromCwd(config.ESCALATION_POLICY),
  };
}

/** The logger for a long-running command (stdout) or a one-shot one (stderr, so stdout is the result). */
export function loggerFor(config: Config, kind: 'service' | 'one-shot'): Logger {
  return createLogger({ level: config.LOG_LEVEL, stream: kind === 'service' ? 'stdout' : 'stderr' });
}

/** Thrown to end a command with an exit code after it has already said what it had to say. */
export class ExitRequest extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** One line for the terminal from any error; ClearwayError keeps its message, others say "internal". */
export function describeFailure(e: unknown): { line: string; exitCode: number } {
  if (e instanceof ClearwayError) return { line: e.message, exitCode: e.exit };
  const message = e instanceof Error ? e.message : String(e);
  return { line: `internal error: ${message.split('\n')[0]}`, exitCode: 1 };
}
