import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './support/paths.js';

// Debian's docker-compose 1.29 validates the file without a Docker engine.
function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8', input });
  if (result.error) throw result.error;
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

const compose = (...args: string[]) => run('docker-compose', ['-f', 'docker/compose.yaml', ...args]);

interface Service {
  build?: { dockerfile?: string };
  image?: string;
  user?: string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  command?: string[];
  volumes?: string[];
}

/** The resolved configuration, as JSON (PyYAML ships with docker-compose). */
function resolvedConfig(): { services: Record<string, Service>; volumes: Record<string, unknown> } {
  const yaml = compose('config');
  return JSON.parse(
    run('python3', ['-c', 'import json,sys,yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], yaml),
  );
}

describe('docker/compose.yaml', () => {
  it('passes `docker-compose config` and lists the whole system', () => {
    const services = compose('config', '--services').trim().split('\n').sort();
    assert.deepEqual(services, [
      'gateway',
      'gateway-credentials',
      'gateway-db',
      'postgres',
      'server',
      'worker',
      'xrootd',
    ]);
  });

  it('builds the MedGrid services from their Dockerfiles, as a non-root user, with DATABASE_URL', () => {
    const { services } = resolvedConfig();
    for (const name of ['server', 'worker', 'gateway']) {
      const service = services[name]!;
      assert.equal(service.build?.dockerfile, `docker/${name}.Dockerfile`);
      assert.equal(service.user, 'node');
      assert.match(service.environment?.DATABASE_URL ?? '', /^postgres:\/\/\w+:[^@]+@[\w-]+:5432\/\w+$/);
      assert.ok(service.environment?.MEDGRID_DATA_DIR, `${name} has no MEDGRID_DATA_DIR`);
    }
    assert.equal(services.server!.environment!.MEDGRID_PORT, '8080');
    assert.equal(services.gateway!.environment!.MEDGRID_GATEWAY_PORT, '11112');
    // The gateway's vault is not the central database.
    assert.notEqual(services.gateway!.environment!.DATABASE_URL, services.server!.environment!.DATABASE_URL);
  });

  it('gives every long-running service a healthcheck and starts dependants only once they are healthy (one-shots: completed)', () => {
    const { services } = resolvedConfig();
    const oneShot = (name: string) => services[name]!.restart === 'no';
    assert.deepEqual(Object.keys(services).filter(oneShot), ['gateway-credentials']);
    for (const [name, service] of Object.entries(services)) {
      if (!oneShot(name)) assert.ok(service.healthcheck?.test?.length, `${name} has no healthcheck`);
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        assert.equal(
          condition,
          oneShot(dep) ? 'service_completed_successfully' : 'service_healthy',
          `${name} -> ${dep}`,
        );
      }
    }
    assert.deepEqual(Object.keys(services.worker!.depends_on ?? {}).sort(), ['postgres', 'server', 'xrootd']);
  });

  it('the gateway uploads over mutual TLS with the certificate gateway-credentials issues, by a name the server certificate carries', () => {
    const { services } = resolvedConfig();
    const gw = services.gateway!.environment!;
    const creds = services['gateway-credentials']!;
    assert.match(gw.MEDGRID_GATEWAY_STOW_URL ?? '', /^https:\/\/server:8443\/dicomweb\/studies$/);
    assert.match(gw.MEDGRID_GATEWAY_WADO_URL ?? '', /^https:\/\/server:8443\/dicomweb$/);
    assert.equal(services.server!.environment!.MEDGRID_TLS_PORT, '8443');
    assert.ok(services.server!.environment!.MEDGRID_TLS_DNS_NAMES?.split(',').includes('server'));
    // The credentials land in one volume: written by the one-shot, read-only for the gateway.
    const dir = creds.command![creds.command!.indexOf('--dir') + 1]!;
    assert.deepEqual(creds.command!.slice(2, 4), ['admin', 'service-credentials']);
    const volumeAt = (svc: Service, target: string) =>
      (svc.volumes ?? [])
        .map((v) =>
          typeof v === 'string'
            ? v
            : `${(v as { source: string }).source}:${(v as { target: string }).target}`,
        )
        .find((v) => v.split(':')[1] === target)
        ?.split(':')[0];
    const tlsDir = path.posix.dirname(gw.MEDGRID_GATEWAY_TLS_CERT!);
    assert.ok(volumeAt(creds, dir), 'gateway-credentials writes to no volume');
    assert.equal(volumeAt(services.gateway!, tlsDir), volumeAt(creds, dir));
    for (const k of [
      'MEDGRID_GATEWAY_TLS_CERT',
      'MEDGRID_GATEWAY_TLS_KEY',
      'MEDGRID_GATEWAY_TLS_CA',
    ] as const) {
      assert.equal(path.posix.dirname(gw[k]!), tlsDir, k);
    }
    assert.deepEqual(
      [gw.MEDGRID_GATEWAY_TLS_CERT, gw.MEDGRID_GATEWAY_TLS_KEY, gw.MEDGRID_GATEWAY_TLS_CA].map((f) =>
        path.posix.basename(f!),
      ),
      ['service.pem', 'service.key', 'ca.pem'],
    );
    // The one-shot reads the CA the server keeps in its data volume.
    assert.equal(creds.environment!.MEDGRID_DATA_DIR, services.server!.environment!.MEDGRID_DATA_DIR);
    assert.equal(creds.environment!.DATABASE_URL, services.server!.environment!.DATABASE_URL);
  });
});

// The images copy workspace packages one by one (for layer caching); a package missing there breaks the image
// build, which no engine here would catch.
describe('docker images', () => {
  const workspaceDeps = (pkg: string): string[] => {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'packages', pkg, 'package.json'), 'utf8'));
    const all = { ...manifest.dependencies, ...manifest.devDependencies } as Record<string, string>;
    return Object.entries(all)
      .filter(([, v]) => v.startsWith('workspace:'))
      .map(([name]) => name.replace('@medgrid/', ''));
  };
  const closure = (roots: string[]): string[] => {
    const seen = new Set<string>();
    const visit = (p: string) => {
      if (seen.has(p)) return;
      seen.add(p);
      for (const d of workspaceDeps(p)) visit(d);
    };
    for (const r of roots) visit(r);
    return [...seen].sort();
  };
  const images: Record<string, string[]> = {
    server: ['server', 'doctor-app', 'admin-app'],
    worker: ['worker'],
    gateway: ['gateway'],
  };
  for (const [image, roots] of Object.entries(images)) {
    it(`${image}.Dockerfile copies every workspace package it builds`, () => {
      const dockerfile = readFileSync(path.join(repoRoot, 'docker', `${image}.Dockerfile`), 'utf8');
      for (const pkg of closure(roots)) {
        assert.match(
          dockerfile,
          new RegExp(`COPY packages/${pkg}/package\\.json `),
          `${pkg}/package.json not copied`,
        );
        assert.match(
          dockerfile,
          new RegExp(`COPY packages/${pkg} packages/${pkg}`),
          `${pkg} sources not copied`,
        );
      }
      // pnpm install --frozen-lockfile fails without the files patchedDependencies names.
      const workspace = readFileSync(path.join(repoRoot, 'pnpm-workspace.yaml'), 'utf8');
      if (/^patchedDependencies:/m.test(workspace)) {
        const copy = dockerfile.indexOf('COPY patches patches/');
        assert.ok(copy >= 0, 'patches/ not copied');
        assert.ok(copy < dockerfile.indexOf('pnpm install'), 'patches/ copied after the first install');
      }
    });
  }
});
