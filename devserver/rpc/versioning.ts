import { status } from '@grpc/grpc-js';
import type { Engine } from '../engine/engine';
import { ServerError } from '../engine/errors';
import type { Handler } from '../grpc/server';

// The real server's answers when its build-id (v0.1) and rules (v0.2) versioning APIs are off, as they
// are by default (frontend.workerVersioningDataAPIs / workerVersioningRuleAPIs): the embedded server
// has no worker versioning, and says so the way such a server does rather than not knowing the call.
const V1_OFF = 'Worker versioning v0.1 (Version Set-based, deprecated) is disabled on this namespace.';
const V2_OFF = 'Worker versioning v0.2 (Rules-based, deprecated) is disabled on this namespace.';

/** Worker-versioning calls (the Temporal UI's task-queue Versioning tab reads them): refused as disabled. */
export function versioningHandlers(e: Engine): Record<string, Handler> {
  const refuse = (message: string) => (req: { namespace?: string | null }) => {
    e.namespace(req.namespace); // an unknown namespace is NOT_FOUND first, as on the real server
    throw new ServerError(status.PERMISSION_DENIED, message);
  };
  return {
    GetWorkerBuildIdCompatibility: refuse(V1_OFF),
    UpdateWorkerBuildIdCompatibility: refuse(V1_OFF),
    GetWorkerVersioningRules: refuse(V2_OFF),
    UpdateWorkerVersioningRules: refuse(V2_OFF),
    GetWorkerTaskReachability: refuse(V2_OFF),
  };
}
