/**
 * Job payloads: everything one job needs besides the model, as plain data that serializes compactly
 * (`encodeJob`: the token windows travel as raw int32 bytes) and carries no paths: a worker of issue 11
 * needs no access to the data file or the run folder. Runs build a payload per job and execute it from
 * the decoded bytes, so the in-process path is the path a worker takes.
 */
import { decodeState, encodeState } from '../results/state-codec.js';
import type { AnalysisName } from '../results/run-files.js';
import type { StagesOptions } from '../analyses/contract.js';

/** Token windows of one data shard: concatenated ids, each window's length, each window's document. */
export interface WindowsPayload {
  ids: Int32Array;
  lengths: Int32Array;
  docs: Int32Array;
}

export interface SweepJobPayload {
  kind: 'sweep';
  shard: number;
  group: number;
  /** The plans of this job's subtree, in plan order. */
  plans: number[][];
  windows: WindowsPayload;
  options: { maxBatchTokens: number; prefixCacheBytes: number };
}

export interface StreamJobPayload {
  kind: 'stages';
  shard: number;
  /** Streaming analyses this job feeds, in registry order. */
  analyses: AnalysisName[];
  windows: WindowsPayload;
  batchTokens: number;
  /** The options the streaming analyses read (no paths, no callbacks). */
  options: Pick<StagesOptions, 'protocol' | 'includeBosAttention' | 'attentionWindows' | 'repeatBlockLengths' | 'repeatDocs' | 'cka'>;
}

export type JobPayload = SweepJobPayload | StreamJobPayload;

export function packWindows(windows: readonly Int32Array[], docIndex: readonly number[]): WindowsPayload {
  const lengths = Int32Array.from(windows, (w) => w.length);
  const ids = new Int32Array(lengths.reduce((n, l) => n + l, 0));
  let at = 0;
  for (const w of windows) {
    ids.set(w, at);
    at += w.length;
  }
  return { ids, lengths, docs: Int32Array.from(docIndex) };
}

export function unpackWindows(p: WindowsPayload): { windows: Int32Array[]; docIndex: number[] } {
  const windows: Int32Array[] = [];
  let at = 0;
  for (const n of p.lengths) {
    windows.push(p.ids.slice(at, at + n));
    at += n;
  }
  if (at !== p.ids.length || p.docs.length !== p.lengths.length) throw new Error('job payload: windows do not add up');
  return { windows, docIndex: Array.from(p.docs) };
}

export const encodeJob = (p: JobPayload): Uint8Array => encodeState(p);
export const decodeJob = <P extends JobPayload>(bytes: Uint8Array): P => decodeState<P>(bytes);
