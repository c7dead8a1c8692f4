/** One CSV field as RFC 4180 wants it: quoted when it holds a comma, a quote or a line break. */
export const csvField = (value: string | number | boolean | null | undefined): string => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** One CSV record, ended by CRLF as RFC 4180 says. */
export const csvRow = (values: readonly Parameters<typeof csvField>[0][]): string =>
  `${values.map(csvField).join(',')}\r\n`;
