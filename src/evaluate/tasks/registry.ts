/** The benchmark tasks by lm-eval name, and reading a task's file from --task-dir. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { LayerlabError } from '../../util/errors.js';
import { arcEasy } from './arc-easy.js';
import { hellaswag } from './hellaswag.js';
import { lambadaOpenai } from './lambada.js';
import type { EvalItem, TaskDefinition } from './types.js';

export const TASKS: Record<string, TaskDefinition> = {
  [lambadaOpenai.name]: lambadaOpenai,
  [arcEasy.name]: arcEasy,
  [hellaswag.name]: hellaswag,
};

/** Parses "--tasks lambada_openai,arc_easy,hellaswag" (order kept, duplicates dropped). */
export function parseTasks(text: string, flag = '--tasks'): TaskDefinition[] {
  const names = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  if (names.length === 0) throw new LayerlabError(`${flag}: no tasks given (use ${Object.keys(TASKS).join(', ')})`);
  return names.map((n) => {
    const t = TASKS[n];
    if (!t) throw new LayerlabError(`${flag}: unknown task '${n}' (use ${Object.keys(TASKS).join(', ')})`);
    return t;
  });
}

/** Where a task's file is: DIR/<folder>/<file> or DIR/<file>, for the first of the task's file names found. */
export function taskFile(task: TaskDefinition, dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new LayerlabError('--task-dir is not a folder', dir);
  for (const f of task.files) for (const p of [join(dir, task.folder, f), join(dir, f)]) if (existsSync(p)) return p;
  throw new LayerlabError(
    `no data for task ${task.name}: expected ${task.files.map((f) => `${task.folder}/${f}`).join(' or ')} (or the file directly in the folder); format: ${task.format}`,
    dir,
  );
}

export interface TaskData {
  task: TaskDefinition;
  file: string;
  sha256: string;
  /** Records in the file (before --limit). */
  records: number;
  items: EvalItem[];
}

/** Reads a task file (every line a JSON record; blank lines skipped); the first `limit` items are kept. */
export function readTask(task: TaskDefinition, dir: string, limit?: number): TaskData {
  const file = taskFile(task, dir);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new LayerlabError(`cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LayerlabError(`is not UTF-8 text; expected ${task.format}`, file);
  }
  const items: EvalItem[] = [];
  let records = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw new LayerlabError(`line ${i + 1} is not JSON (${(e as Error).message}); expected ${task.format}`, file);
    }
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new LayerlabError(`line ${i + 1} is not a JSON object; expected ${task.format}`, file);
    if (limit === undefined || items.length < limit) {
      try {
        items.push(task.toItem(rec as Record<string, unknown>, records));
      } catch (e) {
        throw new LayerlabError(`line ${i + 1}: ${(e as Error).message}; expected ${task.format}`, file);
      }
    }
    records++;
  }
  if (records === 0) throw new LayerlabError(`no records; expected ${task.format}`, file);
  return { task, file, sha256: createHash('sha256').update(bytes).digest('hex'), records, items };
}
