import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../testing/harness.js';
import { GatewayConfigError, loadGatewayConfig } from './gateway.config.js';

test('configuration from the environment, a JSON file, or both (the environment wins)', () => {
  const dir = tempDir('medgrid-gw-config-');
  try {
    const file = path.join(dir, 'gateway.json');
    writeFileSync(
      file,
      JSON.stringify({
        MEDGRID_GATEWAY_PORT: 4242,
        MEDGRID_GATEWAY_PEERS: 'PACS=10.0.0.5:104',
        DATABASE_URL: 'postgres://x/y',
      }),
    );
    const c = loadGatewayConfig({
      MEDGRID_GATEWAY_CONFIG: file,
      MEDGRID_GATEWAY_AE_TITLE: 'HOSP_GW',
      MEDGRID_GATEWAY_PORT: '11113',
    });
    assert.equal(c.port, 11113);
    assert.equal(c.aeTitle, 'HOSP_GW');
    assert.deepEqual(c.peers.get('PACS'), { aeTitle: 'PACS', host: '10.0.0.5', port: 104 });
    assert.equal(c.databaseUrl, 'postgres://x/y');
    writeFileSync(file, JSON.stringify({ NOT_OURS: 1 }));
    assert.throws(() => loadGatewayConfig({ MEDGRID_GATEWAY_CONFIG: file }), GatewayConfigError);
    assert.throws(
      () => loadGatewayConfig({ DATABASE_URL: 'postgres://x/y', MEDGRID_GATEWAY_PEERS: 'nonsense' }),
      /MEDGRID_GATEWAY_PEERS/,
    );
    assert.throws(
      () => loadGatewayConfig({ DATABASE_URL: 'postgres://x/y', MEDGRID_GATEWAY_PORT: '70000' }),
      /port number/,
    );
    assert.throws(() => loadGatewayConfig({}), /DATABASE_URL/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cache bounds: defaults 10 GiB and 30 days, decimals allowed, nonsense refused with the variable named', () => {
  const base = { DATABASE_URL: 'postgres://x/y' };
  assert.deepEqual(loadGatewayConfig(base).cache, {
    maxBytes: 10240 * 1024 * 1024,
    maxAgeMs: 720 * 3600_000,
    sweepMs: 60_000,
  });
  const c = loadGatewayConfig({
    ...base,
    MEDGRID_GATEWAY_CACHE_MAX_MB: '0.5',
    MEDGRID_GATEWAY_CACHE_MAX_AGE_HOURS: '0',
    MEDGRID_GATEWAY_CACHE_SWEEP_SECONDS: '5',
  });
  assert.deepEqual(c.cache, { maxBytes: 524288, maxAgeMs: 0, sweepMs: 5000 });
  assert.throws(
    () => loadGatewayConfig({ ...base, MEDGRID_GATEWAY_CACHE_MAX_MB: 'lots' }),
    /MEDGRID_GATEWAY_CACHE_MAX_MB must be a number/,
  );
  assert.throws(
    () => loadGatewayConfig({ ...base, MEDGRID_GATEWAY_CACHE_SWEEP_SECONDS: '0' }),
    /MEDGRID_GATEWAY_CACHE_SWEEP_SECONDS must be a number of at least 0.1/,
  );
});
