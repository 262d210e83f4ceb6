// The escalation workflow as production registers it, and a parent that starts one as a child.
import * as wf from '@temporalio/workflow';
import {
  escalation,
  escalationWorkflowId,
  type EscalationOutcome,
  type EscalationStart,
} from '../../workflows/escalation';

export { escalation };

export const escalationSettled = wf.defineSignal<[EscalationOutcome]>('escalation-settled');

/** Starts an escalation as a child, as a change request breaching its SLA would, and waits to hear it resolved. */
export async function parentOfEscalation(input: EscalationStart): Promise<EscalationOutcome> {
  let outcome: EscalationOutcome | undefined;
  wf.setHandler(escalationSettled, (o) => {
    outcome = o;
  });
  await wf.startChild(escalation, {
    workflowId: escalationWorkflowId(input.key),
    args: [{ ...input, parentSignal: escalationSettled.name }],
    parentClosePolicy: 'ABANDON',
  });
  await wf.condition(() => outcome !== undefined);
  return outcome!;
}
