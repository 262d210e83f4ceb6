import type { IHistoryEvent } from '../proto';

/** A namespace as the server keeps it. */
export interface NamespaceRecord {
  name: string;
  id: string;
  description: string;
  ownerEmail: string;
  retentionMs: number;
  data: Record<string, string>;
}

/** Facts about a run that no history event carries (retry attempts, buffered events, admitted updates...). */
export type RunExtras = Record<string, unknown>;

/** A run as persisted: its history and its extras. */
export interface StoredRun {
  namespace: string;
  workflowId: string;
  runId: string;
  events: IHistoryEvent[];
  historySizeBytes: number;
  extras: RunExtras | null;
}

/** Objects the server keeps beside the runs, each persisted in its owner's own encoding. */
export type RecordKind = 'schedule' | 'batch';

/** A schedule or a batch job as persisted. */
export interface StoredRecord {
  namespace: string;
  id: string;
  data: string;
}

/** A record written (`data` set) or deleted (`data` null). */
export type RecordWrite = { kind: RecordKind; namespace: string; id: string; data: string | null };

/** The changes one request made, persisted atomically. */
export interface CommitBatch {
  runs: { namespace: string; workflowId: string; runId: string; firstNewEventId: number; newEvents: Uint8Array[]; extras: RunExtras; closed: boolean }[];
  namespaces: NamespaceRecord[];
  searchAttributes?: Record<string, number>;
  deletedRuns?: { namespace: string; workflowId: string; runId: string }[];
  /** Schedules and batch jobs written or deleted. */
  records?: RecordWrite[];
}

/** Where the server keeps what it has acknowledged. The engine's memory is rebuilt from it at start. */
export interface Store {
  readonly kind: string;
  loadNamespaces(): NamespaceRecord[];
  loadSearchAttributes(): Record<string, number>;
  loadRuns(): Iterable<StoredRun>;
  loadRecords(kind: RecordKind): StoredRecord[];
  /** Persists a batch; returns only once it is durable. */
  commit(batch: CommitBatch): void;
  close(): void;
}

/** Keeps nothing: the engine's memory is all there is (the default without --db-filename). */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  loadNamespaces(): NamespaceRecord[] {
    return [];
  }
  loadSearchAttributes(): Record<string, number> {
    return {};
  }
  loadRuns(): Iterable<StoredRun> {
    return [];
  }
  loadRecords(): StoredRecord[] {
    return [];
  }
  commit(): void {}
  close(): void {}
}
