import { CommanderError, type Command } from 'commander';
import { LayerlabError } from '../util/errors.js';

/** Exit status of every user mistake (bad flag, bad file, unusable --out); 1 is left to --strict reports. */
export const USAGE_ERROR = 2;

const FS_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or folder', EACCES: 'permission denied', EPERM: 'operation not permitted', EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder', EROFS: 'read-only file system', ENOSPC: 'no space left on the device',
  EEXIST: 'already exists', ENAMETOOLONG: 'name too long', ELOOP: 'too many symlinks', EDQUOT: 'disk quota exceeded', ENOTEMPTY: 'folder not empty',
};

/**
 * The one line a user sees for an error they can fix: a LayerlabError's message, or a file-system error
 * (missing parent, permission, full disk) as "cannot <syscall> <path>: <reason>". Undefined for bugs,
 * which keep their stack trace.
 */
export function userErrorLine(e: unknown): string | undefined {
  if (e instanceof LayerlabError) return e.message.replace(/\s*\n\s*/g, ' ');
  const err = e as (NodeJS.ErrnoException & { dest?: string }) | undefined;
  if (err && typeof err.code === 'string' && err.code in FS_PROBLEMS && typeof err.syscall === 'string')
    return `cannot ${err.syscall} ${err.path ?? ''}${err.dest ? ` -> ${err.dest}` : ''}: ${FS_PROBLEMS[err.code]}`;
  return undefined;
}

/**
 * Wraps a command action: a user error prints "layerlab: <message>" and exits with status 2, no stack
 * trace; anything else is a bug and is shown in full.
 */
export function runCommand<A extends unknown[]>(action: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (e) {
      const line = userErrorLine(e);
      if (line === undefined) throw e;
      process.stderr.write(`layerlab: ${line}\n`);
      process.exitCode = USAGE_ERROR;
    }
  };
}

/**
 * Parses and runs the CLI, returning the exit status instead of exiting, so tests can run it in-process.
 * The program must be built with `.exitOverride()`: commander's own usage errors (unknown option, missing
 * value) then come here and exit with status 2 too; --help and --version with 0.
 */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : USAGE_ERROR;
    const line = userErrorLine(e);
    if (line === undefined) throw e;
    process.stderr.write(`layerlab: ${line}\n`);
    return USAGE_ERROR;
  }
  return Number(process.exitCode ?? 0);
}

// Flag parsers live in args.ts; re-exported for the commands that import them from here.
export { parsePlanList, parsePositiveInt } from './args.js';
