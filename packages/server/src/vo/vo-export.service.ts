import type { EntityManager } from '@mikro-orm/postgresql';
import { IssuedCertificate } from '../identity/certificates/issued-certificate.entity.js';
import { AupAcceptance, Membership } from './vo.entities.js';
import { effectiveStatus, type VoOptions, VoService } from './vo.service.js';

export interface GridAccount {
  subject: string;
  account: string;
}

/** Accounts of members who may act now: active membership, current AUP accepted, valid certificate. */
async function activeAccounts(em: EntityManager, opts: VoOptions): Promise<GridAccount[]> {
  const now = (opts.clock ?? (() => new Date()))();
  const vo = new VoService(em, opts);
  const aup = await vo.currentAup();
  const accepted = aup
    ? new Set((await em.find(AupAcceptance, { version: aup.version })).map((a) => a.userId))
    : null;
  const members = await em.find(Membership, { status: 'active' });
  const users = new Set(
    members
      .filter((m) => effectiveStatus(m, now, opts.graceDays) === 'active')
      .filter((m) => !accepted || accepted.has(m.userId))
      .map((m) => m.userId),
  );
  if (!users.size) return [];
  const certs = await em.find(
    IssuedCertificate,
    { userId: { $in: [...users] }, revokedAt: null, notAfter: { $gt: now }, notBefore: { $lte: now } },
    { orderBy: { subject: 'asc', id: 'asc' } },
  );
  const seen = new Set<string>();
  const out: GridAccount[] = [];
  for (const c of certs) {
    if (seen.has(c.subject)) continue;
    seen.add(c.subject);
    out.push({ subject: c.subject, account: `mg${c.userId.replace(/-/g, '').slice(-12)}` });
  }
  return out;
}

/** `"<DN>" <account>` lines, as read by XRootD/dCache gridmap authentication. */
export async function gridMapfile(em: EntityManager, opts: VoOptions): Promise<string> {
  const rows = await activeAccounts(em, opts);
  const q = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `# MedGrid VO grid-mapfile (${rows.length} entries)\n${rows.map((r) => `"${q(r.subject)}" ${r.account}\n`).join('')}`;
}

/** XRootD authorization database: each member account may read and list the VO namespace. */
export async function xrootdAuthdb(em: EntityManager, opts: VoOptions): Promise<string> {
  const rows = await activeAccounts(em, opts);
  return `# MedGrid VO XRootD authdb (${rows.length} accounts); use with the grid-mapfile\n${rows
    .map((r) => `u ${r.account} /medgrid rl\n`)
    .join('')}`;
}
