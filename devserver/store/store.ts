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

/** A schedule as persisted: its state in the scheduler's own encoding. */
export interface StoredSchedule {
  namespace: string;
  scheduleId: string;
  data: string;
}

/** The changes one request made, persisted atomically. */
export interface CommitBatch {
  runs: { namespace: string; workflowId: string; runId: string; firstNewEventId: number; newEvents: Uint8Array[]; extras: RunExtras; closed: boolean }[];
  namespaces: NamespaceRecord[];
  searchAttributes?: Record<string, number>;
  deletedRuns?: { namespace: string; workflowId: string; runId: string }[];
  /** Schedules written (`data` set) or deleted (`data` null). */
  schedules?: { namespace: string; scheduleId: string; data: string | null }[];
}

/** Where the server keeps what it has acknowledged. The engine's memory is rebuilt from it at start. */
export interface Store {
  readonly kind: string;
  loadNamespaces(): NamespaceRecord[];
  loadSearchAttributes(): Record<string, number>;
  loadRuns(): Iterable<StoredRun>;
  loadSchedules(): StoredSchedule[];
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
  loadSchedules(): StoredSchedule[] {
    return [];
  }
  commit(): void {}
  close(): void {}
}
