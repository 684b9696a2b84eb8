import { sliceOrder } from '@medgrid/dicom/geometry';

/** DICOM JSON (PS3.18 F.2) as the server's QIDO-RS returns it. */
type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

export interface ViewerInstance {
  sopInstanceUid: string;
  instanceNumber: number | null;
  frames: number;
  transferSyntaxUid: string;
  /** Image Position / Orientation (Patient) when the server has them. */
  position?: number[];
  orientation?: number[];
}

export interface ViewerSeries {
  seriesUid: string;
  modality: string;
  seriesNumber: number | null;
  description: string;
  instances: ViewerInstance[];
  /** One image id per frame, in display order. */
  imageIds: string[];
  /** Multi-frame series get cine. */
  multiframe: boolean;
  /**
   * The server's rendering of the series' first image, to which `?size=N` is added (the series panel's
   * thumbnail); native monochrome only, 406 otherwise. Empty for a series without instances.
   */
  renderedUrl: string;
}

export interface ViewerStudy {
  studyUid: string;
  description: string;
  studyDate: string;
  series: ViewerSeries[];
}

export class DicomwebError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const str = (j: DicomJson, tag: string): string => {
  const v = j[tag]?.Value?.[0];
  return v === undefined || v === null ? '' : String(v);
};
const num = (j: DicomJson, tag: string): number | null => {
  const n = Number.parseInt(str(j, tag), 10);
  return Number.isFinite(n) ? n : null;
};
const vec = (j: DicomJson, tag: string, n: number): number[] | undefined => {
  const v = (j[tag]?.Value ?? []).map(Number);
  return v.length === n && v.every(Number.isFinite) ? v : undefined;
};

async function qido(url: string): Promise<DicomJson[]> {
  const res = await fetch(url, { headers: { accept: 'application/dicom+json' }, credentials: 'same-origin' });
  if (res.status === 204) return [];
  if (!res.ok) throw new DicomwebError(res.status, `${res.status} ${res.statusText}`);
  return (await res.json()) as DicomJson[];
}

/** The WADO-URI address of one object, as Cornerstone's wadouri loader fetches it (whole Part 10 file). */
export function wadoUri(origin: string, studyUid: string, seriesUid: string, sopUid: string): string {
  const q = new URLSearchParams({
    requestType: 'WADO',
    studyUID: studyUid,
    seriesUID: seriesUid,
    objectUID: sopUid,
    contentType: 'application/dicom',
  });
  return `${origin}/dicomweb/wado?${q}`;
}

/** Image ids for a series: one per instance, or one per frame (`&frame=N`, 1-based) for multi-frame objects. */
export function imageIdsOf(
  origin: string,
  studyUid: string,
  seriesUid: string,
  instances: ViewerInstance[],
): string[] {
  return instances.flatMap((i) => {
    const base = `wadouri:${wadoUri(origin, studyUid, seriesUid, i.sopInstanceUid)}`;
    return i.frames > 1 ? Array.from({ length: i.frames }, (_, f) => `${base}&frame=${f + 1}`) : [base];
  });
}

/** Study, series and instances from QIDO-RS (three requests, whatever the series count). */
export async function loadStudy(studyUid: string, origin = window.location.origin): Promise<ViewerStudy> {
  const enc = encodeURIComponent(studyUid);
  const [studies, series, instances] = await Promise.all([
    qido(`/dicomweb/studies?StudyInstanceUID=${enc}`),
    qido(`/dicomweb/studies/${enc}/series`),
    qido(`/dicomweb/studies/${enc}/instances`),
  ]);
  const study = studies[0];
  if (!study) throw new DicomwebError(404, 'study not found');
  const bySeries = new Map<string, ViewerInstance[]>();
  for (const j of instances) {
    const list = bySeries.get(str(j, '0020000E')) ?? [];
    list.push({
      sopInstanceUid: str(j, '00080018'),
      instanceNumber: num(j, '00200013'),
      frames: num(j, '00280008') ?? 1,
      transferSyntaxUid: str(j, '00083002'),
      position: vec(j, '00200032', 3),
      orientation: vec(j, '00200037', 6),
    });
    bySeries.set(str(j, '0020000E'), list);
  }
  const out: ViewerSeries[] = series.map((s) => {
    const seriesUid = str(s, '0020000E');
    const list = sliceOrder(bySeries.get(seriesUid) ?? []);
    return {
      seriesUid,
      modality: str(s, '00080060'),
      seriesNumber: num(s, '00200011'),
      description: str(s, '0008103E'),
      instances: list,
      imageIds: imageIdsOf(origin, studyUid, seriesUid, list),
      multiframe: list.some((i) => i.frames > 1),
      renderedUrl: list[0]
        ? `/dicomweb/studies/${enc}/series/${encodeURIComponent(seriesUid)}/instances/${encodeURIComponent(list[0].sopInstanceUid)}/rendered`
        : '',
    };
  });
  out.sort((a, b) => (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0));
  return {
    studyUid,
    description: str(study, '00081030'),
    studyDate: str(study, '00080020'),
    series: out.filter((s) => s.imageIds.length > 0),
  };
}
