import path from 'node:path';
import { validateCutoverPlan, type CutoverPlan } from '../domain/cutover-plan';
import { loadPolicyFile, policyVersion, type PolicyLoadResult } from './load';

/** The example plan shipped with Clearway. */
export const EXAMPLE_CUTOVER_PLAN = path.join(__dirname, 'cutover-plan.example.yaml');

/** Reads, parses and validates a cutover plan file; its version is the hash of the validated plan. */
export function loadCutoverPlan(file: string = EXAMPLE_CUTOVER_PLAN): PolicyLoadResult<CutoverPlan> {
  return loadPolicyFile(file, (raw) => {
    const r = validateCutoverPlan(raw);
    return r.ok ? { ok: true, policy: r.plan } : r;
  });
}

/** Validates a plan sent as data (the API) and versions it the same way as a file. */
export function versionCutoverPlan(
  raw: unknown,
): { ok: true; plan: CutoverPlan; version: string } | { ok: false; error: string } {
  const r = validateCutoverPlan(raw);
  return r.ok ? { ok: true, plan: r.plan, version: policyVersion(r.plan) } : { ok: false, error: r.message };
}
