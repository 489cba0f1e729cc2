/**
 * arc_easy (lm-eval arc_easy.yaml): context "Question: {question}\nAnswer:", continuation i = " " +
 * choices.text[i], gold = position of answerKey in choices.label. Reads the HF record {question,
 * choices: {text, label}, answerKey} or llm-foundry's {query: "Question: ...", choices: [...], gold}.
 */
import { indexField, stringField, stringList } from './fields.js';
import type { TaskDefinition } from './types.js';

export const arcEasy: TaskDefinition = {
  name: 'arc_easy',
  kind: 'multiple_choice',
  folder: 'arc_easy',
  files: ['arc_easy.jsonl'],
  format: 'JSONL, one question per line: {"question", "choices": {"text": [...], "label": [...]}, "answerKey"} (HF allenai/ai2_arc) or {"query": "Question: ...", "choices": [...], "gold": int} (llm-foundry)',
  metrics: ['acc', 'acc_norm'],
  toItem(r, id) {
    let question: string, choices: string[], gold: number;
    if ('question' in r) {
      question = stringField(r, 'question');
      const c = r.choices as Record<string, unknown> | undefined;
      if (!c || typeof c !== 'object' || Array.isArray(c)) throw new Error('field "choices" must be {"text": [...], "label": [...]}');
      choices = stringList(c, 'text');
      const labels = stringList(c, 'label');
      const key = stringField(r, 'answerKey');
      gold = labels.indexOf(key);
      if (gold < 0 || labels.length !== choices.length) throw new Error(`answerKey ${JSON.stringify(key)} is not one of choices.label`);
    } else {
      const query = stringField(r, 'query');
      if (!query.startsWith('Question: ')) throw new Error('field "query" must start with "Question: "');
      question = query.slice('Question: '.length);
      choices = stringList(r, 'choices');
      gold = indexField(r, 'gold', choices.length);
    }
    return { id, context: `Question: ${question}\nAnswer:`, continuations: choices.map((c) => ' ' + c), choices, gold };
  },
};
