import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bulkDataAt, parseDicom, restore, toDicomJson } from '@medgrid/dicom';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Actor, AuditService } from '../audit/audit.service.js';
import { type AuthService, actorOf } from '../auth/auth.service.js';
import type { Principal } from '../auth/principal.js';
import { sha256Hex } from '../crypto/envelope.js';
import { IngestService, type InstanceOutcome } from '../studies/ingest.service.js';
import type { StudiesRuntime } from '../studies/studies.runtime.js';
import type { Instance, Series, Study } from '../studies/study.entities.js';
import { type StudyAccess, StudyService } from '../studies/study.service.js';
import { framesOf } from './frames.js';
import { boundaryOf, buildMultipart, parseMultipart, typeParamOf } from './multipart.js';
import { PartStore, type SpooledPart, spoolMultipart } from './multipart-stream.js';
import { renderThumbnail } from './render.js';
import { readZip, ZipWriter } from './zip.js';

type Json = Record<string, { vr: string; Value?: unknown[] }>;

const el = (vr: string, ...values: unknown[]) =>
  values.length && values.every((v) => v !== null && v !== undefined && v !== '')
    ? { vr, Value: values }
    : { vr };

/** DS as DICOM JSON numbers (PS3.18 F.2.3). */
const dsValues = (s?: string | null): number[] => (s ? s.split('\\').map(Number) : []);

interface Deps {
  orm: MikroORM;
  auth: AuthService;
  studies: StudiesRuntime;
}

/**
 * DICOMweb under /dicomweb: STOW-RS, QIDO-RS (studies, series, instances) and WADO-RS (study, series,
 * instance, metadata). The route rule (`member`) admits VO members; each handler then checks study access:
 * owner or an active grant. Access carrying identity retrieves originals (restored, SHA-256 checked).
 */
export async function registerDicomweb(app: FastifyInstance, deps: Deps): Promise<void> {
  await app.register(async (scope) => {
    // STOW-RS bodies go to disk part by part (sealed), so memory stays bounded whatever the request size.
    const partStore = new PartStore(path.join(deps.studies.spoolDir, '.incoming'));
    scope.addHook('onClose', async () => partStore.close());
    scope.addContentTypeParser(
      /^multipart\/related/i,
      async (req: FastifyRequest, payload: AsyncIterable<Buffer>) => {
        const boundary = boundaryOf(req.headers['content-type']);
        const type = typeParamOf(req.headers['content-type']);
        if (!boundary || (type && type !== 'application/dicom')) return { unsupported: true };
        return {
          spooled: await spoolMultipart(
            payload,
            boundary,
            partStore,
            deps.studies.maxUploadBytes,
            deps.studies.stowMemoryBytes,
          ),
        };
      },
    );
    scope.addContentTypeParser(
      /^application\/(zip|x-zip-compressed)$/i,
      { parseAs: 'buffer', bodyLimit: deps.studies.maxUploadBytes },
      (_req, body, done) => done(null, body),
    );
    scope.addContentTypeParser(
      /^application\/dicom$/i,
      { parseAs: 'buffer', bodyLimit: deps.studies.maxUploadBytes },
      (_req, body, done) => done(null, body),
    );

    const ctxOf = async (req: FastifyRequest) => {
      const state = await deps.auth.authenticate(req);
      const principal = state.principal as Principal; // the route rule has admitted a member
      const em = deps.orm.em.fork();
      return {
        principal,
        actor: actorOf(state, req.ip ?? null),
        em,
        studies: new StudyService(em, deps.studies),
      };
    };

    const stow = async (req: FastifyRequest<{ Params: { study?: string } }>, reply: FastifyReply) => {
      const c = await ctxOf(req);
      if (!c.principal.roles.some((r) => r.role === 'doctor' || r.role === 'gateway')) {
        return reply
          .code(403)
          .send({ error: 'uploading needs the doctor or gateway role', code: 'FORBIDDEN' });
      }
      const ct = req.headers['content-type'];
      // Each instance is read only when its turn comes: a multipart body waits on disk as sealed parts.
      let bodies: (() => Promise<Buffer>)[];
      let spooled: SpooledPart[] = [];
      if (/^application\/dicom$/i.test(ct ?? '')) bodies = [async () => req.body as Buffer];
      else if (/^application\/(zip|x-zip-compressed)$/i.test(ct ?? '')) {
        // ZIP upload: every file of the archive is an instance (DICOMDIR and non-DICOM files get a failure).
        try {
          bodies = readZip(req.body as Buffer).map((e) => async () => e.data);
        } catch (err) {
          return reply.code(400).send({ error: (err as Error).message });
        }
      } else {
        const body = req.body as { unsupported?: true; spooled?: SpooledPart[] } | undefined;
        if (!body?.spooled)
          return reply.code(415).send({ error: 'expected multipart/related; type="application/dicom"' });
        spooled = body.spooled;
        bodies = spooled
          .filter((p) => !p.contentType || /^application\/dicom/i.test(p.contentType))
          .map((p) => () => partStore.read(p));
      }
      const ingest = new IngestService(c.em, deps.studies);
      const gateway = c.principal.kind === 'service' && c.principal.roles.some((r) => r.role === 'gateway');
      const outcomes: InstanceOutcome[] = [];
      try {
        for (const read of bodies) {
          let o = await ingest.ingest(c.actor, c.principal.userId, await read(), { gateway });
          if (o.ok && req.params.study && o.studyUid !== req.params.study && o.sentSopInstanceUid) {
            // STOW to a given study: the instance must belong to it (compared on the de-identified UID).
            o = {
              ok: false,
              status: 0xa900,
              reason: 'instance is not in the target study',
              sopClassUid: o.sopClassUid,
            };
          }
          outcomes.push(o);
        }
      } finally {
        await partStore.remove(spooled);
      }
      const ok = outcomes.filter((o) => o.ok);
      const failed = outcomes.filter((o) => !o.ok);
      const base = `${deps.studies.publicUrl}/dicomweb/studies`;
      const body: Json = {};
      const studyUids = [...new Set(ok.map((o) => o.studyUid))];
      if (studyUids.length === 1) body['00081190'] = el('UR', `${base}/${studyUids[0]}`);
      if (failed.length) {
        body['00081198'] = {
          vr: 'SQ',
          Value: failed.map((o) => ({
            '00081150': el('UI', o.sopClassUid),
            '00081155': el('UI', o.sentSopInstanceUid),
            '00081197': el('US', o.status),
            '00090010': el('LO', 'MEDGRID'),
            '00091001': el('LT', o.reason),
          })),
        };
      }
      if (ok.length) {
        body['00081199'] = {
          vr: 'SQ',
          Value: ok.map((o) => ({
            '00081150': el('UI', o.sopClassUid),
            '00081155': el('UI', o.sentSopInstanceUid),
            '00081190': el('UR', `${base}/${o.studyUid}/series/${o.seriesUid}/instances/${o.sopInstanceUid}`),
            // De-identification changed attributes: Warning Reason "coercion of data elements" (PS3.18), and
            // what it did as MedGrid private JSON (the upload page shows it with any burned-in-text warning).
            ...(o.deid && !o.deid.alreadyDeidentified ? { '00081196': el('US', 0xb000) } : {}),
            ...(o.deid
              ? { '00090010': el('LO', 'MEDGRID'), '00091002': el('LT', JSON.stringify(o.deid)) }
              : {}),
          })),
        };
      }
      const status = bodies.length === 0 ? 400 : failed.length === 0 ? 200 : ok.length ? 202 : 409;
      if (
        /application\/dicom\+xml/i.test(req.headers.accept ?? '') &&
        !/application\/dicom\+json/i.test(req.headers.accept ?? '')
      ) {
        return reply.code(status).type('application/dicom+xml').send(nativeXml(body));
      }
      return reply.code(status).type('application/dicom+json').send(JSON.stringify(body));
    };
    scope.post('/dicomweb/studies', stow);
    scope.post('/dicomweb/studies/:study', stow);

    // ---- QIDO-RS ----
    scope.get('/dicomweb/studies', async (req, reply) => {
      const c = await ctxOf(req);
      const q = req.query as Record<string, string | undefined>;
      const get = (k: string, tag: string) => q[k] ?? q[tag];
      const [from, to] = rangeOf(get('StudyDate', '00080020'));
      const uids = get('StudyInstanceUID', '0020000D');
      const limit = Math.min(Number.parseInt(q.limit ?? '100', 10) || 100, 1000);
      const offset = Math.max(Number.parseInt(q.offset ?? '0', 10) || 0, 0);
      const page = await c.studies.list(
        c.principal.userId,
        {
          scope: 'all',
          ...(uids ? { studyUids: uids.split(/[,\\]/).filter(Boolean) } : {}),
          modality: get('ModalitiesInStudy', '00080061'),
          dateFrom: from,
          dateTo: to,
          description: stripWild(get('StudyDescription', '00081030')),
          patientName: stripWild(get('PatientName', '00100010')),
          patientId: stripWild(get('PatientID', '00100020')),
          offset,
        },
        limit,
      );
      return qidoReply(
        reply,
        page.items.map(({ study }) => studyJson(deps, study)),
      );
    });

    const withStudy = async (
      req: FastifyRequest,
      reply: FastifyReply,
      studyUid: string,
    ): Promise<{ c: Awaited<ReturnType<typeof ctxOf>>; a: StudyAccess } | null> => {
      const c = await ctxOf(req);
      const a = await c.studies.accessByUid(c.principal.userId, studyUid);
      if (!a) {
        reply.code(404).send({ error: 'study not found or not accessible' });
        return null;
      }
      return { c, a };
    };

    /**
     * One instance's object as this access may see it (`original: false` forces the de-identified one), or null
     * once the refusal is sent: 404 no study access or no such instance, 503 not readable yet.
     */
    const withObject = async (
      req: FastifyRequest,
      reply: FastifyReply,
      uids: { study: string; series: string; sop: string },
      original = true,
    ) => {
      const r = await withStudy(req, reply, uids.study);
      if (!r) return null;
      const [inst] = await r.c.studies.instances(r.a.study.id, {
        seriesUid: uids.series,
        sopInstanceUid: uids.sop,
      });
      if (!inst) {
        reply.code(404).send({ error: 'no such instance' });
        return null;
      }
      const access = original ? r.a : { ...r.a, withIdentity: false };
      const out = await objectFor(r.c.studies, deps.studies, access, inst);
      if (!out) {
        reply.code(503).send({ error: 'object not available yet; retry later' });
        return null;
      }
      return { ...r, inst, out };
    };

    scope.get('/dicomweb/studies/:study/series', async (req, reply) => {
      const { study } = req.params as { study: string };
      const r = await withStudy(req, reply, study);
      if (!r) return reply;
      const series = await r.c.studies.series([r.a.study.id]);
      const q = req.query as Record<string, string | undefined>;
      const mod = q.Modality ?? q['00080060'];
      return qidoReply(
        reply,
        series.filter((s) => !mod || s.modality === mod).map((s) => seriesJson(deps, r.a.study, s)),
      );
    });

    const qidoInstances = async (
      req: FastifyRequest,
      reply: FastifyReply,
      studyUid: string,
      seriesUid?: string,
    ) => {
      const r = await withStudy(req, reply, studyUid);
      if (!r) return reply;
      const series = new Map((await r.c.studies.series([r.a.study.id])).map((s) => [s.id, s]));
      const q = req.query as Record<string, string | undefined>;
      const sop = q.SOPInstanceUID ?? q['00080018'];
      const rows = await r.c.studies.instances(r.a.study.id, {
        ...(seriesUid ? { seriesUid } : {}),
        ...(sop ? { sopInstanceUid: sop } : {}),
      });
      return qidoReply(
        reply,
        rows.map((i) => instanceJson(deps, r.a.study, series.get(i.seriesId)!, i)),
      );
    };
    scope.get('/dicomweb/studies/:study/instances', async (req, reply) => {
      const { study } = req.params as { study: string };
      return qidoInstances(req, reply, study);
    });
    scope.get('/dicomweb/studies/:study/series/:series/instances', async (req, reply) => {
      const { study, series } = req.params as { study: string; series: string };
      return qidoInstances(req, reply, study, series);
    });

    // ---- WADO-RS ----
    const retrieve = async (
      req: FastifyRequest,
      reply: FastifyReply,
      p: { study: string; series?: string; sop?: string },
      metadata: boolean,
    ) => {
      const r = await withStudy(req, reply, p.study);
      if (!r) return reply;
      const instances = await r.c.studies.instances(r.a.study.id, {
        ...(p.series ? { seriesUid: p.series } : {}),
        ...(p.sop ? { sopInstanceUid: p.sop } : {}),
      });
      if (!instances.length) return reply.code(404).send({ error: 'no such instance' });
      const series = metadata
        ? new Map((await r.c.studies.series([r.a.study.id])).map((s) => [s.id, s]))
        : null;
      const bodies: Buffer[] = [];
      const json: Json[] = [];
      let originals = 0;
      for (const inst of instances) {
        const out = await objectFor(r.c.studies, deps.studies, r.a, inst);
        if (!out) return reply.code(503).send({ error: 'object not available yet; retry later' });
        if (out.original) originals++;
        if (!series) {
          bodies.push(out.bytes);
          continue;
        }
        // The whole dataset of the object this grant may see (original or de-identified), binary values by
        // BulkDataURI; the stored UIDs address it.
        const se = series.get(inst.seriesId)!;
        const base = `${deps.studies.publicUrl}/dicomweb/studies/${r.a.study.studyUid}/series/${se.seriesUid}/instances/${inst.sopInstanceUid}`;
        json.push({
          ...(toDicomJson(parseDicom(out.bytes), {
            bulkDataUri: (path) => `${base}/bulkdata/${path}`,
          }) as Json),
          '00081190': el('UR', base),
        });
      }
      audit(r.c.em, r.c.actor, r.a, instances.length, originals);
      await r.c.em.flush();
      if (metadata) return reply.type('application/dicom+json').send(JSON.stringify(json));
      const boundary = randomBytes(16).toString('hex');
      return reply
        .type(`multipart/related; type="application/dicom"; boundary=${boundary}`)
        .send(buildMultipart(boundary, 'application/dicom', bodies));
    };
    scope.get('/dicomweb/studies/:study', (req, reply) =>
      retrieve(req, reply, req.params as { study: string }, false),
    );
    scope.get('/dicomweb/studies/:study/series/:series', (req, reply) =>
      retrieve(req, reply, req.params as { study: string; series: string }, false),
    );
    scope.get('/dicomweb/studies/:study/series/:series/instances/:sop', (req, reply) =>
      retrieve(req, reply, req.params as { study: string; series: string; sop: string }, false),
    );
    // Frames (pixel data only, identical in the de-identified and the original object).
    scope.get('/dicomweb/studies/:study/series/:series/instances/:sop/frames/:frames', async (req, reply) => {
      const p = req.params as { study: string; series: string; sop: string; frames: string };
      const wanted = p.frames.split(',').map((f) => Number(f));
      const r = await withObject(req, reply, p, false);
      if (!r) return reply;
      const { inst, out } = r;
      let got: ReturnType<typeof framesOf>;
      try {
        got = framesOf(out.bytes, wanted);
      } catch {
        got = null;
      }
      if (!got) return reply.code(404).send({ error: 'no such frame' });
      audit(r.c.em, r.c.actor, r.a, 1, 0);
      await r.c.em.flush();
      const boundary = randomBytes(16).toString('hex');
      const type = got.encapsulated
        ? `application/octet-stream; transfer-syntax=${inst.transferSyntaxUid}`
        : 'application/octet-stream';
      return reply
        .type(`multipart/related; type="application/octet-stream"; boundary=${boundary}`)
        .send(buildMultipart(boundary, type, got.frames));
    });

    // Bulk data (PS3.18 §10.4.1.1.5): one binary value of an instance, as its metadata's BulkDataURI names it.
    scope.get('/dicomweb/studies/:study/series/:series/instances/:sop/bulkdata/*', async (req, reply) => {
      const p = req.params as { study: string; series: string; sop: string; '*': string };
      const r = await withObject(req, reply, p);
      if (!r) return reply;
      const { out } = r;
      let value: Buffer | undefined;
      try {
        value = bulkDataAt(parseDicom(out.bytes), p['*']);
      } catch {
        value = undefined;
      }
      if (!value) return reply.code(404).send({ error: 'no bulk data at that path' });
      audit(r.c.em, r.c.actor, r.a, 1, out.original ? 1 : 0);
      await r.c.em.flush();
      const boundary = randomBytes(16).toString('hex');
      return reply
        .type(`multipart/related; type="application/octet-stream"; boundary=${boundary}`)
        .send(buildMultipart(boundary, 'application/octet-stream', [value]));
    });

    // WADO-URI (PS3.18 §9): one whole Part 10 object, not multipart. The viewer's image loader (Cornerstone
    // wadouri) reads it with dicom-parser, which covers every transfer syntax and frame layout in the corpus.
    scope.get('/dicomweb/wado', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      if (q.requestType !== 'WADO' || !q.studyUID || !q.seriesUID || !q.objectUID) {
        return reply
          .code(400)
          .send({ error: 'WADO-URI needs requestType=WADO, studyUID, seriesUID and objectUID' });
      }
      const wanted = (q.contentType ?? 'application/dicom').split(',').map((t) => t.trim());
      if (!wanted.includes('application/dicom') && !wanted.includes('*/*')) {
        return reply.code(406).send({ error: 'only contentType=application/dicom is served' });
      }
      const r = await withObject(req, reply, { study: q.studyUID, series: q.seriesUID, sop: q.objectUID });
      if (!r) return reply;
      const { out } = r;
      audit(r.c.em, r.c.actor, r.a, 1, out.original ? 1 : 0);
      await r.c.em.flush();
      return reply.type('application/dicom').header('cache-control', 'private, no-store').send(out.bytes);
    });

    // Renderings of de-identified objects by content hash (access is checked before each use): a study's
    // preview and thumbnails are asked for on every open, and re-rendering costs tens of ms of the event loop.
    const renderedCache = new LruCache<string, Buffer>(64);
    // Rendered PNG of an instance's first frame; native monochrome images only.
    const renderFirst = async (
      req: FastifyRequest,
      reply: FastifyReply,
      r: NonNullable<Awaited<ReturnType<typeof withStudy>>>,
      candidates: Instance[],
      cacheControl: string,
    ) => {
      const size = Math.min(Number((req.query as { size?: string }).size) || 128, 512);
      for (const inst of candidates) {
        const key = `${inst.objectSha256}:${size}`;
        let png = renderedCache.get(key) ?? null;
        if (!png) {
          const out = await objectFor(r.c.studies, deps.studies, { ...r.a, withIdentity: false }, inst);
          if (!out) continue;
          try {
            png = renderThumbnail(out.bytes, size);
          } catch {
            png = null;
          }
          if (!png) continue;
          renderedCache.set(key, png);
        }
        audit(r.c.em, r.c.actor, r.a, 1, 0);
        await r.c.em.flush();
        return reply.type('image/png').header('cache-control', cacheControl).send(png);
      }
      return reply
        .code(406)
        .send({ error: 'no instance here can be rendered (compressed or colour pixel data)' });
    };
    // The study's thumbnail: its first image in the viewer's display order, or with `first=only` that image or
    // nothing (the viewer's preview must show the slice it opens on). The choice changes as instances arrive,
    // so the browser revalidates (ETag of the choice) instead of caching it for an hour.
    scope.get('/dicomweb/studies/:study/thumbnail', async (req, reply) => {
      const r = await withStudy(req, reply, (req.params as { study: string }).study);
      if (!r) return reply;
      const q = req.query as { size?: string; first?: string };
      const order = await r.c.studies.displayOrder(r.a.study.id);
      const candidates = q.first === 'only' ? order.slice(0, 1) : order;
      const etag = `"${sha256Hex(`${candidates[0]?.objectSha256 ?? ''}|${q.size ?? ''}|${q.first ?? ''}`).slice(0, 20)}"`;
      reply.header('etag', etag);
      if (candidates.length && req.headers['if-none-match'] === etag) {
        audit(r.c.em, r.c.actor, r.a, 1, 0);
        await r.c.em.flush();
        return reply.code(304).header('cache-control', 'private, no-cache').send();
      }
      return renderFirst(req, reply, r, candidates, 'private, no-cache');
    });
    scope.get('/dicomweb/studies/:study/series/:series/instances/:sop/rendered', async (req, reply) => {
      const p = req.params as { study: string; series: string; sop: string };
      const r = await withStudy(req, reply, p.study);
      if (!r) return reply;
      const instances = await r.c.studies.instances(r.a.study.id, {
        seriesUid: p.series,
        sopInstanceUid: p.sop,
      });
      return renderFirst(req, reply, r, instances, 'private, max-age=3600');
    });

    // "Download original": the whole study, re-identified, as a ZIP (access carrying identity only).
    scope.get('/dicomweb/studies/:study/original.zip', async (req, reply) => {
      const { study } = req.params as { study: string };
      const r = await withStudy(req, reply, study);
      if (!r) return reply;
      if (!r.a.withIdentity || !r.a.study.hasIdentity) {
        return reply
          .code(403)
          .send({ error: 'originals need access that carries identity', code: 'FORBIDDEN' });
      }
      const series = new Map((await r.c.studies.series([r.a.study.id])).map((s) => [s.id, s]));
      const instances = await r.c.studies.instances(r.a.study.id);
      const zip = new ZipWriter();
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'application/zip',
        'content-disposition': `attachment; filename="study-${r.a.study.id}.zip"`,
      });
      let originals = 0;
      for (const [n, inst] of instances.entries()) {
        const out = await objectFor(r.c.studies, deps.studies, r.a, inst);
        if (!out) {
          reply.raw.destroy(new Error('object not available'));
          return reply;
        }
        if (out.original) originals++;
        const se = series.get(inst.seriesId);
        const name = `series-${se?.seriesNumber ?? 0}-${se?.seriesUid ?? 'x'}/${String(n + 1).padStart(5, '0')}.dcm`;
        if (!reply.raw.write(zip.entry(name, out.bytes)))
          await new Promise((res) => reply.raw.once('drain', res));
      }
      reply.raw.end(zip.finish());
      audit(r.c.em, r.c.actor, r.a, instances.length, originals);
      await r.c.em.flush();
      return reply;
    });
    scope.get('/dicomweb/studies/:study/metadata', (req, reply) =>
      retrieve(req, reply, req.params as { study: string }, true),
    );
    scope.get('/dicomweb/studies/:study/series/:series/metadata', (req, reply) =>
      retrieve(req, reply, req.params as { study: string; series: string }, true),
    );
    scope.get('/dicomweb/studies/:study/series/:series/instances/:sop/metadata', (req, reply) =>
      retrieve(req, reply, req.params as { study: string; series: string; sop: string }, true),
    );
  });
}

function audit(em: EntityManager, actor: Actor, a: StudyAccess, count: number, originals: number) {
  new AuditService(em).record(
    actor,
    originals ? 'study.retrieve.original' : 'study.retrieve',
    `study:${a.study.id}`,
    {
      instances: count,
      originals,
      via: a.role,
    },
  );
}

/**
 * The bytes served for an instance: the original, restored byte for byte (SHA-256 checked against the one
 * taken at ingest), when the access carries identity and the instance has an identity; otherwise the
 * de-identified object. Read from the spool (the worker's stage cache once the storage tables are wired).
 */
async function objectFor(
  svc: StudyService,
  rt: StudiesRuntime,
  a: StudyAccess,
  inst: Instance,
): Promise<{ bytes: Buffer; original: boolean } | null> {
  let deid: Buffer;
  try {
    deid = await readFile(rt.spoolPath(inst.objectSha256));
  } catch {
    // Not in the spool any more: from an SE through the worker's verified stage cache.
    if (!rt.storage) return null;
    try {
      const chunks: Buffer[] = [];
      for await (const c of await rt.storage.openObject(inst.objectSha256))
        chunks.push(Buffer.from(c as Buffer));
      deid = Buffer.concat(chunks);
    } catch {
      return null;
    }
  }
  if (sha256Hex(deid) !== inst.objectSha256) return null;
  if (a.withIdentity && inst.originalSha256) {
    const record = svc.identityRecord(a.study, inst);
    if (record) {
      const original = restore(deid, record);
      if (sha256Hex(original) !== inst.originalSha256)
        throw new Error('restored object does not match its SHA-256');
      return { bytes: original, original: true };
    }
  }
  return { bytes: deid, original: false };
}

const KEYWORDS: Record<string, string> = {
  '00081190': 'RetrieveURL',
  '00081198': 'FailedSOPSequence',
  '00081199': 'ReferencedSOPSequence',
  '00081150': 'ReferencedSOPClassUID',
  '00081155': 'ReferencedSOPInstanceUID',
  '00081197': 'FailureReason',
  '00090010': '',
  '00091001': '',
};

const xmlEscape = (v: string) =>
  v.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

/** The STOW-RS response in the DICOM Native XML model (PS3.19 A.1). */
function nativeXml(body: Json): string {
  const attrs = (obj: Json): string =>
    Object.entries(obj)
      .map(([tag, v]) => {
        const kw = KEYWORDS[tag]
          ? ` keyword="${KEYWORDS[tag]}"`
          : tag.startsWith('0009')
            ? ' privateCreator="MEDGRID"'
            : '';
        const inner =
          v.vr === 'SQ'
            ? (v.Value as Json[]).map((item, i) => `<Item number="${i + 1}">${attrs(item)}</Item>`).join('')
            : (v.Value ?? [])
                .map((x, i) => `<Value number="${i + 1}">${xmlEscape(String(x))}</Value>`)
                .join('');
        return `<DicomAttribute tag="${tag}" vr="${v.vr}"${kw}>${inner}</DicomAttribute>`;
      })
      .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">${attrs(body)}</NativeDicomModel>\n`;
}

function stripWild(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const s = v.replace(/[*?]/g, ' ').trim();
  return s || undefined;
}

function rangeOf(v: string | undefined): [string | undefined, string | undefined] {
  if (!v) return [undefined, undefined];
  const [a, b] = v.includes('-') ? v.split('-') : [v, v];
  return [a || undefined, b || undefined];
}

function qidoReply(reply: FastifyReply, items: Json[]) {
  if (!items.length) return reply.code(204).send();
  return reply.type('application/dicom+json').send(JSON.stringify(items));
}

function studyJson(deps: Deps, s: Study): Json {
  return {
    '00080020': el('DA', s.studyDate),
    '00080061': s.modalities ? { vr: 'CS', Value: s.modalities.split('\\') } : { vr: 'CS' },
    '00081030': el('LO', s.description),
    '00081190': el('UR', `${deps.studies.publicUrl}/dicomweb/studies/${s.studyUid}`),
    '0020000D': el('UI', s.studyUid),
    '00201206': el('IS', s.seriesCount),
    '00201208': el('IS', s.instanceCount),
  };
}

/** A small least-recently-used map (Map keeps insertion order). */
class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}

function seriesJson(deps: Deps, st: Study, s: Series): Json {
  return {
    '00080060': el('CS', s.modality),
    '0008103E': el('LO', s.description),
    '00081190': el('UR', `${deps.studies.publicUrl}/dicomweb/studies/${st.studyUid}/series/${s.seriesUid}`),
    '0020000D': el('UI', st.studyUid),
    '0020000E': el('UI', s.seriesUid),
    '00200011': el('IS', s.seriesNumber),
    '00201209': el('IS', s.instanceCount),
  };
}

function instanceJson(deps: Deps, st: Study, se: Series, i: Instance): Json {
  return {
    '00080016': el('UI', i.sopClassUid),
    '00080018': el('UI', i.sopInstanceUid),
    '00080060': el('CS', se.modality),
    '00081190': el(
      'UR',
      `${deps.studies.publicUrl}/dicomweb/studies/${st.studyUid}/series/${se.seriesUid}/instances/${i.sopInstanceUid}`,
    ),
    '00083002': el('UI', i.transferSyntaxUid),
    '0020000D': el('UI', st.studyUid),
    '0020000E': el('UI', se.seriesUid),
    '00200013': el('IS', i.instanceNumber),
    '00200032': el('DS', ...dsValues(i.imagePositionPatient)),
    '00200037': el('DS', ...dsValues(i.imageOrientationPatient)),
    '00280008': el('IS', i.numberOfFrames),
    '00280010': el('US', i.rows),
    '00280011': el('US', i.columns),
  };
}
