import { keywordOf } from '../dict/dictionary.service.js';
import { tagString } from '../errors/dicom.error.js';
import type { DicomElement, ParsedDicom } from './dataset.model.js';
import { charsetsOf, readNumbers, readString, STRING_VRS } from './value.reader.js';

export interface DumpNode {
  tag: string;
  keyword: string;
  vr: string;
  offset: number;
  length: number | 'undefined';
  value?: string | number[];
  items?: DumpNode[][];
  fragments?: number;
}

function displayValue(data: Buffer, el: DicomElement, cs: readonly string[]): string | number[] | undefined {
  if (STRING_VRS.has(el.vr)) return readString(data, el, cs);
  const nums = readNumbers(data, el);
  if (nums.length) return nums.length > 16 ? nums.slice(0, 16) : nums;
  return undefined;
}

function nodes(data: Buffer, elements: readonly DicomElement[], inherited: readonly string[]): DumpNode[] {
  const cs = charsetsOf(data, elements, inherited);
  return elements.map((el) => {
    const n: DumpNode = {
      tag: tagString(el.tag),
      keyword: keywordOf(el.tag),
      vr: el.vr,
      offset: el.offset,
      length: el.length === 0xffffffff ? 'undefined' : el.length,
    };
    if (el.items) n.items = el.items.map((it) => nodes(data, it.elements, cs));
    else if (el.fragments) n.fragments = el.fragments.length;
    else {
      const v = displayValue(data, el, cs);
      if (v !== undefined) n.value = v;
    }
    return n;
  });
}

export function dumpTree(p: ParsedDicom): {
  meta: DumpNode[];
  transferSyntaxUid: string;
  dataset: DumpNode[];
} {
  return {
    meta: nodes(p.source, p.meta, []),
    transferSyntaxUid: p.transferSyntax.uid,
    dataset: nodes(p.data, p.elements, []),
  };
}

export function dumpText(p: ParsedDicom): string {
  const lines: string[] = [];
  const walk = (list: DumpNode[], indent: string) => {
    for (const n of list) {
      let v = '';
      if (n.items) v = `(sequence, ${n.items.length} item${n.items.length === 1 ? '' : 's'})`;
      else if (n.fragments !== undefined) v = `(encapsulated, ${n.fragments} fragments)`;
      else if (Array.isArray(n.value)) v = n.value.join('\\');
      else if (n.value !== undefined) v = `[${n.value}]`;
      else v = `(${n.length} bytes)`;
      if (v.length > 80) v = `${v.slice(0, 77)}...`;
      lines.push(`${indent}${n.tag} ${n.vr} ${v} # ${n.length}, ${n.keyword}`);
      n.items?.forEach((item, i) => {
        lines.push(`${indent}  (item ${i + 1})`);
        walk(item, `${indent}    `);
      });
    }
  };
  const t = dumpTree(p);
  lines.push('# file meta');
  walk(t.meta, '');
  lines.push(`# dataset (${t.transferSyntaxUid})`);
  walk(t.dataset, '');
  return `${lines.join('\n')}\n`;
}
