// bf16 weight matmuls and oneDNN's fp32 sgemm. Weights are reordered once into the blocked layout that
// oneDNN's bf16 kernels (AVX512-BF16 `vdpbf16ps`, or AMX tiles) read fastest; each call converts the f32
// activations to bf16 (round to nearest even), multiplies with f32 accumulation and writes f32. A CPU
// without bf16 instructions keeps the weights as plain bf16 and multiplies through f32 (convert a block
// of weight rows, then sgemm): same weights, activations not rounded, slower.
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>
#include "kernels.h"

namespace layerlab {

namespace {

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// Rows of the query size the blocked weight layout is chosen for; oneDNN's brgemm layout depends on K, N
// and the ISA, not on M, and every later M reuses it (checked: the implementation name is recorded).
constexpr int64_t kLayoutRows = 512;

std::vector<uint16_t>& src_scratch() {
  static std::vector<uint16_t> s;
  return s;
}

// One scratchpad for every bf16 matmul (user mode), grown to the largest any primitive asks for: with
// oneDNN's default each primitive would keep its own, and there are several per layer.
struct Scratchpad {
  void* data = nullptr;
  size_t size = 0;
  void* get(size_t need) {
    if (need > size) {
      std::free(data);
      data = std::aligned_alloc(64, (need + 63) / 64 * 64);
      size = need;
    }
    return data;
  }
};
Scratchpad& scratchpad() {
  static Scratchpad s;
  return s;
}

}  // namespace

// Every matmul input goes through here (round to nearest even, in integers: exact on every CPU, unlike
// vcvtneps2bf16, which flushes subnormals). Compiled for AVX-512 too: the baseline build was ~1.5% of a
// bf16 forward.
__attribute__((target_clones("avx512f", "avx2", "default"))) static void f32_to_bf16_range(const float* src, uint16_t* dst, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) {
    uint32_t u;
    std::memcpy(&u, src + i, 4);
    uint16_t nan = uint16_t((u >> 16) | 0x40);  // NaN stays NaN
    uint16_t rounded = uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    dst[i] = (u & 0x7fffffffu) > 0x7f800000u ? nan : rounded;
  }
}

void f32_to_bf16(const float* src, uint16_t* dst, int64_t n) {
  parallel_for(n, 1 << 16, [&](int64_t i0, int64_t i1) { f32_to_bf16_range(src, dst, i0, i1); });
}

void bf16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  parallel_for(n, 1 << 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      uint32_t u = uint32_t(src[i]) << 16;
      std::memcpy(dst + i, &u, 4);
    }
  });
}

// A weight is packed as column slices of at most a few MB. One brgemm call streams its whole packed weight
// once per 32-row block, so a 64 MB matrix (Llama-1B's gate|up) came from DRAM 128 times per 4096-row
// matmul; slices small enough to stay in the L3 cache are read from there by every row block (measured on
// the Llama-1B shapes: gate|up 341 -> 419 GFLOP/s, down 356 -> 418, bench/slice-bench.ts). A slice is its own oneDNN matmul over
// the same K, so each output element is the same sum as with one unsliced call (checked bit for bit,
// test/backend/bf16-slices.test.ts); the slicing depends on K and N only, never on the batch.
constexpr int64_t kSliceAboveBytes = int64_t(8) << 20;  // weights up to this size stay whole
constexpr int64_t kSliceBytes = int64_t(4) << 20;       // target size of a slice
constexpr int64_t kSliceMinCols = 512;                  // narrower calls lose more to per-call overhead than they gain

struct Bf16Slice {
  int64_t c0, n;  // first column and width in the full [K, N]
  dnnl::memory::desc packed_desc;
  dnnl::memory packed;
  std::string impl;
  struct Prim { dnnl::matmul prim; size_t scratch; };
  std::unordered_map<uint64_t, Prim> by_shape;  // key: rows, ldc, threads
};

struct PackedBf16 {
  int64_t k, n;
  bool out_in;
  std::vector<std::unique_ptr<Bf16Slice>> slices;
};

// Columns per slice for a [K, N] bf16 weight: all of N up to kSliceAboveBytes, else about kSliceBytes per
// slice in multiples of 64 columns (oneDNN's brgemm blocks N by 16..64), at least kSliceMinCols.
// LAYERLAB_BF16_SLICES=0 packs every weight whole (for measuring what slicing buys; read at each pack).
static int64_t bf16_slice_cols(int64_t k, int64_t n) {
  const int64_t bytes = 2 * k * n;
  const char* env = std::getenv("LAYERLAB_BF16_SLICES");
  if (bytes <= kSliceAboveBytes || (env && std::strcmp(env, "0") == 0)) return n;
  const int64_t slices = (bytes + kSliceBytes - 1) / kSliceBytes;
  int64_t cols = ((n + slices - 1) / slices + 63) / 64 * 64;
  cols = std::max(cols, kSliceMinCols);
  return std::min(cols, n);
}

static dnnl::memory::desc dst_desc(int64_t m, int64_t n, int64_t ldc) {
  return dnnl::memory::desc({m, n}, dt::f32, dnnl::memory::dims{ldc, 1});
}

static dnnl::matmul::primitive_desc matmul_pd(int64_t m, int64_t k, int64_t n, const dnnl::memory::desc& wei, int64_t ldc) {
  dnnl::memory::desc src({m, k}, dt::bf16, tag::ab);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst_desc(m, n, ldc)), attr, engine());
}

// Columns [c0, c0 + cols) of the user's plain matrix as a oneDNN memory desc: [K, cols] viewed from [in, out]
// (row-major, rows N apart) or [out, in] (column c is row c of the storage, K apart). `first` is the offset,
// in elements, of the slice's first value.
static dnnl::memory::desc plain_slice_desc(int64_t k, int64_t n, int64_t c0, int64_t cols, bool out_in, dt type, int64_t* first) {
  *first = out_in ? c0 * k : c0;
  return dnnl::memory::desc({k, cols}, type, out_in ? dnnl::memory::dims{1, k} : dnnl::memory::dims{n, 1});
}

PackedBf16* bf16_pack(const void* w, bool w_is_bf16, bool out_in, int64_t k, int64_t n) {
  auto* p = new PackedBf16{k, n, out_in, {}};
  const int64_t step = bf16_slice_cols(k, n), elem = w_is_bf16 ? 2 : 4;
  for (int64_t c0 = 0; c0 < n; c0 += step) {
    auto sl = std::make_unique<Bf16Slice>();
    sl->c0 = c0;
    sl->n = std::min(step, n - c0);
    dnnl::memory::desc any({k, sl->n}, dt::bf16, tag::any);
    auto pd = matmul_pd(kLayoutRows, k, sl->n, any, sl->n);
    sl->packed_desc = pd.weights_desc();
    sl->impl = pd.impl_info_str();
    sl->packed = dnnl::memory(sl->packed_desc, engine());
    int64_t first;
    auto desc = plain_slice_desc(k, n, c0, sl->n, out_in, w_is_bf16 ? dt::bf16 : dt::f32, &first);
    dnnl::memory user(desc, engine(), const_cast<char*>(static_cast<const char*>(w)) + first * elem);
    dnnl::reorder(user, sl->packed).execute(stream(), user, sl->packed);
    stream().wait();
    p->slices.push_back(std::move(sl));
  }
  return p;
}

void bf16_free(PackedBf16* p) { delete p; }
bool bf16_dims_match(const PackedBf16* p, int64_t k, int64_t n) { return p->k == k && p->n == n; }
const char* bf16_impl(const PackedBf16* p) { return p->slices.front()->impl.c_str(); }
int64_t bf16_packed_bytes(const PackedBf16* p) {
  int64_t bytes = 0;
  for (const auto& sl : p->slices) bytes += int64_t(sl->packed_desc.get_size());
  return bytes;
}

static void bf16_matmul_dense(Bf16Slice& sl, int64_t k, const uint16_t* x_bf16, int64_t rows, float* out, int64_t ldc);
static void bf16_matmul_blocks(PackedBf16* p, const float* x, int64_t rows, float* out, int64_t ldc, int64_t block);

// oneDNN 2.6's brgemm kernels need a dense output (ldc == N; a strided one falls back to a far slower
// implementation), so a column block of a wider output (or a slice's columns) goes through a small dense
// buffer, 256 rows at a time.
void bf16_matmul(PackedBf16* p, const float* x, int64_t rows, float* out, int64_t ldc, int64_t block) {
  if (rows == 0) return;
  if (block > 0 && rows >= block) return bf16_matmul_blocks(p, x, rows, out, ldc, block);
  auto& scratch = src_scratch();
  if (int64_t(scratch.size()) < rows * p->k) scratch.resize(size_t(rows * p->k));
  f32_to_bf16(x, scratch.data(), rows * p->k);
  for (auto& slp : p->slices) {
    Bf16Slice& sl = *slp;
    float* o = out + sl.c0;
    if (ldc == sl.n) { bf16_matmul_dense(sl, p->k, scratch.data(), rows, o, ldc); continue; }
    constexpr int64_t kRows = 256;
    static std::vector<float> dense;
    if (int64_t(dense.size()) < kRows * sl.n) dense.resize(size_t(kRows * sl.n));
    for (int64_t r0 = 0; r0 < rows; r0 += kRows) {
      int64_t nr = std::min(kRows, rows - r0);
      bf16_matmul_dense(sl, p->k, scratch.data() + r0 * p->k, nr, dense.data(), sl.n);
      // Threads only for big copies: a 32-row block is copied faster than a thread starts.
      parallel_for(nr, 128, [&](int64_t a, int64_t b) {
        for (int64_t r = a; r < b; ++r) std::memcpy(o + (r0 + r) * ldc, dense.data() + r * sl.n, size_t(sl.n) * 4);
      });
    }
  }
}

// The slice's primitive for `rows` rows and a dense output. `threads` is the OpenMP thread count it is
// created for: oneDNN fixes a primitive's thread decomposition (which may split K) when it is created.
static Bf16Slice::Prim& primitive(Bf16Slice& sl, int64_t k, int64_t rows, int64_t ldc, int threads) {
  const uint64_t key = (uint64_t(rows) << 32) | (uint64_t(ldc) << 8) | uint64_t(threads & 0xff);
  auto it = sl.by_shape.find(key);
  if (it == sl.by_shape.end()) {
    // A small cache: sweeps and forwards use a handful of row counts.
    if (sl.by_shape.size() >= 16) sl.by_shape.clear();
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    auto pd = matmul_pd(rows, k, sl.n, sl.packed_desc, ldc);
    omp_set_num_threads(saved);
    it = sl.by_shape.emplace(key, Bf16Slice::Prim{dnnl::matmul(pd), pd.scratchpad_desc().get_size()}).first;
  }
  return it->second;
}

// The arguments of a slice's primitive: source, packed weights, destination and, when it needs one, its scratchpad.
static std::unordered_map<int, dnnl::memory> matmul_args(const Bf16Slice& sl, const Bf16Slice::Prim& prim, const dnnl::memory& src,
                                                         const dnnl::memory& dst, void* scratch) {
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, sl.packed}, {DNNL_ARG_DST, dst}};
  if (prim.scratch) args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory({{int64_t(prim.scratch)}, dt::u8, tag::a}, engine(), scratch));
  return args;
}

static void execute(Bf16Slice& sl, int64_t k, Bf16Slice::Prim& prim, dnnl::stream& s, const uint16_t* src_bf16, int64_t rows, float* out, int64_t ldc, void* scratch) {
  dnnl::memory src({{rows, k}, dt::bf16, tag::ab}, engine(), const_cast<uint16_t*>(src_bf16));
  dnnl::memory dst(dst_desc(rows, sl.n, ldc), engine(), out);
  prim.prim.execute(s, matmul_args(sl, prim, src, dst, scratch));
  s.wait();
}

static void bf16_matmul_dense(Bf16Slice& sl, int64_t k, const uint16_t* x_bf16, int64_t rows, float* out, int64_t ldc) {
  auto& prim = primitive(sl, k, rows, ldc, omp_get_max_threads());
  execute(sl, k, prim, stream(), x_bf16, rows, out, ldc, scratchpad().get(prim.scratch));
}

namespace {
// What one OpenMP thread of bf16_matmul_blocks owns: its stream, its bf16 input block, its oneDNN scratchpad
// and a dense output block (for strided outputs, slices, and the last block, which overlaps the one before).
struct BlockWorker {
  std::unique_ptr<dnnl::stream> s;
  std::vector<uint16_t> src;
  std::vector<float> dense;
  Scratchpad pad;
};
std::vector<BlockWorker>& block_workers(int threads) {
  static std::vector<BlockWorker> w;
  if (int(w.size()) < threads) w.resize(size_t(threads));
  for (int t = 0; t < threads; ++t)
    if (!w[t].s) w[t].s = std::make_unique<dnnl::stream>(engine());
  return w;
}
}  // namespace

// Rows in fixed blocks of `block` (rows >= block), the blocks shared among the OpenMP threads. Each block is
// one single-threaded oneDNN call of exactly `block` rows per slice, so its arithmetic is the same whatever
// the thread count and the batch; the threads need no sync per block. The last block ends at `rows`,
// overlapping the one before; only its new rows are written. One slice: each thread converts its own
// blocks' input to bf16 (it stays in cache). Several: the input is converted once, then the slices run one
// after another, every row block of a slice reading the slice's weights from cache.
static void bf16_matmul_blocks(PackedBf16* p, const float* x, int64_t rows, float* out, int64_t ldc, int64_t block) {
  const int64_t k = p->k, blocks = (rows + block - 1) / block;
  const int threads = int(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), blocks)));
  auto& workers = block_workers(threads);
  const bool sliced = p->slices.size() > 1;
  const uint16_t* x_bf16 = nullptr;
  if (sliced) {
    auto& scratch = src_scratch();
    if (int64_t(scratch.size()) < rows * k) scratch.resize(size_t(rows * k));
    f32_to_bf16(x, scratch.data(), rows * k);
    x_bf16 = scratch.data();
  }
  for (auto& slp : p->slices) {
    Bf16Slice& sl = *slp;
    const int64_t n = sl.n;
    auto& prim = primitive(sl, k, block, n, 1);
    for (int t = 0; t < threads; ++t) {
      auto& w = workers[t];
      if (!sliced && int64_t(w.src.size()) < block * k) w.src.resize(size_t(block * k));
      if (int64_t(w.dense.size()) < block * n) w.dense.resize(size_t(block * n));
      w.pad.get(prim.scratch);
    }
    float* o = out + sl.c0;
#pragma omp parallel num_threads(threads)
    {
      auto& w = workers[omp_get_thread_num()];
      // The thread's memory objects and argument list, made once per slice: only their data pointers change
      // from block to block (making them per block cost ~6 us of CPU per 32-row block, ~1% of a forward).
      dnnl::memory src({{block, k}, dt::bf16, tag::ab}, engine(), x_bf16 ? const_cast<uint16_t*>(x_bf16) : w.src.data());
      dnnl::memory dst(dst_desc(block, n, n), engine(), w.dense.data());
      const auto args = matmul_args(sl, prim, src, dst, w.pad.data);
#pragma omp for schedule(static)
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t r0 = b * block, s = std::min(r0, rows - block);
        if (!x_bf16) f32_to_bf16_range(x + s * k, w.src.data(), 0, block * k);
        src.set_data_handle(x_bf16 ? const_cast<uint16_t*>(x_bf16 + s * k) : w.src.data());
        const bool direct = ldc == n && s == r0;
        dst.set_data_handle(direct ? o + s * ldc : w.dense.data());
        prim.prim.execute(*w.s, args);
        w.s->wait();
        if (!direct)
          for (int64_t r = r0; r < rows && r < r0 + block; ++r) std::memcpy(o + r * ldc, w.dense.data() + (r - s) * n, size_t(n) * 4);
      }
    }
  }
}

// The packed weights back in their plain layout (for analyses that read weights).
void bf16_unpack(const PackedBf16* p, uint16_t* dst) {
  for (const auto& sl : p->slices) {
    int64_t first;
    auto desc = plain_slice_desc(p->k, p->n, sl->c0, sl->n, p->out_in, dt::bf16, &first);
    dnnl::memory user(desc, engine(), dst + first);
    dnnl::memory packed = sl->packed;
    dnnl::reorder(packed, user).execute(stream(), packed, user);
    stream().wait();
  }
}

// bf16 weights through f32 (no bf16 instructions): weight rows are widened a block at a time.
void bf16_matmul_via_f32(const uint16_t* w, bool out_in, int64_t k, int64_t n, const float* x, int64_t rows, float* out, int64_t ldc) {
  if (rows == 0) return;
  const int64_t block = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(1, k));  // ~4 MB of f32 weights
  std::vector<float> wf(size_t(std::min(block, n) * k));
  for (int64_t c0 = 0; c0 < n; c0 += block) {
    int64_t nb = std::min(block, n - c0);
    if (out_in) {
      bf16_to_f32(w + c0 * k, wf.data(), nb * k);  // rows c0.. of [out, in]
      sgemm(false, true, int(rows), int(nb), int(k), 1.0f, x, int(k), wf.data(), int(k), 0.0f, out + c0, int(ldc));
    } else {
      for (int64_t r = 0; r < k; ++r) bf16_to_f32(w + r * n + c0, wf.data() + r * nb, nb);  // columns c0.. of [in, out]
      sgemm(false, false, int(rows), int(nb), int(k), 1.0f, x, int(k), wf.data(), int(nb), 0.0f, out + c0, int(ldc));
    }
  }
}

void sgemm_dnnl(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                int ldb, float beta, float* c, int ldc) {
  dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void set_dnnl_threads(int n) { omp_set_num_threads(std::max(1, n)); }
int dnnl_threads() { return omp_get_max_threads(); }

const char* dnnl_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::sse41: return "sse41";
    default: return "other";
  }
}

const char* dnnl_version_string() {
  static std::string s = [] {
    const dnnl_version_t* v = dnnl_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + " (" + v->hash + ")";
  }();
  return s.c_str();
}

}  // namespace layerlab
