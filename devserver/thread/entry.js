// Entry of the embedded server's own thread. Worker threads do not inherit the parent's TypeScript
// loader, so the thread registers it before loading the server.
require('tsx/cjs');
require('./main');
