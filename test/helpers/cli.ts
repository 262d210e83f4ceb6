import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'clearway');

/** What a finished `clearway` process left behind. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Only what the command needs: the test runner's own variables (e.g. a developer's DATABASE_URL) must
// not leak into the process under test.
function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...extra };
}

/** Runs `clearway ARGS` to completion in `cwd`. */
export function runClearway(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: baseEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running `clearway` process. */
export interface Running {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `clearway ARGS` and leaves it running. */
export function startClearway(args: string[], env: Record<string, string>, cwd = ROOT): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: baseEnv(env) });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

/** Polls `url` until `accept(status)` holds or `ms` pass; resolves with the last status and body. */
export async function waitForHttp(
  url: string,
  accept: (status: number) => boolean,
  ms: number,
  running?: Running,
): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + ms;
  let last = { status: 0, body: null as unknown };
  while (Date.now() < deadline) {
    if (running && running.child.exitCode !== null) {
      throw new Error(`process exited with ${running.child.exitCode}:\n${running.output()}`);
    }
    try {
      const res = await fetch(url);
      last = { status: res.status, body: await res.json().catch(() => null) };
      if (accept(res.status)) return last;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} answered ${last.status} after ${ms} ms${running ? `:\n${running.output()}` : ''}`);
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}
