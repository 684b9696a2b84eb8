import { flushPromises } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import AppShell from '../app/AppShell.vue';
import { graphqlServer, mountWithApp, testMe } from '../test-support/mount-with-app.js';

const ID = '0190f000-0000-7000-8000-000000000005';
const instance = (n: number, storageState: string, replicas = 0) => ({
  id: `i-${n}`,
  sopInstanceUid: `2.25.5.${n}`,
  instanceNumber: n,
  transferSyntaxUid: n === 2 ? '1.2.840.10008.1.2.4.91' : '1.2.840.10008.1.2.1',
  rows: 512,
  columns: 512,
  numberOfFrames: null,
  size: 1000,
  storageState,
  replicas,
});

function server(grant: boolean) {
  return graphqlServer({
    Version: { data: { version: '0.1.0' } },
    Me: { data: { me: testMe() } },
    Study: {
      data: {
        study: {
          id: ID,
          studyUid: '2.25.5',
          modalities: ['CT'],
          studyDate: '20010101',
          description: 'Chest CT',
          seriesCount: 1,
          instanceCount: 2,
          totalBytes: 2000,
          createdAt: '2026-11-25T10:00:00Z',
          access: grant ? 'GRANT' : 'OWNER',
          withIdentity: !grant,
          hasIdentity: true,
          thumbnailUrl: '/dicomweb/studies/2.25.5/thumbnail',
          patient: grant ? null : { name: 'Doe^Jane', patientId: 'P5', birthDate: '19800101', sex: 'F' },
          series: [
            {
              id: 'se-1',
              seriesUid: '2.25.5.1',
              modality: 'CT',
              seriesNumber: 1,
              description: 'Axial',
              instanceCount: 2,
              totalBytes: 2000,
              instances: [instance(1, 'stored', 1), instance(2, 'queued')],
            },
          ],
        },
      },
    },
    StudyStorage: {
      data: {
        study: {
          id: ID,
          series: [{ id: 'se-1', instances: [instance(1, 'stored', 1), instance(2, 'stored', 1)] }],
        },
      },
    },
    Sharing: {
      data: {
        studyAccess: [],
        studyShares: [],
        studyAccessLog: { edges: [], pageInfo: { hasNextPage: false } },
      },
    },
  });
}

describe('study page', () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => vi.useRealTimers());

  it('shows the owner the patient, series, instances, viewer and download links, and follows the storage state', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = server(false);
    const wrapper = await mountWithApp(AppShell, { fetch: s.fetch, path: `/studies/${ID}` });
    await flushPromises();
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Chest CT');
    expect(wrapper.get('[data-testid="study-patient-name"]').text()).toContain('Doe Jane');
    expect(wrapper.get('[data-testid="study-view"]').attributes('href')).toBe('/studies/2.25.5/view');
    expect(wrapper.get('[data-testid="study-download"]').attributes('href')).toBe(
      '/dicomweb/studies/2.25.5/original.zip',
    );
    expect(wrapper.get('[data-testid="study-storage"]').text()).toBe('being stored: 1stored on the grid: 1');
    await wrapper.get('[data-testid="series-toggle"]').trigger('click');
    const rows = wrapper.findAll('[data-testid="instance-row"]');
    expect(rows.map((r) => r.findAll('td').map((c) => c.text()))).toEqual([
      ['1', '512×512', 'Explicit VR LE', '1000 B', 'stored on the grid (1 replica)'],
      ['2', '512×512', 'JPEG 2000', '1000 B', 'being stored'],
    ]);

    await vi.advanceTimersByTimeAsync(5000);
    await flushPromises();
    expect(s.requests.filter((r) => r.body.operationName === 'StudyStorage')).toHaveLength(1);
    expect(wrapper.get('[data-testid="study-storage"]').text()).toBe('stored on the grid: 2');
    // Everything stored: no more polling.
    await vi.advanceTimersByTimeAsync(20_000);
    expect(s.requests.filter((r) => r.body.operationName === 'StudyStorage')).toHaveLength(1);
  });

  it('a grantee without identity sees no patient, no download and no sharing panel', async () => {
    const wrapper = await mountWithApp(AppShell, { fetch: server(true).fetch, path: `/studies/${ID}` });
    await flushPromises();
    expect(wrapper.get('[data-testid="study-deidentified"]').text()).toMatch(
      /does not include the patient identity/,
    );
    expect(wrapper.find('[data-testid="study-download"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="sharing-panel"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="study-shared-note"]').text()).toMatch(/Only its owner/);
    expect(wrapper.get('[data-testid="study-back"]').attributes('href')).toBe('/shared');
  });
});
