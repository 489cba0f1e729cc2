#!/usr/bin/env python3
"""Trains layerlab's bundled model, kjv-tiny: a byte-level BPE tokenizer and a small Llama-architecture
language model (RMSNorm, rotary embeddings, grouped-query attention, SwiGLU, tied embeddings) on the King
James Bible, CPU only, in a few minutes. Writes a Hugging Face checkpoint folder that layerlab's llama
adapter loads (config.json, model.safetensors, tokenizer.json, tokenizer_config.json), a training record
(training.json: losses, per-layer deletion and swap losses on the held-out chapters) and the golden
values layerlab's tests compare its forward pass against (float64 logits of this very model).

Usage (after scripts/assets/extract-corpus.py BUILD):
  python3 scripts/assets/train-tiny-model.py BUILD/train.jsonl assets/corpus.jsonl assets/kjv-tiny test/fixtures/kjv-tiny-expected.json
Needs Debian's python3-torch (1.13) and nothing else. Deterministic for a given torch build and thread count.
"""
import json
import math
import os
import re
import struct
import sys
import time
from collections import Counter

# One thread everywhere: torch's OpenMP threads and OpenBLAS's own pthreads oversubscribe the cores and
# run 5x slower than a single thread (measured on the 2-vCPU build machine). Set before torch loads BLAS.
THREADS = int(os.environ.get("THREADS", "1"))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(THREADS)
torch.manual_seed(0)

# ---- hyperparameters (recorded in training.json) ----
N_MERGES = 510            # 2 special + 256 byte tokens + 510 merges = 768 ids
DIM, LAYERS, HEADS, KV_HEADS, FFN = 96, 6, 4, 2, 256
CTX = 256                 # max_position_embeddings; training windows are shorter
SEQ, BATCH = 128, 24
STEPS = int(os.environ.get("STEPS", "600"))
LR, LR_MIN, WARMUP = 4e-3, 4e-4, 60
EPS, THETA = 1e-5, 10000.0
BOS, EOS = 0, 1
SPECIALS = ["<s>", "</s>"]

# ---- byte-level BPE (GPT-2's byte map and pre-tokenizer; the corpus is ASCII, where this regex equals
# the Unicode one the Hugging Face ByteLevel pre-tokenizer uses) ----
PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_MAP = bytes_to_unicode()


def pretokens(text):
    return ["".join(BYTE_MAP[b] for b in w.encode("utf-8")) for w in PAT.findall(text)]


def train_bpe(texts):
    words = Counter()
    for t in texts:
        words.update(pretokens(t))
    seqs = {w: list(w) for w in words}
    merges = []
    for _ in range(N_MERGES):
        pairs = Counter()
        for w, f in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        joined = best[0] + best[1]
        for w in words:
            s = seqs[w]
            if len(s) < 2:
                continue
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == best[0] and s[i + 1] == best[1]:
                    out.append(joined)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return merges


class Bpe:
    def __init__(self, merges):
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.vocab = {t: i for i, t in enumerate(SPECIALS)}
        for ch in sorted(BYTE_MAP.values(), key=lambda c: ord(c)):
            self.vocab[ch] = len(self.vocab)
        for a, b in merges:
            self.vocab.setdefault(a + b, len(self.vocab))
        self.cache = {}

    def word(self, w):
        if w in self.cache:
            return self.cache[w]
        s = list(w)
        while len(s) > 1:
            ranked = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(s, s[1:]))]
            r, i = min(ranked)
            if r == 1 << 30:
                break
            s = s[:i] + [s[i] + s[i + 1]] + s[i + 2 :]
        ids = [self.vocab[x] for x in s]
        self.cache[w] = ids
        return ids

    def encode(self, text):
        return [i for w in pretokens(text) for i in self.word(w)]


def tokenizer_json(bpe, merges):
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True} for i, t in enumerate(SPECIALS)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [BOS], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
            "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": bpe.vocab, "merges": [f"{a} {b}" for a, b in merges],
        },
    }


# ---- the model: Hugging Face Llama's computation, parameters named as in LlamaForCausalLM ----
DH = DIM // HEADS


def init_params(vocab):
    g = torch.Generator().manual_seed(0)
    n = lambda *shape: torch.randn(*shape, generator=g) * 0.02
    p = {"model.embed_tokens.weight": n(vocab, DIM), "model.norm.weight": torch.ones(DIM)}
    for i in range(LAYERS):
        l = f"model.layers.{i}."
        p[l + "input_layernorm.weight"] = torch.ones(DIM)
        p[l + "post_attention_layernorm.weight"] = torch.ones(DIM)
        p[l + "self_attn.q_proj.weight"] = n(HEADS * DH, DIM)
        p[l + "self_attn.k_proj.weight"] = n(KV_HEADS * DH, DIM)
        p[l + "self_attn.v_proj.weight"] = n(KV_HEADS * DH, DIM)
        p[l + "self_attn.o_proj.weight"] = n(DIM, HEADS * DH) / math.sqrt(2 * LAYERS)
        p[l + "mlp.gate_proj.weight"] = n(FFN, DIM)
        p[l + "mlp.up_proj.weight"] = n(FFN, DIM)
        p[l + "mlp.down_proj.weight"] = n(DIM, FFN) / math.sqrt(2 * LAYERS)
    return {k: v.requires_grad_() for k, v in p.items()}


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def rope(T, dtype):
    inv = 1.0 / (THETA ** (torch.arange(0, DH, 2, dtype=torch.float64) / DH))
    f = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat([f, f], -1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    return torch.cat([-x[..., DH // 2 :], x[..., : DH // 2]], -1)


def forward(p, ids, plan=None):
    """Logits [B,T,V] running the blocks in `plan` order (default 0..L-1), as layerlab's plans do."""
    B, T = ids.shape
    dtype = p["model.norm.weight"].dtype
    cos, sin = rope(T, dtype)
    mask = torch.full((T, T), float("-inf"), dtype=dtype).triu(1)
    h = p["model.embed_tokens.weight"][ids]
    for i in range(LAYERS) if plan is None else plan:
        l = f"model.layers.{i}."
        x = rms(h, p[l + "input_layernorm.weight"])
        q = (x @ p[l + "self_attn.q_proj.weight"].T).view(B, T, HEADS, DH).transpose(1, 2)
        k = (x @ p[l + "self_attn.k_proj.weight"].T).view(B, T, KV_HEADS, DH).transpose(1, 2)
        v = (x @ p[l + "self_attn.v_proj.weight"].T).view(B, T, KV_HEADS, DH).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(HEADS // KV_HEADS, dim=1)
        v = v.repeat_interleave(HEADS // KV_HEADS, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(DH) + mask, -1)
        h = h + (att @ v).transpose(1, 2).reshape(B, T, HEADS * DH) @ p[l + "self_attn.o_proj.weight"].T
        x = rms(h, p[l + "post_attention_layernorm.weight"])
        m = F.silu(x @ p[l + "mlp.gate_proj.weight"].T) * (x @ p[l + "mlp.up_proj.weight"].T)
        h = h + m @ p[l + "mlp.down_proj.weight"].T
    return rms(h, p["model.norm.weight"]) @ p["model.embed_tokens.weight"].T


# ---- data: each chapter its own sequence; windows start with BOS (layerlab's protocol) ----
def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def windows(docs, length):
    """Non-overlapping BOS-led windows of at most `length` tokens over every document."""
    out = []
    for d in docs:
        for s in range(0, len(d), length - 1):
            out.append([BOS] + d[s : s + length - 1])
    return out


@torch.no_grad()
def eval_loss(p, wins, plan=None):
    """Mean next-token cross-entropy (nats) over every predicted token of equal-length windows."""
    ids = torch.tensor(wins)
    logits = forward(p, ids, plan)
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1)).item()


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        b = tensors[k].detach().contiguous().to(torch.float32).numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(tensors[k].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: train-tiny-model.py TRAIN.jsonl HELDOUT.jsonl OUT_DIR EXPECTED.json")
    train_path, held_path, out_dir, expected_path = sys.argv[1:]
    t0 = time.time()
    train_docs = [d["text"] for d in read_jsonl(train_path)]
    held_docs = [d["text"] for d in read_jsonl(held_path)]

    merges = train_bpe(train_docs)
    bpe = Bpe(merges)
    V = len(bpe.vocab)
    print(f"BPE: {len(merges)} merges, vocab {V}, {time.time() - t0:.0f}s", flush=True)
    train_ids = [bpe.encode(t) for t in train_docs]
    held_ids = [bpe.encode(t) for t in held_docs]
    n_train = sum(map(len, train_ids))
    print(f"tokens: train {n_train}, held-out {sum(map(len, held_ids))} ({len(train_docs[0]) and sum(map(len, train_docs)) / n_train:.2f} chars/token)", flush=True)

    # Sampling: a random chapter weighted by length, a random start, BOS + SEQ-1 tokens.
    lengths = torch.tensor([len(d) for d in train_ids], dtype=torch.float64)
    flat = [torch.tensor(d) for d in train_ids]

    def batch(g):
        docs = torch.multinomial(lengths, BATCH, replacement=True, generator=g).tolist()
        rows = []
        for di in docs:
            d = flat[di]
            start = torch.randint(0, max(1, len(d) - (SEQ - 1)), (1,), generator=g).item()
            piece = d[start : start + SEQ - 1]
            if len(piece) < SEQ - 1:  # short chapter: pad with EOS, ignored by the loss below
                piece = torch.cat([piece, torch.full((SEQ - 1 - len(piece),), -100)])
            rows.append(torch.cat([torch.tensor([BOS]), piece]))
        return torch.stack(rows)

    p = init_params(V)
    decay = [v for k, v in p.items() if v.dim() == 2]
    other = [v for k, v in p.items() if v.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": other, "weight_decay": 0.0}], lr=LR, betas=(0.9, 0.95))
    g = torch.Generator().manual_seed(1)
    held_wins = windows(held_ids, SEQ)
    curve = []
    for step in range(1, STEPS + 1):
        lr = LR * step / WARMUP if step <= WARMUP else LR_MIN + 0.5 * (LR - LR_MIN) * (1 + math.cos(math.pi * (step - WARMUP) / (STEPS - WARMUP)))
        for grp in opt.param_groups:
            grp["lr"] = lr
        x = batch(g)
        inp = x.clamp(min=0)
        logits = forward(p, inp)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), x[:, 1:].reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(p.values()), 1.0)
        opt.step()
        if step % 100 == 0 or step in (1, 10):
            curve.append({"step": step, "train_loss": round(loss.item(), 4)})
            print(f"step {step} loss {loss.item():.3f} lr {lr:.2e} {time.time() - t0:.0f}s", flush=True)

    # ---- evaluation on the held-out chapters: the model, and every single deletion and swap ----
    full = [w for w in held_wins if len(w) == SEQ]
    held_eval = full[:: max(1, len(full) // 64)][:64]
    base = eval_loss(p, held_eval)
    dels = [round(eval_loss(p, held_eval, [j for j in range(LAYERS) if j != i]), 4) for i in range(LAYERS)]
    swaps = []
    for i in range(LAYERS - 1):
        plan = list(range(LAYERS))
        plan[i], plan[i + 1] = plan[i + 1], plan[i]
        swaps.append(round(eval_loss(p, held_eval, plan), 4))
    uniform = math.log(V)
    print(f"held-out loss {base:.3f} nats/token (uniform {uniform:.3f}); delete {dels}; swap {swaps}", flush=True)

    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), p)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": DIM, "intermediate_size": FFN,
        "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "head_dim": DH,
        "max_position_embeddings": CTX, "rms_norm_eps": EPS, "rope_theta": THETA, "vocab_size": V, "tie_word_embeddings": True,
        "hidden_act": "silu", "attention_bias": False, "mlp_bias": False, "bos_token_id": BOS, "eos_token_id": EOS, "torch_dtype": "float32",
    }
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out_dir, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(bpe, merges), f, ensure_ascii=False)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>", "add_bos_token": True, "model_max_length": CTX, "clean_up_tokenization_spaces": False}, f, indent=2)
    record = {
        "corpus": "King James Bible (Debian bible-kjv-text 4.38), 1142 training chapters; every 25th chapter held out (assets/corpus.jsonl)",
        "hyperparameters": {"merges": N_MERGES, "vocab": V, "dim": DIM, "layers": LAYERS, "heads": HEADS, "kv_heads": KV_HEADS, "ffn": FFN,
                            "seq": SEQ, "batch": BATCH, "steps": STEPS, "lr": LR, "lr_min": LR_MIN, "warmup": WARMUP, "weight_decay": 0.05,
                            "threads": torch.get_num_threads(), "torch": torch.__version__},
        "train_tokens": n_train, "tokens_seen": STEPS * BATCH * (SEQ - 1),
        "curve": curve,
        "heldout": {"windows": len(held_eval), "seq": SEQ, "loss": round(base, 4), "uniform_loss": round(uniform, 4), "delete_loss": dels, "swap_loss": swaps},
        "seconds": round(time.time() - t0),
    }
    with open(os.path.join(out_dir, "training.json"), "w") as f:
        json.dump(record, f, indent=2)

    # ---- golden values: float64 logits of this model on a held-out window, under three plans ----
    p64 = {k: v.detach().double() for k, v in p.items()}
    ids = torch.tensor([held_wins[0][:24], held_wins[1][:24]])
    positions = [0, 11, 23]
    plans = {"default": list(range(LAYERS)), "delete-2": [0, 1, 3, 4, 5], "swap-3": [0, 1, 2, 4, 3, 5]}
    golden = {"input_ids": ids.tolist(), "positions": positions, "plans": {}}
    with torch.no_grad():
        for name, plan in plans.items():
            lg = forward(p64, ids, plan)
            golden["plans"][name] = {"plan": plan, "logits": [[[round(x, 7) for x in lg[b, t].tolist()] for t in positions] for b in range(2)]}
    sample = held_docs[0][:400]
    golden["tokenizer_cases"] = [{"text": t, "ids": bpe.encode(t)} for t in [sample, "In the beginning God created the heaven and the earth.", "Jesus wept.  123 \u00e9"]]
    os.makedirs(os.path.dirname(expected_path), exist_ok=True)
    with open(expected_path, "w") as f:
        json.dump(golden, f)
    print(f"wrote {out_dir} and {expected_path} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
