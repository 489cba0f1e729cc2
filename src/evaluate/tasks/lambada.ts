/**
 * lambada_openai (lm-eval lambada_openai.yaml): context = text.split(' ')[:-1] joined by ' ', target =
 * ' ' + the last space-separated piece (U+0020 only, so the target may contain newlines). Reads the HF
 * record {text} or llm-foundry's {context, continuation} (text = context + ' ' + continuation).
 */
import { stringField } from './fields.js';
import type { TaskDefinition } from './types.js';

export function lambadaStrings(text: string): { context: string; target: string } {
  const parts = text.split(' ');
  return { context: parts.slice(0, -1).join(' '), target: ' ' + parts[parts.length - 1] };
}

export const lambadaOpenai: TaskDefinition = {
  name: 'lambada_openai',
  kind: 'loglikelihood',
  folder: 'lambada',
  files: ['lambada_openai.jsonl'],
  format: 'JSONL, one passage per line: {"text": ...} (HF EleutherAI/lambada_openai) or {"context": ..., "continuation": ...} (llm-foundry)',
  metrics: ['perplexity', 'acc'],
  toItem(r, id) {
    const text = 'text' in r ? stringField(r, 'text') : stringField(r, 'context') + ' ' + stringField(r, 'continuation');
    const { context, target } = lambadaStrings(text);
    return { id, context, continuations: [target] };
  },
};
