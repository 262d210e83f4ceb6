// Debian's Chromium driven by playwright-core, for the browser suites. Nothing is downloaded: when
// the browser is not installed the suites are skipped with the one line that installs it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Path of the installed Chromium, or undefined. */
export const chromiumPath = CANDIDATES.find((p) => fs.existsSync(p));

/** `describe`, or `describe.skip` with a message saying how to get the browser. */
export function describeInBrowser(name: string, fn: () => void): void {
  if (chromiumPath) return describe(name, fn);
  console.warn(`${name}: skipped, no Chromium found (install it with: apt-get install -y chromium)`);
  describe.skip(name, fn);
}

/** Launches headless Chromium with the flags a closed network needs (no background connections). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const DOCS = path.resolve(__dirname, '../../docs/screenshots');

/**
 * Where a suite's screenshot goes: the README's docs/screenshots/ when CLEARWAY_SCREENSHOTS=update
 * (to refresh them), a scratch folder otherwise, so a test run leaves the checkout unchanged.
 */
export function screenshotPath(file: string): string {
  const dir = process.env.CLEARWAY_SCREENSHOTS === 'update' ? DOCS : path.join(os.tmpdir(), 'clearway-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, file);
}
