import { flushPromises } from '@vue/test-utils';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import AppShell from '../app/AppShell.vue';
import { graphqlServer, mountWithApp, testMe } from '../test-support/mount-with-app.js';
import type { AccessEntry, ShareRow } from './sharing.documents.js';

const STUDY = '0190f000-0000-7000-8000-000000000001';
const TOKEN = 'A'.repeat(43);

function server() {
  const shares: ShareRow[] = [];
  const access: AccessEntry[] = [
    {
      userId: 'u-1',
      name: 'Test Doctor',
      facility: 'test-clinic',
      via: 'owner',
      withIdentity: true,
      shareId: null,
      since: '2026-11-25T10:00:00Z',
    },
  ];
  const share = (over: Partial<ShareRow>): ShareRow => ({
    id: `s-${shares.length + 1}`,
    kind: 'link',
    withIdentity: false,
    createdAt: '2026-11-25T10:00:00Z',
    granteeUserId: null,
    expiresAt: '2099-01-01T00:00:00Z',
    maxUses: null,
    uses: 0,
    revokedAt: null,
    ...over,
  });
  return graphqlServer({
    Version: { data: { version: '0.1.0' } },
    Me: { data: { me: testMe() } },
    Study: {
      data: {
        study: {
          id: STUDY,
          studyUid: '2.25.1',
          modalities: ['CT'],
          studyDate: '20010101',
          description: 'Chest',
          seriesCount: 1,
          instanceCount: 1,
          totalBytes: 100,
          createdAt: '2026-11-25T10:00:00Z',
          access: 'OWNER',
          withIdentity: true,
          hasIdentity: true,
          thumbnailUrl: null,
          patient: { name: 'Doe^Peter', patientId: 'P1', birthDate: '19700101', sex: 'M' },
          series: [],
        },
      },
    },
    Sharing: () => ({
      data: {
        studyAccess: access,
        studyShares: shares,
        studyAccessLog: { edges: [], pageInfo: { hasNextPage: false } },
      },
    }),
    Doctors: (v: Record<string, unknown>) => ({
      data: {
        doctors: String(v.search).toLowerCase().startsWith('boh')
          ? [{ id: 'u-2', name: 'Bohdan Reader', facility: 'Lviv' }]
          : [],
      },
    }),
    ShareStudy: (v: Record<string, unknown>) => {
      const s = share({
        kind: 'user',
        granteeUserId: String(v.userId),
        withIdentity: Boolean(v.withIdentity),
        uses: 1,
      });
      shares.unshift(s);
      access.push({ ...access[0]!, userId: 'u-2', name: 'Bohdan Reader', via: 'user', shareId: s.id });
      return { data: { shareStudy: s } };
    },
    CreatePatientLink: (v: Record<string, unknown>) => {
      const s = share({
        kind: 'patient',
        withIdentity: Boolean(v.withIdentity),
        maxUses: v.maxUses as number,
      });
      shares.unshift(s);
      return {
        data: { createPatientLink: { share: s, token: TOKEN, url: `https://medgrid.example/s/${TOKEN}` } },
      };
    },
    RevokeShare: (v: Record<string, unknown>) => {
      const s = shares.find((x) => x.id === v.shareId)!;
      s.revokedAt = '2026-11-25T11:00:00Z';
      return { data: { revokeShare: true } };
    },
  });
}

/** Opens the study page and waits for the lazily loaded sharing panel to have its data. */
async function openStudy(fetch: typeof globalThis.fetch) {
  const wrapper = await mountWithApp(AppShell, { fetch, path: `/studies/${STUDY}` });
  await vi.waitUntil(async () => {
    await flushPromises();
    return wrapper.find('[data-testid="access-row"]').exists();
  }, 10_000);
  return wrapper;
}

describe('sharing panel on the study page', () => {
  beforeEach(() => localStorage.clear());

  it('finds a doctor by name and shares the study with them, with identity', async () => {
    const s = server();
    const wrapper = await openStudy(s.fetch);
    expect(wrapper.get('[data-testid="study-patient-name"]').text()).toContain('Doe Peter');
    expect(wrapper.get('[data-testid="share-doctor-submit"]').attributes('disabled')).toBeDefined();
    await wrapper.get('[data-testid="share-doctor-search"]').setValue('Boh');
    await flushPromises();
    // Keyboard: the down arrow goes from the search box to the first doctor found.
    await wrapper.get('[data-testid="share-doctor-search"]').trigger('keydown', { key: 'ArrowDown' });
    expect((document.activeElement as HTMLElement).dataset.name).toBe('Bohdan Reader');
    await wrapper.get('[data-testid="share-doctor-option"]').trigger('click');
    await wrapper.get('[data-testid="share-doctor-identity"]').setValue(true);
    await wrapper.get('[data-testid="share-doctor-form"]').trigger('submit');
    await flushPromises();
    expect(s.requests.find((r) => r.body.operationName === 'ShareStudy')?.body.variables).toEqual({
      studyId: STUDY,
      userId: 'u-2',
      withIdentity: true,
    });
    expect(wrapper.get('[data-testid="sharing-message"]').text()).toBe('Shared with Bohdan Reader.');
    expect(wrapper.findAll('[data-testid="access-row"]').map((r) => r.attributes('data-name'))).toEqual([
      'Test Doctor',
      'Bohdan Reader',
    ]);
  });

  it('creates a patient link with a use limit, shows it once with a QR code, and revokes it', async () => {
    const s = server();
    const wrapper = await openStudy(s.fetch);
    await wrapper.get('[data-testid="link-kind-patient"]').setValue(true);
    await wrapper.get('[data-testid="link-expiry"]').setValue('30');
    await wrapper.get('[data-testid="link-max-uses"]').setValue('2');
    await wrapper.get('[data-testid="link-identity"]').setValue(true);
    await wrapper.get('[data-testid="share-link-form"]').trigger('submit');
    await flushPromises();
    expect(s.requests.find((r) => r.body.operationName === 'CreatePatientLink')?.body.variables).toEqual({
      studyId: STUDY,
      withIdentity: true,
      maxUses: 2,
      expiresInDays: 30,
    });
    expect((wrapper.get('[data-testid="created-link-url"]').element as HTMLInputElement).value).toBe(
      `https://medgrid.example/s/${TOKEN}`,
    );
    expect(wrapper.get('[data-testid="share-qr"]').find('svg').exists()).toBe(true);
    const row = wrapper.get('[data-testid="share-row"]');
    expect(row.attributes('data-state')).toBe('active');
    expect(row.text()).toContain('0 / 2');

    await row.get('[data-testid="share-revoke"]').trigger('click');
    await flushPromises();
    expect(wrapper.get('[data-testid="share-row"]').attributes('data-state')).toBe('revoked');
    expect(wrapper.find('[data-testid="created-link"]').exists()).toBe(false);
  });

  it('refuses a use limit that is not a whole number without asking the server', async () => {
    const s = server();
    const wrapper = await openStudy(s.fetch);
    await wrapper.get('[data-testid="link-max-uses"]').setValue('0');
    await wrapper.get('[data-testid="share-link-form"]').trigger('submit');
    await flushPromises();
    expect(wrapper.get('[data-testid="sharing-error"]').text()).toMatch(/whole number/);
    expect(s.requests.some((r) => r.body.operationName === 'CreateShareLink')).toBe(false);
  });
});
