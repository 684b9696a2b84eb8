import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../db/embedded-postgres.service.js';
import { migrateUp, openOrm } from '../db/orm.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { RoleAssignment } from '../vo/vo.entities.js';
import { readPkcs12 } from './ca/index.js';
import { exec } from './ca/test-fixture.util.js';

const CLI = fileURLToPath(new URL('../cli/medgrid.js', import.meta.url));

function run(args: string[], env: Record<string, string>) {
  const proc: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
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
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  return { proc, out: () => out, err: () => err, exit };
}

async function waitFor(pred: () => boolean, ms: number, what: string, r: ReturnType<typeof run>) {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until || r.proc.exitCode !== null) {
      throw new Error(`no ${what}\nstdout:\n${r.out()}\nstderr:\n${r.err()}`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('medgrid admin bootstrap and the development accounts', () => {
  let db: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  before(async () => {
    db = await createTestDatabase('medgrid_test_cli');
    const orm = await openOrm(db.url);
    await migrateUp(orm);
    await orm.close(true);
    dataDir = mkdtempSync(path.join(tmpdir(), 'medgrid-cli-'));
    env = {
      DATABASE_URL: db.url,
      MEDGRID_DATA_DIR: dataDir,
      MEDGRID_LOG_LEVEL: 'silent',
      MEDGRID_ENV: 'test',
    };
  });
  after(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('bootstrap creates the first administrator and writes a PKCS#12 that openssl reads; a second bootstrap is refused', async () => {
    const out = path.join(dataDir, 'admin.p12');
    const r = run(
      ['admin', 'bootstrap', '--name', 'First Admin', '--facility', 'MedGrid', '--out', out],
      env,
    );
    assert.equal(await r.exit, 0, r.err());
    const pw = /PKCS#12 password \(shown once, not stored\): (\S+)/.exec(r.out())?.[1];
    assert.ok(pw, r.out());
    const p12 = await readPkcs12(readFileSync(out), pw);
    assert.ok(p12.chainDer.length >= 2);
    const o = await exec('openssl', ['pkcs12', '-in', out, '-passin', `pass:${pw}`, '-nokeys', '-clcerts']);
    assert.equal(o.code, 0, o.stderr);
    assert.match(o.stdout, /subject=.*CN\s?=\s?First Admin/);
    const orm = await openOrm(db.url);
    const roles = (await orm.em.fork().find(RoleAssignment, {})).map((x) => x.role).sort();
    await orm.close(true);
    assert.deepEqual(roles, ['ca-operator', 'vo-admin']);
    const again = run(
      [
        'admin',
        'bootstrap',
        '--name',
        'Second',
        '--facility',
        'MedGrid',
        '--out',
        path.join(dataDir, 'b.p12'),
      ],
      env,
    );
    assert.equal(await again.exit, 1);
    assert.match(again.err(), /an administrator exists already/);
    // Issue for the administrator's account and revoke it again, from the CLI.
    const orm2 = await openOrm(db.url);
    const adminUser = (await orm2.em.fork().find(RoleAssignment, { role: 'vo-admin' }))[0]!.userId;
    await orm2.close(true);
    const second = path.join(dataDir, 'second.p12');
    const iss = run(['admin', 'issue', '--user-id', adminUser, '--out', second, '--days', '30'], env);
    assert.equal(await iss.exit, 0, iss.err());
    const serial = /issued ([0-9a-f]+) /.exec(iss.out())?.[1];
    assert.ok(serial, iss.out());
    const rev = run(['admin', 'revoke', '--serial', serial, '--reason', 'keyCompromise'], env);
    assert.equal(await rev.exit, 0, rev.err());
    assert.match(rev.out(), new RegExp(`revoked ${serial} .*reason keyCompromise; CRL re-issued`));
    const usage = run(['admin', 'nope'], env);
    assert.equal(await usage.exit, 2);
    assert.match(usage.err(), /usage: medgrid admin bootstrap/);
  });

  test('serve in development with MEDGRID_TLS_FROM_CA: HTTPS from the MedGrid CA, development accounts printed on the first start only, usable with curl', async () => {
    const port = String(await freePort());
    const devEnv = {
      ...env,
      MEDGRID_ENV: 'development',
      MEDGRID_TLS_FROM_CA: 'true',
      MEDGRID_PORT: port,
      MEDGRID_LOG_LEVEL: 'info',
    };
    const s = run(['serve'], devEnv);
    try {
      await waitFor(() => s.out().includes('server listening'), 60_000, 'listening', s);
      const admin = /development administrator: (\S+) password (\S+)/.exec(s.out());
      const doctor = /development doctor: (\S+) password (\S+)/.exec(s.out());
      assert.ok(admin && doctor, s.out());
      const chain = path.join(dataDir, 'tls', 'client-ca.pem');
      const curl = (p12: string, pw: string) =>
        exec('curl', [
          '-sS',
          '--cacert',
          chain,
          '--cert-type',
          'P12',
          '--cert',
          `${p12}:${pw}`,
          '-H',
          'content-type: application/json',
          '--data',
          JSON.stringify({ query: '{ me { name via roles { role } } }' }),
          `https://127.0.0.1:${port}/graphql`,
        ]);
      const a = await curl(admin[1]!, admin[2]!);
      assert.equal(a.code, 0, a.stderr);
      assert.deepEqual(JSON.parse(a.stdout).data.me, {
        name: 'Development Administrator',
        via: 'mtls',
        roles: [{ role: 'CA_OPERATOR' }, { role: 'VO_ADMIN' }],
      });
      const d = await curl(doctor[1]!, doctor[2]!);
      assert.deepEqual(JSON.parse(d.stdout).data.me.roles, [{ role: 'DOCTOR' }]);
    } finally {
      s.proc.kill('SIGTERM');
      await s.exit;
    }
    const again = run(['serve'], devEnv);
    try {
      await waitFor(() => again.out().includes('server listening'), 60_000, 'listening', again);
      assert.doesNotMatch(again.out(), /development administrator/);
    } finally {
      again.proc.kill('SIGTERM');
      await again.exit;
    }
  });
  test('service-credentials: a gateway in its own container gets its PEM files, and reaches the HTTPS listener by the DNS name MEDGRID_TLS_DNS_NAMES adds', async () => {
    const [port, tlsPort] = [String(await freePort()), String(await freePort())];
    const serveEnv = {
      ...env,
      MEDGRID_PORT: port,
      MEDGRID_TLS_PORT: tlsPort,
      MEDGRID_TLS_DNS_NAMES: 'server',
      MEDGRID_LOG_LEVEL: 'info',
    };
    const s = run(['serve'], serveEnv);
    try {
      await waitFor(() => s.out().includes('server listening'), 60_000, 'listening', s);
      const dir = path.join(dataDir, 'gateway-tls');
      const args = [
        'admin',
        'service-credentials',
        '--name',
        'Hospital Gateway',
        '--facility',
        'City Hospital',
      ];
      const first = run([...args, '--role', 'gateway', '--dir', dir], serveEnv);
      assert.equal(await first.exit, 0, first.err());
      assert.match(first.out(), /service certificate issued/);
      const curl = () =>
        exec('curl', [
          '-sS',
          '--resolve',
          `server:${tlsPort}:127.0.0.1`,
          '--cacert',
          path.join(dir, 'ca.pem'),
          '--cert',
          path.join(dir, 'service.pem'),
          '--key',
          path.join(dir, 'service.key'),
          '-H',
          'content-type: application/json',
          '--data',
          JSON.stringify({ query: '{ me { name via roles { role } } }' }),
          `https://server:${tlsPort}/graphql`,
        ]);
      const c = await curl();
      assert.equal(c.code, 0, c.stderr);
      assert.deepEqual(JSON.parse(c.stdout).data.me, {
        name: 'Hospital Gateway',
        via: 'mtls',
        roles: [{ role: 'GATEWAY' }],
      });
      const again = run([...args, '--role', 'gateway', '--dir', dir], serveEnv);
      assert.equal(await again.exit, 0, again.err());
      assert.match(again.out(), /service certificate reused/);
      const bad = run([...args, '--role', 'superuser', '--dir', dir], serveEnv);
      assert.equal(await bad.exit, 1);
      assert.match(bad.err(), /--role must be one of/);
    } finally {
      s.proc.kill('SIGTERM');
      await s.exit;
    }
  });
});
