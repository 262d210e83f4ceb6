import { protoRoot, temporal } from '../proto';
import type { PType } from './json';

/** One HTTP binding of an RPC, from its google.api.http annotation. */
export interface Route {
  rpc: string;
  verb: string;
  template: string;
  body: string;
  pattern: RegExp;
  variables: string[];
  requestType: PType;
  responseType: PType;
}

interface AnnotatedMethod {
  name: string;
  parsedOptions?: Record<string, any>[];
  resolvedRequestType: PType;
  resolvedResponseType: PType;
}

const VERBS = ['get', 'post', 'put', 'delete', 'patch'];

function compile(template: string): { pattern: RegExp; variables: string[] } {
  const variables: string[] = [];
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^}=]+)(?:=([^}]+))?\}$/.exec(part);
      if (!m) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      variables.push(m[1]);
      // A variable is one path segment unless its template says `**`.
      return m[2]?.includes('**') ? '(.+)' : '([^/]+)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}$`), variables };
}

/** Every HTTP binding the WorkflowService and OperatorService protos declare, derived from their annotations. */
export function buildRoutes(): Route[] {
  const services = [temporal.api.workflowservice.v1.WorkflowService, temporal.api.operatorservice.v1.OperatorService] as unknown as {
    resolveAll(): void;
    methods: Record<string, AnnotatedMethod>;
  }[];
  // Every field must know its resolved type before messages can be converted to and from JSON.
  (protoRoot as unknown as { resolveAll(): void }).resolveAll();
  const routes: Route[] = [];
  for (const service of services) {
    service.resolveAll();
    for (const m of Object.values(service.methods)) {
      const http = m.parsedOptions?.find((o) => o['(google.api.http)'])?.['(google.api.http)'];
      if (!http) continue;
      const extra = http.additional_bindings;
      for (const binding of [http, ...(Array.isArray(extra) ? extra : extra ? [extra] : [])]) {
        const verb = VERBS.find((v) => typeof binding[v] === 'string');
        if (!verb) continue;
        const { pattern, variables } = compile(binding[verb]);
        routes.push({
          rpc: m.name,
          verb: verb.toUpperCase(),
          template: binding[verb],
          body: binding.body ?? '',
          pattern,
          variables,
          requestType: m.resolvedRequestType,
          responseType: m.resolvedResponseType,
        });
      }
    }
  }
  // Literal segments outrank variables where two templates could both match.
  return routes.sort((a, b) => b.template.replace(/\{[^}]+\}/g, '').length - a.template.replace(/\{[^}]+\}/g, '').length);
}

/** The route and path variables for a request, or null. */
export function matchRoute(routes: Route[], verb: string, path: string): { route: Route; params: Record<string, string> } | null {
  for (const route of routes) {
    if (route.verb !== verb) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    route.variables.forEach((v, i) => (params[v] = decodeURIComponent(m[i + 1])));
    return { route, params };
  }
  return null;
}
