export { type CliIo, runDicomCli } from './cli/dicom.cli.js';
export {
  type DeidentifyOptions,
  type DeidResult,
  type DeidSummary,
  deidentify,
} from './deid/deidentify.service.js';
export {
  BASIC_PROFILE,
  DEFAULT_SAFE_PRIVATE,
  type DeidOptions,
  type DeidProfile,
  defineProfile,
  LONGITUDINAL_PROFILE,
  PROFILES,
  profileByName,
  RESEARCH_PROFILE,
  type SafePrivateTag,
} from './deid/profile.model.js';
export { type Action, actionForTag } from './deid/rules.service.js';
export { ANNEX_E_EDITION, ANNEX_E_ROWS, annexERow } from './dict/annex-e.table.js';
export { keywordOf, lookupTag, tagOfKeyword } from './dict/dictionary.service.js';
export { DicomError, type DicomErrorCode, isDicomError } from './errors/dicom.error.js';
export { dsVector, type SliceInfo, sliceOrder } from './geometry/slice-order.service.js';
export { decodeText, parseCharsets } from './parse/charset.decoder.js';
export type { DicomElement, DicomItem, ParsedDicom } from './parse/dataset.model.js';
export {
  bulkDataAt,
  type DicomJson,
  type DicomJsonAttribute,
  type ElementPath,
  toDicomJson,
} from './parse/dicom-json.service.js';
export { dumpText, dumpTree } from './parse/dump.service.js';
export { encodeElements, type SimpleElement } from './parse/element.writer.js';
export { type ParseOptions, parseDicom } from './parse/parse.service.js';
export { writePart10 } from './parse/part10.writer.js';
export { transferSyntaxOf } from './parse/transfer-syntax.table.js';
export { charsetsOf, findElement, readNumbers, readString, valueBytes } from './parse/value.reader.js';
export { identifyingValues, occurs, phiEncodings, phiFound } from './phi/phi-scan.service.js';
export {
  extractQueryAttributes,
  type QueryAttributes,
  queryAttributesOf,
} from './query/query-attributes.service.js';
export { decodeIdentity, encodeIdentity, type IdentityRecord } from './restore/identity.codec.js';
export { restore } from './restore/restore.service.js';
