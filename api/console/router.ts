import fs from 'node:fs';
import path from 'node:path';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { ApiFailure, withMessage, type ConsoleContext, type View } from './context';
import { html } from './html';
import { page, type Me } from './layout';
import { ApiClient, csrfToken, endedSessionCookie, formIsGenuine, sessionCookie, sessionToken } from './session';
import { boardActions, boardView } from './views/board';
import { cutoverView, cutoversView } from './views/cutovers';
import { escalationsView } from './views/escalations';
import { inboxView } from './views/inbox';
import { loginView } from './views/login';
import { operatorView, workflowView } from './views/operator';
import { programsView } from './views/programs';
import { rolloutActions, rolloutView, rolloutsView } from './views/rollouts';

const CSS = fs.readFileSync(path.join(__dirname, 'console.css'));

// No script runs in the console: every action is a plain form post, so the policy can forbid scripts outright.
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

// Marking the cookie Secure only ever restricts it, so a proxy's word that the client used TLS is enough.
const secure = (req: Request) => req.secure || req.get('x-forwarded-proto') === 'https';
const message = (req: Request, name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string).slice(0, 500) : undefined);

/** The signed-in user, or null when there is no session or the API no longer accepts its token. */
async function signedIn(req: Request): Promise<{ api: ApiClient; me: Me; token: string } | null> {
  const token = sessionToken(req);
  if (!token) return null;
  const api = ApiClient.forRequest(req, token);
  const me = await api.get<Me>('/me');
  return me.status === 200 ? { api, me: me.body, token } : null;
}

function toLogin(req: Request, res: Response): void {
  res.setHeader('Set-Cookie', endedSessionCookie(secure(req)));
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
}

/** A page: signed-in users only; API refusals become a page that says why. */
function view(render: (ctx: ConsoleContext) => Promise<View>): RequestHandler {
  return async (req, res) => {
    res.set(SECURITY_HEADERS);
    const session = await signedIn(req);
    if (!session) return toLogin(req, res);
    const ctx: ConsoleContext = { req, res, api: session.api, me: session.me, csrf: csrfToken(session.token) };
    try {
      const v = await render(ctx);
      res.type('html').send(page({ ...v, me: ctx.me, csrf: ctx.csrf, notice: message(req, 'notice'), error: message(req, 'error') }).text);
    } catch (e) {
      if (!(e instanceof ApiFailure)) throw e;
      res
        .status(e.status >= 500 ? 502 : e.status)
        .type('html')
        .send(page({ title: e.status === 404 ? 'Not found' : 'Not available', me: ctx.me, csrf: ctx.csrf, error: `${e.message} (${e.code})`, body: html`<p><a href="/">Back to the inbox</a></p>` }).text);
    }
  };
}

/** A form post: checked for forgery, then carried out through the API; redirects with the outcome. */
function action(act: (ctx: ConsoleContext) => Promise<string>): RequestHandler {
  return async (req, res) => {
    res.set(SECURITY_HEADERS);
    const session = await signedIn(req);
    if (!session) return toLogin(req, res);
    if (!formIsGenuine(req, session.token)) {
      res.status(403).type('text').send('This form was not sent from the Clearway console (anti-forgery check failed). Reload the page and try again.');
      return;
    }
    const back = typeof req.get('referer') === 'string' ? new URL(req.get('referer')!, 'http://x').pathname : '/';
    try {
      res.redirect(303, await act({ req, res, api: session.api, me: session.me, csrf: csrfToken(session.token) }));
    } catch (e) {
      if (!(e instanceof ApiFailure)) throw e;
      res.redirect(303, withMessage(back, 'error', `${e.message} (${e.code})`));
    }
  };
}

/** The web console: server-rendered pages over the API, signed in with a bearer token kept in a cookie. */
export function consoleRouter(): Router {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 }));
  router.get('/console.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=300').send(CSS);
  });

  router.get('/login', (req, res) => {
    res.set(SECURITY_HEADERS).type('html').send(loginView({ next: message(req, 'next'), error: message(req, 'error') }).text);
  });
  router.post('/login', async (req, res) => {
    res.set(SECURITY_HEADERS);
    const origin = req.get('origin');
    if (origin && origin !== 'null' && new URL(origin).host !== req.get('host')) {
      res.status(403).type('text').send('Sign-in must come from this site.');
      return;
    }
    const token = String((req.body as Record<string, unknown>).token ?? '').trim();
    const next = String((req.body as Record<string, unknown>).next ?? '/');
    const me = token ? await ApiClient.forRequest(req, token).get<Me>('/me') : null;
    if (me?.status !== 200) {
      res.status(401).type('html').send(loginView({ next, error: 'That token is not valid (or was revoked).' }).text);
      return;
    }
    res.setHeader('Set-Cookie', sessionCookie(token, secure(req)));
    // Only a local path: a crafted `next` must not send the user to another site.
    res.redirect(303, /^\/(?!\/)[^\\]*$/.test(next) ? next : '/');
  });
  router.post('/logout', async (req, res) => {
    const token = sessionToken(req);
    if (token && !formIsGenuine(req, token)) {
      res.status(403).type('text').send('Anti-forgery check failed.');
      return;
    }
    res.setHeader('Set-Cookie', endedSessionCookie(secure(req)));
    res.redirect(303, '/login');
  });

  router.get('/', view(inboxView));
  router.get('/board', view(boardView));
  router.post('/board/:id/decide', action(boardActions.decide));
  router.post('/board/:id/retrospective', action(boardActions.retrospective));
  router.get('/rollouts', view(rolloutsView));
  router.get('/rollouts/:id', view(rolloutView));
  router.post('/rollouts/:id/:action', action(rolloutActions.act));
  router.get('/cutovers', view(cutoversView));
  router.get('/cutovers/:id', view(cutoverView));
  router.get('/escalations', view(escalationsView));
  router.get('/programs', view(programsView));
  router.get('/operator', view(operatorView));
  router.get('/operator/workflows/:workflowId', view(workflowView));
  return router;
}
