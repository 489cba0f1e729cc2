import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { LayerlabError } from '../util/errors.js';
import { sha256File } from './digest.js';
import { readParquetColumn } from './parquet-docs.js';
import { CORPUS_FIX } from '../util/fix-hints.js';

export type DocumentFormat = 'text' | 'jsonl' | 'parquet';

export interface DocumentSet {
  docs: string[];
  format: DocumentFormat;
  /** sha256 (hex) of the whole file, even when maxDocs stops reading early: it identifies the corpus. */
  sha256: string;
  bytes: number;
}

export interface ReadDocumentsOptions {
  /** Field (JSONL) or column (parquet) holding the text; default "text". Ignored for plain text. */
  textField?: string;
  /** Keep only the first maxDocs documents, reading no further than needed. */
  maxDocs?: number;
}

/** The format a path's extension implies; anything unrecognised is plain text. */
export function documentFormat(path: string): DocumentFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') return 'jsonl';
  if (ext === '.parquet') return 'parquet';
  return 'text';
}

/**
 * A corpus as a list of documents, in file order.
 * - plain text: documents separated by one or more blank lines, each trimmed;
 * - JSONL: one JSON object per line, the document in `textField` (kept verbatim: whitespace matters to
 *   tokenizers); blank lines are skipped;
 * - parquet: the string column `textField`.
 */
export async function readDocuments(path: string, opts: ReadDocumentsOptions = {}): Promise<DocumentSet> {
  const field = opts.textField ?? 'text';
  const maxDocs = opts.maxDocs;
  if (maxDocs !== undefined && !(Number.isInteger(maxDocs) && maxDocs >= 1)) {
    throw new LayerlabError(`maxDocs must be a positive integer, got ${maxDocs}`, path);
  }
  if (field === '') throw new LayerlabError('textField must not be empty', path);

  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new LayerlabError('is a directory, expected a corpus file', path);
    size = st.size;
  } catch (e) {
    if (e instanceof LayerlabError) throw e;
    throw new LayerlabError(describeFsError(e, 'corpus file'), path);
  }
  if (size === 0) throw new LayerlabError('corpus file is empty', path);

  let digest: { sha256: string; bytes: number };
  try {
    digest = await sha256File(path);
  } catch (e) {
    throw new LayerlabError(describeFsError(e, 'corpus file'), path);
  }

  const format = documentFormat(path);
  let docs: string[];
  if (format === 'parquet') docs = await readParquetColumn(path, field, maxDocs);
  else if (format === 'jsonl') docs = await readJsonl(path, field, maxDocs);
  else docs = await readText(path, maxDocs);

  if (docs.length === 0) throw new LayerlabError(`no documents found (read as ${format})`, path);
  return { docs, format, ...digest };
}

async function readText(path: string, maxDocs: number | undefined): Promise<string[]> {
  let text: string;
  try {
    // fatal: a binary file or another encoding is reported rather than decoded into U+FFFD garbage.
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(path));
  } catch (e) {
    if (e instanceof TypeError) throw new LayerlabError('plain-text corpus is not valid UTF-8', path);
    throw new LayerlabError(describeFsError(e, 'corpus file'), path);
  }
  // A "blank" line may hold spaces or tabs; \s* spans any run of them, so several blank lines are one break.
  const docs = text.replace(/\r\n?/g, '\n').split(/\n\s*\n/).map((d) => d.trim()).filter((d) => d.length > 0);
  return maxDocs === undefined ? docs : docs.slice(0, maxDocs);
}

async function readJsonl(path: string, field: string, maxDocs: number | undefined): Promise<string[]> {
  const docs: string[] = [];
  const stream = createReadStream(path);
  const decoded = Readable.from(decodeUtf8Strictly(stream, path));
  const lines = createInterface({ input: decoded, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const raw of lines) {
      lineNo++;
      // A UTF-8 byte-order mark is not JSON; drop it from the first line.
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (line.trim() === '') continue;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw new LayerlabError(`line ${lineNo} is not valid JSON (${(e as Error).message})`, path);
      }
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
        throw new LayerlabError(`line ${lineNo} is not a JSON object`, path);
      }
      if (!Object.prototype.hasOwnProperty.call(obj, field)) {
        throw new LayerlabError(`line ${lineNo} has no "${field}" field`, path);
      }
      const value = (obj as Record<string, unknown>)[field];
      if (typeof value !== 'string') {
        throw new LayerlabError(`line ${lineNo}: field "${field}" is ${value === null ? 'null' : `a ${typeof value}`}, not a string`, path);
      }
      docs.push(value);
      if (maxDocs !== undefined && docs.length >= maxDocs) break;
    }
  } catch (e) {
    if (e instanceof LayerlabError) throw e;
    throw new LayerlabError(describeFsError(e, 'corpus file'), path);
  } finally {
    lines.close();
    decoded.destroy();
    stream.destroy();
  }
  return docs;
}

/**
 * Decodes a byte stream as UTF-8 chunk by chunk, rejecting invalid bytes (as plain text is) instead of
 * letting them turn into U+FFFD inside documents.
 */
async function* decodeUtf8Strictly(chunks: AsyncIterable<Buffer>, path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of chunks) yield decoder.decode(chunk, { stream: true });
    yield decoder.decode();
  } catch (e) {
    if (e instanceof TypeError) throw new LayerlabError('JSONL corpus is not valid UTF-8', path);
    // Stopping early (maxDocs) closes the file under this reader: nothing more is wanted, not an error.
    if ((e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw e;
  }
}

/** One line for an fs failure: the code users can act on, not a stack trace. */
export function describeFsError(e: unknown, what: string): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return `${what} not found${what === 'corpus file' ? CORPUS_FIX : ''}`;
  if (code === 'EACCES' || code === 'EPERM') return `${what} is not readable (permission denied)`;
  if (code === 'EISDIR') return `is a directory, expected a ${what}`;
  return `cannot read ${what} (${e instanceof Error ? e.message : String(e)})`;
}
