import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  ladderReferences,
  validateChangeControlPolicy,
  type ChangeControlPolicy,
} from '../domain/change-request-policy';
import { unknownLadders, validateEscalationPolicy, type EscalationPolicy } from '../domain/escalation-policy';
import type { PolicyProblem } from '../domain/policy-problem';

/** The policy files shipped with Clearway, used when configuration names no other. */
export const DEFAULT_POLICY_FILES = {
  changeControl: path.join(__dirname, 'change-control.yaml'),
  escalation: path.join(__dirname, 'escalation.yaml'),
} as const;

export type LoadedPolicy<P> = { ok: true; policy: P; version: string; file: string };
export type PolicyLoadResult<P> = LoadedPolicy<P> | { ok: false; error: string };
type Validate<P> = (raw: unknown) => { ok: true; policy: P } | ({ ok: false } & PolicyProblem);

/** JSON with object keys sorted at every depth, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The version of a validated policy: sha256 of its canonical JSON. Hashing the validated form means comments,
 * key order and `48` versus `PT48H` do not make a new version; a changed rule always does.
 */
export function policyVersion(policy: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(policy)).digest('hex')}`;
}

/** Parses policy text as JSON (for `.json` files) or YAML, and validates it; errors are one line. */
export function parsePolicyText<P>(text: string, file: string, validate: Validate<P>): PolicyLoadResult<P> {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (error) {
    const reason = (
      typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error)
    ).split('\n')[0];
    return { ok: false, error: `${file}: cannot parse: ${reason}` };
  }
  const result = validate(raw);
  if (!result.ok) return { ok: false, error: `${file}: ${result.path}: ${result.problem}` };
  return { ok: true, policy: result.policy, version: policyVersion(result.policy), file };
}

/** Reads, parses and validates a policy file. */
export function loadPolicyFile<P>(file: string, validate: Validate<P>): PolicyLoadResult<P> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    // fs errors may come from another realm (test sandboxes), so `instanceof Error` is not relied on.
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    const reason = typeof code === 'string' ? code : String(error).split('\n')[0];
    return { ok: false, error: `${file}: cannot read: ${reason}` };
  }
  return parsePolicyText(text, file, validate);
}

/** Loads the change-control policy, from the shipped default unless a file is named. */
export function loadChangeControlPolicy(
  file: string = DEFAULT_POLICY_FILES.changeControl,
): PolicyLoadResult<ChangeControlPolicy> {
  return loadPolicyFile(file, validateChangeControlPolicy);
}

/** Loads the escalation policy, from the shipped default unless a file is named. */
export function loadEscalationPolicy(
  file: string = DEFAULT_POLICY_FILES.escalation,
): PolicyLoadResult<EscalationPolicy> {
  return loadPolicyFile(file, validateEscalationPolicy);
}

export type LoadedPolicies = {
  ok: true;
  changeControl: LoadedPolicy<ChangeControlPolicy>;
  escalation: LoadedPolicy<EscalationPolicy>;
};

/**
 * Loads both policies and checks that every ladder the change-control policy escalates to exists, so a typo in a
 * ladder name stops start-up instead of failing the first SLA breach.
 */
export function loadPolicies(
  files: { changeControl?: string; escalation?: string } = {},
): LoadedPolicies | { ok: false; error: string } {
  const changeControl = loadChangeControlPolicy(files.changeControl);
  if (!changeControl.ok) return changeControl;
  const escalation = loadEscalationPolicy(files.escalation);
  if (!escalation.ok) return escalation;
  const refs = ladderReferences(changeControl.policy);
  const missing = unknownLadders(
    escalation.policy,
    refs.map((r) => r.ladder),
  );
  if (missing.length > 0) {
    const ref = refs.find((r) => r.ladder === missing[0]);
    return {
      ok: false,
      error: `${changeControl.file}: ${ref?.path}: no ladder "${missing[0]}" in ${escalation.file}`,
    };
  }
  return { ok: true, changeControl, escalation };
}
