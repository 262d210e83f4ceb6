import { getEndpointForRawHistory } from '@temporalio/ui/services/events-service';

/** The run's whole history as one JSON download, streamed by the server. */
export async function load({ parent, params }) {
  await parent();
  window.location.replace(getEndpointForRawHistory({ namespace: params.namespace, workflowId: params.workflow, runId: params.run }));
}
