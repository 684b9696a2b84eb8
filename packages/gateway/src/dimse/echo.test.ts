import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { run, startTestGateway, type TestGateway } from '../testing/harness.js';

// Real peer: dcmtk's echoscu, not our own client.
describe('gateway C-ECHO and AE checks with dcmtk echoscu', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ MEDGRID_GATEWAY_ALLOWED_AE_TITLES: 'HIS,ECHOSCU' });
  });
  after(() => t.stop());
  const echo = (calling: string, called = 'MEDGRID') =>
    run('echoscu', ['-aet', calling, '-aec', called, '127.0.0.1', String(t.gw.port)]);

  test('an allowed calling AE gets a successful echo', async () => {
    const r = await echo('HIS');
    assert.equal(r.code, 0, r.stderr);
  });

  test('a calling AE title not on the allow-list is rejected', async () => {
    const r = await echo('INTRUDER');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /Association Rejected/i);
    assert.match(r.stderr + r.stdout, /Calling AE Title Not Recognized/i);
  });

  test('a wrong called AE title is rejected', async () => {
    const r = await echo('HIS', 'SOMEONE');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /Called AE Title Not Recognized/i);
  });

  test('garbage bytes get an A-ABORT and the server keeps serving', async () => {
    const reply = await new Promise<Buffer>((resolve) => {
      const got: Buffer[] = [];
      const s = net.connect(t.gw.port, '127.0.0.1', () => {
        s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      });
      s.on('data', (c) => got.push(c));
      s.on('close', () => resolve(Buffer.concat(got)));
      s.on('error', () => resolve(Buffer.concat(got)));
    });
    assert.equal(reply[0], 0x07, 'an A-ABORT PDU came back');
    assert.equal((await echo('ECHOSCU')).code, 0);
  });
});
