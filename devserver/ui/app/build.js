#!/usr/bin/env node
// Builds the Temporal UI that the embedded server serves: this folder's SvelteKit shell around the
// `@temporalio/ui` library, compiled by Vite into static files under build/. The root package's
// `prepare` script runs it at `npm install` / `npm ci`, so a fresh clone serves the UI with nothing
// downloaded at run time. It skips the work when build/ was made from the same sources and the same
// versions of the tools, and it never fails an install: without its tools (an install without the
// development dependencies) or on an error it says so, and the server then answers the UI's API but
// shows a page asking for `npm run build:ui`.
//
//   node devserver/ui/app/build.js            build if out of date
//   node devserver/ui/app/build.js --force    build even when up to date
//   node devserver/ui/app/build.js --require  exit 1 when the UI cannot be built
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const app = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(app, '../../..');
const out = path.join(app, 'build');
// Read by devserver/ui/assets.ts; written last, so its presence means a finished build.
const INFO = 'clearway-ui.json';
// What the output depends on besides this folder's files.
const TOOLS = [
  '@temporalio/ui',
  '@sveltejs/kit',
  '@sveltejs/vite-plugin-svelte',
  '@sveltejs/adapter-static',
  'svelte',
  'vite',
  'tailwindcss',
  'postcss',
  'autoprefixer',
  'i18next',
  'date-fns',
  'date-fns-tz',
  '@fontsource-variable/inter',
  '@fontsource/noto-sans-mono',
];
const SKIP = new Set(['build', '.svelte-kit', 'node_modules']);

const args = new Set(process.argv.slice(2));
const say = (line) => process.stdout.write(`Temporal UI: ${line}\n`);

function versionOf(pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version ?? null;
  } catch {
    return null;
  }
}

function sourceFiles(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !SKIP.has(e.name))
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

function inputHash(versions) {
  const hash = crypto.createHash('sha256').update(JSON.stringify(versions));
  for (const file of sourceFiles(app)) hash.update(path.relative(app, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  return hash.digest('hex');
}

function readInfo() {
  try {
    return JSON.parse(fs.readFileSync(path.join(out, INFO), 'utf8'));
  } catch {
    return null;
  }
}

async function main() {
  const versions = Object.fromEntries(TOOLS.map((t) => [t, versionOf(t)]));
  const missing = TOOLS.filter((t) => !versions[t]);
  if (missing.length) {
    say(`not built: its build tools are not installed (${missing.join(', ')}); install the development dependencies and run npm run build:ui`);
    return args.has('--require') ? 1 : 0;
  }
  const hash = inputHash(versions);
  const info = readInfo();
  if (!args.has('--force') && info?.hash === hash && fs.existsSync(path.join(out, 'index.html'))) {
    say(`up to date (${path.relative(process.cwd(), out) || out})`);
    return 0;
  }
  const started = Date.now();
  say(`building @temporalio/ui ${versions['@temporalio/ui']} with Vite ${versions.vite}...`);
  // SvelteKit reads svelte.config.js from the working directory.
  process.chdir(app);
  fs.rmSync(path.join(out, INFO), { force: true });
  try {
    const { build } = await import('vite');
    await build({ root: app, configFile: path.join(app, 'vite.config.js') });
  } catch (err) {
    say(`the build failed: ${err?.stack ?? err}`);
    say('the embedded server will answer the UI\'s API without its pages; run npm run build:ui after fixing this');
    return args.has('--require') ? 1 : 0;
  }
  const uiVersion = versions['@temporalio/ui'];
  fs.writeFileSync(path.join(out, INFO), `${JSON.stringify({ uiVersion, hash, tools: versions }, null, 2)}\n`);
  say(`built in ${((Date.now() - started) / 1000).toFixed(1)} s into ${path.relative(root, out)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say(`unexpected error: ${err?.stack ?? err}`);
    process.exit(args.has('--require') ? 1 : 0);
  },
);
