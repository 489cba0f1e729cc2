#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { layerlabVersion } from '../util/package-root.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerForward } from './commands/forward.js';
import { registerGenerate } from './commands/generate.js';
import { registerInspect } from './commands/inspect.js';
import { registerPaper } from './commands/paper.js';
import { registerQueue } from './commands/queue.js';
import { registerReport } from './commands/report.js';
import { registerStages } from './commands/stages.js';
import { registerSweep } from './commands/sweep.js';
import { registerWorker } from './commands/worker.js';
import { runProgram } from './run-command.js';
import { redactQueueArgs } from '../queue/redis-url.js';

/** The CLI; exported so tests can run it in-process (`runProgram(program, argv)`). */
export const program = new Command();
program
  .name('layerlab')
  .description('Take decoder-only language models apart layer by layer (Lad et al., "The Remarkable Robustness of LLMs: Stages of Inference?")')
  .version(layerlabVersion)
  .configureOutput({ outputError: (text, write) => write(`layerlab: ${text.replace(/^error: /, '')}`) })
  .showHelpAfterError('(layerlab <command> --help shows the options)')
  .exitOverride(); // usage errors exit with status 2 (runProgram), inherited by every command below

registerInspect(program);
registerForward(program);
registerGenerate(program);
registerSweep(program);
registerStages(program);
registerReport(program);
registerPaper(program);
registerEvaluate(program);
registerWorker(program);
registerQueue(program);

// Manifests, run locks and report headers record process.argv; once the options are parsed, the queue
// URL's password is replaced by *** there (the commands already hold the real URL).
program.hook('preAction', () => {
  process.argv = [...process.argv.slice(0, 2), ...redactQueueArgs(process.argv.slice(2))];
});

// Run when executed (also through the npm bin symlink), not when imported.
const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};
if (process.argv[1] && real(process.argv[1]) === real(fileURLToPath(import.meta.url))) process.exitCode = await runProgram(program, process.argv);
