import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromEnv, parseSeUrls } from './worker.config.js';

describe('worker configuration', () => {
  it('parses MEDGRID_SE_URLS with optional weights', () => {
    assert.deepEqual(parseSeUrls('se1=davs://a:8443/store@3, se2=https://b/store'), [
      { name: 'se1', url: 'davs://a:8443/store', weight: 3 },
      { name: 'se2', url: 'https://b/store' },
    ]);
    assert.throws(() => parseSeUrls('davs://nameless'), /name=url/);
  });

  it('defaults to the embedded local-directory SE and refuses to start without a database', () => {
    const c = configFromEnv({
      DATABASE_URL: 'postgres://x/y',
      MEDGRID_DATA_DIR: '/var/lib/medgrid',
      MEDGRID_QUEUE_RETRY_LIMIT: '3',
    });
    assert.deepEqual(c.ses, [{ name: 'local', url: 'file:///var/lib/medgrid/se' }]);
    assert.equal(c.stageDir, '/var/lib/medgrid/stage');
    assert.equal(c.queue?.retryLimit, 3);
    assert.throws(() => configFromEnv({}), /DATABASE_URL/);
    assert.throws(
      () => configFromEnv({ DATABASE_URL: 'x', MEDGRID_WORKER_CONCURRENCY: 'many' }),
      /must be a number/,
    );
  });
});
