import { format } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { google, protoRoot, temporal } from '../proto';
import { ServerError, unimplemented } from '../engine/errors';
import type { PollSignal } from '../matching/task-queues';

/** What a handler gets besides its request. */
export interface CallContext {
  /** Aborted when the caller goes away or the server stops. */
  signal: PollSignal;
  /** Milliseconds the caller will still wait (Infinity without a deadline). */
  remainingMs(): number;
  metadata: grpc.Metadata;
}

/** A unary RPC implementation over decoded protobuf messages. */
export type Handler = (req: any, ctx: CallContext) => Promise<object> | object;

const MAX_MESSAGE = 128 * 1024 * 1024;

interface ProtoMethod {
  name: string;
  requestType: string;
  responseType: string;
  requestStream?: boolean;
  responseStream?: boolean;
  resolvedRequestType: { encode(m: object): { finish(): Uint8Array }; decode(b: Uint8Array): object } | null;
  resolvedResponseType: { encode(m: object): { finish(): Uint8Array }; decode(b: Uint8Array): object } | null;
}

interface ProtoService {
  fullName: string;
  methods: Record<string, ProtoMethod>;
  resolveAll(): ProtoService;
}

/** The gRPC service definition of a protobufjs service, coded with the SDK's own message types. */
function definition(service: ProtoService): grpc.ServiceDefinition {
  service.resolveAll();
  const def: Record<string, grpc.MethodDefinition<object, object>> = {};
  const path = service.fullName.replace(/^\./, '');
  for (const m of Object.values(service.methods)) {
    const req = m.resolvedRequestType!;
    const res = m.resolvedResponseType!;
    def[m.name] = {
      path: `/${path}/${m.name}`,
      requestStream: !!m.requestStream,
      responseStream: !!m.responseStream,
      requestSerialize: (v: object) => Buffer.from(req.encode(v).finish()),
      requestDeserialize: (b: Buffer) => req.decode(b),
      responseSerialize: (v: object) => Buffer.from(res.encode(v).finish()),
      responseDeserialize: (b: Buffer) => res.decode(b),
      originalName: m.name,
    } as grpc.MethodDefinition<object, object>;
  }
  return def as grpc.ServiceDefinition;
}

/** The services the embedded server speaks. */
export const SERVICES = {
  workflow: temporal.api.workflowservice.v1.WorkflowService as unknown as ProtoService,
  operator: temporal.api.operatorservice.v1.OperatorService as unknown as ProtoService,
  test: temporal.api.testservice.v1.TestService as unknown as ProtoService,
};

function healthService(): ProtoService {
  return protoRoot.lookupService('grpc.health.v1.Health') as ProtoService;
}

/** Encodes a ServerError as the gRPC status a real server sends, with typed details when it has them. */
function toStatus(err: unknown, log: Logger, method: string): Partial<grpc.StatusObject> {
  if (err instanceof ServerError) {
    const metadata = new grpc.Metadata();
    if (err.detail) {
      const detailType = protoRoot.lookupType(err.detail.typeName);
      const statusMsg = google.rpc.Status.encode({
        code: err.code,
        message: err.message,
        details: [{ type_url: `type.googleapis.com/${err.detail.typeName}`, value: detailType.encode(err.detail.value).finish() } as any],
      }).finish();
      metadata.set('grpc-status-details-bin', Buffer.from(statusMsg));
    }
    return { code: err.code, details: err.message, metadata };
  }
  log.error({ err, method }, 'request failed unexpectedly');
  return { code: grpc.status.INTERNAL, details: `internal error in ${method}` };
}

/** Starts the gRPC server with the given handlers; methods without one answer UNIMPLEMENTED naming the call. */
export function createGrpcServer(
  handlers: Record<string, Handler>,
  opts: { log: Logger; includeTestService: boolean; onShutdown: (fn: () => void) => void },
): grpc.Server {
  // grpc-js writes its own diagnostics straight to stderr (a failed bind prints "No address added..."
  // beside the error the server reports itself); they go to the server's log, at debug.
  grpc.setLogger({ error: (...args: unknown[]) => opts.log.debug({ source: 'grpc-js' }, format(...args)) });
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE,
    'grpc.max_send_message_length': MAX_MESSAGE,
  });
  const services = [SERVICES.workflow, SERVICES.operator, healthService()];
  if (opts.includeTestService) services.push(SERVICES.test);
  const stopping: (() => void)[] = [];
  opts.onShutdown(() => stopping.splice(0).forEach((f) => f()));
  for (const service of services) {
    const def = definition(service);
    const impl: grpc.UntypedServiceImplementation = {};
    for (const name of Object.keys(def)) {
      const method = `${service.fullName.replace(/^\./, '')}/${name}`;
      const handler = handlers[name];
      if (def[name].requestStream || def[name].responseStream) {
        impl[name] = (call: any) => call.destroy?.({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented` });
        continue;
      }
      impl[name] = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
        if (!handler) return callback(toStatus(unimplemented(name), opts.log, method));
        const listeners: (() => void)[] = [];
        let aborted = false;
        const abort = () => {
          if (aborted) return;
          aborted = true;
          listeners.splice(0).forEach((f) => f());
        };
        call.on('cancelled', abort);
        stopping.push(abort);
        const signal: PollSignal = {
          get aborted() {
            return aborted;
          },
          onAbort(fn) {
            if (aborted) fn();
            else listeners.push(fn);
          },
        };
        const deadline = call.getDeadline();
        const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
        const ctx: CallContext = {
          signal,
          remainingMs: () => (Number.isFinite(deadlineMs) ? deadlineMs - Date.now() : Infinity),
          metadata: call.metadata,
        };
        Promise.resolve()
          .then(() => handler(call.request, ctx))
          .then(
            (res) => callback(null, res),
            (err) => callback(toStatus(err, opts.log, method)),
          )
          .finally(() => {
            const i = stopping.indexOf(abort);
            if (i >= 0) stopping.splice(i, 1);
            // A client may cancel a call after its answer; what waited for that call is gone by then.
            listeners.length = 0;
          });
      };
    }
    server.addService(def, impl);
  }
  return server;
}
