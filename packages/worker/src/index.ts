export { Adler32, adler32, adler32Combine, adler32Hex, adler32Update } from './checksum/adler32.util.js';
export { DigestStream, type Digests, digestFile, digestOf } from './checksum/digest.stream.js';
