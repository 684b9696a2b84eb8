import net from 'node:net';
import dcmjsDimse, { type Scp } from 'dcmjs-dimse';

// dcmjs-dimse logs every PDU at info level to the console; our own logger reports what matters.
dcmjsDimse.log.setLevel('error');

export interface DimseServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Owns the listening socket instead of dcmjs-dimse's Server, so we can bind a chosen address
 * and disable Nagle (peers otherwise stall ~40 ms on every exchange).
 */
export async function listenDimse(opts: {
  host: string;
  port: number;
  scp: typeof Scp;
}): Promise<DimseServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A protocol error on one association must never take the process down.
    socket.on('error', () => socket.destroy());
    const scp = new opts.scp(socket, { associationTimeout: 30_000, pduTimeout: 30_000 }) as Scp & {
      connected: boolean;
      on(ev: string, fn: (...a: unknown[]) => void): void;
    };
    scp.connected = true;
    scp.on('networkError', () => socket.destroy());
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
