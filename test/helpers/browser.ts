// Debian's Chromium driven by playwright-core, for the browser suites. Nothing is downloaded: when
// the browser is not installed the suites are skipped with the one line that installs it.
import fs from 'node:fs';
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
