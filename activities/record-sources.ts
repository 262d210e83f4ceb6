import fs from 'node:fs';
import { Client } from 'pg';
import { valueText } from '../domain/reconcile';

/** How an uploaded record set is written. */
export type RecordFormat = 'ndjson' | 'csv';

/** Where one side of a window comes from: a staged upload or a table of the Clearway database. */
export type SourceRef =
  | { kind: 'file'; path: string; format: RecordFormat }
  | { kind: 'table'; table: string; windowColumn: string; window: string };

/** A row that could not be read, with its 1-based line (CSV: the line it ends on; tables: its ordinal). */
export type ReadProblem = { line: number; message: string };

/** Where reading a file can continue: the byte offset of the next unread record and the lines before it. */
export type SourcePosition = { offset: number; line: number };

/**
 * Receives what a source reads. `values` holds the requested fields in order (null when the record lacks one);
 * `plain` is true when no value can contain a tab, newline, carriage return or backslash, so a caller writing them
 * tab-separated can skip escaping.
 */
export interface RowSink {
  row(line: number, values: (string | null)[], plain: boolean): void;
  problem(problem: ReadProblem): void;
}

/** Options for reading a source. */
export interface ReadOptions {
  /** For table sources: the database holding them. */
  databaseUrl?: string;
  /** Continue a file from here instead of from its beginning. */
  from?: SourcePosition;
  /** Bytes read from a file at a time (64 KiB unless given). */
  chunkBytes?: number;
}

// Pieces stay under V8's large-object size, so their text dies in the young generation instead of piling up in the
// old one until a full collection (which is what made the resident memory grow with the window).
const CHUNK_BYTES = 64 << 10;
// A record longer than this is not a declaration; refusing it keeps a file without newlines from filling memory.
const MAX_RECORD_BYTES = 16 << 20;
const NEWLINE = 10;

/** Reading stopped at a problem that leaves the rest of the file unreadable (an unclosed quote, a giant record). */
class Unreadable extends Error {
  constructor(readonly problem: ReadProblem) {
    super(problem.message);
  }
}

/**
 * Feeds a file to `parse` in pieces of whole lines (a newline byte never falls inside a UTF-8 sequence, so each
 * piece decodes on its own). `parse` answers how many characters it consumed: fewer than the piece when a record
 * (a quoted field holding newlines) runs on into the next. Yields the byte offset after each consumed part.
 * One buffer is read into and reused: a fresh buffer per chunk leaves the allocator's memory fragmented, and the
 * resident size grows with the file although nothing is kept.
 */
async function* pieces(
  file: string,
  offset: number,
  parse: (text: string, final: boolean) => number,
  chunkBytes = CHUNK_BYTES,
): AsyncGenerator<number> {
  const handle = await fs.promises.open(file, 'r');
  let buf = Buffer.allocUnsafe(chunkBytes * 2);
  // buf[start, end) is read but not yet consumed; `at` is its file offset.
  let start = 0;
  let end = 0;
  let at = offset;
  let position = offset;
  try {
    for (;;) {
      if (start > 0) {
        buf.copy(buf, 0, start, end);
        end -= start;
        start = 0;
      }
      if (buf.length - end < chunkBytes) {
        if (end > MAX_RECORD_BYTES) {
          throw new Unreadable({ line: 0, message: `a record runs past ${MAX_RECORD_BYTES} bytes` });
        }
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, end);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, end, chunkBytes, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      end += bytesRead;
      const last = buf.lastIndexOf(NEWLINE, end - 1);
      if (last < start) continue;
      const text = buf.toString('utf8', start, last + 1);
      const used = parse(text, false);
      const usedBytes = used === text.length ? last + 1 - start : Buffer.byteLength(text.slice(0, used));
      start += usedBytes;
      at += usedBytes;
      yield at;
    }
    if (end > start) {
      parse(buf.toString('utf8', start, end), true);
      at += end - start;
    }
    yield at;
  } finally {
    await handle.close();
  }
}

/**
 * Newline-delimited JSON, one object per line. Blank lines are skipped (and counted, so line numbers stay those of
 * the file).
 */
export async function* readNdjson(
  file: string,
  fields: readonly string[],
  sink: RowSink,
  from?: SourcePosition,
  chunkBytes?: number,
): AsyncGenerator<SourcePosition> {
  let line = from?.line ?? 0;
  const parseLine = (text: string) => {
    line++;
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      sink.problem({ line, message: `not valid JSON: ${(error as Error).message}` });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      sink.problem({ line, message: 'not a JSON object' });
      return;
    }
    const record = value as Record<string, unknown>;
    const values = new Array<string | null>(fields.length);
    for (let i = 0; i < fields.length; i++) values[i] = valueText(record[fields[i]]);
    // JSON cannot hold a raw control character in a string: without a backslash no value has one.
    sink.row(line, values, text.indexOf('\\') === -1);
  };
  const parse = (text: string, final: boolean) => {
    let start = line === 0 && text.charCodeAt(0) === 0xfeff ? 1 : 0;
    for (let end = text.indexOf('\n', start); end !== -1; end = text.indexOf('\n', start)) {
      parseLine(text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end));
      start = end + 1;
    }
    if (final && start < text.length) {
      const rest = text.slice(start);
      parseLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
      start = text.length;
    }
    return start;
  };
  try {
    for await (const offset of pieces(file, from?.offset ?? 0, parse, chunkBytes)) yield { offset, line };
  } catch (e) {
    if (!(e instanceof Unreadable)) throw e;
    sink.problem({ ...e.problem, line: line + 1 });
  }
}

/**
 * A CSV record parser (RFC 4180: `,` between fields, `"` quotes, `""` inside quotes, LF or CRLF between records)
 * that keeps only the columns asked for. It scans a piece of whole lines and stops before a record that runs on
 * past it. Blank lines are skipped; `lineNo` counts every line, so a record's line is the one it ends on.
 */
class CsvParser {
  /** Column index to slot in the values handed on, or -1 for columns nobody asked for. */
  private slots: Int32Array = new Int32Array(0);
  private width = 0;
  header: string[] | null = null;
  lineNo: number;

  constructor(
    private readonly fields: readonly string[],
    private readonly sink: RowSink,
    linesBefore: number,
    private readonly onHeader: (header: string[], line: number) => void,
  ) {
    this.lineNo = linesBefore + 1;
  }

  /** Uses `header` for the records that follow (when continuing a file after its header). */
  useHeader(header: string[]) {
    this.header = header;
    this.width = header.length;
    this.slots = new Int32Array(header.length).fill(-1);
    // With a repeated column name the last one wins, as it would in an object built from the row.
    const columnOf = new Int32Array(this.fields.length).fill(-1);
    header.forEach((name, i) => {
      const slot = this.fields.indexOf(name);
      if (slot === -1) return;
      if (columnOf[slot] !== -1) this.slots[columnOf[slot]] = -1;
      this.slots[i] = slot;
      columnOf[slot] = i;
    });
  }

  /** Parses what records `text` completes; returns the characters consumed. */
  parse(text: string, final: boolean): number {
    let pos = this.lineNo === 1 && text.charCodeAt(0) === 0xfeff ? 1 : 0;
    const quoted = text.indexOf('"', pos) !== -1;
    const plain = text.indexOf('\t', pos) === -1 && text.indexOf('\\', pos) === -1;
    while (pos < text.length) {
      const next = quoted ? this.careful(text, pos, final, plain) : this.quick(text, pos, final, plain);
      if (next === -1) break;
      pos = next;
    }
    return Math.min(pos, text.length);
  }

  private emit(values: string[] | (string | null)[], columns: number, line: number, plain: boolean) {
    if (this.header === null) {
      const header = (values as string[]).map((h) => h.trim());
      this.useHeader(header);
      this.onHeader(header, line);
      return;
    }
    if (columns !== this.width) {
      this.sink.problem({ line, message: `expected ${this.width} columns, found ${columns}` });
      return;
    }
    this.sink.row(line, values as (string | null)[], plain);
  }

  /** A piece without quotes: every record is one line. Returns the index after the record, or -1 if it is cut. */
  private quick(text: string, pos: number, final: boolean, plain: boolean): number {
    let end = text.indexOf('\n', pos);
    if (end === -1) {
      if (!final) return -1;
      end = text.length;
    }
    const stop = text.charCodeAt(end - 1) === 13 && end > pos ? end - 1 : end;
    const line = this.lineNo++;
    if (stop === pos) return end + 1;
    const header = this.header === null;
    const values: (string | null)[] = header ? [] : new Array<string | null>(this.fields.length).fill(null);
    let column = 0;
    let start = pos;
    for (;;) {
      let comma = text.indexOf(',', start);
      if (comma === -1 || comma > stop) comma = stop;
      if (header) values.push(text.slice(start, comma));
      else if (column < this.width && this.slots[column] !== -1) values[this.slots[column]] = text.slice(start, comma);
      column++;
      if (comma === stop) break;
      start = comma + 1;
    }
    this.emit(values, column, line, plain);
    return end + 1;
  }

  /**
   * Any record, quoted fields included. Returns the index after the record, or -1 when the record runs past the
   * piece (and more is coming). A malformed record is reported and skipped to the end of its line; an unclosed quote
   * at the end of the file ends reading.
   */
  private careful(text: string, pos: number, final: boolean, piecePlain: boolean): number {
    const header = this.header === null;
    const values: (string | null)[] = header ? [] : new Array<string | null>(this.fields.length).fill(null);
    let newlines = 0;
    let column = 0;
    let plain = piecePlain;
    let i = pos;
    let value: string;
    for (;;) {
      if (text.charCodeAt(i) === 34) {
        // Quoted: up to a quote not doubled.
        let parts = '';
        let start = i + 1;
        for (;;) {
          const q = text.indexOf('"', start);
          if (q === -1 || (q === text.length - 1 && !final)) {
            if (!final) return -1;
            throw new Unreadable({ line: this.lineNo, message: 'a quoted field is not closed before the end' });
          }
          if (text.charCodeAt(q + 1) === 34) {
            parts += text.slice(start, q + 1);
            start = q + 2;
            continue;
          }
          value = parts + text.slice(start, q);
          i = q + 1;
          break;
        }
        for (let n = value.indexOf('\n'); n !== -1; n = value.indexOf('\n', n + 1)) newlines++;
        if (value.indexOf('\n') !== -1 || value.indexOf('\r') !== -1) plain = false;
        const c = text.charCodeAt(i);
        const ends = i >= text.length || c === 44 || c === 10 || (c === 13 && text.charCodeAt(i + 1) === 10);
        if (!ends) return this.skip(text, i, newlines, 'a quoted field is followed by more than a comma or line end');
      } else {
        let stop = i;
        while (stop < text.length) {
          const c = text.charCodeAt(stop);
          if (c === 44 || c === 10) break;
          if (c === 34) return this.skip(text, stop, newlines, 'a quote inside an unquoted field');
          stop++;
        }
        if (stop >= text.length && !final) return -1;
        value =
          text.charCodeAt(stop - 1) === 13 && text.charCodeAt(stop) !== 44
            ? text.slice(i, stop - 1)
            : text.slice(i, stop);
        i = stop;
      }
      if (header) values.push(value);
      else if (column < this.width && this.slots[column] !== -1) values[this.slots[column]] = value;
      column++;
      const c = text.charCodeAt(i);
      if (c === 44) {
        i++;
        continue;
      }
      // A record ends at LF, CRLF or the end of the file.
      if (c === 13) i++;
      const line = this.lineNo + newlines;
      this.lineNo = line + 1;
      if (column === 1 && value === '' && text.charCodeAt(pos) !== 34) return i + 1;
      this.emit(values, column, line, plain);
      return i + 1;
    }
  }

  private skip(text: string, from: number, newlines: number, message: string): number {
    const end = text.indexOf('\n', from);
    const line = this.lineNo + newlines;
    this.lineNo = line + 1;
    this.sink.problem({ line, message });
    return end === -1 ? text.length : end + 1;
  }
}

/**
 * CSV with a header row naming the fields. Rows with the wrong number of columns or misplaced quotes are reported
 * with their line and skipped; a header missing a field the plan needs is reported once, on its line; an unclosed
 * quote ends reading at the line where the record began.
 */
export async function* readCsv(
  file: string,
  fields: readonly string[],
  sink: RowSink,
  from?: SourcePosition,
  chunkBytes?: number,
): AsyncGenerator<SourcePosition> {
  const onHeader = (header: string[], line: number) => {
    const missing = fields.filter((f) => !header.includes(f));
    if (missing.length > 0) sink.problem({ line, message: `the header lacks ${missing.join(', ')}` });
  };
  const parser = new CsvParser(fields, sink, from?.line ?? 0, onHeader);
  if (from && from.offset > 0) parser.useHeader(await readCsvHeader(file));
  try {
    const parse = (text: string, final: boolean) => parser.parse(text, final);
    for await (const offset of pieces(file, from?.offset ?? 0, parse, chunkBytes)) {
      yield { offset, line: parser.lineNo - 1 };
    }
  } catch (e) {
    if (!(e instanceof Unreadable)) throw e;
    sink.problem(e.problem.line === 0 ? { ...e.problem, line: parser.lineNo } : e.problem);
  }
}

/** The header of a CSV file, for continuing it past its header. */
async function readCsvHeader(file: string): Promise<string[]> {
  const ignore: RowSink = { row: () => undefined, problem: () => undefined };
  let header: string[] | null = null;
  const parser = new CsvParser([], ignore, 0, (h) => (header = h));
  for await (const _offset of pieces(file, 0, (text, final) => (header ? text.length : parser.parse(text, final)))) {
    if (header) break;
  }
  if (!header) throw new Error(`${file} has no header`);
  return header;
}

const FETCH_ROWS = 5_000;

/**
 * A window's rows of one table, through a cursor so the table is never held whole. Identifiers were validated by the
 * plan's schema as plain lower-case names; the window travels as a parameter. A table has no order to continue from,
 * so it is always read from its first row.
 */
export async function* readTable(
  databaseUrl: string,
  ref: Extract<SourceRef, { kind: 'table' }>,
  fields: readonly string[],
  sink: RowSink,
): AsyncGenerator<null> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  let line = 0;
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(
      `DECLARE clearway_reconcile NO SCROLL CURSOR FOR SELECT * FROM "${ref.table}" WHERE "${ref.windowColumn}" = $1`,
      [ref.window],
    );
    for (;;) {
      const { rows } = await client.query(`FETCH ${FETCH_ROWS} FROM clearway_reconcile`);
      if (rows.length === 0) break;
      for (const record of rows as Record<string, unknown>[]) {
        sink.row(
          ++line,
          fields.map((f) => valueText(record[f])),
          false,
        );
      }
      yield null;
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

/**
 * Reads one side, handing each row and problem to `sink`, and yields after every chunk where reading could continue
 * from (null for tables, which always start over).
 */
export function readSource(
  ref: SourceRef,
  fields: readonly string[],
  sink: RowSink,
  opts: ReadOptions = {},
): AsyncGenerator<SourcePosition | null> {
  if (ref.kind === 'table') {
    if (!opts.databaseUrl) throw new Error('reading a table needs the database URL');
    return readTable(opts.databaseUrl, ref, fields, sink);
  }
  return ref.format === 'csv'
    ? readCsv(ref.path, fields, sink, opts.from, opts.chunkBytes)
    : readNdjson(ref.path, fields, sink, opts.from, opts.chunkBytes);
}
