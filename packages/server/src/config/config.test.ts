import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CONFIG_VARIABLES, ConfigError, loadConfig, REPO_ROOT } from './config.js';

describe('configuration', () => {
  test('an empty environment gives the embedded defaults', () => {
    const c = loadConfig({});
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.gatewayPort, 11112);
    assert.equal(c.gatewayAeTitle, 'MEDGRID');
    assert.equal(c.env, 'development');
    assert.equal(c.dataDir, path.resolve('.medgrid'));
    assert.equal(c.tls, undefined);
    assert.equal(c.identity.publicUrl, 'http://127.0.0.1:8080');
    assert.equal(c.identity.membershipTermDays, 365);
    assert.ok(c.identity.caPassphrase.length >= 12, 'a development CA passphrase');
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ MEDGRID_PORT: 'eighty' }, /MEDGRID_PORT must be an integer/],
    [{ MEDGRID_PORT: '70000' }, /MEDGRID_PORT must be between 0 and 65535/],
    [{ DATABASE_URL: 'not a url' }, /DATABASE_URL is not a valid URL/],
    [{ DATABASE_URL: 'mysql://x@localhost/db' }, /must use postgres:\/\//],
    [{ DATABASE_URL: 'postgres://x@localhost' }, /names no database/],
    [{ MEDGRID_ENV: 'staging' }, /MEDGRID_ENV must be one of/],
    [{ MEDGRID_LOG_LEVEL: 'loud' }, /MEDGRID_LOG_LEVEL must be one of/],
    [{ MEDGRID_TLS_CERT: '/x.pem' }, /must be set together/],
    [{ MEDGRID_TLS_CLIENT_CA: '/ca.pem' }, /client certificates need TLS/],
    [{ MEDGRID_GATEWAY_AE_TITLE: 'A_TITLE_THAT_IS_TOO_LONG' }, /1-16 printable/],
    [{ MEDGRID_TLS_REQUIRE_CLIENT_CERT: 'maybe' }, /true or false/],
    [{ MEDGRID_ENV: 'production' }, /MEDGRID_CA_PASSPHRASE is required in production/],
    [{ MEDGRID_CA_PASSPHRASE: 'short' }, /12 or more characters/],
    [{ MEDGRID_PUBLIC_URL: 'ftp://x' }, /must be http\(s\)/],
    [{ MEDGRID_MEMBERSHIP_TERM_DAYS: '0' }, /between 1 and 3650/],
  ];
  for (const [env, message] of bad) {
    test(`rejects ${JSON.stringify(env)} with a clear one-line error`, () => {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) =>
          err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'),
      );
    });
  }

  test('the error for a bad DATABASE_URL does not echo a password', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'mysql://u:s3cret@h/db' }),
      (e: Error) => !e.message.includes('s3cret'),
    );
  });

  test('docs/configuration.md documents every variable the code reads', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs/configuration.md'), 'utf8');
    for (const v of CONFIG_VARIABLES)
      assert.ok(doc.includes(`\`${v.name}\``), `${v.name} missing from docs/configuration.md`);
  });
});
