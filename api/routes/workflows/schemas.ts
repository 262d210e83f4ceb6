import { z } from '../../schemas';
import { maxChars } from '../../../domain/text';

/** Execution statuses as Temporal's visibility names them. */
export const EXECUTION_STATUSES = ['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut'] as const;
export const ExecutionStatus = z.enum(EXECUTION_STATUSES).openapi('ExecutionStatus');

// Values go into a visibility query, so only what can be quoted safely is accepted.
const Identifier = z.string().regex(/^[\w.:@/-]{1,200}$/, { error: 'letters, digits and . _ - : @ / only' });

/** Filters of the operator's workflow list. */
export const ListWorkflowsQuery = z.object({
  type: Identifier.optional().openapi({ description: 'Workflow type, e.g. changeRequest' }),
  status: ExecutionStatus.optional(),
  startedAfter: z.iso.datetime().optional(),
  startedBefore: z.iso.datetime().optional(),
  workflowIdPrefix: Identifier.optional(),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
  pageToken: maxChars(z.string().regex(/^[\w-]*$/), 2000).optional().openapi({ description: 'nextPageToken of the previous page' }),
});

export const WorkflowSummary = z
  .object({
    workflowId: z.string(),
    runId: z.string(),
    type: z.string(),
    status: z.string(),
    taskQueue: z.string(),
    startTime: z.iso.datetime(),
    closeTime: z.iso.datetime().nullable(),
    historyLength: z.number(),
  })
  .openapi('WorkflowSummary');
export type WorkflowSummary = z.infer<typeof WorkflowSummary>;

export const WorkflowPage = z
  .object({ items: z.array(WorkflowSummary), nextPageToken: z.string().nullable() })
  .openapi('WorkflowPage');

export const WorkflowParams = z.object({ workflowId: Identifier });
export const RunQuery = z.object({ runId: z.uuid().optional() });

export const PendingActivity = z
  .object({
    activityId: z.string(),
    type: z.string(),
    state: z.string(),
    attempt: z.number(),
    maximumAttempts: z.number(),
    lastFailure: z.string().nullable(),
    lastHeartbeatTime: z.iso.datetime().nullable(),
    nextAttemptTime: z.iso.datetime().nullable(),
  })
  .openapi('PendingActivity');

export const WorkflowDetail = WorkflowSummary.extend({
  pendingActivities: z.array(PendingActivity),
  pendingChildren: z.array(z.object({ workflowId: z.string(), runId: z.string(), type: z.string() })),
  temporalUiUrl: z.string().nullable().openapi({ description: 'The same execution in Temporal UI, when one is configured' }),
}).openapi('WorkflowDetail');

export const WorkflowEvent = z
  .object({
    eventId: z.string(),
    type: z.string(),
    time: z.iso.datetime(),
    who: z.string().nullable().openapi({ description: 'The identity that caused the event, where the history names one' }),
    summary: z.string().openapi({ description: 'What the event carries, shortened' }),
  })
  .openapi('WorkflowEvent');
export type WorkflowEvent = z.infer<typeof WorkflowEvent>;

export const WorkflowTimeline = z
  .object({ workflowId: z.string(), runId: z.string(), events: z.array(WorkflowEvent) })
  .openapi('WorkflowTimeline');
