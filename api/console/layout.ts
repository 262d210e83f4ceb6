import { html, type Html } from './html';

/** The signed-in user, as GET /api/v1/me answers. */
export interface Me {
  id: string;
  name: string;
  roles: string[];
}

const NAV = [
  ['/', 'Inbox'],
  ['/board', 'Board'],
  ['/rollouts', 'Rollouts'],
  ['/cutovers', 'Cutovers'],
  ['/escalations', 'Escalations'],
  ['/programs', 'Programs'],
  ['/operator', 'Workflows'],
] as const;

/** A whole console page: navigation, the user, a notice or error from the last action, the content. */
export function page(opts: { title: string; me?: Me; csrf?: string; active?: string; notice?: string; error?: string; body: Html }): Html {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${opts.title} · Clearway</title>
    <link rel="stylesheet" href="/console.css" />
  </head>
  <body>
    <header>
      <a class="brand" href="/">Clearway</a>
      ${opts.me
        ? html`<nav>${NAV.map(([href, label]) => html`<a href="${href}" class="${opts.active === href ? 'active' : ''}">${label}</a>`)}</nav>
            <form method="post" action="/logout" class="who">
              <span title="${opts.me.roles.join(', ')}">${opts.me.name} · ${opts.me.roles.join(', ') || 'no roles'}</span>
              <input type="hidden" name="csrf" value="${opts.csrf}" />
              <button type="submit" class="link">Sign out</button>
            </form>`
        : null}
    </header>
    <main>
      <h1>${opts.title}</h1>
      ${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : null}
      ${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : null}
      ${opts.body}
    </main>
  </body>
</html>`;
}

/** The hidden anti-forgery field every form carries. */
export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}" />`;
}
