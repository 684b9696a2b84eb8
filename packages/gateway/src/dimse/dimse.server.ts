import net from 'node:net';
import { type AcceptorHooks, Association } from './association.js';

export interface DimseServer {
  port: number;
  /** Open associations. */
  readonly active: number;
  close(): Promise<void>;
}

/** Listens for associations on a bound address; every socket gets TCP_NODELAY and its own Association. */
export async function listenDimse(opts: {
  host: string;
  port: number;
  hooks: AcceptorHooks;
}): Promise<DimseServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new Association(socket, opts.hooks);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    get active() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.end();
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 2000).unref();
      }),
  };
}
