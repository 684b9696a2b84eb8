import { flushPromises } from '@vue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import AppShell from '../app/AppShell.vue';
import { graphqlServer, mountWithApp, testMe } from '../test-support/mount-with-app.js';

const admin = testMe({ roles: [{ groupPath: '/medgrid', role: 'VO_ADMIN' }] });
const base = { Version: { data: { version: '0.1.0' } }, Me: { data: { me: admin } } };
const se = (name: string, status: string, objects: number, objectBytes: number) => ({
  name,
  url: `file:///srv/${name}`,
  status,
  weight: 1,
  quotaBytes: null,
  usedBytes: objectBytes,
  objects,
  objectBytes,
  problemReplicas: 0,
});
const days = (today: number) => [
  { day: '2026-11-23', objects: 0, bytes: 0 },
  { day: '2026-11-24', objects: 1, bytes: 1024 },
  { day: '2026-11-25', objects: 3, bytes: today },
];
const overview = (status = 'UP') => ({
  data: {
    storageElements: [se('local', status, 3, 3 * 1024 * 1024), se('remote', 'UP', 1, 2048)],
    ingestPerDay: days(3 * 1024 * 1024),
    replicationHealth: {
      objects: 4,
      healthy: 3,
      underReplicated: 1,
      withoutCopy: 0,
      replicasByState: [{ state: 'ok', count: 4 }],
      worst: [{ objectId: 'ab'.repeat(32), copies: 2, good: 1 }],
    },
  },
});

describe('storage pages', () => {
  beforeEach(() => localStorage.clear());

  it('shows SEs, both charts drawn from the data, replication health; disabling reloads and says so', async () => {
    let disabled = false;
    const server = graphqlServer({
      ...base,
      StorageOverview: () => overview(disabled ? 'DOWN' : 'UP'),
      SetStorageElementStatus: () => {
        disabled = true;
        return { data: { setStorageElementStatus: se('local', 'DOWN', 3, 3 * 1024 * 1024) } };
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/storage' });
    const row = () => wrapper.get('[data-testid="se-row"][data-se="local"]');
    expect(row().get('[data-testid="se-status"]').text()).toBe('enabled');
    expect(row().get('[data-testid="se-objects"]').text()).toBe('3');
    expect(row().get('[data-testid="se-bytes"]').text()).toBe('3 MiB');

    const ingest = wrapper.get('[data-testid="chart-ingest"]');
    const bars = ingest.findAll('[data-testid="chart-bar"]');
    expect(bars.map((b) => b.attributes('data-label'))).toEqual(['11-23', '11-24', '11-25']);
    const height = (i: number) => Number(bars[i]!.attributes('height'));
    expect(height(0)).toBe(0);
    expect(height(2)).toBeGreaterThan(height(1));
    expect(ingest.get('svg').attributes('role')).toBe('img');
    expect(ingest.get('svg').attributes('aria-label')).toBe(
      'Ingest per day (last 14 days, UTC): 3 bars, highest 11-25 (3 MiB (3 objects)).',
    );
    expect(ingest.get('[data-testid="chart-ingest-table"]').text()).toContain('11-24');
    const perSe = wrapper.get('[data-testid="chart-per-se"]').findAll('[data-testid="chart-bar"]');
    expect(perSe.map((b) => [b.attributes('data-label'), b.attributes('data-value')])).toEqual([
      ['local', String(3 * 1024 * 1024)],
      ['remote', '2048'],
    ]);
    expect(wrapper.get('[data-testid="health-under"]').text()).toBe('1');

    await row().get('[data-testid="se-disable"]').trigger('click');
    await flushPromises();
    const vars = server.requests.find((r) => r.body.operationName === 'SetStorageElementStatus')?.body
      .variables;
    expect(vars).toEqual({ name: 'local', action: 'DISABLE' });
    expect(wrapper.get('[data-testid="storage-message"]').text()).toBe('local is disabled.');
    expect(row().get('[data-testid="se-status"]').text()).toBe('disabled');
    expect(row().find('[data-testid="se-enable"]').exists()).toBe(true);
  });

  it('draining asks first; cancel sends nothing; a refusal is shown', async () => {
    const server = graphqlServer({
      ...base,
      StorageOverview: overview(),
      SetStorageElementStatus: {
        errors: [{ message: 'your roles do not allow this', extensions: { code: 'FORBIDDEN' } }],
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/storage' });
    const row = () => wrapper.get('[data-testid="se-row"][data-se="remote"]');
    await row().get('[data-testid="se-drain"]').trigger('click');
    expect(row().text()).toContain('Move all 1 copies off remote');
    await row().get('button:not(.danger)').trigger('click');
    expect(server.requests.some((r) => r.body.operationName === 'SetStorageElementStatus')).toBe(false);
    await row().get('[data-testid="se-drain"]').trigger('click');
    expect(document.activeElement?.getAttribute('data-testid')).toBe('se-drain-confirm');
    await row().get('[data-testid="se-drain-confirm"]').trigger('click');
    await flushPromises();
    expect(
      server.requests.find((r) => r.body.operationName === 'SetStorageElementStatus')?.body.variables,
    ).toEqual({
      name: 'remote',
      action: 'DRAIN',
    });
    expect(wrapper.get('[data-testid="api-error"]').text()).toContain('your roles do not allow this');
  });

  it('an empty chart says there is no data, in Ukrainian too', async () => {
    const empty = overview();
    empty.data.ingestPerDay = days(0).map((d) => ({ ...d, objects: 0, bytes: 0 }));
    const server = graphqlServer({ ...base, StorageOverview: empty });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/storage', locale: 'uk' });
    const ingest = wrapper.get('[data-testid="chart-ingest"]');
    expect(ingest.text()).toContain('Даних ще немає');
    expect(ingest.text()).toContain('Надходження за день');
    expect(ingest.findAll('[data-testid="chart-bar"]').every((b) => b.attributes('height') === '0')).toBe(
      true,
    );
    expect(wrapper.get('[data-testid="se-status"]').text()).toBe('увімкнено');
  });

  it('the job queue lists failed jobs with their error and retries one', async () => {
    const failed = {
      id: '0b6f1c1e-1111-4c4c-8888-123456789abc',
      kind: 'store',
      state: 'FAILED',
      subject: 'cd'.repeat(32),
      retryCount: 0,
      retryLimit: 0,
      reason: 'SE broken: 1 of 2 copies stored; connection refused',
      createdOn: '2026-11-25T10:00:00Z',
      completedOn: '2026-11-25T10:00:01Z',
    };
    let retried = false;
    const server = graphqlServer({
      ...base,
      StorageJobs: () => ({
        data: {
          pending: retried ? [{ ...failed, state: 'RETRY', reason: '' }] : [],
          failed: retried ? [] : [failed],
          storageJobCounts: [{ kind: 'store', state: retried ? 'RETRY' : 'FAILED', count: 1 }],
        },
      }),
      RetryStorageJob: () => {
        retried = true;
        return { data: { retryStorageJob: { ...failed, state: 'RETRY' } } };
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/storage/jobs' });
    const row = wrapper.get(`[data-testid="failed-job"][data-job-id="${failed.id}"]`);
    expect(row.get('[data-testid="job-reason"]').text()).toBe(failed.reason);
    expect(wrapper.find('[data-testid="pending-empty"]').exists()).toBe(true);
    await row.get('[data-testid="job-retry"]').trigger('click');
    await flushPromises();
    expect(server.requests.find((r) => r.body.operationName === 'RetryStorageJob')?.body.variables).toEqual({
      id: failed.id,
    });
    expect(wrapper.get('[data-testid="jobs-message"]').text()).toBe(
      'The store job 0b6f1c1e is queued again.',
    );
    expect(wrapper.find('[data-testid="failed-empty"]').exists()).toBe(true);
    expect(wrapper.get('[data-testid="pending-job"]').text()).toContain('waiting to retry');
  });

  it('scan reports show dark and missing files; a scan can be started', async () => {
    const server = graphqlServer({
      ...base,
      ScanReports: {
        data: {
          scanReports: [
            {
              jobId: 'j1',
              se: 'local',
              finishedAt: '2026-11-25T11:00:00Z',
              listed: 10,
              dark: 1,
              missing: 2,
              quarantined: 0,
              repairQueued: 0,
              darkSample: ['objects/ff/ff/ffff'],
              missingSample: ['aa'.repeat(32), 'bb'.repeat(32)],
            },
          ],
          storageElements: [{ name: 'local' }, { name: 'remote' }],
        },
      },
      StartConsistencyScan: { data: { startConsistencyScan: 'j2' } },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/storage/scans' });
    const rep = wrapper.get('[data-testid="scan-report"][data-se="local"]');
    expect(rep.get('[data-testid="scan-dark"]').text()).toContain('objects/ff/ff/ffff');
    expect(rep.get('[data-testid="scan-missing"]').findAll('li')).toHaveLength(2);
    await wrapper.get('[data-testid="scan-se"]').setValue('remote');
    await wrapper.get('[data-testid="scan-repair"]').setValue(true);
    await wrapper.get('[data-testid="scan-form"]').trigger('submit');
    await flushPromises();
    expect(
      server.requests.find((r) => r.body.operationName === 'StartConsistencyScan')?.body.variables,
    ).toEqual({
      se: 'remote',
      repair: true,
    });
    expect(wrapper.get('[data-testid="scans-message"]').text()).toBe('A scan of remote is queued.');
  });
});
