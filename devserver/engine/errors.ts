import { status } from '@grpc/grpc-js';

/** A gRPC status and the typed failure detail a real server attaches, if any. */
export interface ErrorDetail {
  typeName: string;
  value: object;
}

/** An error the server answers with; the code is a gRPC status, the message is what the caller sees. */
export class ServerError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly detail?: ErrorDetail,
  ) {
    super(message);
  }
}

/** INVALID_ARGUMENT: the request is malformed. */
export const invalidArgument = (message: string) => new ServerError(status.INVALID_ARGUMENT, message);

/** NOT_FOUND with the NotFoundFailure detail the real server attaches. */
export const notFound = (message: string) =>
  new ServerError(status.NOT_FOUND, message, {
    typeName: 'temporal.api.errordetails.v1.NotFoundFailure',
    value: { currentCluster: 'active', activeCluster: 'active' },
  });

/** NOT_FOUND for a namespace, with NamespaceNotFoundFailure. */
export const namespaceNotFound = (namespace: string) =>
  new ServerError(status.NOT_FOUND, `Namespace ${namespace} is not found.`, {
    typeName: 'temporal.api.errordetails.v1.NamespaceNotFoundFailure',
    value: { namespace },
  });

/** The message a real server gives for calls on a closed run. */
export const alreadyCompleted = () => notFound('workflow execution already completed');

/** A stale or unknown task token. */
export const taskNotFound = (what: 'Workflow' | 'Activity' | 'Query') => notFound(`${what} task not found.`);

/** FAILED_PRECONDITION: a legal request the current state cannot accept. */
export const failedPrecondition = (message: string) => new ServerError(status.FAILED_PRECONDITION, message);

/** UNIMPLEMENTED naming the call. */
export const unimplemented = (method: string) =>
  new ServerError(status.UNIMPLEMENTED, `${method} is not implemented by the embedded Temporal server`);

/** INTERNAL: a broken invariant inside the server (never a caller's mistake). */
export const internal = (message: string) => new ServerError(status.INTERNAL, message);
