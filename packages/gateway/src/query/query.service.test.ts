import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../testing/harness.js';
import { openVault } from '../vault/orm.js';
import { ROW_COLUMNS, Vault, type VaultRow } from '../vault/vault.service.js';
import { findMatches, type Identifier, type Level } from './query.service.js';

function row(over: Partial<VaultRow>): VaultRow {
  const base = Object.fromEntries(ROW_COLUMNS.map((c) => [c, null])) as unknown as VaultRow;
  return {
    ...base,
    sop_class_uid: '1.2.840.10008.5.1.4.1.1.2',
    transfer_syntax_uid: '1.2.840.10008.1.2.1',
    sha256: '0'.repeat(64),
    size: 1,
    identity: Buffer.from([1]),
    ...over,
  } as VaultRow;
}

// PS3.4 C.2.2.2 matching on the vault, with hand-made rows (the dcmtk interop suite covers the same through findscu).
describe('C-FIND matching (PS3.4 C.2.2.2)', () => {
  let db: TestDatabase;
  let vault: Vault;
  before(async () => {
    db = await createTestDatabase();
    await (await openVault(db.url)).close(true);
    vault = new Vault(db.url);
    const rows: Partial<VaultRow>[] = [
      {
        patient_name: 'Müller^Anna',
        patient_id: 'P1',
        study_date: '20240105',
        study_time: '083000',
        modality: 'CT',
      },
      {
        patient_name: 'MULLER^BEN',
        patient_id: 'P2',
        study_date: '20240210',
        study_time: '141500',
        modality: 'MR',
      },
      {
        patient_name: 'Mill_er%^Cy',
        patient_id: 'P3',
        study_date: '20231231',
        study_time: '235959',
        modality: 'US',
      },
      { patient_name: null, patient_id: 'P4', study_date: null, modality: 'CT' },
    ];
    await vault.upsert(
      rows.map((r, i) =>
        row({
          ...r,
          sop_instance_uid: `1.2.3.${i}.1`,
          series_instance_uid: `1.2.3.${i}`,
          study_instance_uid: `1.2.${i}`,
          deid_sop_instance_uid: `2.25.${i}`,
        }),
      ),
    );
  });
  after(async () => {
    await vault.close();
    await db.drop();
  });

  const q = async (keys: [number, string, string][], level: Level = 'STUDY') => {
    const id: Identifier = { level, keys: keys.map(([tag, vr, value]) => ({ tag, vr, value })) };
    return (await findMatches(vault, id)).map((r) => r.patient_id).sort();
  };
  const NAME = 0x00100010;
  const DATE = 0x00080020;
  const TIME = 0x00080030;

  test('universal matching: empty value and a lone * match everything, nulls included', async () => {
    assert.deepEqual(await q([[NAME, 'PN', '']]), ['P1', 'P2', 'P3', 'P4']);
    assert.deepEqual(await q([[NAME, 'PN', '*']]), ['P1', 'P2', 'P3', 'P4']);
  });

  test('PN: case-insensitive single value and wildcards; ? is one character; % and _ are literal', async () => {
    assert.deepEqual(await q([[NAME, 'PN', 'muller^ben']]), ['P2']);
    assert.deepEqual(await q([[NAME, 'PN', 'M?ller*']]), ['P1', 'P2']);
    assert.deepEqual(await q([[NAME, 'PN', 'mill_er%*']]), ['P3']);
    assert.deepEqual(await q([[NAME, 'PN', 'mil_er*']]), []);
    assert.deepEqual(await q([[NAME, 'PN', 'müller*']]), ['P1'], 'non-ASCII (decoded) names');
  });

  test('date and time ranges, open at either end', async () => {
    assert.deepEqual(await q([[DATE, 'DA', '20240101-20240131']]), ['P1']);
    assert.deepEqual(await q([[DATE, 'DA', '20240101-']]), ['P1', 'P2']);
    assert.deepEqual(await q([[DATE, 'DA', '-20231231']]), ['P3']);
    assert.deepEqual(await q([[TIME, 'TM', '0800-1500']]), ['P1', 'P2']);
  });

  test('lists: UID list matching and value lists, and a key combined with another', async () => {
    assert.deepEqual(await q([[0x0020000d, 'UI', '1.2.0\\1.2.2']]), ['P1', 'P3']);
    assert.deepEqual(await q([[0x00100020, 'LO', 'P2\\P4']], 'PATIENT'), ['P2', 'P4']);
    assert.deepEqual(
      await q([
        [0x00080061, 'CS', 'CT\\US'],
        [DATE, 'DA', '2024-'],
      ]),
      ['P1'],
    );
    assert.deepEqual(await q([[0x00080060, 'CS', 'MR']], 'SERIES'), ['P2']);
  });
});
