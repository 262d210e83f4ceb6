import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashToken } from '../../api/auth';
import { runCli } from '../../cli/main';
import type { CliContext } from '../../cli/common';
import { version } from '../../package.json';
import { runClearway } from '../helpers/cli';
import { createEmptyPostgres, freshEmbeddedDataDir, postgresAvailable } from '../helpers/db';
import { createPrisma } from '../../cli/database';

// These start real clearway processes and databases; on a busy machine that takes minutes, not seconds.
jest.setTimeout(180_000);

function memoryContext(): CliContext & { out: string; err: string } {
  const ctx = {
    env: {},
    cwd: process.cwd(),
    out: '',
    err: '',
    stdout: (s: string) => void (ctx.out += s),
    stderr: (s: string) => void (ctx.err += s),
  };
  return ctx;
}

const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

describe('cli', () => {
  it('version: when asked with --version, it prints the package version and exits 0', async () => {
    const r = await runClearway(['--version']);
    expect([r.code, r.stdout.trim(), r.stderr]).toEqual([0, version, '']);
  });

  it('help: when asked with --help, it lists every command and exits 0', async () => {
    const r = await runClearway(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['start', 'api', 'worker', 'migrate', 'devserver', 'users']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it.each([
    [['strat'], /^clearway: error: unknown command 'strat'/],
    [['start', '--bogus'], /^clearway: error: unknown option '--bogus'/],
    [['users', 'add', '--name', 'x'], /^clearway: error: required option '--roles <roles>' not specified$/],
  ])('usage: when run as %j, it prints one line on stderr and exits 2', async (args, message) => {
    const r = await runClearway(args);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(message)]);
    expect(r.stdout).toBe('');
  });

  it('config: when PORT is abc, start exits 2 with one line naming PORT and no stack', async () => {
    const r = await runClearway(['start'], { PORT: 'abc' });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(['clearway: invalid PORT="abc": must be a port number']);
    expect(r.stdout).toBe('');
  });

  it('config: when CHANGE_CONTROL_POLICY names a missing file, start exits 2 with one line naming the file', async () => {
    const file = path.join(os.tmpdir(), `clearway-no-such-policy-${process.pid}.yaml`);
    const r = await runClearway(['start'], { CHANGE_CONTROL_POLICY: file });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([`clearway: ${file}: cannot read: ENOENT`]);
  });

  it('config: when ESCALATION_POLICY names an invalid file, worker exits 2 with one line naming file, path and problem', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearway-policy-'));
    try {
      fs.writeFileSync(path.join(dir, 'ladders.yaml'), 'ladders:\n  normal:\n    levels: []\n');
      // Relative to the working directory, as the README says.
      const r = await runClearway(['worker'], { ESCALATION_POLICY: 'ladders.yaml' }, dir);
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toEqual([
        `clearway: ${path.join(dir, 'ladders.yaml')}: ladders.normal.levels: a ladder needs at least one level`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('devserver: when given arbitrary arguments, they reach the server untouched and its exit code is returned', async () => {
    const seen: string[][] = [];
    const args = ['server', 'start-dev', '--port', '0', '--dynamic-config-value', 'a=b', '--unknown-flag', '--help'];
    const ctx = memoryContext();
    const code = await runCli(['devserver', ...args], ctx, {
      runDevServerCli: async (argv) => {
        seen.push(argv);
        return 7;
      },
    });
    expect(seen).toEqual([args]);
    expect(code).toBe(7);
    expect(ctx.err).toBe('');
  });
});

type Target = {
  name: string;
  env: () => Promise<{ env: Record<string, string>; url?: string; cleanup(): Promise<void> }>;
};

const targets: Target[] = [
  {
    name: 'pglite',
    env: async () => {
      const dir = await freshEmbeddedDataDir();
      return { env: { DATA_DIR: dir }, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
if (postgresAvailable) {
  targets.unshift({
    name: 'postgres',
    env: async () => {
      const db = await createEmptyPostgres();
      const migrate = await runClearway(['migrate'], { DATABASE_URL: db.url });
      if (migrate.code !== 0) throw new Error(migrate.stderr);
      return { env: { DATABASE_URL: db.url }, url: db.url, cleanup: db.drop };
    },
  });
}

describe.each(targets)('cli users on $name', (target) => {
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const made = await target.env();
    env = made.env;
    cleanup = made.cleanup;
  });
  afterAll(async () => cleanup?.());

  it('users add: when given a name and known roles, it prints a token as the last word, stored only hashed', async () => {
    const r = await runClearway(['users', 'add', '--name', 'chair', '--roles', 'ccb-chair,ccb-member'], env);
    expect(r.code).toBe(0);
    const token = r.stdout.trim().split(/\s+/).pop()!;
    expect(token).toMatch(/^cw_[\w-]{43}$/);
    expect(r.stdout).toContain('Created user chair with roles ccb-chair,ccb-member.');

    const list = await runClearway(['users', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^chair\s+ccb-chair,ccb-member\s+\S+\s+active$/m);
    expect(list.stdout).not.toContain(token);

    if (env.DATABASE_URL) {
      const prisma = createPrisma(env.DATABASE_URL, { embedded: false });
      try {
        const row = await prisma.user.findUniqueOrThrow({ where: { name: 'chair' } });
        expect(row.tokenHash).toBe(hashToken(token));
      } finally {
        await prisma.$disconnect();
      }
    }
  });

  it('users add: when a role is unknown, it prints one line listing the roles and exits 2', async () => {
    const r = await runClearway(['users', 'add', '--name', 'x', '--roles', 'ccb-chair,king'], env);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(/^clearway: unknown role 'king'; roles are: ccb-chair, ccb-member, /),
    ]);
  });

  it('users add: when the name exists, it prints one line and exits 2', async () => {
    await runClearway(['users', 'add', '--name', 'twice', '--roles', 'legal'], env);
    const r = await runClearway(['users', 'add', '--name', 'twice', '--roles', 'legal'], env);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(["clearway: a user named 'twice' already exists"]);
  });

  it('users revoke: when the user exists it is marked revoked; when not, one line and exit 1', async () => {
    await runClearway(['users', 'add', '--name', 'gone', '--roles', 'finance'], env);
    const r = await runClearway(['users', 'revoke', 'gone'], env);
    expect([r.code, r.stdout.trim()]).toEqual([0, 'revoked user gone']);
    const list = await runClearway(['users', 'list'], env);
    expect(list.stdout).toMatch(/^gone\s+finance\s+\S+\s+revoked$/m);
    const missing = await runClearway(['users', 'revoke', 'nobody'], env);
    expect(missing.code).toBe(1);
    expect(lines(missing.stderr)).toEqual(["clearway: no user named 'nobody'"]);
  });
});
