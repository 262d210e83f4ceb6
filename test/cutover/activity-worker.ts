// An activity-only worker in its own process, so a test can SIGKILL it in the middle of a reconciliation.
// argv: address taskQueue databaseUrl workDir crash, where crash is `partition:N` (hold after the commit of N
// partitions) or `spill:N` (hold at the first spill checkpoint past N legacy records).
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { createReconcileActivities } from '../../activities/reconcile';
import { createPrisma } from '../../cli/database';
import { createLogger } from '../../log';

// Hold the attempt open until the test kills this process.
const hold = () => new Promise<void>(() => undefined);

async function main() {
  const [address, taskQueue, databaseUrl, workDir, crash] = process.argv.slice(2);
  const [where, at] = crash.split(':');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const prisma = createPrisma(databaseUrl, { embedded: false });
  const connection = await NativeConnection.connect({ address });
  const activities = createReconcileActivities({
    prisma,
    log: createLogger({ level: 'silent', pretty: false }),
    workDir,
    partitions: 8,
    checkpointRecords: 1,
    spillCheckpointMs: 0,
    readChunkBytes: 4096,
    afterCheckpoint: async (done) => {
      if (where !== 'partition' || done !== Number(at)) return;
      process.stdout.write(`committed ${done}\n`);
      await hold();
    },
    afterSpillCheckpoint: async (state) => {
      if (where !== 'spill' || state.side !== 'legacy' || state.records.legacy < Number(at)) return;
      process.stdout.write(`spilled ${state.records.legacy}\n`);
      await hold();
    },
  });
  const worker = await Worker.create({ connection, taskQueue, activities });
  process.stdout.write('ready\n');
  await worker.run();
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e));
  process.exit(1);
});
