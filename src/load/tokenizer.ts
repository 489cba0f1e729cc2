import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { LayerlabError } from '../util/errors.js';
import { validateTokenizerJson } from './tokenizer-check.js';
import { TOKENIZER_FIX } from '../util/fix-hints.js';

/** The text side of a model: what the CLI and analyses need, independent of the tokenizer library. */
export interface TextTokenizer {
  /** ids without any special tokens added */
  encode(text: string): number[];
  /** ids with the tokenizer's own special tokens (its post-processor, e.g. a Llama BOS), as HF's add_special_tokens=True */
  encodeWithSpecialTokens?(text: string): number[];
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** decode of a single id, as shown to a user (e.g. ' the') */
  tokenString(id: number): string;
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
}

type Json = Record<string, unknown>;

function readJson(path: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LayerlabError(`cannot read JSON (${(e as Error).message})`, path);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new LayerlabError('expected a JSON object', path);
  return parsed as Json;
}

/** tokenizer_config.json writes a special token either as a string or as a serialized AddedToken. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return undefined;
}

/**
 * Loads `dir/tokenizer.json` (plus `tokenizer_config.json` / `special_tokens_map.json` when present).
 * BOS/EOS ids come from the model config when given (that is what generation uses), else from the
 * tokenizer's own config. With the model's vocabSize, ids the model cannot embed are errors naming the
 * file and field (special tokens) or tokenizer.json (encoded text), never a crash deep in a forward pass.
 */
export function loadTokenizer(dir: string, modelConfig?: { bosTokenId?: number; eosTokenId?: number; vocabSize?: number }): TextTokenizer {
  const tokPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokPath)) {
    throw new LayerlabError(`no tokenizer.json in this model folder (commands that take --input-ids run without one)${TOKENIZER_FIX}`, dir);
  }
  const tokJson = readJson(tokPath);
  validateTokenizerJson(tokJson, tokPath);
  const cfgPath = join(dir, 'tokenizer_config.json');
  const cfg = existsSync(cfgPath) ? readJson(cfgPath) : {};
  const mapPath = join(dir, 'special_tokens_map.json');
  const specialMap = existsSync(mapPath) ? readJson(mapPath) : {};

  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tokJson, cfg);
  } catch (e) {
    throw new LayerlabError(`cannot build the tokenizer (${(e as Error).message})`, tokPath);
  }

  const modelVocab = modelConfig?.vocabSize;
  const lookup = (key: 'bos_token' | 'eos_token'): number | undefined => {
    const fromCfg = tokenText(cfg[key]);
    const text = fromCfg ?? tokenText(specialMap[key]);
    if (text === undefined) return undefined;
    const file = fromCfg !== undefined ? cfgPath : mapPath;
    const id = tok.token_to_id(text);
    if (id === undefined) throw new LayerlabError(`field '${key}' names ${JSON.stringify(text)}, which is not a token of tokenizer.json`, file);
    if (modelVocab !== undefined && id >= modelVocab)
      throw new LayerlabError(`field '${key}' ${JSON.stringify(text)} is token ${id}, outside the model's vocabulary (config.json vocab_size ${modelVocab})`, file);
    return id;
  };
  const bosTokenId = modelConfig?.bosTokenId ?? lookup('bos_token');
  const eosTokenId = modelConfig?.eosTokenId ?? lookup('eos_token');

  // Largest id + 1 rather than the map size: added tokens may leave gaps in the id range.
  let vocabSize = 0;
  for (const id of tok.get_vocab(true).values()) if (id + 1 > vocabSize) vocabSize = id + 1;

  // Lossless decoding: clean_up_tokenization_spaces would turn ' ,' into ',' and hide real tokens.
  // The library rejects an empty list (a prompt of only spaces encodes to none), so that is '' here; any
  // other failure of the library is a problem of this tokenizer.json, reported against it.
  const decode = (ids: number[], skip: boolean): string =>
    ids.length === 0 ? '' : library(() => tok.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false }));
  const library = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof LayerlabError) throw e;
      throw new LayerlabError(`the tokenizer failed (${(e as Error).message})`, tokPath);
    }
  };

  // Decoders such as SentencePiece's strip the leading space of the whole text, so a lone ' the' would
  // show as 'the'. Decoding after a fixed anchor token and cutting the anchor off keeps that space.
  const anchorIds = tok.encode('a', { add_special_tokens: false }).ids;
  const anchor = anchorIds.length === 1 ? anchorIds[0] : undefined;
  const anchorText = anchor === undefined ? '' : decode([anchor], false);

  const tokenString = (id: number): string => {
    const raw = tok.id_to_token(id);
    let s: string;
    if (anchor !== undefined) {
      const both = decode([anchor, id], false);
      s = both.startsWith(anchorText) ? both.slice(anchorText.length) : decode([id], false);
    } else {
      s = decode([id], false);
    }
    // A lone byte of a multi-byte character decodes to U+FFFD; its raw name (e.g. <0xE4>) says more.
    if (s.includes('\uFFFD') && raw !== undefined) return raw;
    return s;
  };

  return {
    encode: (text) => {
      const ids = library(() => tok.encode(text, { add_special_tokens: false }).ids);
      for (const id of ids) {
        if (!Number.isInteger(id)) throw new LayerlabError(`the tokenizer produced a non-id (${JSON.stringify(id)}) for this text`, tokPath);
        if (modelVocab !== undefined && id >= modelVocab)
          throw new LayerlabError(`the tokenizer produced id ${id} ('${tok.id_to_token(id)}'), outside the model's vocabulary (config.json vocab_size ${modelVocab})`, tokPath);
      }
      return ids;
    },
    encodeWithSpecialTokens: (text) => library(() => tok.encode(text, { add_special_tokens: true }).ids),
    decode: (ids, opts) => decode(ids, opts?.skipSpecialTokens ?? false),
    tokenString,
    vocabSize,
    bosTokenId,
    eosTokenId,
  };
}

/**
 * The BOS id every corpus window starts with (the model config's, else the tokenizer's); a model without
 * one is an error naming `dir`, since sweeps and analyses need it.
 */
export function requireBos(tokenizer: TextTokenizer, dir: string): number {
  if (tokenizer.bosTokenId === undefined)
    throw new LayerlabError('the model defines no BOS token (config.json bos_token_id or tokenizer_config.json bos_token); every window starts with one', dir);
  return tokenizer.bosTokenId;
}
