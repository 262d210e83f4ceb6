import http from 'node:http';
import type { Express } from 'express';
import { ClearwayError } from '../errors';
import type { Component } from './lifecycle';

const DRAIN_MS = 5000;

/**
 * Listens on host:port. A port already taken is PORT_IN_USE, one line for the operator. Stopping
 * refuses new connections, lets in-flight requests finish, then cuts what still lingers.
 */
export async function listen(app: Express, host: string, port: number): Promise<Component & { port: number }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        reject(new ClearwayError('PORT_IN_USE', `port ${port} on ${host} is already in use; set PORT to a free port`));
      } else if (e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
        reject(new ClearwayError('PORT_IN_USE', `cannot listen on ${host}:${port} (${e.code}); check HOST and PORT`));
      } else reject(e);
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    name: 'api',
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
