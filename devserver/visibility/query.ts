import { invalidArgument } from '../engine/errors';

/** A parsed visibility query: a filter, an ordering and an optional grouping. */
export interface VisibilityQuery {
  where: Expr | null;
  orderBy: { field: string; desc: boolean }[];
  groupBy: string[];
}

export type Value = string | number | boolean;
export type Expr =
  | { kind: 'and'; left: Expr; right: Expr }
  | { kind: 'or'; left: Expr; right: Expr }
  | { kind: 'not'; expr: Expr }
  | { kind: 'cmp'; field: string; op: '=' | '!=' | '>' | '>=' | '<' | '<='; value: Value }
  | { kind: 'in'; field: string; values: Value[]; negated: boolean }
  | { kind: 'between'; field: string; low: Value; high: Value; negated: boolean }
  | { kind: 'startsWith'; field: string; prefix: string }
  | { kind: 'isNull'; field: string; negated: boolean };

interface Token {
  type: 'ident' | 'string' | 'number' | 'op' | 'punct';
  text: string;
  value?: Value;
  pos: number;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'STARTS_WITH', 'IS', 'NULL', 'ORDER', 'BY', 'ASC', 'DESC', 'GROUP', 'TRUE', 'FALSE']);

function fail(message: string, pos: number): never {
  throw invalidArgument(`invalid query: ${message} at position ${pos + 1}`);
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        text += src[j++];
      }
      if (j >= src.length) fail('unterminated string', i);
      out.push({ type: 'string', text, value: text, pos: i });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) fail('unterminated `name`', i);
      out.push({ type: 'ident', text: src.slice(i + 1, j), pos: i });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?/.exec(src.slice(i))!;
      out.push({ type: 'number', text: m[0], value: Number(m[0]), pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i))!;
      out.push({ type: 'ident', text: m[0], pos: i });
      i += m[0].length;
    } else {
      const two = src.slice(i, i + 2);
      if (['!=', '<>', '>=', '<='].includes(two)) {
        out.push({ type: 'op', text: two === '<>' ? '!=' : two, pos: i });
        i += 2;
      } else if ('=<>'.includes(c)) {
        out.push({ type: 'op', text: c, pos: i });
        i++;
      } else if ('(),'.includes(c)) {
        out.push({ type: 'punct', text: c, pos: i });
        i++;
      } else fail(`unexpected character '${c}'`, i);
    }
  }
  return out;
}

/** Parses the subset of Temporal's visibility query language the UI and CLI send. */
export function parseQuery(src: string | null | undefined): VisibilityQuery {
  const tokens = tokenize(src ?? '');
  let p = 0;
  const peek = () => tokens[p];
  const isKw = (t: Token | undefined, kw: string) => t?.type === 'ident' && t.text.toUpperCase() === kw;
  const expectKw = (kw: string) => {
    const t = tokens[p];
    if (!isKw(t, kw)) fail(`expected ${kw}`, t?.pos ?? (src ?? '').length);
    p++;
  };
  const field = (): string => {
    const t = tokens[p];
    if (!t || t.type !== 'ident' || KEYWORDS.has(t.text.toUpperCase())) fail('expected a search attribute name', t?.pos ?? (src ?? '').length);
    p++;
    return t.text;
  };
  const value = (): Value => {
    const t = tokens[p];
    if (!t) fail('expected a value', (src ?? '').length);
    if (t.type === 'string' || t.type === 'number') {
      p++;
      return t.value!;
    }
    if (isKw(t, 'TRUE') || isKw(t, 'FALSE')) {
      p++;
      return t.text.toUpperCase() === 'TRUE';
    }
    return fail('expected a quoted string, a number or true/false', t.pos);
  };
  const predicate = (): Expr => {
    const t = peek();
    if (t?.type === 'punct' && t.text === '(') {
      p++;
      const e = or();
      if (peek()?.text !== ')') fail("expected ')'", peek()?.pos ?? (src ?? '').length);
      p++;
      return e;
    }
    if (isKw(t, 'NOT')) {
      p++;
      return { kind: 'not', expr: predicate() };
    }
    const f = field();
    const n = peek();
    if (n?.type === 'op') {
      p++;
      return { kind: 'cmp', field: f, op: n.text as '=', value: value() };
    }
    let negated = false;
    if (isKw(n, 'NOT')) {
      negated = true;
      p++;
    }
    if (isKw(peek(), 'IN')) {
      p++;
      if (peek()?.text !== '(') fail("expected '(' after IN", peek()?.pos ?? 0);
      p++;
      const values = [value()];
      while (peek()?.text === ',') {
        p++;
        values.push(value());
      }
      if (peek()?.text !== ')') fail("expected ')'", peek()?.pos ?? (src ?? '').length);
      p++;
      return { kind: 'in', field: f, values, negated };
    }
    if (isKw(peek(), 'BETWEEN')) {
      p++;
      const low = value();
      expectKw('AND');
      return { kind: 'between', field: f, low, high: value(), negated };
    }
    if (!negated && isKw(peek(), 'STARTS_WITH')) {
      p++;
      const v = value();
      if (typeof v !== 'string') fail('STARTS_WITH needs a string', tokens[p - 1].pos);
      return { kind: 'startsWith', field: f, prefix: v };
    }
    if (!negated && isKw(peek(), 'IS')) {
      p++;
      let not = false;
      if (isKw(peek(), 'NOT')) {
        not = true;
        p++;
      }
      expectKw('NULL');
      return { kind: 'isNull', field: f, negated: not };
    }
    return fail(`expected an operator after ${f}`, peek()?.pos ?? (src ?? '').length);
  };
  const and = (): Expr => {
    let left = predicate();
    while (isKw(peek(), 'AND')) {
      p++;
      left = { kind: 'and', left, right: predicate() };
    }
    return left;
  };
  const or = (): Expr => {
    let left = and();
    while (isKw(peek(), 'OR')) {
      p++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const q: VisibilityQuery = { where: null, orderBy: [], groupBy: [] };
  if (p < tokens.length && !isKw(peek(), 'ORDER') && !isKw(peek(), 'GROUP')) q.where = or();
  if (isKw(peek(), 'ORDER')) {
    p++;
    expectKw('BY');
    do {
      if (peek()?.text === ',') p++;
      const f = field();
      let desc = false;
      if (isKw(peek(), 'DESC')) {
        desc = true;
        p++;
      } else if (isKw(peek(), 'ASC')) p++;
      q.orderBy.push({ field: f, desc });
    } while (peek()?.text === ',');
  } else if (isKw(peek(), 'GROUP')) {
    p++;
    expectKw('BY');
    q.groupBy.push(field());
    if (q.groupBy[0] !== 'ExecutionStatus') fail('only GROUP BY ExecutionStatus is supported', tokens[p - 1].pos);
  }
  if (p < tokens.length) fail(`unexpected '${tokens[p].text}'`, tokens[p].pos);
  return q;
}
