/**
 * The commands of README.md: every line of its ```sh blocks, comments and prompts stripped. The README
 * tests run each of them (test/readme/readme-commands.test.ts, test/package/npm-pack.test.ts); a
 * command nobody runs fails the test that sorts them.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './shared.js';

/** The README's commands, each run by a test. */
export const PAPER_BUNDLED = 'bash scripts/paper.sh';
export const PAPER_HUB = 'bash scripts/paper.sh openai-community/gpt2 assets/corpus.jsonl runs/gpt2 --max-tokens 16384';
export const TESTS = 'bash scripts/test.sh';
/** Run in a temporary folder by test/package/npm-pack.test.ts. */
export const PACKAGE_COMMANDS = ['npm pack', 'npm install ./layerlab-0.1.0.tgz', 'npx layerlab --help', 'npx layerlab paper --out r'];

export function readmeCommands(): string[] {
  const md = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const out: string[] = [];
  for (const block of md.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const line of block[1]!.split('\n')) {
      const cmd = line.replace(/(^|\s)#.*$/, '').trim();
      if (cmd) out.push(cmd);
    }
  }
  return out;
}

/** Runs a command line asynchronously (tests that serve a fake hub must keep their event loop free). */
export function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 600_000 });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
