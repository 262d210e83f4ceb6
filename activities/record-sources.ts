import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv, type CsvError, type Info } from 'csv-parse';
import { Client } from 'pg';
import type { SourceRecord } from '../domain/reconcile';

/** How an uploaded record set is written. */
export type RecordFormat = 'ndjson' | 'csv';

/** Where one side of a window comes from: a staged upload or a table of the Clearway database. */
export type SourceRef =
  | { kind: 'file'; path: string; format: RecordFormat }
  | { kind: 'table'; table: string; windowColumn: string; window: string };

/** A row read from a source: its 1-based line (CSV: the line it ends on; tables: its ordinal) and its fields. */
export type ReadRow = { line: number; record: SourceRecord };
/** A row that could not be read. */
export type ReadProblem = { line: number; message: string };
/** What a source yields per chunk: rows are batched so two million records cost thousands of awaits, not millions. */
export type ReadBatch = { rows: ReadRow[]; problems: ReadProblem[] };

/**
 * Newline-delimited JSON, one object per line. Blank lines are skipped (and counted, so line numbers stay those of
 * the file).
 */
export async function* readNdjson(stream: Readable): AsyncGenerator<ReadBatch> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  const parseLine = (text: string, batch: ReadBatch) => {
    line++;
    const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (trimmed.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      batch.problems.push({ line, message: `not valid JSON: ${(error as Error).message}` });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      batch.problems.push({ line, message: 'not a JSON object' });
      return;
    }
    batch.rows.push({ line, record: value as SourceRecord });
  };
  for await (const chunk of stream) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    const batch: ReadBatch = { rows: [], problems: [] };
    let start = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
      parseLine(text.slice(start, i), batch);
      start = i + 1;
    }
    rest = text.slice(start);
    if (batch.rows.length > 0 || batch.problems.length > 0) yield batch;
  }
  rest += decoder.end();
  if (rest.length > 0) {
    const batch: ReadBatch = { rows: [], problems: [] };
    parseLine(rest, batch);
    yield batch;
  }
}

/**
 * CSV with a header row naming the fields. Rows with the wrong number of columns are reported with their line and
 * skipped; a header missing a field the plan needs is reported once, on line 1; an unreadable file (an unclosed quote)
 * ends reading at the line where it broke.
 */
export async function* readCsv(stream: Readable, requiredFields: readonly string[]): AsyncGenerator<ReadBatch> {
  const skipped: ReadProblem[] = [];
  // Rows come as arrays tagged with their line by on_record: csv-parse's `info` and `columns` options copy an object
  // per row and made CSV twice as slow as NDJSON.
  const parser = stream.pipe(
    parseCsv({
      // The typings tie on_record's result to the row type; the pair is unpacked below.
      on_record: (record: string[], context: Info) => [context.lines, record] as unknown as string[],
      bom: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
    }),
  );
  parser.on('skip', (err: CsvError) => {
    skipped.push({ line: Number((err as CsvError & { lines?: number }).lines ?? 0), message: err.message });
  });
  let header: string[] | null = null;
  let batch: ReadBatch = { rows: [], problems: [] };
  try {
    for await (const [line, values] of parser as AsyncIterable<[number, string[]]>) {
      if (skipped.length > 0) batch.problems.push(...skipped.splice(0));
      if (header === null) {
        header = values.map((h) => h.trim());
        const missing = requiredFields.filter((f) => !header!.includes(f));
        if (missing.length > 0) batch.problems.push({ line, message: `the header lacks ${missing.join(', ')}` });
        continue;
      }
      const record: SourceRecord = {};
      for (let i = 0; i < header.length; i++) record[header[i]] = values[i];
      batch.rows.push({ line, record });
      if (batch.rows.length >= 2_000) {
        yield batch;
        batch = { rows: [], problems: [] };
      }
    }
  } catch (error) {
    const e = error as CsvError & { lines?: number };
    batch.problems.push({ line: Number(e.lines ?? 0), message: e.message });
  }
  batch.problems.push(...skipped.splice(0));
  if (batch.rows.length > 0 || batch.problems.length > 0) yield batch;
}

const FETCH_ROWS = 5_000;

/**
 * A window's rows of one table, through a cursor so the table is never held whole. Identifiers were validated by the
 * plan's schema as plain lower-case names; the window travels as a parameter.
 */
export async function* readTable(
  databaseUrl: string,
  ref: Extract<SourceRef, { kind: 'table' }>,
): AsyncGenerator<ReadBatch> {
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
      yield { rows: rows.map((record: SourceRecord) => ({ line: ++line, record })), problems: [] };
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

/** The batches of one side, whatever its kind. */
export function readSource(
  ref: SourceRef,
  requiredFields: readonly string[],
  databaseUrl?: string,
): AsyncGenerator<ReadBatch> {
  if (ref.kind === 'table') {
    if (!databaseUrl) throw new Error('reading a table needs the database URL');
    return readTable(databaseUrl, ref);
  }
  const stream = fs.createReadStream(ref.path, { highWaterMark: 1 << 20 });
  return ref.format === 'csv' ? readCsv(stream, requiredFields) : readNdjson(stream);
}
