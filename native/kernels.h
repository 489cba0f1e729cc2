// Native kernels behind layerlab's Backend interface. Everything works on caller-owned float buffers
// (JS Float32Arrays); nothing here allocates tensors that outlive a call.
#pragma once
#include <cstdint>
#include <thread>
#include <vector>
#include <algorithm>
#include <string>

namespace layerlab {

// Threads used by the element-wise and attention kernels (OpenBLAS has its own setting, kept equal).
int kernel_threads();
void set_kernel_threads(int n);

// Splits [0, n) into contiguous chunks, one per thread; runs inline when the work is small.
template <class F>
void parallel_for(int64_t n, int64_t min_per_thread, F&& body) {
  int threads = kernel_threads();
  if (threads <= 1 || n < 2 * min_per_thread) { body(int64_t(0), n); return; }
  int64_t chunks = std::min<int64_t>(threads, n / min_per_thread);
  std::vector<std::thread> workers;
  int64_t step = (n + chunks - 1) / chunks;
  for (int64_t c = 1; c < chunks; ++c) {
    int64_t begin = c * step, end = std::min(n, begin + step);
    if (begin < end) workers.emplace_back([&body, begin, end] { body(begin, end); });
  }
  body(0, std::min(n, step));
  for (auto& w : workers) w.join();
}

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc);
void set_blas_threads(int n);
int blas_threads();
const char* blas_core_name();
const char* blas_config();

void layer_norm(const float* x, float* out, int64_t rows, int64_t cols, const float* w, const float* b, float eps);
void rms_norm(const float* x, float* out, int64_t rows, int64_t cols, const float* w, float eps);
void gelu_tanh(const float* x, float* out, int64_t n);
void gelu_erf(const float* x, float* out, int64_t n);
void silu_mul(const float* gate_up, float* out, int64_t rows, int64_t d_ff);
void add(const float* a, const float* b, const float* c, float* out, int64_t n);
void add_bias(float* x, int64_t rows, int64_t cols, const float* bias);
// RoPE (rotate_half) in place on `heads` heads of dh from column `col` of rows ld apart; position of row r:
// positions[r], or r % seq without them; cos/sin [positions, half] (native/rope.cc).
void rope(float* x, int64_t rows, int64_t seq, int64_t ld, int64_t col, int64_t heads, int64_t dh, const float* cos,
          const float* sin, int64_t half, const int32_t* positions);

// Causal attention over heads read in place from a fused projection qkv [B*T, ld]: query head h is columns
// q_col + h*dh .. +dh, kv head g is k_col/v_col + g*dh. out [B,T,H*dh]; optional pattern [B,H,T,T].
// window > 0: query i sees keys j with i - j < window (sliding-window models); 0: all earlier keys.
void attention_fused(const float* qkv, int ld, int q_col, int k_col, int v_col, float* out, int B, int T, int H,
                     int Hkv, int dh, float scale, int window, float* pattern);
// The same on AVX-512 (native/attention_tiled.cc); only call it where the CPU has avx512f.
void attention_tiled_avx512(const float* qkv, int ld, int q_col, int k_col, int v_col, float* out, int B, int T,
                            int H, int Hkv, int dh, float scale, int window, float* pattern);
// Which kernel attention_fused runs on this CPU: "tiled-avx512" or "blas" (also forced by LAYERLAB_ATTENTION=blas).
const char* attention_kernel_name();
// Unfused pieces, used when a hook reads or replaces scores or pattern.
void attention_scores(const float* qkv, int ld, int q_col, int k_col, float* scores, int B, int T, int H, int Hkv,
                      int dh, float scale);
void softmax_rows(float* x, int64_t rows, int64_t cols);
void attention_apply(const float* pattern, const float* qkv, int ld, int v_col, float* out, int B, int T, int H,
                     int Hkv, int dh);

// bf16 weights (native/bf16.cc): packed once into oneDNN's blocked layout, f32 activations in, f32 out.
struct PackedBf16;
PackedBf16* bf16_pack(const void* w, bool w_is_bf16, bool out_in, int64_t k, int64_t n);
void bf16_free(PackedBf16* p);
bool bf16_dims_match(const PackedBf16* p, int64_t k, int64_t n);
const char* bf16_impl(const PackedBf16* p);
int64_t bf16_packed_bytes(const PackedBf16* p);
// out rows are ldc apart (ldc >= N): a column block of a wider output. block > 0 (and rows >= block): the
// rows in fixed blocks of `block`, each computed alike whatever the thread count (threads take whole blocks).
void bf16_matmul(PackedBf16* p, const float* x, int64_t rows, float* out, int64_t ldc, int64_t block);
void bf16_unpack(const PackedBf16* p, uint16_t* dst);
void bf16_matmul_via_f32(const uint16_t* w, bool out_in, int64_t k, int64_t n, const float* x, int64_t rows, float* out, int64_t ldc);
void f32_to_bf16(const float* src, uint16_t* dst, int64_t n);
void bf16_to_f32(const uint16_t* src, float* dst, int64_t n);
// oneDNN's fp32 GEMM (row-major, same contract as sgemm) and its OpenMP threads and ISA.
void sgemm_dnnl(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                const float* b, int ldb, float beta, float* c, int ldc);
void set_dnnl_threads(int n);
int dnnl_threads();
const char* dnnl_isa();
const char* dnnl_version_string();

// Memory-mapped files (native/mmap.cc).
void* map_file(const char* path, int64_t* size, std::string* error);
void unmap_file(void* p, int64_t size);
void release_pages(void* p, int64_t bytes);

// Per-row statistics of logits [rows, V]: log-sum-exp, argmax, entropy in bits.
void logit_stats(const float* logits, int64_t rows, int64_t vocab, double* lse, int32_t* argmax, double* entropy_bits);
// KL(P || Q) in nats per row, given both rows' log-sum-exp.
void kl_rows(const float* p_logits, const float* q_logits, int64_t rows, int64_t vocab, const double* lse_p,
             const double* lse_q, double* kl);

// Index of the first NaN or +-Inf among n floats, or -1 when all are finite.
int64_t first_non_finite(const float* x, int64_t n);

}  // namespace layerlab
