import adapter from '@sveltejs/adapter-static';

/** The Temporal UI as a single-page app: every page path is answered with the fallback page. */
export default {
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html' }),
    prerender: { entries: [] },
    // Scripts only from the UI's own origin, plus the hashed inline start-up script.
    csp: { mode: 'hash', directives: { 'script-src': ['self'] } },
  },
};
