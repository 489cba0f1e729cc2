import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { LayerlabError } from '../util/errors.js';

/**
 * The string column `field` of a parquet file, in row order, at most `maxDocs` rows. Only the requested
 * rows of the one column are decoded (hyparquet skips other columns and later row groups).
 * hyparquet-compressors adds the codecs hyparquet lacks on its own (zstd, gzip, brotli, lz4).
 */
export async function readParquetColumn(path: string, field: string, maxDocs?: number): Promise<string[]> {
  let file: AsyncBuffer;
  let metadata: FileMetaData;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw new LayerlabError(`not a valid parquet file (${errText(e)})`, path);
  }
  const columns = topLevelColumns(metadata);
  if (!columns.includes(field)) {
    throw new LayerlabError(`parquet file has no column "${field}"; its columns are: ${columns.join(', ') || '(none)'}`, path);
  }
  const numRows = Number(metadata.num_rows);
  const rowEnd = maxDocs === undefined ? numRows : Math.min(maxDocs, numRows);
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file, metadata, columns: [field], rowStart: 0, rowEnd, compressors, parsers: { stringFromBytes: strictUtf8(path, field) } });
  } catch (e) {
    if (e instanceof LayerlabError) throw e;
    throw new LayerlabError(`corrupt parquet data in column "${field}" (${errText(e)})`, path);
  }
  if (rows.length !== rowEnd) {
    // A footer that promises more rows than the pages hold is a damaged file, not a short corpus.
    throw new LayerlabError(`corrupt parquet file: expected ${rowEnd} rows of "${field}", decoded ${rows.length}`, path);
  }
  return rows.map((row, i) => {
    const v = row[field];
    if (typeof v !== 'string') {
      throw new LayerlabError(`row ${i} of column "${field}" is ${v === null || v === undefined ? 'null' : `a ${typeof v}`}, not text`, path);
    }
    return v;
  });
}

/**
 * String decoding that rejects invalid UTF-8 (as plain text and JSONL are rejected) instead of the
 * library's default, which turns bad bytes into U+FFFD inside documents.
 */
function strictUtf8(path: string, field: string): (bytes: Uint8Array) => string | undefined {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return (bytes) => {
    if (!bytes) return undefined;
    try {
      return decoder.decode(bytes);
    } catch {
      throw new LayerlabError(`column "${field}" holds text that is not valid UTF-8`, path);
    }
  };
}

function topLevelColumns(metadata: FileMetaData): string[] {
  try {
    return parquetSchema(metadata).children.map((c) => c.element.name);
  } catch {
    return metadata.schema.slice(1).map((s) => s.name);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
