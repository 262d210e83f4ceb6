import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

/**
 * Starts the shipped executables once before any suite, so their TypeScript is compiled and cached.
 * The SDK's test environments give a launched server only 5 s to answer, which a cold compile on a
 * busy machine can exceed.
 */
export default async function globalSetup(): Promise<void> {
  await new Promise<void>((resolve) => {
    const child = spawn(path.join(root, 'bin/clearway-devserver'), ['--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const done = () => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve();
    };
    const timer = setTimeout(done, 120_000);
    child.stdout!.on('data', (d) => String(d).includes('listening') && done());
    child.on('exit', done);
  });
  spawnSync(process.execPath, [path.join(root, 'bin/clearway'), '--version'], { stdio: 'ignore', timeout: 120_000 });
}
