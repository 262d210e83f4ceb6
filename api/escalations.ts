import {
  QueryNotRegisteredError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Actor as DomainActor } from '../domain/actor';
import type { EscalationSource, EscalationView, Party } from '../domain/escalation';
import type { EscalationPolicy } from '../domain/escalation-policy';
import { ClearwayError } from '../errors';
import { loadEscalationPolicy } from '../policies/load';
import {
  escalation,
  escalationWorkflowId,
  reportEscalation,
  reportReceipt,
  type ReportReceipt,
} from '../workflows/escalation';
import type { Actor } from './auth';
import type { ApiDeps } from './deps';

/** The actor as the workflow sees it: id and roles, nothing the token does not vouch for. */
export function escalationActor(actor: Actor): DomainActor {
  return { id: actor.id, roles: actor.roles };
}

/** The handle of an escalation's workflow. */
export function escalationHandle(deps: ApiDeps, id: string): WorkflowHandle<typeof escalation> {
  return deps.temporal().workflow.getHandle<typeof escalation>(id);
}

/** The projected view of an escalation, or NOT_FOUND. */
export async function findEscalation(deps: ApiDeps, id: string): Promise<EscalationView> {
  const row = await deps.prisma.escalation.findUnique({ where: { id }, select: { view: true } });
  if (!row) throw new ClearwayError('NOT_FOUND', `no escalation ${id}`);
  return row.view as unknown as EscalationView;
}

/**
 * Runs an update on an escalation's workflow. A workflow that has ended (resolved and past its reopen window)
 * accepts no more updates, which is INVALID_STATE; refusals by the workflow are mapped in http-errors.ts.
 */
export async function updateEscalation(
  deps: ApiDeps,
  id: string,
  run: (handle: WorkflowHandle<typeof escalation>) => Promise<EscalationView>,
): Promise<EscalationView> {
  await findEscalation(deps, id);
  try {
    return await run(escalationHandle(deps, id));
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) {
      throw new ClearwayError('INVALID_STATE', `escalation ${id} has closed and takes no more changes`);
    }
    throw e;
  }
}

let shipped: EscalationPolicy | undefined;

/** The escalation policy new escalations start under: the configured one, or the shipped file. */
function escalationPolicy(deps: ApiDeps): EscalationPolicy {
  if (deps.escalations?.policy) return deps.escalations.policy.policy;
  if (!shipped) {
    const loaded = loadEscalationPolicy();
    if (!loaded.ok) throw new Error(loaded.error);
    shipped = loaded.policy;
  }
  return shipped;
}

/** One report of an issue, from a user (API) or a monitoring system (webhook). */
export type IssueReport = {
  key: string;
  severity: string;
  title: string;
  owner: Party;
  /** Who reports: a user id, or `webhook:<sender>`. */
  by: string;
  source: EscalationSource;
  /** Identifies this report; the same id delivered again is recognised and not counted twice. */
  reportId: string;
};

const RECEIPT_WAIT_MS = 15_000;

/**
 * Reports an issue by signal-with-start on the workflow id its key names: the first report starts the escalation,
 * later ones while it runs count as occurrences of it. Resolves once the workflow has taken the report and written
 * it, so the answer (and a read that follows it) includes it. `created` is true only for the report that started
 * the escalation. Bad input is refused before anything starts.
 */
export async function reportIssue(
  deps: ApiDeps,
  report: IssueReport,
): Promise<{ created: boolean; outcome: ReportReceipt['outcome']; view: EscalationView }> {
  const severities = Object.keys(escalationPolicy(deps).ladders);
  if (!severities.includes(report.severity)) {
    throw new ClearwayError('VALIDATION_FAILED', 'body is invalid', [
      { path: 'body.severity', message: `no ladder "${report.severity}"; one of: ${severities.join(', ')}` },
    ]);
  }
  if ('user' in report.owner) {
    const owner = await deps.prisma.user.findUnique({ where: { id: report.owner.user } }).catch(() => null);
    if (!owner) {
      throw new ClearwayError('VALIDATION_FAILED', 'body is invalid', [
        { path: 'body.owner.user', message: 'no such user' },
      ]);
    }
  }
  const workflowId = escalationWorkflowId(report.key);
  const closed = () =>
    new ClearwayError('INVALID_STATE', `escalation ${workflowId} has closed; report a new occurrence under a new key`, [
      { id: workflowId },
    ]);
  // An escalation past its reopen window has finished; its key is spent, so a report cannot start it afresh.
  const past = await deps.prisma.escalation.findUnique({ where: { id: workflowId }, select: { view: true } });
  const until = (past?.view as EscalationView | undefined)?.reopenableUntil;
  if (until && Date.parse(until) < Date.now()) throw closed();
  let handle: WorkflowHandle<typeof escalation>;
  try {
    handle = await deps.temporal().workflow.signalWithStart(escalation, {
      workflowId,
      taskQueue: deps.escalations?.taskQueue ?? 'clearway',
      // A run that has closed keeps its id: starting it again would overwrite its projection.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [
        {
          key: report.key,
          severity: report.severity,
          title: report.title,
          owner: report.owner,
          by: report.by,
          source: report.source,
          reportId: report.reportId,
        },
      ],
      signal: reportEscalation,
      signalArgs: [{ by: report.by, reportId: report.reportId }],
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) throw closed();
    throw e;
  }
  const receipt = await writtenReceipt(handle, report.reportId);
  return { created: receipt.outcome === 'started', outcome: receipt.outcome, view: receipt.view };
}

// The receipt exists once the workflow has handled the report's signal (its first task, for a new escalation).
async function writtenReceipt(handle: WorkflowHandle<typeof escalation>, reportId: string): Promise<ReportReceipt> {
  const until = Date.now() + RECEIPT_WAIT_MS;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const receipt = await handle.query(reportReceipt, reportId).catch((e: unknown) => {
      if (e instanceof QueryNotRegisteredError) return null;
      throw e;
    });
    if (receipt?.written) return receipt;
    if (Date.now() > until) {
      throw new ClearwayError(
        'TEMPORAL_UNAVAILABLE',
        `escalation ${handle.workflowId} did not take the report in time`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
