import Database from 'better-sqlite3';
import { temporal } from '../proto';
import type { CommitBatch, NamespaceRecord, RecordKind, RunExtras, Store, StoredRecord, StoredRun } from './store';

const HistoryEvent = temporal.api.history.v1.HistoryEvent;

// Where each kind of record lives; the schedules table keeps the name and key column it was created with.
const RECORD_TABLES: Record<RecordKind, { table: string; id: string }> = {
  schedule: { table: 'schedules', id: 'schedule_id' },
  batch: { table: 'batch_jobs', id: 'job_id' },
};

/**
 * The durable store: an append-only event table plus one row per run (its extras) in SQLite, WAL
 * mode. A commit is one transaction; once `commit` returns, the batch survives the process being
 * killed (synchronous=NORMAL) or, with `sync: 'full'`, a power cut too.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<SqliteStore['prepare']>;
  private readonly runPks = new Map<string, number>();

  constructor(file: string, opts: { sync?: 'normal' | 'full' } = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS search_attributes (name TEXT PRIMARY KEY, type INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS runs (
        pk INTEGER PRIMARY KEY,
        namespace TEXT NOT NULL, workflow_id TEXT NOT NULL, run_id TEXT NOT NULL,
        closed INTEGER NOT NULL DEFAULT 0, extras TEXT,
        UNIQUE (namespace, workflow_id, run_id));
      CREATE TABLE IF NOT EXISTS schedules (
        namespace TEXT NOT NULL, schedule_id TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (namespace, schedule_id)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS batch_jobs (
        namespace TEXT NOT NULL, job_id TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (namespace, job_id)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS events (
        run_pk INTEGER NOT NULL, event_id INTEGER NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (run_pk, event_id)) WITHOUT ROWID;
    `);
    this.stmts = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      upsertNamespace: db.prepare('INSERT INTO namespaces (name, data) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data'),
      deleteAttributes: db.prepare('DELETE FROM search_attributes'),
      insertAttribute: db.prepare('INSERT INTO search_attributes (name, type) VALUES (?, ?)'),
      insertRun: db.prepare('INSERT INTO runs (namespace, workflow_id, run_id, closed, extras) VALUES (?, ?, ?, ?, ?)'),
      updateRun: db.prepare('UPDATE runs SET closed = ?, extras = ? WHERE pk = ?'),
      findRun: db.prepare('SELECT pk FROM runs WHERE namespace = ? AND workflow_id = ? AND run_id = ?'),
      insertEvent: db.prepare('INSERT INTO events (run_pk, event_id, data) VALUES (?, ?, ?)'),
      deleteRun: db.prepare('DELETE FROM runs WHERE pk = ?'),
      deleteEvents: db.prepare('DELETE FROM events WHERE run_pk = ?'),
      records: Object.fromEntries(
        (Object.entries(RECORD_TABLES) as [RecordKind, { table: string; id: string }][]).map(([kind, { table, id }]) => [
          kind,
          {
            upsert: db.prepare(`INSERT INTO ${table} (namespace, ${id}, data) VALUES (?, ?, ?) ON CONFLICT(namespace, ${id}) DO UPDATE SET data = excluded.data`),
            remove: db.prepare(`DELETE FROM ${table} WHERE namespace = ? AND ${id} = ?`),
            load: db.prepare(`SELECT namespace, ${id} AS id, data FROM ${table}`),
          },
        ]),
      ) as Record<RecordKind, { upsert: Database.Statement; remove: Database.Statement; load: Database.Statement }>,
    };
  }

  loadNamespaces(): NamespaceRecord[] {
    return (this.db.prepare('SELECT data FROM namespaces').all() as { data: string }[]).map((r) => JSON.parse(r.data));
  }

  loadSearchAttributes(): Record<string, number> {
    const rows = this.db.prepare('SELECT name, type FROM search_attributes').all() as { name: string; type: number }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.type]));
  }

  *loadRuns(): Iterable<StoredRun> {
    const runs = this.db.prepare('SELECT pk, namespace, workflow_id, run_id, extras FROM runs ORDER BY pk').all() as {
      pk: number;
      namespace: string;
      workflow_id: string;
      run_id: string;
      extras: string | null;
    }[];
    const events = this.db.prepare('SELECT data FROM events WHERE run_pk = ? ORDER BY event_id').raw(true);
    for (const r of runs) {
      this.runPks.set(key(r.namespace, r.workflow_id, r.run_id), r.pk);
      const rows = events.all(r.pk) as [Buffer][];
      yield {
        namespace: r.namespace,
        workflowId: r.workflow_id,
        runId: r.run_id,
        events: rows.map(([data]) => HistoryEvent.decode(data)),
        historySizeBytes: rows.reduce((n, [data]) => n + data.length, 0),
        extras: r.extras ? (JSON.parse(r.extras) as RunExtras) : null,
      };
    }
  }

  loadRecords(kind: RecordKind): StoredRecord[] {
    return this.stmts.records[kind].load.all() as StoredRecord[];
  }

  commit(batch: CommitBatch): void {
    const s = this.stmts;
    this.db.transaction(() => {
      for (const ns of batch.namespaces) s.upsertNamespace.run(ns.name, JSON.stringify(ns));
      if (batch.searchAttributes) {
        s.deleteAttributes.run();
        for (const [name, type] of Object.entries(batch.searchAttributes)) s.insertAttribute.run(name, type);
      }
      for (const r of batch.runs) {
        const k = key(r.namespace, r.workflowId, r.runId);
        let pk = this.runPks.get(k);
        const extras = JSON.stringify(r.extras);
        if (pk === undefined) {
          pk = Number(s.insertRun.run(r.namespace, r.workflowId, r.runId, r.closed ? 1 : 0, extras).lastInsertRowid);
          this.runPks.set(k, pk);
        } else s.updateRun.run(r.closed ? 1 : 0, extras, pk);
        let id = r.firstNewEventId;
        for (const bytes of r.newEvents) s.insertEvent.run(pk, id++, bytes);
      }
      for (const r of batch.records ?? []) {
        if (r.data === null) s.records[r.kind].remove.run(r.namespace, r.id);
        else s.records[r.kind].upsert.run(r.namespace, r.id, r.data);
      }
      for (const d of batch.deletedRuns ?? []) {
        const k = key(d.namespace, d.workflowId, d.runId);
        const pk = this.runPks.get(k) ?? (s.findRun.get(d.namespace, d.workflowId, d.runId) as { pk: number } | undefined)?.pk;
        if (pk === undefined) continue;
        s.deleteEvents.run(pk);
        s.deleteRun.run(pk);
        this.runPks.delete(k);
      }
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function key(namespace: string, workflowId: string, runId: string): string {
  return `${namespace}\u0000${workflowId}\u0000${runId}`;
}
