import { LayerlabError } from '../util/errors.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Structural checks on tokenizer.json that the tokenizer library skips: it silently accepts merges that
 * are not pairs or name unknown tokens, negative or fractional ids and ids shared by two tokens, and
 * would then produce ids the model cannot embed. Rules follow the reference (Rust) `tokenizers` BPE
 * builder: every merge is two tokens of the vocabulary whose concatenation is also in it. Ids of the
 * vocabulary and added tokens together must be exactly 0..n-1 (no holes, no token sharing an id).
 */
export function validateTokenizerJson(tok: Json, path: string): void {
  const fail = (msg: string): never => {
    throw new LayerlabError(`malformed tokenizer.json: ${msg}`, path);
  };
  const model = tok.model;
  if (!isObject(model) || typeof model.type !== 'string') fail("no 'model' object with a 'type'");
  const m = model as Json;
  const ids = new Map<number, string>();
  const claim = (id: unknown, token: string, where: string): void => {
    if (!isId(id)) fail(`${where} '${token}' has id ${JSON.stringify(id)}, not a non-negative integer`);
    const other = ids.get(id as number);
    if (other !== undefined && other !== token) fail(`${where} '${token}' and '${other}' share id ${id}`);
    ids.set(id as number, token);
  };

  let vocab: Map<string, number> | undefined;
  if (m.type === 'Unigram') {
    if (!Array.isArray(m.vocab)) fail('Unigram model.vocab must be a list of [token, score] pairs');
    (m.vocab as unknown[]).forEach((e, i) => {
      if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !Number.isFinite(e[1])) fail(`Unigram model.vocab entry ${i} is not a [token, score] pair`);
      claim(i, (e as [string])[0], 'vocabulary token');
    });
  } else {
    if (!isObject(m.vocab)) fail(`${m.type} model.vocab must be an object of token -> id`);
    vocab = new Map();
    for (const [token, id] of Object.entries(m.vocab as Json)) {
      claim(id, token, 'vocabulary token');
      vocab.set(token, id as number);
    }
  }

  if (m.type === 'BPE') checkMerges(m, vocab!, fail);
  // Text the vocabulary cannot cover becomes unk_token; one outside the vocabulary would become no id at all.
  if (vocab && m.unk_token !== undefined && m.unk_token !== null) {
    if (typeof m.unk_token !== 'string') fail(`model.unk_token must be a string, got ${JSON.stringify(m.unk_token)}`);
    if (!vocab.has(m.unk_token as string)) fail(`model.unk_token '${m.unk_token}' is not in the vocabulary`);
  }

  if (tok.added_tokens !== undefined && tok.added_tokens !== null) {
    if (!Array.isArray(tok.added_tokens)) fail('added_tokens must be a list');
    for (const [i, a] of (tok.added_tokens as unknown[]).entries()) {
      if (!isObject(a) || typeof a.content !== 'string') fail(`added_tokens[${i}] has no string 'content'`);
      const at = a as Json;
      claim(at.id, at.content as string, 'added token');
    }
  }

  const n = ids.size;
  for (const id of ids.keys())
    if (id >= n) {
      let hole = 0;
      while (ids.has(hole)) hole++;
      fail(`token ids have holes: ${n} tokens but id ${id} is used and id ${hole} is not (ids must be 0..${n - 1})`);
    }
}

function checkMerges(m: Json, vocab: Map<string, number>, fail: (msg: string) => never): void {
  if (m.merges === undefined || m.merges === null) return;
  if (!Array.isArray(m.merges)) fail('BPE model.merges must be a list');
  const prefix = typeof m.continuing_subword_prefix === 'string' ? m.continuing_subword_prefix : '';
  (m.merges as unknown[]).forEach((merge, i) => {
    let pair: unknown[];
    if (typeof merge === 'string') pair = merge.split(' ');
    else if (Array.isArray(merge)) pair = merge;
    else fail(`merge ${i} is ${JSON.stringify(merge)}, neither "a b" nor ["a", "b"]`);
    if (pair!.length !== 2 || !pair!.every((p) => typeof p === 'string' && p.length > 0)) fail(`merge ${i} ${JSON.stringify(merge)} is not a pair of two tokens`);
    const [a, b] = pair! as string[];
    for (const t of [a, b]) if (!vocab.has(t)) fail(`merge ${i} ${JSON.stringify(merge)} names '${t}', which is not in the vocabulary`);
    const joined = a + (prefix && b.startsWith(prefix) ? b.slice(prefix.length) : b);
    if (!vocab.has(joined)) fail(`merge ${i} ${JSON.stringify(merge)} makes '${joined}', which is not in the vocabulary`);
  });
}
