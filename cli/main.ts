import { Command, CommanderError } from 'commander';
import { version } from '../package.json';
import { configureApiCommand } from './commands/api';
import { configureDemoCommand } from './commands/demo';
import { configureDevserverCommand, type DevServerCli } from './commands/devserver';
import { configureMigrateCommand } from './commands/migrate';
import { configureStartCommand } from './commands/start';
import { configureUsersCommand } from './commands/users';
import { configureWorkerCommand } from './commands/worker';
import { describeFailure, type CliContext } from './common';

/** Replaceable parts of the CLI, for tests. */
export interface CliOverrides {
  runDevServerCli?: DevServerCli;
}

// Exit codes follow errors.ts: 2 is bad usage (unknown command, bad flag, bad configuration).
const USAGE_EXIT = 2;

/** Runs the `clearway` command line (arguments after the program name); resolves with the exit code. */
export async function runCli(argv: string[], ctx: CliContext, overrides: CliOverrides = {}): Promise<number> {
  let exitCode = 0;
  const done = (code: number) => {
    exitCode = code;
  };
  const program = new Command('clearway')
    .description('Change control for customs-clearance technology integrations, as durable workflows')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout(s),
      writeErr: (s) => ctx.stderr(s),
      // Commander may add a suggestion on a second line; the operator gets one line.
      outputError: (s, write) => write(`clearway: ${s.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    });

  configureStartCommand(program, ctx, done);
  configureApiCommand(program, ctx, done);
  configureWorkerCommand(program, ctx, done);
  configureMigrateCommand(program, ctx, done);
  configureDevserverCommand(program, overrides.runDevServerCli ?? loadDevServerCli, done);
  configureUsersCommand(program, ctx, done);
  configureDemoCommand(program, ctx, done);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      return USAGE_EXIT;
    }
    const failure = describeFailure(e);
    ctx.stderr(`clearway: ${failure.line}\n`);
    return failure.exitCode;
  }
}

// Loaded on demand: the server brings gRPC and the Temporal protos, which other commands do not need.
const loadDevServerCli: DevServerCli = (argv) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const devserver = require('../devserver') as typeof import('../devserver');
  return devserver.runDevServerCli(argv);
};

/** Entry point used by bin/clearway: real process surroundings, exit when done. */
export function main(): void {
  const ctx: CliContext = {
    env: process.env,
    cwd: process.cwd(),
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  };
  runCli(process.argv.slice(2), ctx).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`clearway: ${describeFailure(e).line}\n`);
      process.exit(1);
    },
  );
}
