import type { Command } from 'commander';

/** Runs the embedded Temporal server from raw arguments; resolves with its exit code. */
export type DevServerCli = (argv: string[]) => Promise<number>;

/**
 * `clearway devserver ARGS...`: the embedded Temporal server on its own. Every argument goes to the
 * server untouched, so it accepts what the Temporal CLI's `server start-dev` accepts.
 */
export function configureDevserverCommand(program: Command, run: DevServerCli, done: (code: number) => void): void {
  program
    .command('devserver')
    .description('run the embedded Temporal server alone (arguments as for `temporal server start-dev`)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[args...]', 'passed to the server unchanged')
    .action(async (args: string[]) => {
      done(await run(args));
    });
}
