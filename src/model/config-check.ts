import { LayerlabError } from '../util/errors.js';
import type { ModelConfig } from './config.js';

/** Longest typed array V8 allocates (elements). */
const MAX_TENSOR_ELEMENTS = 2 ** 32 - 1;

/**
 * Checks a parsed config for sizes no allocation can hold: each canonical tensor must fit one typed
 * array. Field-level checks
 * (positive sizes, epsilons, theta, divisibility) happen while parsing, in ConfigFields.
 */
export function checkConfigSizes(c: ModelConfig, file: string): void {
  const D = c.dModel;
  const tensors: [string, number][] = [
    ['embedding (vocab_size x hidden size)', c.vocabSize * D],
    ['fused q/k/v projection (heads x head_dim x hidden size)', (c.nHeads + 2 * c.nKvHeads) * c.dHead * D],
    ['MLP input projection (intermediate size x hidden size)', (c.gatedMlp ? 2 : 1) * c.dMlp * D],
    ...(c.positional === 'learned' ? [['position embedding (context x hidden size)', c.nCtx * D] as [string, number]] : []),
  ];
  for (const [what, n] of tensors)
    if (n > MAX_TENSOR_ELEMENTS) throw new LayerlabError(`sizes give a ${what} of ${n} values, more than one array can hold (${MAX_TENSOR_ELEMENTS}); check the config's sizes`, file);
}

/**
 * A checkpoint that stores more blocks than the config's layer count is an error, not a warning: the
 * usual cause is a config.json from another model of the family, and running would silently analyse a
 * truncated network. (To run a subset of blocks on purpose, use a plan.) Block tensors are recognised by
 * the `h.N.` / `layers.N.` segment every supported family uses.
 */
export function checkNoUnusedLayers(names: string[], nLayers: number, dir: string): void {
  let highest = -1, example = '';
  for (const n of names) {
    const m = /(?:^|\.)(?:h|layers)\.(\d+)\./.exec(n);
    if (m && Number(m[1]) > highest) {
      highest = Number(m[1]);
      example = n;
    }
  }
  if (highest >= nLayers)
    throw new LayerlabError(
      `the checkpoint stores ${highest + 1} blocks (e.g. '${example}') but config.json declares ${nLayers} layers; ` +
        'the config does not belong to these weights (to run fewer blocks, keep the config and pass a plan)',
      dir,
    );
}
