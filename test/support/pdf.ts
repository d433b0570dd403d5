// Small, valid PDF files generated in code for the simulated scholarly web: a real header, one page
// with a text line, a correct xref table and trailer, padded to any size with a comment stream.

const encoder = new TextEncoder();

export interface PdfOptions {
  /** Pad the file to at least this many bytes (inside a stream object, so the PDF stays valid). */
  minBytes?: number;
}

/** A one-page PDF whose page shows `text`; distinct texts give distinct bytes (and SHA-256). */
export function makePdf(text: string, opts: PdfOptions = {}): Uint8Array<ArrayBuffer> {
  const safe = text.replace(/[\\()]/g, (c) => `\\${c}`);
  const content = `BT /F1 12 Tf 72 720 Td (${safe}) Tj ET\n`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${content.length} >>\nstream\n${content}endstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  const build = (padding: number): string => {
    const objs = [...objects];
    if (padding > 0) {
      const pad = "%".repeat(padding);
      objs.push(`<< /Length ${pad.length} >>\nstream\n${pad}\nendstream`);
    }
    let out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
    const offsets: number[] = [];
    objs.forEach((body, i) => {
      offsets.push(byteLength(out));
      out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    });
    const xref = byteLength(out);
    out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
    for (const off of offsets) out += `${String(off).padStart(10, "0")} 00000 n \n`;
    out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    return out;
  };
  let pdf = build(0);
  const min = opts.minBytes ?? 1500;
  if (byteLength(pdf) < min) pdf = build(min - byteLength(pdf));
  return latin1(pdf);
}

function byteLength(s: string): number {
  return s.length; // latin1: one byte per char
}

function latin1(s: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** UTF-8 bytes of a string (HTML pages, robots.txt). */
export function utf8(s: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(s);
}
