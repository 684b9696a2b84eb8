import type { TransferSyntax } from './transfer-syntax.table.js';

/** One data element, located by offsets into `ParsedDicom.data` (or `source` for file meta). */
export interface DicomElement {
  tag: number;
  vr: string;
  /** Header written with an explicit VR (false in implicit-VR contexts). */
  explicitVr: boolean;
  /** Byte order of this element's header and binary value. */
  littleEndian: boolean;
  offset: number;
  valueOffset: number;
  /** Length field as written (0xFFFFFFFF for undefined). */
  length: number;
  /** Bytes between valueOffset and the first delimiter (or the end). */
  valueLength: number;
  /** Offset just after the element, including any sequence delimiter. */
  end: number;
  items?: DicomItem[];
  fragments?: DicomFragment[];
}

export interface DicomItem {
  littleEndian: boolean;
  offset: number;
  valueOffset: number;
  length: number;
  end: number;
  elements: DicomElement[];
}

export interface DicomFragment {
  offset: number;
  valueOffset: number;
  length: number;
}

export interface ParsedDicom {
  source: Buffer;
  /** Part 10 file (preamble + DICM or at least a group-0002 header) rather than a bare dataset. */
  part10: boolean;
  hasPreamble: boolean;
  meta: DicomElement[];
  /** Where the dataset starts in `source` (end of the file meta). */
  metaEnd: number;
  transferSyntax: TransferSyntax;
  /** Dataset bytes: `source` itself, or the inflated dataset for deflated transfer syntaxes. */
  data: Buffer;
  datasetStart: number;
  datasetEnd: number;
  elements: DicomElement[];
  /** Zero bytes after the last top-level element, tolerated as padding. */
  trailingZeros: number;
}

export const UNDEFINED_LENGTH = 0xffffffff;
export const TAG_ITEM = 0xfffee000;
export const TAG_ITEM_DELIM = 0xfffee00d;
export const TAG_SEQ_DELIM = 0xfffee0dd;
export const TAG_PIXEL_DATA = 0x7fe00010;
