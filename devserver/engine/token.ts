import { ServerError } from './errors';
import { status } from '@grpc/grpc-js';

/** What a task token names: a workflow task, an activity attempt or a legacy query. */
export type TaskToken =
  | { k: 'w'; r: string; s: number; a: number }
  | { k: 'a'; r: string; s: number; a: number }
  | { k: 'q'; q: string };

/** Encodes a token; opaque to workers. */
export function encodeToken(t: TaskToken): Buffer {
  return Buffer.from(JSON.stringify(t));
}

/** Decodes a token of the expected kind, or INVALID_ARGUMENT. */
export function decodeToken<K extends TaskToken['k']>(raw: Uint8Array | null | undefined, kind: K): Extract<TaskToken, { k: K }> {
  if (!raw?.length) throw new ServerError(status.INVALID_ARGUMENT, 'Task token not set on request.');
  try {
    const t = JSON.parse(Buffer.from(raw).toString()) as TaskToken;
    if (t && t.k === kind) return t as Extract<TaskToken, { k: K }>;
  } catch {
    // fall through
  }
  throw new ServerError(status.INVALID_ARGUMENT, 'Error deserializing task token.');
}
