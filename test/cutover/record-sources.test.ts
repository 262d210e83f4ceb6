import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  readCsv,
  readNdjson,
  type ReadProblem,
  type RowSink,
  type SourcePosition,
} from '../../activities/record-sources';

type Read = { rows: [number, (string | null)[]][]; problems: ReadProblem[]; positions: SourcePosition[] };

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-sources-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string | Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

async function read(
  reader: typeof readCsv | typeof readNdjson,
  p: string,
  fields: string[],
  opts: { from?: SourcePosition; chunkBytes?: number } = {},
): Promise<Read> {
  const out: Read = { rows: [], problems: [], positions: [] };
  const sink: RowSink = {
    row: (line, values) => out.rows.push([line, values]),
    problem: (problem) => out.problems.push(problem),
  };
  for await (const position of reader(p, fields, sink, opts.from, opts.chunkBytes)) out.positions.push(position);
  return out;
}

describe('readCsv', () => {
  it('readCsv: when fields are quoted, hold commas, doubled quotes or line breaks, each value is read whole and the row keeps the line it ends on', async () => {
    const p = file(
      'quoted.csv',
      '\uFEFFref,name,duty\r\n' +
        'A,"ACME, Inc.",1.00\r\n' +
        '\r\n' +
        'B,"say ""hi""",2\r\n' +
        'C,"two\nlines",3\n' +
        'D,plain,4',
    );
    const r = await read(readCsv, p, ['ref', 'duty', 'name']);
    expect(r.problems).toEqual([]);
    expect(r.rows).toEqual([
      [2, ['A', '1.00', 'ACME, Inc.']],
      [4, ['B', '2', 'say "hi"']],
      [6, ['C', '3', 'two\nlines']],
      [7, ['D', '4', 'plain']],
    ]);
  });

  it.each([
    ['a row with too few columns', 'ref,duty\nA,1\nB\nC,3\n', [{ line: 3, message: 'expected 2 columns, found 1' }], 2],
    [
      'a quote inside an unquoted field',
      'ref,duty\nA,1\nB"x,2\nC,3\n',
      [{ line: 3, message: 'a quote inside an unquoted field' }],
      2,
    ],
    [
      'text after a closing quote',
      'ref,duty\nA,1\n"B"x,2\nC,3\n',
      [{ line: 3, message: 'a quoted field is followed by more than a comma or line end' }],
      2,
    ],
    [
      'a quote never closed',
      'ref,duty\nA,1\n"B,2\nC,3\n',
      [{ line: 3, message: 'a quoted field is not closed before the end' }],
      1,
    ],
    ['a header without a needed field', 'ref,cost\nA,1\n', [{ line: 1, message: 'the header lacks duty' }], 1],
  ] as const)('readCsv: when the file has %s, it is reported with its line', async (_what, text, problems, rows) => {
    const r = await read(readCsv, file('bad.csv', text), ['ref', 'duty']);
    expect(r.problems).toEqual(problems);
    expect(r.rows).toHaveLength(rows);
  });

  it('readCsv: when reading continues from any position it yielded, the rest of the rows are those a whole read finds', async () => {
    const lines = ['ref,note,duty'];
    for (let i = 1; i <= 300; i++)
      lines.push(i % 7 === 0 ? `R${i},"multi\nline, ""quoted""",${i}` : `R${i},n${i},${i}`);
    const p = file('resume.csv', lines.join('\n') + '\n');
    const whole = await read(readCsv, p, ['ref', 'duty', 'note'], { chunkBytes: 512 });
    expect(whole.rows).toHaveLength(300);
    expect(whole.positions.length).toBeGreaterThan(10);
    for (const from of whole.positions.slice(0, -1)) {
      const rest = await read(readCsv, p, ['ref', 'duty', 'note'], { from, chunkBytes: 512 });
      const before = whole.rows.filter(([line]) => line <= from.line);
      expect([...before, ...rest.rows]).toEqual(whole.rows);
    }
  });
});

describe('readNdjson', () => {
  it('readNdjson: when lines are blank, malformed or not objects, rows keep their file lines and problems are reported', async () => {
    const p = file('mixed.ndjson', '{"ref":"A","duty":1.5}\n\n{"ref":"B"\n[1]\r\n{"ref":"C","duty":{"v":2},"x":null}');
    const r = await read(readNdjson, p, ['ref', 'duty']);
    expect(r.rows).toEqual([
      [1, ['A', '1.5']],
      [5, ['C', '{"v":2}']],
    ]);
    expect(r.problems.map((x) => [x.line, x.message.split(':')[0]])).toEqual([
      [3, 'not valid JSON'],
      [4, 'not a JSON object'],
    ]);
  });

  it('readNdjson: when reading continues from any position it yielded, the rest of the rows are those a whole read finds', async () => {
    const text = Array.from({ length: 200 }, (_, i) => JSON.stringify({ ref: `R${i}`, note: 'é'.repeat(i % 5) })).join(
      '\n',
    );
    const p = file('resume.ndjson', text + '\n');
    const whole = await read(readNdjson, p, ['ref', 'note'], { chunkBytes: 300 });
    expect(whole.positions.length).toBeGreaterThan(10);
    for (const from of whole.positions.slice(0, -1)) {
      const rest = await read(readNdjson, p, ['ref', 'note'], { from, chunkBytes: 300 });
      expect([...whole.rows.filter(([line]) => line <= from.line), ...rest.rows]).toEqual(whole.rows);
    }
  });
});
