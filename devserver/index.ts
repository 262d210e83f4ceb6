// The embedded Temporal-compatible server: a library (startDevServer) and a CLI (runDevServerCli).
export { startDevServer, type DevServer, type DevServerOptions } from './server';
export { runDevServerCli, parseDevServerArgs, type DevServerArgs } from './cli';
export { startDevServerThread, type ThreadedDevServer } from './thread';
