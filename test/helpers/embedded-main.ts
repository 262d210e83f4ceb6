// Serves the embedded database of DATA_DIR (argv[2]) from its own process, as `clearway start` would.
// Jest cannot host PGlite itself: PGlite loads Node built-ins with dynamic import(), which Jest's
// module sandbox refuses without experimental flags.
import { openEmbeddedPostgres } from '../../cli/embedded-postgres';
import { createLogger } from '../../log';

const log = createLogger({ level: 'silent', pretty: false });

openEmbeddedPostgres(process.argv[2], log).then(
  (db) => {
    // The handler goes in before the URL is announced: a SIGTERM arriving with no handler would kill
    // the process on the spot, leaving the lock file behind.
    process.once('SIGTERM', () => {
      db.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    process.stdout.write(`${JSON.stringify({ url: db.url, owner: db.owner, pid: process.pid })}\n`);
  },
  (e: unknown) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  },
);
