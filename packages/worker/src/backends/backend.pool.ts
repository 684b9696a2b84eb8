import type { StorageBackend } from './backend.types.js';
import type { SeCredentials } from './credentials.util.js';
import { openBackend } from './open.backend.js';

export interface SeRef {
  id: number;
  name: string;
  url: string;
  credentials?: SeCredentials | null;
}

/** Open backends per SE, reused across jobs so keep-alive connections are shared; reopened when the URL or
 * credentials change. */
export class BackendPool {
  private readonly open = new Map<number, { key: string; backend: StorageBackend }>();

  constructor(
    private readonly defaults: SeCredentials = {},
    private readonly maxSockets = 16,
  ) {}

  get(se: SeRef): StorageBackend {
    const creds = { ...this.defaults, ...(se.credentials ?? {}) };
    const key = JSON.stringify([se.name, se.url, creds]);
    const cur = this.open.get(se.id);
    if (cur && cur.key === key) return cur.backend;
    void cur?.backend.close();
    const backend = openBackend(se.url, creds, { name: se.name, maxSockets: this.maxSockets });
    this.open.set(se.id, { key, backend });
    return backend;
  }

  async close(): Promise<void> {
    for (const { backend } of this.open.values()) await backend.close();
    this.open.clear();
  }
}
