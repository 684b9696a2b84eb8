import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { migrateUp, openOrm } from '../db/orm.js';
import { uuidv7 } from '../identity/ids.util.js';
import { rewrapDataKeys } from '../studies/key-rotation.js';
import { createTestDatabase } from '../testing/test-database.js';
import { BlindIndex, KeyError, KeyRing, open, parseKey, seal } from './envelope.js';

describe('envelope encryption and blind index', () => {
  test('seal/open: AES-256-GCM bound to its row; a wrong key, row or tampering fails', () => {
    const k = randomBytes(32);
    const s = seal(k, Buffer.from('DOE^JOHN'), 'phi:1');
    assert.equal(open(k, s, 'phi:1').toString(), 'DOE^JOHN');
    assert.throws(() => open(k, s, 'phi:2'), KeyError);
    assert.throws(() => open(randomBytes(32), s, 'phi:1'), KeyError);
    const t = Buffer.from(s);
    t[t.length - 1]! ^= 1;
    assert.throws(() => open(k, t, 'phi:1'), KeyError);
    assert.ok(!s.includes(Buffer.from('DOE')));
  });

  test('keys are 32 bytes, hex or base64', () => {
    const k = randomBytes(32);
    assert.deepEqual(parseKey(k.toString('hex'), 'K'), k);
    assert.deepEqual(parseKey(k.toString('base64'), 'K'), k);
    assert.throws(() => parseKey('abcd', 'K'), /32 bytes/);
  });

  test('blind index: normalised tokens, keyed; accents and case do not matter', () => {
    const b = new BlindIndex('secret-one-secret-one');
    assert.deepEqual(b.nameTokens('Müller^Hans'), b.nameTokens('MULLER hans'));
    assert.equal(b.idToken(' ab 123 '), b.idToken('AB123'));
    assert.notEqual(b.idToken('AB123'), new BlindIndex('secret-two-secret-two').idToken('AB123'));
    assert.deepEqual(b.nameTokens('Шевченко^Тарас').length, 2);
  });

  test('KEK rotation: data keys re-wrapped under the new key; the old key is then no longer needed', async () => {
    const db = await createTestDatabase('medgrid_test_kek');
    const orm = await openOrm(db.url);
    try {
      await migrateUp(orm);
      const oldKek = randomBytes(32);
      const newKek = randomBytes(32);
      const before = new KeyRing(oldKek);
      const conn = orm.em.fork().getConnection();
      const dataKeys = new Map<string, Buffer>();
      for (let i = 0; i < 3; i++) {
        const id = uuidv7();
        const dk = before.newDataKey();
        const w = before.wrap(dk, id);
        dataKeys.set(id, dk);
        await conn.execute(
          `insert into study (id, study_uid, owner_id, kek_id, wrapped_key) values (?, ?, ?, ?, ?)`,
          [id, `2.25.${i}`, uuidv7(), w.kekId, w.wrapped],
        );
      }
      const during = new KeyRing(newKek, [oldKek]);
      assert.equal(await rewrapDataKeys(orm.em.fork(), during, 2), 3);
      assert.equal(await rewrapDataKeys(orm.em.fork(), during, 2), 0, 'idempotent');
      const afterRing = new KeyRing(newKek);
      const rows = (await conn.execute('select id, kek_id, wrapped_key from study')) as {
        id: string;
        kek_id: string;
        wrapped_key: Buffer;
      }[];
      for (const r of rows) {
        assert.equal(r.kek_id, afterRing.currentId);
        assert.deepEqual(afterRing.unwrap(r.kek_id, r.wrapped_key, r.id), dataKeys.get(r.id));
      }
      assert.throws(
        () => new KeyRing(newKek).unwrap(before.currentId, Buffer.alloc(40), 'x'),
        /not configured/,
      );
    } finally {
      await orm.close(true);
      await db.drop();
    }
  });
});
