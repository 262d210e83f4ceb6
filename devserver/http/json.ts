import { invalidArgument } from '../engine/errors';
import { num, type LongLike } from '../proto';

/** The parts of protobufjs reflection this codec reads. */
export interface PType {
  fullName: string;
  fieldsArray: PField[];
  fields: Record<string, PField>;
  resolveAll(): PType;
}
interface PField {
  name: string;
  type: string;
  repeated: boolean;
  map?: boolean;
  keyType?: string;
  resolvedType: PType | PEnum | null;
}
interface PEnum {
  values: Record<string, number>;
  valuesById: Record<number, string>;
}

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const isEnum = (t: PType | PEnum | null): t is PEnum => !!t && 'valuesById' in t;
const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

// ---- protobuf message -> proto3 JSON (with Temporal's payload shorthand) ---------------------

function payloadShorthand(p: any): { ok: boolean; value?: unknown } {
  const meta = p?.metadata ?? {};
  const keys = Object.keys(meta);
  const encoding = meta.encoding ? Buffer.from(meta.encoding).toString() : '';
  if (encoding === 'binary/null') return { ok: true, value: null };
  if (encoding === 'json/plain' && keys.length === 1) {
    try {
      return { ok: true, value: JSON.parse(Buffer.from(p.data ?? []).toString() || 'null') };
    } catch {
      return { ok: false };
    }
  }
  if (encoding === 'json/protobuf' && keys.length === 2 && meta.messageType) {
    try {
      const value = JSON.parse(Buffer.from(p.data ?? []).toString());
      return { ok: true, value: { ...value, _protoMessageType: Buffer.from(meta.messageType).toString() } };
    } catch {
      return { ok: false };
    }
  }
  return { ok: false };
}

function scalarToJson(type: string, v: any): unknown {
  if (INT64.has(type)) return String(num(v as LongLike));
  if (type === 'bytes') return Buffer.from(v).toString('base64');
  if ((type === 'double' || type === 'float') && !Number.isFinite(v)) return String(v);
  return v;
}

function isDefault(f: PField, v: any): boolean {
  if (v === null || v === undefined) return true;
  if (f.repeated) return !v.length;
  if (f.map) return !Object.keys(v).length;
  if (f.resolvedType && !isEnum(f.resolvedType)) return false;
  if (INT64.has(f.type)) return num(v) === 0;
  if (f.type === 'bytes') return !v.length;
  return v === 0 || v === '' || v === false;
}

function valueToJson(f: PField, v: any, shorthand: boolean): unknown {
  const t = f.resolvedType;
  if (isEnum(t)) return t.valuesById[v] ?? v;
  if (t) return messageToJson(t, v, shorthand);
  return scalarToJson(f.type, v);
}

/**
 * A message as proto3 JSON: camelCase names, defaults omitted, int64 as strings, enums by name.
 * With `shorthand` (the real server's HTTP API default) payloads that hold plain JSON are written as
 * that JSON; without it (`?noPayloadShorthand`, and what the Temporal UI's own server sends) every
 * payload is `{metadata, data}` in base64.
 */
export function messageToJson(type: PType, m: any, shorthand = true): unknown {
  switch (type.fullName) {
    case '.google.protobuf.Timestamp':
      return new Date(num(m.seconds) * 1000 + Math.floor((m.nanos ?? 0) / 1e6)).toISOString();
    case '.google.protobuf.Duration': {
      const s = num(m.seconds) + (m.nanos ?? 0) / 1e9;
      return `${+s.toFixed(9)}s`;
    }
    case '.google.protobuf.Any':
      return { '@type': m.type_url ?? m.typeUrl, value: Buffer.from(m.value ?? []).toString('base64') };
    case '.temporal.api.common.v1.Payload': {
      const short = shorthand ? payloadShorthand(m) : { ok: false };
      if (short.ok) return short.value;
      break;
    }
    case '.temporal.api.common.v1.Payloads': {
      if (!shorthand) break;
      const items = (m.payloads ?? []).map(payloadShorthand);
      if (items.every((i: { ok: boolean }) => i.ok)) return items.map((i: { value?: unknown }) => i.value);
      break;
    }
  }
  const out: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    const v = m[f.name];
    if (isDefault(f, v)) continue;
    if (f.repeated) out[f.name] = v.map((x: unknown) => valueToJson(f, x, shorthand));
    else if (f.map) out[f.name] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, valueToJson(f, x, shorthand)]));
    else out[f.name] = valueToJson(f, v, shorthand);
  }
  return out;
}

// ---- proto3 JSON -> protobuf message -------------------------------------------------------

function bad(path: string, problem: string): never {
  throw invalidArgument(`${path}: ${problem}`);
}

function parseDuration(s: string, path: string): { seconds: number; nanos: number } {
  const m = /^(-?\d+)(?:\.(\d{1,9}))?s$/.exec(s);
  if (!m) bad(path, `not a duration: ${s}`);
  const nanos = m[2] ? Number(m[2].padEnd(9, '0')) : 0;
  return { seconds: Number(m[1]), nanos: m[1].startsWith('-') ? -nanos : nanos };
}

function jsonPayload(v: unknown): object {
  if (v === null) return { metadata: { encoding: Buffer.from('binary/null') } };
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 2 && typeof o.data === 'string' && o.metadata && typeof o.metadata === 'object') {
      return {
        metadata: Object.fromEntries(Object.entries(o.metadata as Record<string, string>).map(([k, x]) => [k, Buffer.from(String(x), 'base64')])),
        data: Buffer.from(o.data, 'base64'),
      };
    }
    if (typeof o._protoMessageType === 'string') {
      const { _protoMessageType, ...rest } = o;
      return { metadata: { encoding: Buffer.from('json/protobuf'), messageType: Buffer.from(_protoMessageType as string) }, data: Buffer.from(JSON.stringify(rest)) };
    }
  }
  return { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(v)) };
}

function valueFromJson(f: PField, v: unknown, path: string, shorthand: boolean): unknown {
  const t = f.resolvedType;
  if (isEnum(t)) {
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v in t.values) return t.values[v];
    return bad(path, `unknown enum value ${JSON.stringify(v)}`);
  }
  if (t) return messageFromJson(t, v, path, shorthand);
  switch (f.type) {
    case 'string':
      if (typeof v !== 'string') bad(path, 'expected a string');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') bad(path, 'expected true or false');
      return v;
    case 'bytes':
      if (typeof v !== 'string') bad(path, 'expected base64 bytes');
      return Buffer.from(v, 'base64');
    default: {
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || Number.isNaN(n)) bad(path, 'expected a number');
      return n;
    }
  }
}

/**
 * A proto3 JSON value (camelCase or snake_case names) as a message object. With `shorthand` a payload
 * may be given as the JSON it holds; without it payloads are read as `{metadata, data}` messages only.
 */
export function messageFromJson(type: PType, json: unknown, path = '$', shorthand = true): any {
  switch (type.fullName) {
    case '.google.protobuf.Timestamp': {
      const ms = typeof json === 'string' ? Date.parse(json) : NaN;
      if (Number.isNaN(ms)) bad(path, 'expected an RFC 3339 timestamp');
      return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
    }
    case '.google.protobuf.Duration':
      if (typeof json !== 'string') bad(path, 'expected a duration like "1.5s"');
      return parseDuration(json, path);
    case '.temporal.api.common.v1.Payloads':
      if (shorthand && Array.isArray(json)) return { payloads: json.map(jsonPayload) };
      break;
    case '.temporal.api.common.v1.Payload':
      if (shorthand) return jsonPayload(json);
      break;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) bad(path, 'expected an object');
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(json as Record<string, unknown>)) {
    const f = type.fields[key] ?? type.fields[camel(key)];
    if (!f) bad(`${path}.${key}`, 'unknown field');
    if (v === null) continue;
    const p = `${path}.${key}`;
    if (f.repeated) {
      if (!Array.isArray(v)) bad(p, 'expected an array');
      out[f.name] = v.map((x, i) => valueFromJson(f, x, `${p}[${i}]`, shorthand));
    } else if (f.map) {
      if (typeof v !== 'object') bad(p, 'expected an object');
      out[f.name] = Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, valueFromJson(f, x, `${p}.${k}`, shorthand)]));
    } else out[f.name] = valueFromJson(f, v, p, shorthand);
  }
  return out;
}

/** Whether a dotted path (snake_case or camelCase names) names a field of the message. */
export function hasPath(type: PType, dotted: string): boolean {
  let t: PType | PEnum | null = type;
  for (const part of dotted.split('.')) {
    if (!t || isEnum(t)) return false;
    const f: PField | undefined = t.fields[camel(part)] ?? t.fields[part];
    if (!f) return false;
    t = f.resolvedType;
  }
  return true;
}

/** Sets a value at a dotted snake_case field path (from a URL template or query string), converting it by the field's type. */
export function setPath(type: PType, target: any, dotted: string, raw: string | string[]): void {
  const parts = dotted.split('.');
  let t: PType = type;
  let obj = target;
  for (let i = 0; i < parts.length; i++) {
    const f = t.fields[camel(parts[i])] ?? t.fields[parts[i]];
    if (!f) bad(dotted, 'unknown field');
    if (i === parts.length - 1) {
      const values = Array.isArray(raw) ? raw : [raw];
      const conv = (s: string) => {
        if (f.resolvedType && !isEnum(f.resolvedType)) return messageFromJson(f.resolvedType, s, dotted);
        if (f.type === 'bool') return s === 'true';
        if (f.type === 'string' || isEnum(f.resolvedType)) return valueFromJson(f, isEnum(f.resolvedType) && /^\d+$/.test(s) ? Number(s) : s, dotted, true);
        return valueFromJson(f, s, dotted, true);
      };
      obj[f.name] = f.repeated ? values.map(conv) : conv(values[values.length - 1]);
      return;
    }
    if (!f.resolvedType || isEnum(f.resolvedType)) bad(dotted, 'not a message field');
    obj = obj[f.name] ??= {};
    t = f.resolvedType;
  }
}
