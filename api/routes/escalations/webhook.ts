import { createHash } from 'node:crypto';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../../activities/signed-webhook';
import { ClearwayError } from '../../../errors';
import { reportIssue } from '../../escalations';
import { defineRoute, reply } from '../../define-route';
import { z } from '../../schemas';
import { Escalation, EscalationWebhookBody } from './schemas';

const DELIVERY_ID = /^[\x21-\x7e]{1,255}$/;

/**
 * POST /api/v1/webhooks/escalations: a monitoring system reports an issue. No bearer token: the call is signed
 * with HMAC-SHA256 over `<t>.<raw body>` (the scheme Clearway's own outbound webhooks use) and must be fresh. Like
 * POST /escalations, the key dedupes: 201 when the report starts an escalation, 200 when it counts as an occurrence.
 * A delivery the sender repeats (same Idempotency-Key, or the same signed request) is not counted twice.
 */
export const escalationWebhookRoute = defineRoute({
  method: 'post',
  path: '/api/v1/webhooks/escalations',
  summary: 'Report an issue from a monitoring system, signed with the escalation webhook secret',
  tags: ['escalations'],
  body: EscalationWebhookBody,
  response: Escalation,
  status: 201,
  location: (escalation) => `/api/v1/escalations/${encodeURIComponent(escalation.id)}`,
  statuses: {
    201: 'Created: the report started a new escalation',
    200: 'An escalation with this key is running: the report counts as an occurrence of it, once per delivery',
  },
  authenticate: {
    scheme: {
      name: 'webhookSignature',
      header: SIGNATURE_HEADER,
      description: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with ESCALATION_WEBHOOK_SECRET>',
    },
    check(req, deps) {
      const secret = deps.escalations?.webhookSecret;
      if (!secret) throw new ClearwayError('NOT_FOUND', 'the escalation webhook is not configured');
      const problem = verifyWebhookSignature(secret, req.get(SIGNATURE_HEADER), req.rawBody ?? '', Date.now());
      if (problem) throw new ClearwayError('UNAUTHENTICATED', problem);
      return { id: 'webhook', name: 'webhook', roles: [] };
    },
  },
  headers: z.object({
    'idempotency-key': z
      .string()
      .regex(DELIVERY_ID, { error: '1-255 visible ASCII characters' })
      .optional()
      .openapi({ description: 'The delivery id; a repeated delivery with it is not counted again' }),
    'clearway-signature': z.string().openapi({ description: 't=<unix seconds>,v1=<hex HMAC-SHA256>' }),
  }),
  async handler({ body, headers, deps }) {
    // A delivery is one report: its own id, or else the signed request itself (the same signature repeated is
    // the same delivery, replayed inside the freshness window).
    const delivery =
      headers['idempotency-key'] ?? createHash('sha256').update(headers['clearway-signature']).digest('hex');
    const { created, view } = await reportIssue(deps, {
      key: body.key,
      severity: body.severity,
      title: body.title,
      owner: body.owner,
      by: `webhook:${body.sender}`,
      source: { kind: 'webhook', ref: body.sender },
      reportId: `webhook:${body.sender}:${delivery}`,
    });
    return created ? view : reply(200, view);
  },
});
