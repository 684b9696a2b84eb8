import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type DimseServer, listenDimse } from './dimse.server.js';
import { createGatewayScp } from './gateway.scp.js';

// Real peer: dcmtk's echoscu (Debian dcmtk), not our own client.
// Asynchronous on purpose: the SCP under test runs in this same process.
function echoscu(port: number, calling: string, called = 'MEDGRID') {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'echoscu',
      ['-aet', calling, '-aec', called, '127.0.0.1', String(port)],
      { encoding: 'utf8', env: { ...process.env, TCP_NODELAY: '1' }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ status: err ? Number(err.code ?? 1) || 1 : 0, stdout, stderr }),
    );
  });
}

describe('gateway C-ECHO with dcmtk echoscu', () => {
  let server: DimseServer;
  const seen: { callingAeTitle: string; accepted: boolean }[] = [];
  before(async () => {
    const scp = createGatewayScp({
      aeTitle: 'MEDGRID',
      allowedCallingAeTitles: ['HIS', 'ECHOSCU'],
      onAssociation: (a) => seen.push(a),
    });
    server = await listenDimse({ host: '127.0.0.1', port: 0, scp });
  });
  after(() => server.close());

  test('an allowed calling AE gets a successful echo', async () => {
    const r = await echoscu(server.port, 'HIS');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(seen.at(-1), { callingAeTitle: 'HIS', accepted: true });
  });

  test('a calling AE title not on the allow-list is rejected', async () => {
    const r = await echoscu(server.port, 'INTRUDER');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr + r.stdout, /Association Rejected|rejected/i);
    assert.equal(seen.at(-1)?.accepted, false);
  });

  test('a wrong called AE title is rejected', async () => {
    const r = await echoscu(server.port, 'HIS', 'SOMEONE');
    assert.notEqual(r.status, 0);
  });

  test('garbage bytes on the port do not take the server down', async () => {
    const net = await import('node:net');
    await new Promise<void>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => {
        s.write(Buffer.from('\x07\x00\x00\x00\x00\xff\xff\xff garbage that is not a PDU'));
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 300);
      });
      s.on('error', () => resolve());
    });
    assert.equal((await echoscu(server.port, 'ECHOSCU')).status, 0);
  });
});
