/**
 * What travels through the queue, and the checks a worker makes before trusting it. A queue job's data is
 * JSON (BullMQ stores it in a Redis hash): the job's name, the model it needs (a Hub id at a revision, or
 * a folder name under the worker's --models; never a path), that model's digest and dtype, and the job
 * payload of src/runs/jobs.ts as base64 of its compact binary encoding (token windows as raw int32, the
 * plans or analyses, and every option the job's code reads). A worker validates all of it like any
 * input: schema, sizes, and then the payload against the model it loaded (token ids < vocabulary, plans
 * through the engine's own plan check). The result goes back as the job's return value: base64 of the
 * finished state bytes (src/results/state-codec.ts).
 */
import { PROTOCOLS } from '../protocol/protocol.js';
import { z } from 'zod';
import { decodeJob, encodeJob, type JobPayload } from '../runs/jobs.js';
import { ANALYSES } from '../analyses/registry.js';

const STREAMING = ANALYSES.filter((a) => a.kind === 'streaming').map((a) => a.name);

/** Largest encoded payload a coordinator sends and a worker accepts (a shard of ~60M tokens). */
export const MAX_PAYLOAD_BYTES = 256 * 2 ** 20;
/** Format version of the job data; a worker refuses others. */
export const JOB_FORMAT = 1;

export const ModelRefSchema = z.union([
  z.strictObject({
    /** Hugging Face id ORG/NAME and the revision (the commit the coordinator loaded, when known). */
    hub: z.string().max(200).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/),
    revision: z.string().max(200).regex(/^[A-Za-z0-9][A-Za-z0-9._\/-]*$/).refine((r) => !r.split('/').includes('..'), 'no ".." in a revision'),
  }),
  z.strictObject({
    /** A folder name (one path component) under the worker's --models. */
    folder: z.string().max(200).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).refine((f) => f !== '..', 'not ..'),
  }),
]);
export type ModelRef = z.infer<typeof ModelRefSchema>;

export const QueueJobDataSchema = z.strictObject({
  format: z.literal(JOB_FORMAT),
  run_id: z.string().regex(/^[0-9a-f]{16}$/),
  job: z.string().regex(/^[a-z0-9-]{1,100}$/),
  /** For worker logs: shard and plan subtree or analyses. */
  describe: z.string().max(500),
  model: ModelRefSchema,
  model_digest: z.string().regex(/^[0-9a-f]{64}$/),
  dtype: z.enum(['f32', 'bf16']),
  payload: z.string().max(Math.ceil(MAX_PAYLOAD_BYTES / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/),
});
export type QueueJobData = z.infer<typeof QueueJobDataSchema>;

export const modelRefText = (r: ModelRef): string => ('hub' in r ? `${r.hub}@${r.revision}` : r.folder);

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const LIMIT = 2 ** 31 - 1;

const WindowsSchema = z.strictObject({ ids: z.instanceof(Int32Array), lengths: z.instanceof(Int32Array), docs: z.instanceof(Int32Array) }).superRefine((w, ctx) => {
  let sum = 0;
  for (const n of w.lengths) {
    if (n < 2) return ctx.addIssue({ code: 'custom', message: 'every window needs BOS and one token' });
    sum += n;
  }
  if (sum !== w.ids.length) ctx.addIssue({ code: 'custom', message: 'window lengths do not add up to the ids' });
  if (w.docs.length !== w.lengths.length) ctx.addIssue({ code: 'custom', message: 'one document index per window' });
  for (let i = 0; i < w.docs.length; i++) if (w.docs[i] < 0 || (i > 0 && w.docs[i] < w.docs[i - 1])) return ctx.addIssue({ code: 'custom', message: 'document indices must be in order' });
  for (const id of w.ids) if (id < 0) return ctx.addIssue({ code: 'custom', message: 'negative token id' });
});

const SweepPayloadSchema = z.strictObject({
  kind: z.literal('sweep'),
  shard: int(0, LIMIT),
  group: int(0, LIMIT),
  plans: z.array(z.array(int(0, 65535)).max(65536)).min(1).max(1_000_000),
  windows: WindowsSchema,
  options: z.strictObject({ maxBatchTokens: int(1, LIMIT), prefixCacheBytes: z.number().int().min(0).max(2 ** 50), entropyFloor: z.number().min(0).max(1).optional() }),
});

const StreamPayloadSchema = z.strictObject({
  kind: z.literal('stages'),
  shard: int(0, LIMIT),
  analyses: z.array(z.enum(STREAMING as [string, ...string[]])).min(1).max(STREAMING.length),
  windows: WindowsSchema,
  batchTokens: int(1, LIMIT),
  // The options streaming analyses read (StreamJobPayload['options']); JSON values only, checked again by
  // the analyses that read them.
  options: z.looseObject({
    includeBosAttention: z.boolean().optional(),
    attentionWindows: z.array(int(1, LIMIT)).max(1024).optional(),
    repeatBlockLengths: z.array(int(1, 65535)).max(1024).optional(),
    repeatDocs: int(1, LIMIT).optional(),
    cka: z.record(z.string(), z.union([z.boolean(), z.number(), z.string().max(100)]).optional()).optional(),
    protocol: z.enum(PROTOCOLS).optional(),
  }),
});

const PayloadSchema = z.discriminatedUnion('kind', [SweepPayloadSchema, StreamPayloadSchema]);

/** Thrown for job data a worker will not run (bad schema, bad payload, another model): never retried. */
export class JobRejected extends Error {}

export function encodePayload(p: JobPayload): string {
  const bytes = encodeJob(p);
  if (bytes.length > MAX_PAYLOAD_BYTES) throw new Error(`job payload of ${bytes.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const issues = (e: z.ZodError) => e.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');

/** The job data of a queue job, validated; throws JobRejected naming the first problems. */
export function parseJobData(data: unknown): QueueJobData {
  const r = QueueJobDataSchema.safeParse(data);
  if (!r.success) throw new JobRejected(`bad job data (${issues(r.error)})`);
  return r.data;
}

/** The payload of validated job data, decoded and validated. */
export function decodePayload(data: QueueJobData): JobPayload {
  let value: unknown;
  try {
    value = decodeJob(new Uint8Array(Buffer.from(data.payload, 'base64')));
  } catch (e) {
    throw new JobRejected(`bad job payload (${(e as Error).message})`);
  }
  const r = PayloadSchema.safeParse(value);
  if (!r.success) throw new JobRejected(`bad job payload (${issues(r.error)})`);
  return r.data as JobPayload;
}

/** The checks that need the model: token ids inside its vocabulary (plans are checked by the engine). */
export function checkPayloadForModel(p: JobPayload, vocabSize: number): void {
  for (const id of p.windows.ids) if (id >= vocabSize) throw new JobRejected(`bad job payload: token id ${id} outside the model's vocabulary of ${vocabSize}`);
}

/** A finished state as a job's return value, and back. */
export const encodeResult = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
export function decodeResult(value: unknown): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new Error('a job returned no state (expected base64 text)');
  return new Uint8Array(Buffer.from(value, 'base64'));
}
