// An activity-only worker in its own process, so a test can SIGKILL it in the middle of a reconciliation.
// argv: address taskQueue databaseUrl workDir crashAfterCheckpoint
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { createReconcileActivities } from '../../activities/reconcile';
import { createPrisma } from '../../cli/database';
import { createLogger } from '../../log';

async function main() {
  const [address, taskQueue, databaseUrl, workDir, crashAfter] = process.argv.slice(2);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const prisma = createPrisma(databaseUrl, { embedded: false });
  const connection = await NativeConnection.connect({ address });
  const activities = createReconcileActivities({
    prisma,
    log: createLogger({ level: 'silent', pretty: false }),
    workDir,
    partitions: 8,
    checkpointRecords: 1,
    afterCheckpoint: async (done) => {
      if (done !== Number(crashAfter)) return;
      process.stdout.write(`committed ${done}\n`);
      // Hold the attempt open until the test kills this process.
      await new Promise(() => undefined);
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
