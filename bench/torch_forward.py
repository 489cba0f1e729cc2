"""PyTorch-eager reference timings for `npm run bench` (run with Debian's /usr/bin/python3 + python3-torch).

A plain nanoGPT/HF-style eager forward (manual causal attention: QK^T, mask, softmax, PV) with random
weights of the same shapes as bench/forward-bench.ts, logits included, in float32 or bfloat16 (weights and
activations, as `model.to(torch.bfloat16)` gives). Threads and the OpenBLAS core are set the way layerlab
runs: OPENBLAS_CORETYPE=SkylakeX unless the environment sets it (Debian's OpenBLAS misdetects this CPU
otherwise), OPENBLAS_NUM_THREADS = torch threads = BENCH_THREADS or the core count (torch.set_num_threads
does not limit OpenBLAS). Prints one JSON object.

usage: torch_forward.py gpt2|llama REPS [f32|bf16] [BATCH SEQ] [forward|sweep WINDOWS]
  sweep: every single-layer deletion and adjacent swap (the paper's method: every plan from scratch),
  KL and top-1 agreement against the unmodified model, over WINDOWS random windows of SEQ tokens.
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
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1).to(x.dtype), torch.cat([ang.sin(), ang.sin()], -1).to(x.dtype)
    x1, x2 = x[..., : dh // 2], x[..., dh // 2 :]
    return x * cos + torch.cat([-x2, x1], -1) * sin

def attention(q, k, v, T):
    att = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    att = att.masked_fill(~mask, float("-inf")).softmax(-1)
    return att @ v

def gpt2(B, T, dt, L=12, D=768, H=12, V=50257, F_=3072):
    r = lambda *s: (torch.randn(*s) * 0.02).to(dt)
    one, zero = torch.ones(D, dtype=dt), torch.zeros(D, dtype=dt)
    W = dict(wte=r(V, D), wpe=r(1024, D))
    blocks = [dict(qkv=r(D, 3 * D), bqkv=r(3 * D), o=r(D, D), bo=r(D), fc=r(D, F_), bfc=r(F_), proj=r(F_, D), bproj=r(D),
                   ln1=(one, zero), ln2=(one, zero)) for _ in range(L)]
    def fwd(ids, plan=None):
        x = W["wte"][ids] + W["wpe"][:T]
        for i in (range(L) if plan is None else plan):
            b = blocks[i]
            h = F.layer_norm(x, (D,), *b["ln1"])
            q, k, v = (h @ b["qkv"] + b["bqkv"]).split(D, -1)
            q, k, v = (t.view(B, T, H, D // H).transpose(1, 2) for t in (q, k, v))
            z = attention(q, k, v, T).transpose(1, 2).reshape(B, T, D)
            x = x + z @ b["o"] + b["bo"]
            h = F.layer_norm(x, (D,), *b["ln2"])
            x = x + F.gelu(h @ b["fc"] + b["bfc"], approximate="tanh") @ b["proj"] + b["bproj"]
        return F.layer_norm(x, (D,), one, zero) @ W["wte"].T
    return fwd, L, V

def llama1b(B, T, dt, L=16, D=2048, H=32, Hkv=8, dh=64, V=128256, F_=8192):
    r = lambda *s: (torch.randn(*s) * 0.02).to(dt)
    E = r(V, D)
    blocks = [dict(q=r(D, H * dh), k=r(D, Hkv * dh), v=r(D, Hkv * dh), o=r(H * dh, D), g=r(D, F_), u=r(D, F_), d=r(F_, D),
                   n1=torch.ones(D, dtype=dt), n2=torch.ones(D, dtype=dt)) for _ in range(L)]
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w
    def fwd(ids, plan=None):
        x = E[ids]
        for i in (range(L) if plan is None else plan):
            b = blocks[i]
            h = rms(x, b["n1"])
            q = rope((h @ b["q"]).view(B, T, H, dh).transpose(1, 2), T, 500000.0, dh)
            k = rope((h @ b["k"]).view(B, T, Hkv, dh).transpose(1, 2), T, 500000.0, dh)
            v = (h @ b["v"]).view(B, T, Hkv, dh).transpose(1, 2)
            k, v = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)
            x = x + attention(q, k, v, T).transpose(1, 2).reshape(B, T, H * dh) @ b["o"]
            h = rms(x, b["n2"])
            x = x + (F.silu(h @ b["g"]) * (h @ b["u"])) @ b["d"]
        return rms(x, torch.ones(D, dtype=dt)) @ E.T
    return fwd, L, V

def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "gpt2"
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    dtype = sys.argv[3] if len(sys.argv) > 3 else "f32"
    B = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    T = int(sys.argv[5]) if len(sys.argv) > 5 else 512
    mode = sys.argv[6] if len(sys.argv) > 6 else "forward"
    windows = int(sys.argv[7]) if len(sys.argv) > 7 else 4
    dt = torch.bfloat16 if dtype == "bf16" else torch.float32
    fwd, L, V = (gpt2 if which == "gpt2" else llama1b)(B, T, dt)
    out = {"model": which, "dtype": dtype, "batch": B, "seq": T, "torch": torch.__version__, "threads": threads,
           "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS"), "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE"),
           "mkldnn": torch.backends.mkldnn.is_available()}
    with torch.no_grad():
        if mode == "forward":
            ids = torch.randint(0, V, (B, T))
            fwd(ids)  # warm-up at full size (allocator, page-in)
            times, cpu = [], []
            for _ in range(reps):
                t, c = time.perf_counter(), time.process_time()
                fwd(ids)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            times.sort()
            cpu.sort()
            ms = times[len(times) // 2] * 1000
            # CPU time (all threads) next to wall time: on a shared machine it is the steadier of the two.
            out.update({"forwardMs": round(ms, 1), "forwardCpuMs": round(cpu[len(cpu) // 2] * 1000, 1),
                        "tokensPerSecond": round(B * T / ms * 1000)})
        else:
            plans = [[j for j in range(L) if j != i] for i in range(L)]
            plans += [list(range(i)) + [i + 1, i] + list(range(i + 2, L)) for i in range(L - 1)]
            t = time.perf_counter()
            kl_sum, agree_sum, n = [0.0] * len(plans), [0.0] * len(plans), 0
            for w in range(0, windows, B):
                ids = torch.randint(0, V, (B, T))
                for p_i, plan in enumerate(plans):
                    base = fwd(ids).float().log_softmax(-1)  # the paper's method reruns the original model per plan
                    lp = fwd(ids, plan).float().log_softmax(-1)
                    kl_sum[p_i] += (base.exp() * (base - lp)).sum(-1)[:, 1:].sum().item()
                    agree_sum[p_i] += (base.argmax(-1) == lp.argmax(-1))[:, 1:].sum().item()
                n += B * (T - 1)
            ms = (time.perf_counter() - t) * 1000
            out.update({"mode": "sweep", "plans": len(plans), "windows": windows, "tokens": n, "sweepMs": round(ms), "tokensPerSecond": round(n / ms * 1000, 1),
                        "klMean": [round(k / n, 6) for k in kl_sum], "agreement": [round(a / n, 6) for a in agree_sum]})
    print(json.dumps(out))

if __name__ == "__main__":
    main()
