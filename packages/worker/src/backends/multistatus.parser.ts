// Minimal WebDAV multistatus reader: XrdHttp, dCache and EOS use different namespace prefixes, so match
// local names and ignore prefixes. Only what listings need: href, size, collection flag, mtime.

export interface DavEntry {
  href: string;
  size: number;
  isDir: boolean;
  mtime?: Date;
}

const tag = (local: string) =>
  new RegExp(`<(?:[A-Za-z0-9_-]+:)?${local}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[A-Za-z0-9_-]+:)?${local}>`, 'i');
const RESPONSE = /<(?:[A-Za-z0-9_-]+:)?response[\s>][\s\S]*?<\/(?:[A-Za-z0-9_-]+:)?response>/gi;
const HREF = tag('href');
const LENGTH = tag('getcontentlength');
const MODIFIED = tag('getlastmodified');
const RESOURCETYPE = tag('resourcetype');
const ISCOLLECTION = tag('iscollection');
const COLLECTION = /<(?:[A-Za-z0-9_-]+:)?collection\s*\/?>/i;

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

export function parseMultistatus(xml: string): DavEntry[] {
  const out: DavEntry[] = [];
  for (const m of xml.matchAll(RESPONSE)) {
    const block = m[0];
    const href = HREF.exec(block)?.[1];
    if (href === undefined) continue;
    const rt = RESOURCETYPE.exec(block)?.[1] ?? '';
    const isDir = COLLECTION.test(rt) || ISCOLLECTION.exec(block)?.[1]?.trim() === '1';
    const len = Number(LENGTH.exec(block)?.[1]?.trim() ?? '0');
    const mod = MODIFIED.exec(block)?.[1]?.trim();
    const e: DavEntry = {
      href: decodeURIComponent(unescapeXml(href.trim())),
      size: Number.isFinite(len) ? len : 0,
      isDir,
    };
    if (mod) {
      const d = new Date(mod);
      if (!Number.isNaN(d.getTime())) e.mtime = d;
    }
    out.push(e);
  }
  return out;
}
