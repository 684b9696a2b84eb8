import { type DataSet, parseDicom } from 'dicom-parser';

const headers = new Map<string, Promise<DataSet>>();

/** The WADO-URI address of an image id (without `wadouri:` and the frame number). */
export const objectUriOf = (imageId: string) => imageId.replace(/^wadouri:/, '').replace(/&frame=\d+$/, '');

/**
 * The DICOM header of an image's object (pixel data not parsed). Cornerstone drops its parsed data set
 * once an image is decoded, so the tag browser and the patient overlay fetch the object again (same
 * session, same access rules: without identity the server sends the de-identified object).
 */
export function headerOf(imageId: string): Promise<DataSet> {
  const uri = objectUriOf(imageId);
  let p = headers.get(uri);
  if (!p) {
    p = fetch(uri, { credentials: 'same-origin' }).then(async (res) => {
      if (!res.ok) throw new Error(`${res.status}`);
      return parseDicom(new Uint8Array(await res.arrayBuffer()), { untilTag: 'x7fe00010' });
    });
    p.catch(() => headers.delete(uri));
    headers.set(uri, p);
  }
  return p;
}
