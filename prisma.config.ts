import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

// `prisma generate` validates the datasource block without connecting; when no database is configured
// (the embedded default) it still needs a well-formed URL, or the CLI falls back to downloading an engine.
if (!process.env.DATABASE_URL && process.argv.includes('generate')) {
  process.env.DATABASE_URL = 'postgresql://localhost/generate-only';
}

// The WebAssembly engines and the pg driver adapter keep every Prisma CLI command offline;
// the native engines it would otherwise download are unreachable from this project's machines.
export default defineConfig({
  schema: path.join(__dirname, 'prisma', 'schema.prisma'),
  migrations: { path: path.join(__dirname, 'prisma', 'migrations') },
  experimental: { adapter: true },
  engine: 'js',
  // One connection: migrations run in sequence, and the embedded database serves one session at a time.
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL ?? '', max: 1 }),
});
