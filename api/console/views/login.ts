import { html, type Html } from '../html';
import { page } from '../layout';

/** The sign-in form: the user's bearer token, as `clearway users add` printed it. */
export function loginView(opts: { next?: string; error?: string }): Html {
  return page({
    title: 'Sign in',
    error: opts.error,
    body: html`<form method="post" action="/login" class="card narrow">
      <label for="token">Your Clearway token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required />
      <input type="hidden" name="next" value="${opts.next ?? '/'}" />
      <button type="submit">Sign in</button>
      <p class="hint">An administrator creates users and their tokens with <code>clearway users add</code>.</p>
    </form>`,
  });
}
