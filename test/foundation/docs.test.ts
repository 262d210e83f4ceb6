import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { runCli } from '../../cli/main';
import { CONFIG_KEYS, describeConfig, loadConfig } from '../../config';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

describe('readme', () => {
  const readme = read('README.md');

  it.each(['npm install && npm start', 'npm install && npm test'])('readme: when read, it shows `%s`', (line) => {
    expect(readme).toContain(line);
  });

  it('readme: when its configuration table is compared with the zod schema, every row matches', () => {
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Command line'));
    const rows = section
      .split('\n')
      .filter((l) => /^\| `[A-Z_]+` \|/.test(l))
      .map((l) => l.split('|').map((c) => c.trim()));
    const documented = rows.map(([, name, fallback, meaning]) => ({
      name: name.replace(/`/g, ''),
      default: fallback === '(unset)' ? '' : fallback.replace(/`/g, ''),
      description: meaning,
    }));
    expect(documented).toEqual(describeConfig());
  });

  it('readme: when its command table is compared with `clearway --help`, every command is documented', async () => {
    let help = '';
    const code = await runCli(['--help'], { env: {}, cwd: ROOT, stdout: (s) => (help += s), stderr: () => {} });
    expect(code).toBe(0);
    const commands = [...help.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(commands).toEqual(['start', 'api', 'worker', 'migrate', 'devserver', 'users', 'demo']);
    const section = readme.slice(readme.indexOf('## Command line'), readme.indexOf('## Layout'));
    for (const command of commands) expect(section).toContain(`| \`${command}`);
  });

  it('readme: when read, it keeps a section for the embedded Temporal server', () => {
    expect(readme).toMatch(/^## Embedded Temporal server$/m);
  });

  it('ci: when .ci/run is read, it installs with npm ci and runs the README test command', () => {
    const script = read('.ci/run');
    expect(script).toMatch(/^npm ci\b/m);
    expect(script).toMatch(/^npm test$/m);
  });

  it('env example: when read, it names exactly the configuration variables', () => {
    const names = [...read('.env.example').matchAll(/^#? ?([A-Z_]+)=/gm)].map((m) => m[1]);
    expect(names).toEqual(CONFIG_KEYS);
  });
});

type Service = {
  image?: string;
  build?: string | { context: string };
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: string[] | Record<string, unknown>;
};

describe('docker-compose', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
  const { services } = compose;
  // Compose interpolates ${NAME:-default}; with nothing set, the default applies.
  const interpolate = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
  const env = (name: string) =>
    Object.fromEntries(Object.entries(services[name].environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
  const published = (name: string) =>
    (services[name].ports ?? []).map((p) => {
      const [host, container] = interpolate(p).split(':').map(Number);
      return { host, container };
    });

  it('compose: when parsed, it has Postgres, Temporal, the Temporal UI and Clearway', () => {
    expect(Object.keys(services).sort()).toEqual(['clearway', 'postgres', 'temporal', 'temporal-ui', 'temporal-ui-embedded']);
    expect(services.postgres.image).toMatch(/^postgres:\d/);
    expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:\d/);
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:\d/);
  });

  it('compose: when Clearway is built, it comes from the Dockerfile running clearway start', () => {
    expect(services.clearway.build).toBe('.');
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^CMD \["node", "bin\/clearway", "start"\]$/m);
    expect(dockerfile).toMatch(/prisma\/build\/index\.js generate/);
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['node_modules', 'generated', '.data']));
  });

  it("compose: when Clearway's environment is loaded, it passes the config schema and names only known variables", () => {
    const clearway = env('clearway');
    for (const key of Object.keys(clearway)) expect(CONFIG_KEYS).toContain(key);
    const config = loadConfig(clearway);
    expect(config.HOST).toBe('0.0.0.0');
    expect(published('clearway')).toEqual([{ host: config.PORT, container: config.PORT }]);
  });

  it('compose: when DATABASE_URL is read, it points at the postgres service with its credentials', () => {
    const url = new URL(loadConfig(env('clearway')).DATABASE_URL!);
    const pg = env('postgres');
    expect(url.hostname).toBe('postgres');
    expect(url.port).toBe('5432');
    expect([url.username, url.password, url.pathname]).toEqual([
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
      `/${pg.POSTGRES_DB}`,
    ]);
    const temporal = env('temporal');
    expect([temporal.POSTGRES_SEEDS, temporal.POSTGRES_USER, temporal.POSTGRES_PWD]).toEqual([
      'postgres',
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
    ]);
  });

  it('compose: when TEMPORAL_ADDRESS is read, Clearway and the UI both reach the temporal service frontend', () => {
    const config = loadConfig(env('clearway'));
    const [host, port] = config.TEMPORAL_ADDRESS!.split(':');
    expect(host).toBe('temporal');
    expect(published('temporal').map((p) => p.container)).toContain(Number(port));
    expect(env('temporal-ui').TEMPORAL_ADDRESS).toBe(config.TEMPORAL_ADDRESS);
    expect(env('temporal').DEFAULT_NAMESPACE).toBe(config.TEMPORAL_NAMESPACE);
  });

  it('compose: when the UI port is not overridden, it publishes the TEMPORAL_UI_PORT default', () => {
    expect(published('temporal-ui')).toEqual([{ host: loadConfig({}).TEMPORAL_UI_PORT, container: 8080 }]);
  });

  it('compose: when the embedded-ui profile runs, the real UI reaches the embedded server on the host on its default port', () => {
    const ui = services['temporal-ui-embedded'] as Service & { profiles?: string[]; network_mode?: string };
    const config = loadConfig({});
    expect(ui.profiles).toEqual(['embedded-ui']);
    expect(ui.image).toBe(services['temporal-ui'].image);
    expect(ui.network_mode).toBe('host');
    expect(env('temporal-ui-embedded').TEMPORAL_ADDRESS).toBe(`127.0.0.1:${config.TEMPORAL_PORT}`);
    expect(Number(env('temporal-ui-embedded').TEMPORAL_UI_PORT)).toBe(config.TEMPORAL_UI_PORT);
  });

  it('compose: when Clearway starts, it waits for a healthy Postgres and a started Temporal', () => {
    expect(services.clearway.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      temporal: { condition: 'service_started' },
    });
  });
});
