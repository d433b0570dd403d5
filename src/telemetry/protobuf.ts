// A minimal protocol-buffers writer: the wire types the OTLP messages use (varint, fixed64, fixed32,
// double, length-delimited), with nested messages measured by writing them into their own buffer.
// Enough for encoding a few kilobytes per export without a protobuf library in the binary.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const utf8 = new TextEncoder();

export class ProtoWriter {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** An unsigned varint; numbers up to 2^53 (lengths, counts, enum values, uint32). */
  private varint(n: number): void {
    this.reserve(10);
    let v = Math.floor(n);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** uint32 / enum / int64 ≥ 0 / bool; zero is left out (proto3 default) unless `force`. */
  uint(field: number, n: number, force = false): this {
    if (n === 0 && !force) return this;
    this.tag(field, WIRE_VARINT);
    this.varint(n);
    return this;
  }

  bool(field: number, b: boolean): this {
    return this.uint(field, b ? 1 : 0);
  }

  /** fixed64 (times in nanoseconds, counts); always written when `force`, else zero is left out. */
  fixed64(field: number, n: bigint | number, force = false): this {
    const v = typeof n === "bigint" ? n : BigInt(Math.max(0, Math.round(n)));
    if (v === 0n && !force) return this;
    this.tag(field, WIRE_I64);
    this.reserve(8);
    this.view.setBigUint64(this.len, v, true);
    this.len += 8;
    return this;
  }

  fixed32(field: number, n: number): this {
    if (n === 0) return this;
    this.tag(field, WIRE_I32);
    this.reserve(4);
    this.view.setUint32(this.len, n >>> 0, true);
    this.len += 4;
    return this;
  }

  /** A double; `force` writes zero too (a field of a oneof, or `optional`, must be present). */
  double(field: number, x: number, force = false): this {
    if (x === 0 && !force && !Object.is(x, -0)) return this;
    this.tag(field, WIRE_I64);
    this.reserve(8);
    this.view.setFloat64(this.len, x, true);
    this.len += 8;
    return this;
  }

  bytes(field: number, b: Uint8Array, force = false): this {
    if (b.length === 0 && !force) return this;
    this.tag(field, WIRE_LEN);
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** A string; `force` writes an empty one (a oneof member must be present to say which it is). */
  string(field: number, s: string, force = false): this {
    return this.bytes(field, utf8.encode(s), force);
  }

  /** A nested message, written by `write` into its own writer (always present, even when empty). */
  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish(), true);
  }

  /** `repeated fixed64`, packed (proto3's default for scalars). */
  packedFixed64(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    this.tag(field, WIRE_LEN);
    this.varint(values.length * 8);
    this.reserve(values.length * 8);
    for (const v of values) {
      this.view.setBigUint64(this.len, BigInt(Math.max(0, Math.round(v))), true);
      this.len += 8;
    }
    return this;
  }

  /** `repeated double`, packed. */
  packedDouble(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    this.tag(field, WIRE_LEN);
    this.varint(values.length * 8);
    this.reserve(values.length * 8);
    for (const v of values) {
      this.view.setFloat64(this.len, v, true);
      this.len += 8;
    }
    return this;
  }

  finish(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.len);
  }
}
