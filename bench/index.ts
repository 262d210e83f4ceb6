// `npm run bench`: runs every `bench:*` script in package.json in turn and prints their figures.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pkg from '../package.json';

const root = path.resolve(__dirname, '..');
const scripts = Object.keys(pkg.scripts).filter((name) => name.startsWith('bench:'));
let failed = 0;
for (const name of scripts) {
  console.log(`\n== ${name}`);
  const r = spawnSync('npm', ['run', '--silent', name], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
