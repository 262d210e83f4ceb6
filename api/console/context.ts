import type { Request, Response } from 'express';
import type { Html } from './html';
import type { Me } from './layout';
import type { Answer, ApiClient, ApiError } from './session';

/** What a console page or action works with: the request, the API as the user, who they are. */
export interface ConsoleContext {
  req: Request;
  res: Response;
  api: ApiClient;
  me: Me;
  csrf: string;
}

/** A rendered page's parts. */
export interface View {
  title: string;
  active: string;
  body: Html;
}

/** The API refused or failed a read the page needs; shown to the user with the API's own message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The body of a successful answer, or an ApiFailure carrying the API's code and message. */
export function ok<T>(answer: Answer<unknown>): T {
  if (answer.status >= 200 && answer.status < 300) return answer.body as T;
  const err = (answer.body as ApiError | null)?.error;
  throw new ApiFailure(answer.status, err?.code ?? 'INTERNAL', err?.message ?? `the API answered ${answer.status}`);
}

/** A path with a notice or error for the next page to show (post-redirect-get). */
export function withMessage(path: string, kind: 'notice' | 'error', message: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${kind}=${encodeURIComponent(message)}`;
}

/** A string form field, trimmed; '' when absent. */
export function field(req: Request, name: string): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.trim() : '';
}
