import type { TokenEncoder } from './windows.js';

/**
 * Longest text (UTF-16 code units) handed to the tokenizer in one call. Tokenizer time and memory grow
 * with the text of a call, not with the tokens kept, so a document is tokenized in pieces of at most this
 * size and only as far as needed: memory and time follow --max-tokens, not the document.
 */
export const TOKENIZE_CHUNK_CHARS = 64 * 1024;

/** Text put before every piece after the first, then cut off again (see encodeBounded). */
const ANCHOR = 'a';

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x85 || c === 0x1680 || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f;

/**
 * Where to end the piece that starts at `start`: before a whitespace character that begins a word
 * (whitespace followed by non-whitespace), where every pre-tokenizer in use (GPT-2's byte-level regex,
 * SentencePiece's metaspace) starts a new pre-token anyway, so the pieces tokenize as the whole does.
 * Without such a place in reach, before any whitespace; without whitespace, a hard cut that never
 * separates a surrogate pair.
 */
function pieceEnd(text: string, start: number, max: number): number {
  const limit = start + max;
  if (limit >= text.length) return text.length;
  let anySpace = -1;
  for (let i = limit; i > start; i--) {
    if (!isSpace(text.charCodeAt(i))) continue;
    if (i + 1 < text.length && !isSpace(text.charCodeAt(i + 1))) return i;
    if (anySpace < 0) anySpace = i;
  }
  if (anySpace > start) return anySpace;
  const c = text.charCodeAt(limit - 1);
  return c >= 0xd800 && c <= 0xdbff ? limit - 1 : limit;
}

/** The pieces of `text`, in order, each at most `max` code units. */
export function* textPieces(text: string, max = TOKENIZE_CHUNK_CHARS): Generator<string> {
  for (let start = 0; start < text.length; ) {
    const end = pieceEnd(text, start, max);
    yield text.slice(start, end);
    start = end;
  }
}

/**
 * Token ids of `text`, at least `need` of them when the text has that many (all of them when `need` is
 * Infinity), tokenizing piece by piece and stopping as soon as enough are read. A piece after the first
 * is tokenized behind a one-letter anchor whose tokens are then removed: tokenizers that mark the start
 * of their input (SentencePiece's leading '▁') then treat the piece as the middle of a text, as it is.
 */
export function encodeBounded(tok: TokenEncoder, text: string, need: number, max = TOKENIZE_CHUNK_CHARS): number[] {
  if (text.length <= max) return tok.encode(text);
  const out: number[] = [];
  let anchorIds: number[] | undefined;
  let first = true;
  for (const piece of textPieces(text, max)) {
    if (first) {
      for (const id of tok.encode(piece)) out.push(id);
      first = false;
    } else {
      anchorIds ??= tok.encode(ANCHOR);
      for (const id of encodeMidText(tok, piece, anchorIds)) out.push(id);
    }
    if (out.length >= need) break;
  }
  return out;
}

/**
 * Token ids of `piece` read as the middle of a longer text (it starts at a whitespace character that
 * begins a word, see pieceEnd): tokenized behind the one-letter anchor, whose tokens are then removed, so
 * tokenizers that mark the start of their input treat it as the text around it does.
 */
export function encodeMidText(tok: TokenEncoder, piece: string, anchorIds: number[] = tok.encode(ANCHOR)): number[] {
  const ids = tok.encode(ANCHOR + piece);
  const anchored = anchorIds.length > 0 && anchorIds.every((id, i) => ids[i] === id);
  return anchored ? ids.slice(anchorIds.length) : tok.encode(piece);
}
