"""PyTorch-eager fp32 reference timing for `npm run bench` (run with Debian's /usr/bin/python3 + python3-torch).

A plain nanoGPT/HF-style eager forward (manual causal attention: QK^T, mask, softmax, PV) with random
weights of the same shapes as bench/forward-bench.ts, batch 8 x 512, logits included. Threads and the
OpenBLAS core are set the way layerlab runs: OPENBLAS_CORETYPE=SkylakeX unless the environment sets it
(Debian's OpenBLAS misdetects this CPU otherwise), OPENBLAS_NUM_THREADS = torch threads = cores.
Prints one JSON object.
"""
import json, math, os, sys, time

os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
threads = int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(threads)
torch.manual_seed(0)

def rope(x, T, theta, dh):
    inv = theta ** (-torch.arange(0, dh, 2, dtype=torch.float32) / dh)
    ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)
    x1, x2 = x[..., : dh // 2], x[..., dh // 2 :]
    return x * cos + torch.cat([-x2, x1], -1) * sin

def attention(q, k, v, T):
    att = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    att = att.masked_fill(~mask, float("-inf")).softmax(-1)
    return att @ v

def gpt2(B, T, L=12, D=768, H=12, V=50257, F_=3072):
    r = lambda *s: torch.randn(*s) * 0.02
    W = dict(wte=r(V, D), wpe=r(1024, D))
    blocks = [dict(qkv=r(D, 3 * D), bqkv=r(3 * D), o=r(D, D), bo=r(D), fc=r(D, F_), bfc=r(F_), proj=r(F_, D), bproj=r(D),
                   ln1=(torch.ones(D), torch.zeros(D)), ln2=(torch.ones(D), torch.zeros(D))) for _ in range(L)]
    def fwd(ids):
        x = W["wte"][ids] + W["wpe"][:T]
        for b in blocks:
            h = F.layer_norm(x, (D,), *b["ln1"])
            q, k, v = (h @ b["qkv"] + b["bqkv"]).split(D, -1)
            q, k, v = (t.view(B, T, H, D // H).transpose(1, 2) for t in (q, k, v))
            z = attention(q, k, v, T).transpose(1, 2).reshape(B, T, D)
            x = x + z @ b["o"] + b["bo"]
            h = F.layer_norm(x, (D,), *b["ln2"])
            x = x + F.gelu(h @ b["fc"] + b["bfc"], approximate="tanh") @ b["proj"] + b["bproj"]
        return F.layer_norm(x, (D,), torch.ones(D), torch.zeros(D)) @ W["wte"].T
    return fwd

def llama1b(B, T, L=16, D=2048, H=32, Hkv=8, dh=64, V=128256, F_=8192):
    r = lambda *s: torch.randn(*s) * 0.02
    E = r(V, D)
    blocks = [dict(q=r(D, H * dh), k=r(D, Hkv * dh), v=r(D, Hkv * dh), o=r(H * dh, D), g=r(D, F_), u=r(D, F_), d=r(F_, D),
                   n1=torch.ones(D), n2=torch.ones(D)) for _ in range(L)]
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w
    def fwd(ids):
        x = E[ids]
        for b in blocks:
            h = rms(x, b["n1"])
            q = rope((h @ b["q"]).view(B, T, H, dh).transpose(1, 2), T, 500000.0, dh)
            k = rope((h @ b["k"]).view(B, T, Hkv, dh).transpose(1, 2), T, 500000.0, dh)
            v = (h @ b["v"]).view(B, T, Hkv, dh).transpose(1, 2)
            k, v = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)
            x = x + attention(q, k, v, T).transpose(1, 2).reshape(B, T, H * dh) @ b["o"]
            h = rms(x, b["n2"])
            x = x + (F.silu(h @ b["g"]) * (h @ b["u"])) @ b["d"]
        return rms(x, torch.ones(D)) @ E.T
    return fwd

def main():
    B, T = 8, 512
    which = sys.argv[1] if len(sys.argv) > 1 else "gpt2"
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    fwd = (gpt2 if which == "gpt2" else llama1b)(B, T)
    V = 50257 if which == "gpt2" else 128256
    ids = torch.randint(0, V, (B, T))
    with torch.no_grad():
        fwd(ids[:1] if False else ids)  # warm-up at full size (allocator, page-in)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            fwd(ids)
            times.append(time.perf_counter() - t)
    times.sort()
    ms = times[len(times) // 2] * 1000
    print(json.dumps({"model": which, "batch": B, "seq": T, "forwardMs": round(ms, 1), "tokensPerSecond": round(B * T / ms * 1000),
                      "torch": torch.__version__, "threads": threads, "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE")}))

if __name__ == "__main__":
    main()
