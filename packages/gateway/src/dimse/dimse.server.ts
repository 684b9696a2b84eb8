import net from 'node:net';
import tls from 'node:tls';
import { type AcceptorHooks, Association } from './association.js';

export interface DimseServer {
  port: number;
  /** Open associations. */
  readonly active: number;
  close(): Promise<void>;
}

/** DICOM TLS (PS3.15 Annex B): server certificate and key, and optionally the CA that client certificates need. */
export interface DimseTls {
  cert: Buffer;
  key: Buffer;
  /** When set, peers must present a certificate signed by it. */
  ca?: Buffer;
}

/** Listens for associations on a bound address; every socket gets TCP_NODELAY and its own Association. */
export async function listenDimse(opts: {
  host: string;
  port: number;
  hooks: AcceptorHooks;
  tls?: DimseTls;
}): Promise<DimseServer> {
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new Association(socket, opts.hooks);
  };
  const server = opts.tls
    ? tls.createServer(
        {
          cert: opts.tls.cert,
          key: opts.tls.key,
          ca: opts.tls.ca,
          requestCert: !!opts.tls.ca,
          rejectUnauthorized: !!opts.tls.ca,
        },
        onSocket,
      )
    : net.createServer(onSocket);
  // A failed TLS handshake never reaches the association; it must not take anything down either.
  server.on('tlsClientError', () => undefined);
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
