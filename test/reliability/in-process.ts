import { program } from '../../src/cli/main.js';
import { runProgram } from '../../src/cli/run-command.js';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** An exception that escaped the CLI: a bug (it would be a stack trace in a real run). */
  crash?: unknown;
}

/**
 * Runs `layerlab ...args` in this process (milliseconds instead of a Node start per case), capturing
 * what it writes. The exit status is what the real CLI would exit with.
 */
export async function runInProcess(args: string[]): Promise<InProcessResult> {
  const out: string[] = [];
  const err: string[] = [];
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const capture = (sink: string[]) => ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  let code = -1;
  let crash: unknown;
  try {
    code = await runProgram(program, ['node', 'layerlab', ...args]);
  } catch (e) {
    crash = e;
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    process.exitCode = 0;
  }
  return { code, stdout: out.join(''), stderr: err.join(''), crash };
}
