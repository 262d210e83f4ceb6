import * as grpc from '@grpc/grpc-js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

function bind(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

/**
 * Binds `ip:port`; for a loopback address also `[::1]:port`, because workers resolve `localhost`
 * themselves and may pick IPv6. Returns the bound port (useful with port 0).
 */
export async function bindServer(server: grpc.Server, ip: string, port: number): Promise<number> {
  const host = ip === 'localhost' ? '127.0.0.1' : ip;
  let bound: number;
  try {
    bound = await bind(server, `${host.includes(':') ? `[${host}]` : host}:${port}`);
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    throw new Error(/in use|EADDRINUSE|No address added/i.test(message) ? `port ${port} on ${host} is already in use` : message);
  }
  if (LOOPBACK.has(ip)) await bind(server, `[::1]:${bound}`).catch(() => undefined);
  return bound;
}
