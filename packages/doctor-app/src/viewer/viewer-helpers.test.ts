import { parseDicom } from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { tagRows } from './dicom-tags.js';
import { imageIdsOf, wadoUri } from './dicomweb.client.js';
import { measurementOf } from './measurements.js';
import { presetsFor, voiRangeOf, windowLevelOf } from './wl-presets.js';

/** An implicit-VR little-endian element (no VR on the wire, as in many old files). */
function element(group: number, elem: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + value.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, group, true);
  v.setUint16(2, elem, true);
  v.setUint32(4, value.length, true);
  out.set(value, 8);
  return out;
}
const text = (s: string) => new TextEncoder().encode(s.length % 2 ? `${s} ` : s);
const us = (n: number) => new Uint8Array([n & 0xff, n >> 8]);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('viewer helpers', () => {
  it('image ids: one per instance, one per frame (1-based) for multi-frame objects', () => {
    const ids = imageIdsOf('http://h', '1.2', '1.2.3', [
      { sopInstanceUid: '9', instanceNumber: 1, frames: 1, transferSyntaxUid: '' },
      { sopInstanceUid: '10', instanceNumber: 2, frames: 3, transferSyntaxUid: '' },
    ]);
    expect(ids).toHaveLength(4);
    expect(ids[0]).toBe(`wadouri:${wadoUri('http://h', '1.2', '1.2.3', '9')}`);
    expect(ids[0]).toContain('requestType=WADO&studyUID=1.2&seriesUID=1.2.3&objectUID=9');
    expect(ids.slice(1).map((id) => id.split('&').at(-1))).toEqual(['frame=1', 'frame=2', 'frame=3']);
  });

  it('tag rows: keywords from the dictionary, VRs for implicit-VR files, sequences expanded', () => {
    const item = element(0xfffe, 0xe000, element(0x0008, 0x1155, text('1.2.3')));
    const bytes = concat(
      element(0x0008, 0x0060, text('CT')),
      element(0x0008, 0x1140, item),
      element(0x0028, 0x0010, us(512)),
      element(0x7fe0, 0x0010, new Uint8Array(8)),
    );
    const rows = tagRows(parseDicom(bytes, { TransferSyntaxUID: '1.2.840.10008.1.2' }));
    const modality = rows.find((r) => r.tag === '(0008,0060)');
    expect(modality).toMatchObject({ keyword: 'Modality', vr: 'CS', value: 'CT', depth: 0 });
    expect(rows.find((r) => r.tag === '(0028,0010)')).toMatchObject({
      keyword: 'Rows',
      vr: 'US',
      value: '512',
    });
    expect(rows.find((r) => r.tag === '(7FE0,0010)')?.value).toMatch(/bytes/);
    expect(rows.find((r) => r.tag === '(0008,1140)')).toMatchObject({ vr: 'SQ', value: '1 item(s)' });
    expect(rows.find((r) => r.tag === '(0008,1155)')).toMatchObject({
      keyword: 'ReferencedSOPInstanceUID',
      depth: 1,
    });
  });

  it('presets by modality; window/level and VOI range convert both ways', () => {
    expect(presetsFor('CT').map((p) => p.key)).toContain('lung');
    expect(presetsFor('ct')).toEqual(presetsFor('CT'));
    expect(presetsFor('SR')).toEqual([]);
    expect(voiRangeOf(400, 40)).toEqual({ lower: -160, upper: 240 });
    expect(windowLevelOf({ lower: -160, upper: 240 })).toEqual({ window: 400, level: 40 });
  });

  it('measurements: length in mm, ROI statistics; nothing before statistics exist', () => {
    const length = measurementOf({
      annotationUID: 'a',
      metadata: { toolName: 'Length' },
      data: { cachedStats: { t: { length: 12.345, unit: 'mm' } } },
    });
    expect(length?.parts).toEqual([{ label: 'length', value: '12.35 mm' }]);
    const roi = measurementOf({
      annotationUID: 'b',
      metadata: { toolName: 'EllipticalROI' },
      data: {
        cachedStats: {
          t: { area: 10, areaUnit: 'mm²', mean: 41.26, stdDev: 3, min: 1, max: 80, modalityUnit: 'HU' },
        },
      },
    });
    expect(roi?.parts.map((p) => `${p.label}=${p.value}`)).toEqual([
      'area=10.00 mm²',
      'mean=41.3 HU',
      'stdDev=3.0 HU',
      'min=1.0 HU',
      'max=80.0 HU',
    ]);
    expect(measurementOf({ annotationUID: 'c', metadata: { toolName: 'Length' }, data: {} })).toBeNull();
    expect(roi?.outside).toBe(false);
  });

  it('an ROI reaching beyond the image says so instead of keeping the numbers of an earlier shape', () => {
    // Cornerstone leaves only the modality in cachedStats when a handle lies outside the image.
    const row = measurementOf(
      {
        annotationUID: 'e',
        metadata: { toolName: 'EllipticalROI' },
        data: { cachedStats: { t: { Modality: 'MR' } } },
      },
      true,
    );
    expect(row).toMatchObject({ outside: true, parts: [], final: true });
    // Before drawing has ended an empty row is not shown (an angle's second leg has no statistics yet).
    expect(
      measurementOf(
        {
          annotationUID: 'f',
          metadata: { toolName: 'Angle' },
          data: { cachedStats: { t: { Modality: 'MR' } } },
        },
        false,
      ),
    ).toBeNull();
  });

  it('a measurement is final only once drawing has ended and its statistics are for the final handles', () => {
    const annotation = {
      annotationUID: 'd',
      invalidated: true,
      metadata: { toolName: 'EllipticalROI' },
      data: { cachedStats: { t: { area: 5, areaUnit: 'mm²' } } },
    };
    expect(measurementOf(annotation, false)?.final).toBe(false); // still dragging
    expect(measurementOf(annotation, true)?.final).toBe(false); // mouse-up, statistics of the last drag position
    expect(measurementOf({ ...annotation, invalidated: false }, true)?.final).toBe(true);
    expect(measurementOf({ ...annotation, invalidated: false }, false)?.final).toBe(false);
  });
});
