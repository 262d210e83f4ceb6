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
  disableNagle(server);
  return bound;
}

/**
 * grpc-js sets TCP_NODELAY on client sockets but not on the ones its server accepts, so a response
 * written as headers, data and trailers can wait on the peer's delayed ACK. Long polls and short
 * request/response pairs are exactly that pattern, so the server's sockets send at once.
 */
function disableNagle(server: grpc.Server): void {
  const http2Servers = (server as unknown as { http2Servers?: Map<import('node:net').Server, unknown> }).http2Servers;
  for (const s of http2Servers?.keys() ?? []) s.on('connection', (socket: import('node:net').Socket) => socket.setNoDelay(true));
}
