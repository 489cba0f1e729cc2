#!/usr/bin/env node
import { Command } from 'commander';
import { layerlabVersion } from '../util/package-root.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerForward } from './commands/forward.js';
import { registerGenerate } from './commands/generate.js';
import { registerInspect } from './commands/inspect.js';
import { registerPaper } from './commands/paper.js';
import { registerReport } from './commands/report.js';
import { registerStages } from './commands/stages.js';
import { registerSweep } from './commands/sweep.js';

const program = new Command();
program
  .name('layerlab')
  .description('Take decoder-only language models apart layer by layer (Lad et al., "The Remarkable Robustness of LLMs: Stages of Inference?")')
  .version(layerlabVersion)
  .showHelpAfterError();

registerInspect(program);
registerForward(program);
registerGenerate(program);
registerSweep(program);
registerStages(program);
registerReport(program);
registerPaper(program);
registerEvaluate(program);

await program.parseAsync(process.argv);
