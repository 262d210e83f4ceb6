import fs from 'node:fs';
import path from 'node:path';

/** Where `npm install` (the root package's `prepare` script) builds the Temporal UI. */
export const UI_BUILD_DIR = path.join(__dirname, 'app', 'build');

/** The file the build writes last, naming what it built from. */
export const BUILD_INFO = 'clearway-ui.json';

/** A finished build of the Temporal UI. */
export interface UiBuild {
  dir: string;
  /** Version of the `@temporalio/ui` package it was built from. */
  uiVersion: string;
}

/** The UI build in `dir`, or null when there is none (not built yet, or its tools were not installed). */
export function findUiBuild(dir = UI_BUILD_DIR): UiBuild | null {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(dir, BUILD_INFO), 'utf8')) as { uiVersion?: unknown };
    if (!fs.existsSync(path.join(dir, 'index.html')) || typeof info.uiVersion !== 'string') return null;
    return { dir, uiVersion: info.uiVersion };
  } catch {
    return null;
  }
}
