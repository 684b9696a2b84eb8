import { parentPort, workerData } from 'node:worker_threads';
import { deidentify, isDicomError, profileByName } from '@medgrid/dicom';
import { deidOutputOf } from './deid.pool.js';

// Runs de-identification off the event loop that answers C-STORE (about 1 ms per 400 kB instance).
const { profileName, secret } = workerData as { profileName: string; secret: Uint8Array };
const profile = profileByName(profileName);
if (!profile) throw new Error(`unknown de-identification profile "${profileName}"`);
const key = Buffer.from(secret);

parentPort!.on('message', (msg: { id: number; file: Uint8Array }) => {
  try {
    const file = Buffer.from(msg.file.buffer, msg.file.byteOffset, msg.file.byteLength);
    parentPort!.postMessage({ id: msg.id, out: deidOutputOf(deidentify(file, { profile, secret: key })) });
  } catch (err) {
    // Only a code goes back: an error message could quote the dataset.
    const e = err as NodeJS.ErrnoException;
    const reason = isDicomError(err) ? `DICOM ${err.code}` : (e?.code ?? 'internal error');
    parentPort!.postMessage({ id: msg.id, reason });
  }
});
