import { pathToFileURL } from 'node:url';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { KeyRing } from '../crypto/envelope.js';

/**
 * Re-wraps every study data key that is not under the current KEK (after `MEDGRID_KEK` changed and the old key
 * was moved to `MEDGRID_KEK_PREVIOUS`). Idempotent; processes `batch` studies per transaction.
 * Returns how many data keys were re-wrapped.
 */
export async function rewrapDataKeys(em: EntityManager, keys: KeyRing, batch = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await em.fork().transactional(async (tx) => {
      const conn = tx.getConnection();
      const ctx = tx.getTransactionContext();
      const rows = (await conn.execute(
        `select id, kek_id, wrapped_key from study where wrapped_key is not null and kek_id <> ?
          order by id limit ? for update skip locked`,
        [keys.currentId, batch],
        'all',
        ctx,
      )) as { id: string; kek_id: string; wrapped_key: Buffer }[];
      for (const r of rows) {
        const dk = keys.unwrap(r.kek_id, r.wrapped_key, r.id);
        const w = keys.wrap(dk, r.id);
        await conn.execute(
          'update study set kek_id = ?, wrapped_key = ? where id = ?',
          [w.kekId, w.wrapped, r.id],
          'run',
          ctx,
        );
      }
      return rows.length;
    });
    total += n;
    if (n < batch) return total;
  }
}

/**
 * `node packages/server/dist/studies/key-rotation.js`: re-wraps every data key under MEDGRID_KEK, unwrapping
 * with MEDGRID_KEK_PREVIOUS (same environment as the server: DATABASE_URL, MEDGRID_DATA_DIR).
 */
async function main(): Promise<void> {
  const { loadConfig } = await import('../config/config.js');
  const { openOrm } = await import('../db/orm.js');
  const { StudiesRuntime } = await import('./studies.runtime.js');
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('set DATABASE_URL');
  const orm = await openOrm(config.databaseUrl);
  try {
    const rt = StudiesRuntime.open(config);
    const n = await rewrapDataKeys(orm.em.fork(), rt.keys);
    process.stdout.write(`re-wrapped ${n} study data keys under key ${rt.keys.currentId}\n`);
  } finally {
    await orm.close(true);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    process.stderr.write(`key rotation failed: ${err.message}\n`);
    process.exit(1);
  });
}
