import type { Backend, WeightData, WeightDtype } from '../backend/index.js';
import { bf16ToF32 } from '../load/dtype.js';
import { readMapped } from '../load/mmap.js';
import { LayerlabError } from '../util/errors.js';
import type { ModelConfig } from './config.js';
import { assertFiniteActivation } from './finite.js';
import { HookRunner } from './hooks.js';
import type { Linear, ModelParams, NormParams } from './params.js';
import { ropeTables, type RopeTables } from './rope.js';
import { applyNorm, finalNorm, unembed } from './readout.js';
import { preparedLinear } from './weights.js';
import { step } from './profile.js';

/** Every id must index the embedding; an error names the row and position (and `file` when given). */
export function checkTokenIds(ids: Int32Array, seq: number, vocabSize: number, file?: string): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < 0 || id >= vocabSize)
      throw new LayerlabError(`token id ${id} at position ${i % seq} of row ${Math.floor(i / seq)} is outside the vocabulary (size ${vocabSize})`, file);
  }
}

/**
 * Several sequences packed into one row that share a prefix (a context and its continuations, scored
 * together by `layerlab evaluate`): each token's position (learned embeddings, RoPE) and segment. A query
 * sees an earlier key only when the key's segment is 0 (the shared prefix) or the query's own, so each
 * segment computes exactly what it would after the prefix alone. Positions must not exceed the index.
 */
export interface TokenLayout {
  /** [B*T] position of each token. */
  positions: Int32Array;
  /** [B*T] segment of each token (0 = shared prefix). */
  segments: Int32Array;
}

export interface ModelLike {
  config: ModelConfig;
  params: ModelParams;
  backend: Backend;
  /** Where the model came from; named in errors about non-finite activations. */
  source?: { dir: string };
  /** Weight precision (default f32); see Model.dtype. */
  dtype?: WeightDtype;
}

/**
 * Runs the pieces of a forward pass on one batch [B, T]: embedding, any block in any slot, final norm
 * and unembedding. `forward` strings them together along a plan; sweeps call them directly to share
 * the computation of common plan prefixes. Scratch buffers (sublayer outputs included) are reused across
 * blocks, and cached hook values of them are copies; the residual stream returned by a block is a fresh
 * array, so a caller may keep it.
 */
export class Executor {
  readonly rows: number;
  private readonly scratch = new Map<string, Float32Array>();
  private rope?: RopeTables;
  /** Activations of the block being run, in order, for naming where a non-finite value first appeared. */
  private trail: [name: string, data: Float32Array, perPosition: boolean][] = [];

  constructor(
    readonly model: ModelLike,
    readonly batch: number,
    readonly seq: number,
    readonly hooks: HookRunner = new HookRunner({}, []),
    readonly layout?: TokenLayout,
  ) {
    this.rows = batch * seq;
    const c = model.config;
    if (seq > c.nCtx && c.positional === 'learned')
      throw new LayerlabError(`sequence of ${seq} tokens is longer than the model's ${c.nCtx} learned positions`);
    if (c.rope) this.rope = ropeTables(c.rope, seq);
    if (layout && (layout.positions.length !== this.rows || layout.segments.length !== this.rows)) throw new Error('token layout must give a position and a segment per token');
  }

  private buf(name: string, size: number): Float32Array {
    let b = this.scratch.get(name);
    if (!b || b.length < size) {
      b = new Float32Array(size);
      this.scratch.set(name, b);
    }
    return b.length === size ? b : b.subarray(0, size);
  }

  /** Token (+ learned position) embedding: the residual stream before block 0, [B*T*D]. */
  embed(ids: Int32Array): Float32Array {
    return step('embed', () => this.embedRows(ids));
  }

  private embedRows(ids: Int32Array): Float32Array {
    const { config: c, params: p } = this.model;
    const D = c.dModel, T = this.seq;
    if (ids.length !== this.rows) throw new Error(`expected ${this.rows} token ids, got ${ids.length}`);
    checkTokenIds(ids, T, c.vocabSize);
    let tok: Float32Array = new Float32Array(this.rows * D);
    embeddingRows(p.W_E, ids, D, tok);
    tok = this.hooks.run('hook_embed', { data: tok, shape: [this.batch, T, D] }, undefined, false).data;
    // Read once: a bf16 model's params has getters (W_U unpacks on read), which leaves the object in V8's
    // dictionary mode: a property read per element in the loops below made the embedding 2-3x slower.
    const W_pos = p.W_pos;
    if (!W_pos) return tok;
    let pos: Float32Array;
    if (this.hooks.wants('hook_pos_embed')) {
      pos = new Float32Array(this.rows * D);
      for (let r = 0; r < this.rows; r++) {
        const t = this.layout ? this.layout.positions[r] : r % T;
        pos.set(W_pos.subarray(t * D, t * D + D), r * D);
      }
      pos = this.hooks.run('hook_pos_embed', { data: pos, shape: [this.batch, T, D] }, undefined, false).data;
      for (let i = 0; i < tok.length; i++) tok[i] += pos[i];
    } else {
      for (let r = 0; r < this.rows; r++) {
        const po = (this.layout ? this.layout.positions[r] : r % T) * D, to = r * D;
        for (let j = 0; j < D; j++) tok[to + j] += W_pos[po + j];
      }
    }
    this.checkFinite(tok, 'hook_embed + hook_pos_embed', D);
    return tok;
  }

  /** One native scan; a hit throws a LayerlabError naming the hook point, row and position. */
  private checkFinite(data: Float32Array, hook: string, width: number): void {
    step('finite scan', () => assertFiniteActivation(this.model.backend, data, hook, width, this.seq, this.model.source?.dir));
  }

  private norm(x: Float32Array, n: NormParams, out: Float32Array): Float32Array {
    return step('norm', () => applyNorm(this.model, n, x, this.rows, out));
  }

  /** y = x W (+ b) for x [rows, in], in the model's weight dtype. */
  private linear(x: Float32Array, l: Linear, out: Float32Array, name: string): Float32Array {
    step(`matmul ${name}`, () => this.model.backend.matmul(x, preparedLinear(this.model, l), this.rows, out));
    if (l.b) step('bias', () => this.model.backend.addBias(out, this.rows, l.b!));
    return out;
  }

  private hook(name: string, data: Float32Array, shape: number[], slot: number, scratch: boolean): Float32Array {
    const full = `blocks.${slot}.${name}`;
    const out = this.hooks.wants(full) ? step('hooks', () => this.hooks.run(full, { data, shape }, slot, scratch).data) : data;
    // Scores hold -Infinity at masked keys by design; the pattern is [B,H,T,T], not row-major per position.
    if (name !== 'attn.hook_attn_scores') this.trail.push([`blocks.${slot}.${name}`, out, name !== 'attn.hook_pattern']);
    return out;
  }

  /** Runs block `layer` (its own weights) in plan position `slot`; returns the new residual stream. */
  block(residPre: Float32Array, layer: number, slot: number): Float32Array {
    const { config: c, params: p } = this.model;
    const bp = p.blocks[layer];
    if (!bp) throw new LayerlabError(`plan names block ${layer}, but the model has blocks 0..${c.nLayers - 1}`);
    const D = c.dModel, B = this.batch, T = this.seq, rows = this.rows;
    const resid3 = [B, T, D];
    this.trail = [];
    residPre = this.hook('hook_resid_pre', residPre, resid3, slot, false);

    const h1 = this.hook('ln1.hook_normalized', this.norm(residPre, bp.ln1, this.buf('h1', rows * D)), resid3, slot, true);
    const attnOut = this.attention(h1, bp, slot);

    let mlpIn: Float32Array;
    let residMid: Float32Array | undefined;
    if (c.block === 'sequential') {
      residMid = this.buf('resid_mid', rows * D);
      step('residual add', () => this.model.backend.add(residPre, attnOut, undefined, residMid!));
      residMid = this.hook('hook_resid_mid', residMid, resid3, slot, true);
      mlpIn = this.hook('ln2.hook_normalized', this.norm(residMid, bp.ln2!, this.buf('h2', rows * D)), resid3, slot, true);
    } else if (c.block === 'parallel') {
      mlpIn = this.hook('ln2.hook_normalized', this.norm(residPre, bp.ln2!, this.buf('h2', rows * D)), resid3, slot, true);
    } else {
      mlpIn = h1;
    }
    const mlpOut = this.mlp(mlpIn, bp, slot);

    const out = step('residual alloc', () => new Float32Array(rows * D));
    step('residual add', () => {
      if (residMid) this.model.backend.add(residMid, mlpOut, undefined, out);
      else this.model.backend.add(residPre, attnOut, mlpOut, out);
    });
    const post = this.hook('hook_resid_post', out, resid3, slot, false);
    // One scan of the block's output; only when it fails are the block's inner activations searched,
    // so the error names the first hook point (attention, MLP, norm) where the value appeared.
    if (step('finite scan', () => this.model.backend.firstNonFinite(post)) >= 0) {
      for (const [name, data, perPosition] of this.trail) this.checkFinite(data, `${name} (block ${layer})`, perPosition ? data.length / rows : 0);
    }
    return post;
  }

  private attention(h: Float32Array, bp: ModelParams['blocks'][number], slot: number): Float32Array {
    const c = this.model.config, be = this.model.backend;
    const B = this.batch, T = this.seq, H = c.nHeads, Hkv = c.nKvHeads, dh = c.dHead, rows = this.rows;
    const qkvDim = (H + 2 * Hkv) * dh;
    const qkv = this.linear(h, bp.qkv, this.buf('qkv', rows * qkvDim), 'qkv');
    this.trail.push([`blocks.${slot}.attn.hook_q/k/v`, qkv, true]);
    this.hookColumns(qkv, qkvDim, 0, [H, dh], 'attn.hook_q', slot);
    this.hookColumns(qkv, qkvDim, H * dh, [Hkv, dh], 'attn.hook_k', slot);
    this.hookColumns(qkv, qkvDim, (H + Hkv) * dh, [Hkv, dh], 'attn.hook_v', slot);

    // q, k and v stay in the fused buffer: RoPE rotates them in place, attention reads them by stride.
    const rope = this.rope;
    if (rope) {
      step('rope', () => {
        this.model.backend.rope(qkv, rows, T, qkvDim, 0, H, dh, rope, this.layout?.positions);
        this.model.backend.rope(qkv, rows, T, qkvDim, H * dh, Hkv, dh, rope, this.layout?.positions);
      });
      this.hookColumns(qkv, qkvDim, 0, [H, dh], 'attn.hook_rot_q', slot);
      this.hookColumns(qkv, qkvDim, H * dh, [Hkv, dh], 'attn.hook_rot_k', slot);
    }
    const view = { qkv, ld: qkvDim, qCol: 0, kCol: H * dh, vCol: (H + Hkv) * dh };

    const window = c.slidingWindow !== undefined && T > c.slidingWindow ? c.slidingWindow : undefined;
    const dims = { batch: B, seq: T, heads: H, kvHeads: Hkv, headDim: dh, scale: 1 / Math.sqrt(dh), window };
    let z = this.buf('z', rows * H * dh);
    const scoresName = `blocks.${slot}.attn.hook_attn_scores`, patternName = `blocks.${slot}.attn.hook_pattern`;
    const patternShape = [B, H, T, T];
    if (this.hooks.wants(scoresName) || this.hooks.hooked(patternName) || this.layout) {
      // Unfused path: only when a hook must see or change the scores or the pattern, or a packed layout
      // (evaluate's choices in one row) needs its segment mask.
      let scores: Float32Array = new Float32Array(B * H * T * T);
      be.attentionScores(view, scores, dims);
      if (window !== undefined) maskOutsideWindow(scores, B * H, T, window);
      if (this.layout) maskOtherSegments(scores, B, H, T, this.layout.segments);
      scores = this.hook('attn.hook_attn_scores', scores, patternShape, slot, false);
      be.softmaxRows(scores, B * H * T, T);
      const pattern = this.hook('attn.hook_pattern', scores, patternShape, slot, false);
      be.attentionApply(pattern, view, z, dims);
    } else {
      const pattern = this.hooks.wants(patternName) ? new Float32Array(B * H * T * T) : undefined;
      step('attention', () => be.attention(view, z, pattern, dims));
      if (pattern) this.hook('attn.hook_pattern', pattern, patternShape, slot, false);
    }
    z = this.hook('attn.hook_z', z, [B, T, H, dh], slot, true);
    const out = this.linear(z, bp.o, this.buf('attn_out', rows * c.dModel), 'attn out');
    return this.hook('hook_attn_out', out, [B, T, c.dModel], slot, true);
  }

  /**
   * Hooks on a column block of a fused matrix (q/k/v of qkv as [B, T, heads, dh]; gate/up of the MLP as
   * [B, T, dMlp]); a replacement is written back into the fused buffer.
   */
  private hookColumns(fused: Float32Array, width: number, col: number, tail: number[], name: string, slot: number): void {
    const full = `blocks.${slot}.${name}`;
    if (!this.hooks.wants(full)) return;
    const w = tail.reduce((a, b) => a * b, 1);
    const t = new Float32Array(this.rows * w);
    for (let r = 0; r < this.rows; r++) t.set(fused.subarray(r * width + col, r * width + col + w), r * w);
    const res = this.hooks.run(full, { data: t, shape: [this.batch, this.seq, ...tail] }, slot, false).data;
    if (this.hooks.hooked(full)) for (let r = 0; r < this.rows; r++) fused.set(res.subarray(r * w, r * w + w), r * width + col);
  }

  private mlp(h: Float32Array, bp: ModelParams['blocks'][number], slot: number): Float32Array {
    const c = this.model.config, be = this.model.backend;
    const F = c.dMlp, rows = this.rows, B = this.batch, T = this.seq;
    let post = this.buf('mlp_post', rows * F);
    if (c.gatedMlp) {
      const gu = this.linear(h, bp.mlpIn, this.buf('mlp_pre', rows * 2 * F), 'mlp in');
      this.hookColumns(gu, 2 * F, 0, [F], 'mlp.hook_pre', slot);
      this.hookColumns(gu, 2 * F, F, [F], 'mlp.hook_pre_linear', slot);
      if (c.act !== 'silu') throw new LayerlabError(`gated MLP with activation '${c.act}' is not supported`);
      step('activation', () => be.siluMul(gu, post, rows, F));
    } else {
      let pre = this.linear(h, bp.mlpIn, this.buf('mlp_pre', rows * F), 'mlp in');
      pre = this.hook('mlp.hook_pre', pre, [B, T, F], slot, true);
      step('activation', () => activate(be, c.act, pre, post));
    }
    post = this.hook('mlp.hook_post', post, [B, T, F], slot, true);
    const out = this.linear(post, bp.mlpOut, this.buf('mlp_out', rows * c.dModel), 'mlp out');
    return this.hook('hook_mlp_out', out, [B, T, c.dModel], slot, true);
  }

  /** Final norm of a residual stream (with ln_final.hook_normalized); a fresh array. */
  finalNorm(resid: Float32Array): Float32Array {
    const c = this.model.config;
    const out = step('norm', () => finalNorm(this.model, resid, this.rows));
    const normed = this.hooks.run('ln_final.hook_normalized', { data: out, shape: [this.batch, this.seq, c.dModel] }, undefined, false).data;
    this.checkFinite(normed, 'ln_final.hook_normalized', c.dModel);
    return normed;
  }

  /** Logits [rows, V] for normalized states of `rows` positions (default: the whole batch). */
  unembed(normed: Float32Array, rows = this.rows, out?: Float32Array): Float32Array {
    const logits = step('unembed', () => unembed(this.model, normed, rows, out));
    this.checkFinite(rows === this.rows ? logits : logits.subarray(0, rows * this.model.config.vocabSize), 'logits', this.model.config.vocabSize);
    return logits;
  }
}

function activate(be: Backend, act: ModelConfig['act'], x: Float32Array, out: Float32Array): void {
  if (act === 'gelu_new' || act === 'gelu') return be.gelu(x, out, act === 'gelu');
  if (act === 'relu') for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : 0;
  else for (let i = 0; i < x.length; i++) out[i] = x[i] / (1 + Math.exp(-x[i]));
}

/** Packed rows: query i sees key j < i only when segment[j] is 0 (shared) or segment[i]. */
function maskOtherSegments(scores: Float32Array, B: number, H: number, T: number, seg: Int32Array): void {
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++) {
      const si = seg[b * T + i];
      if (si === 0) continue;
      for (let j = 0; j < i; j++) {
        const sj = seg[b * T + j];
        if (sj !== 0 && sj !== si) for (let h = 0; h < H; h++) scores[((b * H + h) * T + i) * T + j] = -Infinity;
      }
    }
}

/** out[r] = row ids[r] of the embedding (float32 or bf16 bits; rows of a mapped file are read, not faulted in). */
function embeddingRows(W_E: WeightData, ids: Int32Array, D: number, out: Float32Array): void {
  const bits = W_E instanceof Uint16Array ? new Uint16Array(D) : undefined;
  for (let r = 0; r < ids.length; r++) {
    const dst = out.subarray(r * D, r * D + D);
    if (bits) {
      if (!readMapped(W_E, ids[r] * D, D, new Uint8Array(bits.buffer))) bits.set(W_E.subarray(ids[r] * D, ids[r] * D + D));
      bf16ToF32(bits, dst);
    } else if (!readMapped(W_E, ids[r] * D, D, new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength))) {
      dst.set((W_E as Float32Array).subarray(ids[r] * D, ids[r] * D + D));
    }
  }
}

/** Sliding-window attention (Mistral): query i sees keys j with i - j < window. */
function maskOutsideWindow(scores: Float32Array, mats: number, T: number, window: number): void {
  for (let m = 0; m < mats; m++)
    for (let i = window; i < T; i++) scores.fill(-Infinity, (m * T + i) * T, (m * T + i) * T + i - window + 1);
}
