/**
 * hellaswag (lm-eval hellaswag.yaml + utils.py, unchanged since 2024-02): query = preprocess(
 * activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), choices = preprocess(ending) each,
 * continuation i = " " + choices[i], gold = int(label). The record's own `ctx` field is not used.
 */
import { indexField, stringField, stringList } from './fields.js';
import { pyCapitalize, pyStrip } from './python-text.js';
import type { TaskDefinition } from './types.js';

/**
 * utils.preprocess: strip, " [title]" -> ". ", drop every non-greedy [...] (Python's `.` stops only at
 * \n, hence [^\n]), then one left-to-right pass of "  " -> " ". Nothing is stripped afterwards, so an
 * ending that began with "[title]" keeps a leading space.
 */
export function hellaswagPreprocess(text: string): string {
  return pyStrip(text).replaceAll(' [title]', '. ').replace(/\[[^\n]*?\]/g, '').replaceAll('  ', ' ');
}

export const hellaswag: TaskDefinition = {
  name: 'hellaswag',
  kind: 'multiple_choice',
  folder: 'hellaswag',
  files: ['hellaswag_val.jsonl', 'hellaswag.jsonl', 'hellaswag_val_subset1000.jsonl'],
  format: 'JSONL, one example per line with the HF Rowan/hellaswag fields {"activity_label", "ctx_a", "ctx_b", "endings": [...], "label"} (validation split)',
  metrics: ['acc', 'acc_norm'],
  toItem(r, id) {
    const ctx = stringField(r, 'ctx_a') + ' ' + pyCapitalize(stringField(r, 'ctx_b'));
    const query = hellaswagPreprocess(stringField(r, 'activity_label') + ': ' + ctx);
    const choices = stringList(r, 'endings').map(hellaswagPreprocess);
    return { id, context: query, continuations: choices.map((c) => ' ' + c), choices, gold: indexField(r, 'label', choices.length) };
  },
};
