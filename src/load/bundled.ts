/**
 * The model and corpus that ship inside the package (assets/, see assets/ASSETS.md), so that
 * `layerlab paper --out DIR` shows the whole pipeline with nothing downloaded: kjv-tiny, a small
 * Llama-architecture model trained by scripts/assets/train-tiny-model.py on the King James Bible, and
 * held-out chapters of the same text.
 */
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

export const BUNDLED = {
  name: 'kjv-tiny',
  modelDir: join(packageRoot, 'assets', 'kjv-tiny'),
  corpus: join(packageRoot, 'assets', 'corpus.jsonl'),
  /**
   * Corpus tokens the bundled run reads: enough for stable per-layer means (the standard error of the
   * deletion KL is a few percent of the mean), small enough for about a minute on 2 cores.
   */
  maxTokens: 16384,
} as const;
