import { flushPromises } from '@vue/test-utils';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import AppShell from '../app/AppShell.vue';
import { graphqlServer, mountWithApp, testMe } from '../test-support/mount-with-app.js';
import type { StudiesVars, StudyRow } from './studies.documents.js';

const study = (n: number, over: Partial<StudyRow> = {}): StudyRow => ({
  id: `0190f000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  studyUid: `2.25.${n}`,
  modalities: ['CT'],
  studyDate: '20010101',
  description: `Study ${n}`,
  seriesCount: 2,
  instanceCount: 7,
  totalBytes: 2048,
  createdAt: '2026-11-25T10:00:00Z',
  access: 'OWNER',
  withIdentity: true,
  thumbnailUrl: `/dicomweb/studies/2.25.${n}/thumbnail`,
  patient: { name: 'Doe^Peter', patientId: '98890234', birthDate: null, sex: 'M' },
  ...over,
});

/** A studies server: two pages of mine, nothing shared; records what it was asked. */
function server() {
  const asked: StudiesVars[] = [];
  const s = graphqlServer({
    Version: { data: { version: '0.1.0' } },
    Me: { data: { me: testMe() } },
    Studies: (v: Record<string, unknown>) => {
      const vars = v as unknown as StudiesVars;
      asked.push(vars);
      const rows = vars.scope === 'SHARED' ? [] : vars.after ? [study(3)] : [study(1), study(2)];
      return {
        data: {
          studies: {
            edges: rows.map((node) => ({ cursor: node.id, node })),
            pageInfo: {
              hasNextPage: !vars.after && vars.scope === 'MINE',
              endCursor: rows.at(-1)?.id ?? null,
            },
          },
        },
      };
    },
  });
  return { ...s, asked };
}

describe('studies page', () => {
  beforeEach(() => localStorage.clear());

  it('lists my studies with patient, date, modality and thumbnail, and pages forward and back', async () => {
    const s = server();
    const wrapper = await mountWithApp(AppShell, { fetch: s.fetch, path: '/studies' });
    await flushPromises();
    const rows = wrapper.findAll('[data-testid="study-row"]');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.get('[data-testid="study-patient"]').text()).toBe('Doe Peter');
    expect(rows[0]!.get('[data-testid="study-date"]').text()).toBe('2001-01-01');
    expect(rows[0]!.get('[data-testid="study-thumbnail"]').attributes('src')).toBe(
      '/dicomweb/studies/2.25.1/thumbnail',
    );
    expect(rows[0]!.get('[data-testid="study-open"]').attributes('href')).toBe(`/studies/${study(1).id}`);
    expect(s.asked[0]).toMatchObject({
      scope: 'MINE',
      sort: 'CREATED_DESC',
      first: 25,
      after: null,
      filter: null,
    });

    await wrapper.get('[data-testid="page-next"]').trigger('click');
    await flushPromises();
    expect(s.asked.at(-1)!.after).toBe(study(2).id);
    expect(wrapper.findAll('[data-testid="study-row"]')).toHaveLength(1);
    expect(wrapper.get('[data-testid="page-number"]').text()).toBe('Page 2');
    expect(wrapper.get('[data-testid="page-next"]').attributes('disabled')).toBeDefined();

    await wrapper.get('[data-testid="page-previous"]').trigger('click');
    await flushPromises();
    expect(s.asked.at(-1)!.after).toBeNull();
    expect(wrapper.findAll('[data-testid="study-row"]')).toHaveLength(2);

    // A click anywhere on the row opens the study.
    await wrapper.findAll('[data-testid="study-row"]')[1]!.trigger('click');
    await vi.waitUntil(async () => {
      await flushPromises();
      return wrapper.vm.$route.name === 'study';
    }, 10_000);
    expect(wrapper.vm.$route.fullPath).toBe(`/studies/${study(2).id}`);
  });

  it('sends the search fields as the filter, sorts by study date both ways and starts again at page 1', async () => {
    const s = server();
    const wrapper = await mountWithApp(AppShell, { fetch: s.fetch, path: '/studies' });
    await flushPromises();
    await wrapper.get('[data-testid="page-next"]').trigger('click');
    await flushPromises();
    await wrapper.get('[data-testid="search-patient-name"]').setValue('  doe ');
    await wrapper.get('[data-testid="search-date-from"]').setValue('2001-01-01');
    await wrapper.get('[data-testid="search-modality"]').setValue('CT');
    await wrapper.get('[data-testid="studies-search"]').trigger('submit');
    await flushPromises();
    expect(s.asked.at(-1)).toMatchObject({
      filter: { patientName: 'doe', dateFrom: '2001-01-01', modality: 'CT' },
      after: null,
    });
    await wrapper.get('[data-testid="sort-study-date"]').trigger('click');
    await flushPromises();
    expect(s.asked.at(-1)!.sort).toBe('STUDY_DATE_DESC');
    await wrapper.get('[data-testid="sort-study-date"]').trigger('click');
    await flushPromises();
    expect(s.asked.at(-1)!.sort).toBe('STUDY_DATE_ASC');
    expect(wrapper.findAll('th')[2]!.attributes('aria-sort')).toBe('ascending');
    await wrapper.get('[data-testid="search-clear"]').trigger('click');
    await flushPromises();
    expect(s.asked.at(-1)!.filter).toBeNull();
  });

  it('"Shared with me" asks for shared studies and says when there are none, in Ukrainian too', async () => {
    const s = server();
    const wrapper = await mountWithApp(AppShell, { fetch: s.fetch, path: '/shared', locale: 'uk' });
    await flushPromises();
    expect(s.asked.at(-1)!.scope).toBe('SHARED');
    expect(wrapper.get('[data-testid="tab-shared"]').attributes('aria-selected')).toBe('true');
    expect(wrapper.get('[data-testid="studies-empty"]').text()).toBe('Вам ще не надали жодного дослідження.');
  });

  it('a study without a renderable thumbnail shows its modality instead', async () => {
    const s = graphqlServer({
      Version: { data: { version: '0.1.0' } },
      Me: { data: { me: testMe() } },
      Studies: {
        data: {
          studies: {
            edges: [
              { cursor: 'c', node: study(9, { modalities: ['US'], patient: null, withIdentity: false }) },
            ],
            pageInfo: { hasNextPage: false, endCursor: 'c' },
          },
        },
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: s.fetch, path: '/studies' });
    await flushPromises();
    await wrapper.get('[data-testid="study-thumbnail"]').trigger('error');
    expect(wrapper.get('[data-testid="study-thumbnail-fallback"]').text()).toBe('US');
    expect(wrapper.get('[data-testid="study-patient"]').text()).toBe('De-identified');
  });
});
