import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { blockedAncestor } from './embedded-postgres.service.js';

// As root, PostgreSQL runs as the postgres user, which must be able to enter every directory on the way to the
// cluster and the binaries; a private checkout (mode 0700, e.g. under /root) is named in the start-up error.
describe('embedded PostgreSQL as root: can the postgres user reach a path?', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'medgrid-reach-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  const other = { uid: 54_321, gid: 54_321 };

  test('a private directory on the way is named; search permission alone (o+x) is enough', () => {
    const dir = path.join(base, 'checkout', 'node_modules');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'initdb');
    writeFileSync(file, '');
    chmodSync(base, 0o755);
    chmodSync(path.join(base, 'checkout'), 0o700);
    assert.equal(blockedAncestor(file, other), path.join(base, 'checkout'));
    chmodSync(path.join(base, 'checkout'), 0o711);
    assert.equal(blockedAncestor(file, other), null);
  });

  test("the owner's and the group's bits count for that user and group", () => {
    const dir = path.join(base, 'owned');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'f'), '');
    chmodSync(dir, 0o700);
    const me = { uid: process.getuid?.() ?? 0, gid: 99_999 };
    assert.equal(blockedAncestor(path.join(dir, 'f'), me), null);
    chmodSync(dir, 0o710);
    assert.equal(blockedAncestor(path.join(dir, 'f'), { uid: 99_999, gid: process.getgid?.() ?? 0 }), null);
    chmodSync(dir, 0o700);
    assert.equal(blockedAncestor(path.join(dir, 'f'), { uid: 99_999, gid: process.getgid?.() ?? 0 }), dir);
  });
});
