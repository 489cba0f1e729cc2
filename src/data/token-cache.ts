/**
 * Tokenize each document once per run: `layerlab paper` windows the same corpus twice (sweep windows
 * of up to 2048 tokens, stage windows of up to 512), and the token ids of a document do not depend on
 * the window length. The cache lives as long as the run.
 */
import type { TokenEncoder } from './windows.js';

export function memoizedEncoder(tok: TokenEncoder): TokenEncoder & { readonly calls: number } {
  const cache = new Map<string, number[]>();
  let calls = 0;
  return {
    encode(text: string): number[] {
      let ids = cache.get(text);
      if (!ids) {
        calls++;
        ids = tok.encode(text);
        cache.set(text, ids);
      }
      return ids;
    },
    get calls() {
      return calls;
    },
  };
}
