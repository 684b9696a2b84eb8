/** Display helpers shared by the doctor app's pages. */

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** DICOM DA (YYYYMMDD) as YYYY-MM-DD; anything else as it is. */
export function formatDicomDate(da: string | null | undefined): string {
  if (!da) return '';
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(da);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : da;
}

/** DICOM PN (Family^Given^Middle) as "Family Given Middle". */
export function formatPersonName(pn: string | null | undefined): string {
  return (pn ?? '')
    .split('=')[0]!
    .split('^')
    .filter((p) => p.trim())
    .join(' ');
}

export function formatDateTime(iso: string | null | undefined, locale: string): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString(locale === 'uk' ? 'uk-UA' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}
