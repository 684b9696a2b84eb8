import pg from 'pg';

/** A vault row as the ingest pipeline writes it (snake_case keys are the column names). */
export interface VaultRow {
  sop_instance_uid: string;
  sop_class_uid: string;
  study_instance_uid: string;
  series_instance_uid: string;
  patient_id: string | null;
  patient_name: string | null;
  patient_birth_date: string | null;
  patient_sex: string | null;
  study_date: string | null;
  study_time: string | null;
  study_description: string | null;
  accession_number: string | null;
  study_id: string | null;
  referring_physician_name: string | null;
  modality: string | null;
  series_number: string | null;
  series_description: string | null;
  instance_number: string | null;
  transfer_syntax_uid: string;
  deid_sop_instance_uid: string;
  deid_study_instance_uid: string | null;
  deid_series_instance_uid: string | null;
  sha256: string;
  size: number;
  identity: Buffer;
  calling_ae: string | null;
  /** Where the de-identified object is in the local cache (`<pack>:<offset>:<length>`). */
  cache_ref: string | null;
}

export const ROW_COLUMNS: (keyof VaultRow)[] = [
  'sop_instance_uid',
  'sop_class_uid',
  'study_instance_uid',
  'series_instance_uid',
  'patient_id',
  'patient_name',
  'patient_birth_date',
  'patient_sex',
  'study_date',
  'study_time',
  'study_description',
  'accession_number',
  'study_id',
  'referring_physician_name',
  'modality',
  'series_number',
  'series_description',
  'instance_number',
  'transfer_syntax_uid',
  'deid_sop_instance_uid',
  'deid_study_instance_uid',
  'deid_series_instance_uid',
  'sha256',
  'size',
  'identity',
  'calling_ae',
  'cache_ref',
];

export interface RetrieveRow {
  sop_instance_uid: string;
  sop_class_uid: string;
  transfer_syntax_uid: string;
  deid_sop_instance_uid: string;
  deid_study_instance_uid: string | null;
  deid_series_instance_uid: string | null;
  sha256: string;
  identity: Buffer;
  cache_ref: string | null;
}

/**
 * Data access to the vault. The schema is owned by the MikroORM entities and migrations; the hot paths
 * (batched ingest, C-FIND, backlog) use parameterised SQL on a small pg pool.
 */
export class Vault {
  readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 6 });
    // A broken idle connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []) {
    return this.pool.query<T>(sql, params);
  }

  /** Inserts (or, for a re-sent instance, replaces) rows in one statement; the backlog entry is reset. */
  async upsert(rows: VaultRow[]): Promise<void> {
    if (!rows.length) return;
    const params: unknown[] = [];
    const tuples = rows.map((r) => {
      const ph = ROW_COLUMNS.map((c) => {
        params.push(r[c]);
        return `$${params.length}`;
      });
      return `(${ph.join(',')})`;
    });
    const updates = ROW_COLUMNS.filter((c) => c !== 'sop_instance_uid')
      .map((c) => `"${c}" = excluded."${c}"`)
      .join(', ');
    await this.pool.query(
      `insert into vault_instance (${ROW_COLUMNS.map((c) => `"${c}"`).join(',')}) values ${tuples.join(',')}
       on conflict ("sop_instance_uid") do update set ${updates}, received_at = now(), upload_state = 'pending',
       upload_attempts = 0, next_upload_at = now(), uploaded_at = null, last_upload_error = null`,
      params,
    );
  }

  async forRetrieve(where: string, params: unknown[]): Promise<RetrieveRow[]> {
    const r = await this.pool.query<RetrieveRow>(
      `select sop_instance_uid, sop_class_uid, transfer_syntax_uid, deid_sop_instance_uid, deid_study_instance_uid,
              deid_series_instance_uid, sha256, identity, cache_ref
         from vault_instance v where ${where}
         order by study_instance_uid, series_instance_uid, nullif(regexp_replace(instance_number, '[^0-9]', '', 'g'), '')::bigint nulls last, sop_instance_uid`,
      params,
    );
    return r.rows;
  }

  async backlogCounts(): Promise<Record<string, number>> {
    const r = await this.pool.query<{ upload_state: string; n: string }>(
      'select upload_state, count(*) as n from vault_instance group by upload_state',
    );
    const out: Record<string, number> = { pending: 0, uploaded: 0, failed: 0 };
    for (const row of r.rows) out[row.upload_state] = Number(row.n);
    return out;
  }
}
