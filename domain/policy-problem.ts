import type { z } from 'zod';

/** Where a policy is wrong and why, ready to print on one line. */
export type PolicyProblem = { path: string; problem: string; message: string };

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text === '' ? String(key) : `${text}.${String(key)}`;
  }, '');
}

/** Turns the first zod issue into `path: problem`, noting how many more there are so nothing is hidden. */
export function describeFirstIssue(error: z.ZodError): PolicyProblem {
  const [first] = error.issues;
  const path = formatPath(first.path);
  const more = error.issues.length - 1;
  const problem = first.message + (more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : '');
  return { path, problem, message: `${path}: ${problem}` };
}
