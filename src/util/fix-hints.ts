/**
 * The command that fixes a missing model, corpus or tokenizer, appended to the error that reports it:
 * a newcomer reads what to type next instead of searching the docs. Each ends the message.
 */
import { BUNDLED } from '../load/bundled.js';

const q = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);

/** A model folder or Hub id that is not there. */
export const MODEL_FIX = `; to fix, download a model: \`layerlab inspect --model openai-community/gpt2\` (then --model openai-community/gpt2), or try the bundled one: \`layerlab paper --out runs/demo\``;

/** A corpus file that is not there. */
export const CORPUS_FIX = `; to fix, rerun with --data naming a corpus (plain text, .jsonl or .parquet), e.g. the bundled one: \`--data ${q(BUNDLED.corpus)}\``;

/** A model folder without tokenizer.json. */
export const TOKENIZER_FIX = `; to fix, copy tokenizer.json from the model's repository into the folder, or download model and tokenizer together: \`layerlab inspect --model ORG/NAME\``;
