import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Request, Response, Router } from 'express';
import type { RecordFormat } from '../../../activities/record-sources';
import { FINAL, type CutoverStatus } from '../../../domain/cutover';
import type { Side } from '../../../domain/reconcile';
import type { Role } from '../../../domain/roles';
import { ClearwayError } from '../../../errors';
import { recordUpload } from '../../../workflows/cutover';
import { actorOf, authenticate, requireRole } from '../../auth';
import { cutoverSetup, findCutover, updateCutover, workflowActor } from '../../cutovers';
import type { Route } from '../../define-route';
import type { ApiDeps } from '../../deps';
import { zodDetails } from '../../http-errors';
import { ErrorBody, z } from '../../schemas';
import { refuseUnstorable } from '../../storable-input';
import { Cutover, WindowParams } from './schemas';

const ROLES: readonly Role[] = ['rollout-lead', 'integration-specialist', 'data-steward'];
const FORMATS: Record<string, RecordFormat> = { 'application/x-ndjson': 'ndjson', 'text/csv': 'csv' };
const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

function formatOf(req: Request): RecordFormat {
  const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const format = FORMATS[type];
  if (!format) {
    throw new ClearwayError('UNSUPPORTED_MEDIA_TYPE', 'upload records as application/x-ndjson or text/csv', [
      { contentType: type || null },
    ]);
  }
  return format;
}

/** Streams the request body to `file`, never holding it whole; PAYLOAD_TOO_LARGE past `max` bytes. */
async function receive(req: Request, file: string, max: number): Promise<number> {
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > max) done(new ClearwayError('PAYLOAD_TOO_LARGE', `an upload may hold at most ${max} bytes`));
      else done(null, chunk);
    },
  });
  await pipeline(req, count, fs.createWriteStream(file, { flags: 'wx' }));
  return bytes;
}

function uploadRoute(side: Side): Route {
  const apiPath = `/api/v1/cutovers/{id}/windows/{window}/${side}`;
  const summary = `Upload the ${side === 'legacy' ? 'legacy' : 'new'} system's records of a window (NDJSON or CSV, streamed)`;
  return {
    def: {
      method: 'post',
      path: apiPath,
      summary,
      tags: ['cutovers'],
      params: WindowParams,
      response: Cutover,
      roles: ROLES,
      handler: () => ({}),
    } as unknown as Route['def'],
    register(router: Router, registry: OpenAPIRegistry, deps: ApiDeps) {
      const error = (description: string) => ({ description, content: { 'application/json': { schema: ErrorBody } } });
      registry.registerPath({
        method: 'post',
        path: apiPath,
        summary,
        tags: ['cutovers'],
        security: [{ bearerAuth: [] }],
        request: {
          params: WindowParams,
          body: {
            required: true,
            content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } },
          },
        },
        responses: {
          '200': {
            description: 'The cutover with the upload recorded',
            content: { 'application/json': { schema: Cutover } },
          },
          '400': error('Invalid input (VALIDATION_FAILED)'),
          '401': error('Missing or invalid bearer token (UNAUTHENTICATED)'),
          '403': error(`Requires one of: ${ROLES.join(', ')} (ROLE_REQUIRED)`),
          '409': error('The cutover takes no more windows (INVALID_STATE, WINDOW_ALREADY_RECONCILED)'),
          '413': error('Upload too large (PAYLOAD_TOO_LARGE)'),
          '415': error('Not NDJSON or CSV (UNSUPPORTED_MEDIA_TYPE)'),
        },
      });
      router.post(
        apiPath.replace(/\{(\w+)\}/g, ':$1'),
        authenticate(deps.prisma),
        requireRole(ROLES),
        refuseUnstorable,
        async (req: Request, res: Response) => {
          const parsed = WindowParams.safeParse(req.params);
          if (!parsed.success)
            throw new ClearwayError('VALIDATION_FAILED', 'params is invalid', zodDetails(parsed.error, 'params'));
          const { id, window } = parsed.data;
          const format = formatOf(req);
          const setup = cutoverSetup(deps);
          const row = await findCutover(deps, id);
          // Refused before a byte is stored: a closed cutover would reject the upload anyway.
          if (FINAL.includes(row.status as CutoverStatus)) {
            throw new ClearwayError('INVALID_STATE', `cutover ${id} is ${row.status} and takes no more windows`);
          }
          const dir = path.join(setup.uploadDir, id, window);
          fs.mkdirSync(dir, { recursive: true });
          // A fresh name per upload: a window being reconciled keeps reading the file it was given.
          const file = path.join(dir, `${side}-${randomUUID()}.${format}`);
          try {
            const bytes = await receive(req, file, setup.maxUploadBytes ?? DEFAULT_MAX_BYTES);
            const actor = workflowActor(actorOf(res));
            const view = await updateCutover(deps, id, (h) =>
              h.executeUpdate(recordUpload, {
                args: [{ actor, window, side, format, path: file, bytes, stagingDir: path.join(setup.uploadDir, id) }],
              }),
            );
            res.status(200).json(Cutover.parse(view));
          } catch (e) {
            fs.rmSync(file, { force: true });
            throw e;
          }
        },
      );
    },
  };
}

/** POST /api/v1/cutovers/{id}/windows/{window}/legacy and /new: streamed uploads of one side of a window. */
export const uploadLegacyRoute = uploadRoute('legacy');
export const uploadNewRoute = uploadRoute('new');
