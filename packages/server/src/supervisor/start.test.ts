import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { freePort } from '../db/embedded-postgres.service.js';
import { VERSION } from '../system/version.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';

const CLI = fileURLToPath(new URL('../cli/medgrid.js', import.meta.url));

interface Run {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function run(args: string[], env: Record<string, string | undefined>): Run {
  const clean = { ...process.env };
  delete clean.DATABASE_URL;
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, out: () => out, err: () => err, exit };
}

async function waitFor(pred: () => boolean, ms: number, what: string, r: Run): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}\nstdout:\n${r.out()}\nstderr:\n${r.err()}`);
    if (r.proc.exitCode !== null)
      throw new Error(`exited (${r.proc.exitCode}) before ${what}\n${r.out()}\n${r.err()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

function processesMentioning(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', text], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l && !l.includes('pgrep'));
  } catch {
    return [];
  }
}

async function ports() {
  return {
    MEDGRID_PORT: String(await freePort()),
    MEDGRID_TLS_PORT: String(await freePort()),
    MEDGRID_GATEWAY_PORT: String(await freePort()),
  };
}

/** GET over the server's HTTPS listener, verifying it against the MedGrid CA, optionally with a client certificate. */
function httpsGet(
  url: string,
  tls: { ca: string; cert?: string; key?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        ca: readFileSync(tls.ca),
        ...(tls.cert ? { cert: readFileSync(tls.cert), key: readFileSync(tls.key!) } : {}),
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

describe('medgrid start', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'medgrid-start-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('embedded default: no DATABASE_URL brings up PostgreSQL, server, worker and gateway; Ctrl-C stops all', async () => {
    const p = await ports();
    const r = run(['start'], { ...p, MEDGRID_DATA_DIR: dataDir, MEDGRID_LOG_LEVEL: 'warn' });
    await waitFor(() => r.out().includes('medgrid: ready'), 150_000, 'ready', r);
    assert.match(r.out(), /embedded PostgreSQL running/);
    assert.match(r.out(), new RegExp(`doctor app +http://127\\.0\\.0\\.1:${p.MEDGRID_PORT}/`));
    assert.match(r.out(), new RegExp(`admin app +http://127\\.0\\.0\\.1:${p.MEDGRID_PORT}/admin/`));
    const base = `http://127.0.0.1:${p.MEDGRID_PORT}`;
    assert.deepEqual(await (await fetch(`${base}/healthz`)).json(), { status: 'ok', version: VERSION });
    assert.deepEqual(await (await fetch(`${base}/readyz`)).json(), { status: 'ready' });
    const gql = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ version }' }),
    });
    assert.deepEqual(await gql.json(), { data: { version: VERSION } });
    // The HTTPS listener: a server certificate from the MedGrid CA, and the gateway's service certificate
    // (issued by the same CA for a service account with the gateway role) admitted to DICOMweb.
    const tlsBase = `https://127.0.0.1:${p.MEDGRID_TLS_PORT}`;
    assert.match(r.out(), new RegExp(`HTTPS \\(mTLS\\) +${tlsBase.replace(/\./g, '\\.')}/`));
    assert.match(r.out(), new RegExp(`uploads to ${tlsBase.replace(/\./g, '\\.')}`));
    const gw = path.join(dataDir, 'tls', 'gateway');
    const ca = path.join(gw, 'ca.pem');
    assert.equal((await httpsGet(`${tlsBase}/healthz`, { ca })).status, 200);
    const anonymous = await httpsGet(`${tlsBase}/dicomweb/studies`, { ca });
    assert.equal(anonymous.status, 401, anonymous.body);
    const asGateway = await httpsGet(`${tlsBase}/dicomweb/studies`, {
      ca,
      cert: path.join(gw, 'gateway.pem'),
      key: path.join(gw, 'gateway.key'),
    });
    assert.ok([200, 204].includes(asGateway.status), `${asGateway.status} ${asGateway.body}`);
    assert.match(
      new X509Certificate(readFileSync(path.join(gw, 'gateway.pem'))).subject,
      /OU=service[\s\S]*CN=Embedded Gateway/,
    );
    // A client certificate from another CA ends the connection at the TLS level.
    execFileSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      path.join(dataDir, 'foreign.key'),
      '-out',
      path.join(dataDir, 'foreign.pem'),
      '-subj',
      '/CN=Foreign Client',
      '-days',
      '1',
    ]);
    await assert.rejects(
      httpsGet(`${tlsBase}/dicomweb/studies`, {
        ca,
        cert: path.join(dataDir, 'foreign.pem'),
        key: path.join(dataDir, 'foreign.key'),
      }),
      /socket hang up|ECONNRESET|alert/i,
    );
    // GraphQL subscriptions (graphql-ws) are served on the HTTPS listener too.
    const ws = new WebSocket(`${tlsBase.replace('https', 'wss')}/graphql`, 'graphql-transport-ws', {
      ca: readFileSync(ca),
      cert: readFileSync(path.join(gw, 'gateway.pem')),
      key: readFileSync(path.join(gw, 'gateway.key')),
    });
    const ack = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
      ws.on('message', (m) => resolve(String(m)));
      ws.on('error', reject);
    });
    ws.close();
    assert.equal(JSON.parse(ack).type, 'connection_ack');
    // The gateway's DICOM port is open.
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(Number(p.MEDGRID_GATEWAY_PORT), '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
    assert.ok(
      processesMentioning(path.join(dataDir, 'postgres')).length > 0,
      'embedded postgres runs under the data dir',
    );

    r.proc.kill('SIGINT');
    assert.equal(await r.exit, 0);
    await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(processesMentioning(path.join(dataDir, 'postgres')), [], 'no PostgreSQL left running');
    assert.deepEqual(processesMentioning(`MEDGRID_PORT=${p.MEDGRID_PORT}`), []);
    await assert.rejects(fetch(`${base}/healthz`));
  });

  test('a second start reuses the embedded cluster and its data', async () => {
    const p = await ports();
    const r = run(['start'], { ...p, MEDGRID_DATA_DIR: dataDir, MEDGRID_LOG_LEVEL: 'warn' });
    await waitFor(() => r.out().includes('medgrid: ready'), 120_000, 'ready', r);
    assert.doesNotMatch(
      r.out(),
      /applied \d+ migration/,
      'migrations were already applied on the first start',
    );
    r.proc.kill('SIGTERM');
    assert.equal(await r.exit, 0);
  });
});

describe('medgrid start with DATABASE_URL', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  test('uses the given database and applies the migrations', async () => {
    const p = await ports();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'medgrid-start-'));
    const r = run(['start'], {
      ...p,
      DATABASE_URL: db.url,
      MEDGRID_DATA_DIR: dataDir,
      MEDGRID_LOG_LEVEL: 'warn',
    });
    await waitFor(() => r.out().includes('medgrid: ready'), 60_000, 'ready', r);
    assert.doesNotMatch(r.out(), /embedded PostgreSQL/);
    assert.match(r.out(), /applied \d+ migration/);
    r.proc.kill('SIGINT');
    assert.equal(await r.exit, 0);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a port already in use gives a one-line error and leaves nothing running', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((res) => blocker.once('listening', res));
    const busy = (blocker.address() as net.AddressInfo).port;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'medgrid-start-'));
    const r = run(['start'], {
      MEDGRID_PORT: String(busy),
      MEDGRID_TLS_PORT: String(await freePort()),
      MEDGRID_GATEWAY_PORT: String(await freePort()),
      DATABASE_URL: db.url,
      MEDGRID_DATA_DIR: dataDir,
      MEDGRID_LOG_LEVEL: 'silent',
    });
    assert.equal(await r.exit, 1);
    blocker.close();
    const lines = r.err().trim().split('\n');
    assert.equal(lines.length, 1, r.err());
    assert.match(lines[0]!, new RegExp(`^medgrid: address 127\\.0\\.0\\.1:${busy} is already in use`));
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('start-up errors are one line, never a stack trace', () => {
  const cases: [string, Record<string, string>, RegExp, number][] = [
    [
      'unreachable database',
      { DATABASE_URL: 'postgres://medgrid:s3cret@127.0.0.1:1/medgrid' },
      /^medgrid: cannot use the database at 127\.0\.0\.1:1\/medgrid: /,
      1,
    ],
    [
      'database that does not exist',
      { DATABASE_URL: 'postgres://postgres:s3cret@127.0.0.1:5432/no_such_db_medgrid' },
      /^medgrid: cannot use the database at 127\.0\.0\.1:5432\/no_such_db_medgrid: .*does not exist/,
      1,
    ],
    [
      'malformed DATABASE_URL',
      { DATABASE_URL: 'definitely not a url' },
      /^medgrid: DATABASE_URL is not a valid URL/,
      2,
    ],
    ['bad port value', { MEDGRID_PORT: 'http' }, /^medgrid: MEDGRID_PORT must be an integer/, 2],
  ];
  for (const [name, env, expected, code] of cases) {
    test(name, async () => {
      const r = run(['start'], {
        ...env,
        MEDGRID_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'medgrid-err-')),
      });
      assert.equal(await r.exit, code);
      const lines = r.err().trim().split('\n');
      assert.equal(lines.length, 1, `expected one line, got:\n${r.err()}`);
      assert.match(lines[0]!, expected);
      assert.doesNotMatch(r.err(), /s3cret/, 'the password never reaches the terminal');
      assert.doesNotMatch(r.err(), /\n\s+at /);
    });
  }
});
