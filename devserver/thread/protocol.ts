import type { DevServerOptions } from '../server';

/** Server options that can cross to a thread (no logger object: the thread logs through the parent). */
export type ThreadOptions = Omit<DevServerOptions, 'logger'>;

/** What the server's thread tells its parent. */
export type ThreadMessage =
  | { type: 'ready'; port: number; address: string; httpPort?: number; uiPort?: number }
  | { type: 'failed'; message: string }
  | { type: 'log'; line: string }
  | { type: 'stopped' };
