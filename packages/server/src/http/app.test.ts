import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config/config.js';
import { migrateUp, openOrm } from '../db/orm.js';
import { createLogger } from '../logging/logger.js';
import { VERSION } from '../system/version.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { buildApp } from './app.js';

const ASSET = Buffer.from(`export const x = ${JSON.stringify('viewer code '.repeat(500))};\n`);

describe('HTTP server', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let app: FastifyInstance;
  before(async () => {
    db = await createTestDatabase();
    orm = await openOrm(db.url);
    await migrateUp(orm);
    const apps = mkdtempSync(path.join(tmpdir(), 'medgrid-apps-'));
    for (const [dir, title] of <[string, string][]>[
      ['doctor', 'Doctor'],
      ['admin', 'Admin'],
    ]) {
      mkdirSync(path.join(apps, dir));
      writeFileSync(path.join(apps, dir, 'index.html'), `<title>${title}</title>`);
    }
    mkdirSync(path.join(apps, 'doctor', 'assets'));
    writeFileSync(path.join(apps, 'doctor', 'assets', 'viewer-abc123.js'), ASSET);
    writeFileSync(path.join(apps, 'doctor', 'assets', 'viewer-abc123.js.br'), brotliCompressSync(ASSET));
    writeFileSync(path.join(apps, 'doctor', 'assets', 'viewer-abc123.js.gz'), gzipSync(ASSET));
    const config = loadConfig({
      DATABASE_URL: db.url,
      MEDGRID_DATA_DIR: apps,
      MEDGRID_LOG_LEVEL: 'silent',
      MEDGRID_DOCTOR_APP_DIR: path.join(apps, 'doctor'),
      MEDGRID_ADMIN_APP_DIR: path.join(apps, 'admin'),
    });
    ({ app } = await buildApp({ config, orm, logger: createLogger({ level: 'silent', name: 'test' }) }));
    await app.ready();
  });
  after(async () => {
    await app.close();
    await orm.close(true);
    await db.drop();
  });

  test('GraphQL answers { version } with the package version', async () => {
    const res = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ version }' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { data: { version: VERSION } });
    assert.match(VERSION, /^\d+\.\d+\.\d+/);
  });

  test('GraphQL rejects an unknown field with an error, not a crash', async () => {
    const res = await app.inject({ method: 'POST', url: '/graphql', payload: { query: '{ nope }' } });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().errors[0].message, /Cannot query field "nope"/);
  });

  test('/healthz, /readyz and /metrics', async () => {
    assert.deepEqual((await app.inject('/healthz')).json(), { status: 'ok', version: VERSION });
    assert.deepEqual((await app.inject('/readyz')).json(), { status: 'ready' });
    await app.inject('/healthz');
    const metrics = await app.inject('/metrics');
    assert.match(metrics.headers['content-type'] as string, /text\/plain/);
    assert.match(metrics.body, /medgrid_http_request_duration_seconds_bucket\{.*route="\/healthz".*\}/);
    assert.match(metrics.body, /medgrid_server_process_resident_memory_bytes/);
  });

  test('the two web apps are served with history-mode fallback; API paths stay 404', async () => {
    assert.match((await app.inject('/')).body, /<title>Doctor<\/title>/);
    assert.match((await app.inject('/studies/123')).body, /<title>Doctor<\/title>/);
    assert.match((await app.inject('/admin/')).body, /<title>Admin<\/title>/);
    assert.match((await app.inject('/admin/certificates')).body, /<title>Admin<\/title>/);
    assert.equal((await app.inject('/dicomweb/no-such-route')).statusCode, 404);
    assert.equal((await app.inject('/dicomweb/studies')).statusCode, 401);
    assert.equal((await app.inject('/missing.js')).statusCode, 404);
  });

  test('built assets: sent pre-compressed when the browser accepts it, cached for good; index.html revalidated', async () => {
    const url = '/assets/viewer-abc123.js';
    const br = await app.inject({ url, headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(br.statusCode, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.match(String(br.headers['content-type']), /javascript/);
    assert.deepEqual(brotliDecompressSync(br.rawPayload), ASSET);
    assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(String(br.headers.vary), /accept-encoding/i);
    const gz = await app.inject({ url, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gz.rawPayload), ASSET);
    const plain = await app.inject({ url });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.deepEqual(plain.rawPayload, ASSET);
    for (const page of ['/', '/studies/123/view']) {
      const res = await app.inject({ url: page, headers: { 'accept-encoding': 'br, gzip' } });
      assert.match(res.body, /<title>Doctor<\/title>/);
      assert.equal(res.headers['cache-control'], 'no-cache', `${page} is revalidated`);
    }
  });
});

describe('readiness', () => {
  test('/readyz reports 503 once the database is gone', async () => {
    const db = await createTestDatabase();
    const orm = await openOrm(db.url);
    const config = loadConfig({
      DATABASE_URL: db.url,
      MEDGRID_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'medgrid-ready-')),
    });
    const { app } = await buildApp({ config, orm, logger: createLogger({ level: 'silent', name: 'test' }) });
    assert.equal((await app.inject('/readyz')).statusCode, 200);
    await db.drop(); // terminates the server's connections and removes the database
    const res = await app.inject('/readyz');
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().reason, 'database unreachable');
    assert.equal((await app.inject('/healthz')).statusCode, 200, 'liveness does not depend on the database');
    await app.close();
    await orm.close(true);
  });
});
