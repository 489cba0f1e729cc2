/**
 * A minimal parquet writer for tests: one row group, uncompressed PLAIN pages, string (UTF8 BYTE_ARRAY)
 * columns, optionally nullable. Written from the format spec (thrift compact protocol), independently of
 * hyparquet, so the reader is checked against bytes it did not produce. No parquet writer is installed.
 */

class Thrift {
  bytes: number[] = [];
  private last: number[] = [0];

  varint(n: bigint | number): void {
    let v = BigInt(n);
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }
  zigzag(n: number): void {
    const v = BigInt(n);
    this.varint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  }
  field(id: number, type: number): void {
    const delta = id - this.last[this.last.length - 1];
    if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
    else {
      this.bytes.push(type);
      this.zigzag(id);
    }
    this.last[this.last.length - 1] = id;
  }
  i32(id: number, v: number): void {
    this.field(id, 5);
    this.zigzag(v);
  }
  i64(id: number, v: number): void {
    this.field(id, 6);
    this.zigzag(v);
  }
  binary(id: number, s: string): void {
    this.field(id, 8);
    this.rawBinary(s);
  }
  rawBinary(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.varint(b.length);
    this.bytes.push(...b);
  }
  listHeader(id: number, elemType: number, size: number): void {
    this.field(id, 9);
    if (size < 15) this.bytes.push((size << 4) | elemType);
    else {
      this.bytes.push(0xf0 | elemType);
      this.varint(size);
    }
  }
  beginStruct(id?: number): void {
    if (id !== undefined) this.field(id, 12);
    this.last.push(0);
  }
  endStruct(): void {
    this.bytes.push(0);
    this.last.pop();
  }
}

export interface TinyColumn {
  name: string;
  values: (string | null)[];
}

/** Parquet file bytes holding `columns` (all the same length). */
export function tinyParquet(columns: TinyColumn[]): Buffer {
  const numRows = columns[0].values.length;
  const out: number[] = [...Buffer.from('PAR1')];
  const chunks: { offset: number; size: number; nullable: boolean }[] = [];

  for (const col of columns) {
    const nullable = col.values.some((v) => v === null);
    const page: number[] = [];
    if (nullable) {
      // Definition levels: RLE/bit-packed hybrid, bit width 1, one bit-packed run of 8-value groups,
      // prefixed by its byte length (data page v1).
      const groups = Math.ceil(numRows / 8);
      const levels = [(groups << 1) | 1];
      for (let g = 0; g < groups; g++) {
        let byte = 0;
        for (let k = 0; k < 8; k++) if (col.values[g * 8 + k] != null && g * 8 + k < numRows) byte |= 1 << k;
        levels.push(byte);
      }
      const len = Buffer.alloc(4);
      len.writeUInt32LE(levels.length);
      page.push(...len, ...levels);
    }
    for (const v of col.values) {
      if (v === null) continue;
      const b = Buffer.from(v, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      page.push(...len, ...b);
    }
    const h = new Thrift();
    h.beginStruct();
    h.i32(1, 0); // DATA_PAGE
    h.i32(2, page.length);
    h.i32(3, page.length);
    h.beginStruct(5);
    h.i32(1, numRows);
    h.i32(2, 0); // PLAIN
    h.i32(3, 3); // RLE
    h.i32(4, 3); // RLE
    h.endStruct();
    h.endStruct();
    chunks.push({ offset: out.length, size: h.bytes.length + page.length, nullable });
    out.push(...h.bytes, ...page);
  }

  const m = new Thrift();
  m.beginStruct();
  m.i32(1, 1);
  m.listHeader(2, 12, columns.length + 1);
  m.beginStruct();
  m.binary(4, 'schema');
  m.i32(5, columns.length);
  m.endStruct();
  columns.forEach((col, i) => {
    m.beginStruct();
    m.i32(1, 6); // BYTE_ARRAY
    m.i32(3, chunks[i].nullable ? 1 : 0); // OPTIONAL : REQUIRED
    m.binary(4, col.name);
    m.i32(6, 0); // UTF8
    m.endStruct();
  });
  m.i64(3, numRows);
  m.listHeader(4, 12, 1);
  m.beginStruct(); // RowGroup
  m.listHeader(1, 12, columns.length);
  columns.forEach((col, i) => {
    m.beginStruct(); // ColumnChunk
    m.i64(2, chunks[i].offset);
    m.beginStruct(3); // ColumnMetaData
    m.i32(1, 6);
    m.listHeader(2, 5, 2);
    m.zigzag(0);
    m.zigzag(3);
    m.listHeader(3, 8, 1);
    m.rawBinary(col.name);
    m.i32(4, 0); // UNCOMPRESSED
    m.i64(5, numRows);
    m.i64(6, chunks[i].size);
    m.i64(7, chunks[i].size);
    m.i64(9, chunks[i].offset);
    m.endStruct();
    m.endStruct();
  });
  m.i64(2, chunks.reduce((s, c) => s + c.size, 0));
  m.i64(3, numRows);
  m.endStruct();
  m.endStruct();

  const len = Buffer.alloc(4);
  len.writeUInt32LE(m.bytes.length);
  out.push(...m.bytes, ...len, ...Buffer.from('PAR1'));
  return Buffer.from(out);
}
