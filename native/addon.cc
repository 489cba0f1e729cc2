// N-API glue: validates every argument (type, length, bounds) before a kernel touches memory, so a wrong
// call from JS raises a TypeError/RangeError instead of corrupting memory.
#include <node_api.h>
#include <algorithm>
#include <cstdio>
#include <string>
#include <oneapi/dnnl/dnnl.hpp>
#include "kernels.h"

using namespace layerlab;

namespace {

struct ArgError { std::string message; bool range; };

struct Args {
  napi_env env;
  size_t count = 24;
  napi_value values[24];
  Args(napi_env e, napi_callback_info info) : env(e) { napi_get_cb_info(e, info, &count, values, nullptr, nullptr); }

  napi_value at(size_t i) const {
    if (i >= count) throw ArgError{"missing argument " + std::to_string(i), false};
    return values[i];
  }
  double number(size_t i) const {
    double out;
    if (napi_get_value_double(env, at(i), &out) != napi_ok) throw ArgError{"argument " + std::to_string(i) + " must be a number", false};
    return out;
  }
  int64_t integer(size_t i) const {
    double d = number(i);
    if (d != double(int64_t(d)) || d < 0) throw ArgError{"argument " + std::to_string(i) + " must be a non-negative integer", true};
    return int64_t(d);
  }
  bool boolean(size_t i) const {
    bool out;
    if (napi_get_value_bool(env, at(i), &out) != napi_ok) throw ArgError{"argument " + std::to_string(i) + " must be a boolean", false};
    return out;
  }
  bool is_null(size_t i) const {
    napi_valuetype t;
    napi_typeof(env, at(i), &t);
    return t == napi_null || t == napi_undefined;
  }
  template <class T>
  T* typed(size_t i, napi_typedarray_type want, const char* name, size_t* length) const {
    bool is;
    napi_is_typedarray(env, at(i), &is);
    if (!is) throw ArgError{std::string("argument ") + std::to_string(i) + " must be a " + name, false};
    napi_typedarray_type type; size_t len; void* data; napi_value ab; size_t off;
    napi_get_typedarray_info(env, at(i), &type, &len, &data, &ab, &off);
    if (type != want) throw ArgError{std::string("argument ") + std::to_string(i) + " must be a " + name, false};
    *length = len;
    return static_cast<T*>(data);
  }
  float* f32(size_t i, int64_t need) const {
    size_t len;
    float* p = typed<float>(i, napi_float32_array, "Float32Array", &len);
    if (need > int64_t(len)) throw ArgError{"argument " + std::to_string(i) + ": Float32Array of length " + std::to_string(len) + " is too short (needs " + std::to_string(need) + ")", true};
    return p;
  }
  float* f32_or_null(size_t i, int64_t need) const { return is_null(i) ? nullptr : f32(i, need); }
  double* f64(size_t i, int64_t need) const {
    size_t len;
    double* p = typed<double>(i, napi_float64_array, "Float64Array", &len);
    if (need > int64_t(len)) throw ArgError{"argument " + std::to_string(i) + ": Float64Array too short", true};
    return p;
  }
  uint16_t* u16(size_t i, int64_t need) const {
    size_t len;
    uint16_t* p = typed<uint16_t>(i, napi_uint16_array, "Uint16Array", &len);
    if (need > int64_t(len)) throw ArgError{"argument " + std::to_string(i) + ": Uint16Array too short", true};
    return p;
  }
  // A Float32Array or a Uint16Array of bf16 bit patterns; *is_bf16 says which.
  void* f32_or_bf16(size_t i, int64_t need, bool* is_bf16) const {
    bool is;
    napi_is_typedarray(env, at(i), &is);
    napi_typedarray_type type = napi_float32_array;
    if (is) { size_t len; void* d; napi_value ab; size_t off; napi_get_typedarray_info(env, at(i), &type, &len, &d, &ab, &off); }
    *is_bf16 = type == napi_uint16_array;
    return *is_bf16 ? static_cast<void*>(u16(i, need)) : static_cast<void*>(f32(i, need));
  }
  std::string string(size_t i) const {
    size_t len;
    if (napi_get_value_string_utf8(env, at(i), nullptr, 0, &len) != napi_ok) throw ArgError{"argument " + std::to_string(i) + " must be a string", false};
    std::string out(len, '\0');
    napi_get_value_string_utf8(env, at(i), out.data(), len + 1, &len);
    return out;
  }
  PackedBf16* packed(size_t i) const {
    void* p = nullptr;
    if (napi_get_value_external(env, at(i), &p) != napi_ok || !p) throw ArgError{"argument " + std::to_string(i) + " must be a packed bf16 weight", false};
    return static_cast<PackedBf16*>(p);
  }
  int32_t* i32(size_t i, int64_t need) const {
    size_t len;
    int32_t* p = typed<int32_t>(i, napi_int32_array, "Int32Array", &len);
    if (need > int64_t(len)) throw ArgError{"argument " + std::to_string(i) + ": Int32Array too short", true};
    return p;
  }
};

template <class F>
napi_value guarded(napi_env env, F&& f) {
  try {
    return f();
  } catch (const ArgError& e) {
    if (e.range) napi_throw_range_error(env, nullptr, e.message.c_str());
    else napi_throw_type_error(env, nullptr, e.message.c_str());
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

napi_value undefined(napi_env env) { napi_value u; napi_get_undefined(env, &u); return u; }

// Extent of a row-major matrix view: (rows-1)*ld + cols elements past the offset.
int64_t extent(int64_t rows, int64_t cols, int64_t ld) {
  if (rows == 0 || cols == 0) return 0;
  if (ld < cols) throw ArgError{"leading dimension smaller than the row length", true};
  return (rows - 1) * ld + cols;
}

// sgemm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc), on OpenBLAS or oneDNN.
template <bool kDnnl>
napi_value SgemmOn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    bool ta = a.boolean(0), tb = a.boolean(1);
    int64_t m = a.integer(2), n = a.integer(3), k = a.integer(4);
    float alpha = float(a.number(5));
    int64_t aoff = a.integer(7), lda = a.integer(8), boff = a.integer(10), ldb = a.integer(11);
    float beta = float(a.number(12));
    int64_t coff = a.integer(14), ldc = a.integer(15);
    const float* A = a.f32(6, aoff + extent(ta ? k : m, ta ? m : k, lda));
    const float* B = a.f32(9, boff + extent(tb ? n : k, tb ? k : n, ldb));
    float* C = a.f32(13, coff + extent(m, n, ldc));
    if (m && n) (kDnnl ? sgemm_dnnl : sgemm)(ta, tb, int(m), int(n), int(k), alpha, A + aoff, int(lda), B + boff, int(ldb), beta, C + coff, int(ldc));
    return undefined(env);
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int n = int(a.integer(0));
    set_blas_threads(n);
    set_kernel_threads(n);
    set_dnnl_threads(n);
    return undefined(env);
  });
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, blas_core_name(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "coreName", v);
  napi_create_string_utf8(env, blas_config(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "config", v);
  napi_create_int32(env, blas_threads(), &v);
  napi_set_named_property(env, obj, "blasThreads", v);
  napi_create_int32(env, kernel_threads(), &v);
  napi_set_named_property(env, obj, "kernelThreads", v);
  napi_create_string_utf8(env, dnnl_isa(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "dnnlIsa", v);
  napi_create_string_utf8(env, dnnl_version_string(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "dnnlVersion", v);
  napi_create_int32(env, dnnl_threads(), &v);
  napi_set_named_property(env, obj, "dnnlThreads", v);
  napi_create_string_utf8(env, attention_kernel_name(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "attentionKernel", v);
  return obj;
}

// layerNorm(x, out, rows, cols, w, b|null, eps)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t rows = a.integer(2), cols = a.integer(3);
    layer_norm(a.f32(0, rows * cols), a.f32(1, rows * cols), rows, cols, a.f32(4, cols), a.f32_or_null(5, cols), float(a.number(6)));
    return undefined(env);
  });
}

// rmsNorm(x, out, rows, cols, w, eps)
napi_value RmsNorm(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t rows = a.integer(2), cols = a.integer(3);
    rms_norm(a.f32(0, rows * cols), a.f32(1, rows * cols), rows, cols, a.f32(4, cols), float(a.number(5)));
    return undefined(env);
  });
}

// gelu(x, out, n, exact)
napi_value Gelu(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t n = a.integer(2);
    if (a.boolean(3)) gelu_erf(a.f32(0, n), a.f32(1, n), n);
    else gelu_tanh(a.f32(0, n), a.f32(1, n), n);
    return undefined(env);
  });
}

// siluMul(gateUp, out, rows, dFF)
napi_value SiluMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t rows = a.integer(2), dff = a.integer(3);
    silu_mul(a.f32(0, rows * 2 * dff), a.f32(1, rows * dff), rows, dff);
    return undefined(env);
  });
}

// add(a, b, c|null, out, n): out = a + b (+ c)
napi_value Add(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t n = a.integer(4);
    add(a.f32(0, n), a.f32(1, n), a.f32_or_null(2, n), a.f32(3, n), n);
    return undefined(env);
  });
}

// rope(x, rows, seq, ld, col, heads, dh, cos, sin, half, positions|null): in place
napi_value Rope(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t rows = a.integer(1), seq = a.integer(2), ld = a.integer(3), col = a.integer(4), heads = a.integer(5),
            dh = a.integer(6), half = a.integer(9);
    if (rows <= 0 || seq <= 0 || half <= 0 || 2 * half > dh || col < 0 || col + heads * dh > ld)
      throw ArgError{"rope: bad dimensions", true};
    const int32_t* positions = a.is_null(10) ? nullptr : a.i32(10, rows);
    // Every position must have a table row: a position past the tables would read outside them.
    int64_t last = seq - 1;
    if (positions)
      for (int64_t r = 0; r < rows; ++r) {
        if (positions[r] < 0) throw ArgError{"rope: negative position", true};
        last = std::max<int64_t>(last, positions[r]);
      }
    const float* cos = a.f32(7, (last + 1) * half);
    const float* sin = a.f32(8, (last + 1) * half);
    rope(a.f32(0, (rows - 1) * ld + col + heads * dh), rows, seq, ld, col, heads, dh, cos, sin, half, positions);
    return undefined(env);
  });
}

// addBias(x, rows, cols, bias)
napi_value AddBias(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t rows = a.integer(1), cols = a.integer(2);
    add_bias(a.f32(0, rows * cols), rows, cols, a.f32(3, cols));
    return undefined(env);
  });
}

struct AttnDims { int64_t B, T, H, Hkv, dh; };
AttnDims attn_dims(const Args& a, size_t first) {
  AttnDims d{a.integer(first), a.integer(first + 1), a.integer(first + 2), a.integer(first + 3), a.integer(first + 4)};
  if (d.Hkv == 0 || d.H % d.Hkv != 0) throw ArgError{"query heads must be a multiple of kv heads", true};
  return d;
}

// A fused projection view: ld and the start columns of q, k and v must lie inside a row.
struct QkvView { int64_t ld, q, k, v; };
QkvView qkv_view(const Args& a, size_t first, const AttnDims& d) {
  QkvView w{a.integer(first), a.integer(first + 1), a.integer(first + 2), a.integer(first + 3)};
  if (w.q + d.H * d.dh > w.ld || w.k + d.Hkv * d.dh > w.ld || w.v + d.Hkv * d.dh > w.ld)
    throw ArgError{"q/k/v columns run past the row width", true};
  return w;
}

// attention(qkv, ld, qCol, kCol, vCol, out, pattern|null, B, T, H, Hkv, dh, scale, window)
napi_value Attention(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    AttnDims d = attn_dims(a, 7);
    QkvView w = qkv_view(a, 1, d);
    attention_fused(a.f32(0, d.B * d.T * w.ld), int(w.ld), int(w.q), int(w.k), int(w.v), a.f32(5, d.B * d.T * d.H * d.dh),
                    int(d.B), int(d.T), int(d.H), int(d.Hkv), int(d.dh), float(a.number(12)), int(a.integer(13)),
                    a.f32_or_null(6, d.B * d.H * d.T * d.T));
    return undefined(env);
  });
}

// attentionScores(qkv, ld, qCol, kCol, vCol, scores, B, T, H, Hkv, dh, scale)
napi_value AttentionScores(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    AttnDims d = attn_dims(a, 6);
    QkvView w = qkv_view(a, 1, d);
    attention_scores(a.f32(0, d.B * d.T * w.ld), int(w.ld), int(w.q), int(w.k), a.f32(5, d.B * d.H * d.T * d.T), int(d.B),
                     int(d.T), int(d.H), int(d.Hkv), int(d.dh), float(a.number(11)));
    return undefined(env);
  });
}

// softmaxRows(x, rows, cols)
napi_value SoftmaxRows(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t rows = a.integer(1), cols = a.integer(2);
    softmax_rows(a.f32(0, rows * cols), rows, cols);
    return undefined(env);
  });
}

// attentionApply(pattern, qkv, ld, qCol, kCol, vCol, out, B, T, H, Hkv, dh)
napi_value AttentionApply(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    AttnDims d = attn_dims(a, 7);
    QkvView w = qkv_view(a, 2, d);
    attention_apply(a.f32(0, d.B * d.H * d.T * d.T), a.f32(1, d.B * d.T * w.ld), int(w.ld), int(w.v), a.f32(6, d.B * d.T * d.H * d.dh),
                    int(d.B), int(d.T), int(d.H), int(d.Hkv), int(d.dh));
    return undefined(env);
  });
}

// logitStats(logits, rows, vocab, lse|null, argmax|null, entropyBits|null)
napi_value LogitStats(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t rows = a.integer(1), vocab = a.integer(2);
    if (vocab == 0) throw ArgError{"vocab must be positive", true};
    logit_stats(a.f32(0, rows * vocab), rows, vocab, a.is_null(3) ? nullptr : a.f64(3, rows),
                a.is_null(4) ? nullptr : a.i32(4, rows), a.is_null(5) ? nullptr : a.f64(5, rows));
    return undefined(env);
  });
}

// klRows(pLogits, qLogits, rows, vocab, lseP, lseQ, out)
napi_value KlRows(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t rows = a.integer(2), vocab = a.integer(3);
    kl_rows(a.f32(0, rows * vocab), a.f32(1, rows * vocab), rows, vocab, a.f64(4, rows), a.f64(5, rows), a.f64(6, rows));
    return undefined(env);
  });
}

// firstNonFinite(x, n): index of the first NaN/Inf in x[0..n), or -1.
napi_value FirstNonFinite(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t n = a.integer(1);
    napi_value out;
    napi_create_double(env, double(first_non_finite(a.f32(0, n), n)), &out);
    return out;
  });
}

void bf16_check_dims(const PackedBf16* p, int64_t k, int64_t n) {
  if (!bf16_dims_match(p, k, n)) throw ArgError{"bf16 matmul: K x N does not match the packed weight", true};
}

// bf16Pack(w: Float32Array | Uint16Array, outIn, K, N) -> external handle (freed with the JS object).
napi_value Bf16Pack(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    bool out_in = a.boolean(1);
    int64_t k = a.integer(2), n = a.integer(3);
    if (k == 0 || n == 0) throw ArgError{"bf16Pack: empty matrix", true};
    bool is_bf16;
    void* w = a.f32_or_bf16(0, k * n, &is_bf16);
    PackedBf16* p = bf16_pack(w, is_bf16, out_in, k, n);
    int64_t bytes = bf16_packed_bytes(p);
    int64_t adjusted;
    napi_adjust_external_memory(env, bytes, &adjusted);
    napi_value ext;
    napi_create_external(env, p, [](napi_env e, void* data, void* hint) {
      int64_t adj;
      napi_adjust_external_memory(e, -reinterpret_cast<int64_t>(hint), &adj);
      bf16_free(static_cast<PackedBf16*>(data));
    }, reinterpret_cast<void*>(bytes), &ext);
    return ext;
  });
}

// bf16Describe(handle) -> { impl, bytes }
napi_value Bf16Describe(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    PackedBf16* p = a.packed(0);
    napi_value obj, v;
    napi_create_object(env, &obj);
    napi_create_string_utf8(env, bf16_impl(p), NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, obj, "impl", v);
    napi_create_double(env, double(bf16_packed_bytes(p)), &v);
    napi_set_named_property(env, obj, "bytes", v);
    return obj;
  });
}

// bf16Matmul(handle, x, rows, K, N, out, ldOut, blockRows): out [rows, N] (rows ldOut apart) = x [rows, K] . W,
// in fixed blocks of blockRows rows (0: one call)
napi_value Bf16Matmul(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    PackedBf16* p = a.packed(0);
    int64_t rows = a.integer(2), k = a.integer(3), n = a.integer(4), ldc = a.integer(6);
    bf16_check_dims(p, k, n);
    int64_t block = a.integer(7);
    if (block > 0 && rows < block) throw ArgError{"bf16Matmul: blockRows must be 0 or at most rows", true};
    bf16_matmul(p, a.f32(1, rows * k), rows, a.f32(5, extent(rows, n, ldc)), ldc, block);
    return undefined(env);
  });
}

// bf16Unpack(handle, K, N, dst: Uint16Array of K*N) in the layout the weight was packed from
napi_value Bf16Unpack(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    PackedBf16* p = a.packed(0);
    int64_t k = a.integer(1), n = a.integer(2);
    bf16_check_dims(p, k, n);
    bf16_unpack(p, a.u16(3, k * n));
    return undefined(env);
  });
}

// bf16MatmulViaF32(w: Uint16Array, outIn, K, N, x, rows, out, ldOut)
napi_value Bf16MatmulViaF32(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t k = a.integer(2), n = a.integer(3), rows = a.integer(5), ldc = a.integer(7);
    bf16_matmul_via_f32(a.u16(0, k * n), a.boolean(1), k, n, a.f32(4, rows * k), rows, a.f32(6, extent(rows, n, ldc)), ldc);
    return undefined(env);
  });
}

// f32ToBf16(src: Float32Array, dst: Uint16Array, n) (round to nearest even); bf16ToF32(src, dst, n)
napi_value F32ToBf16(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t n = a.integer(2);
    f32_to_bf16(a.f32(0, n), a.u16(1, n), n);
    return undefined(env);
  });
}
napi_value Bf16ToF32(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    int64_t n = a.integer(2);
    bf16_to_f32(a.u16(0, n), a.f32(1, n), n);
    return undefined(env);
  });
}

// mapFile(path) -> ArrayBuffer over a private memory map of the whole file (unmapped when collected)
napi_value MapFile(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    std::string path = a.string(0), error;
    int64_t size = 0;
    void* p = map_file(path.c_str(), &size, &error);
    napi_value ab;
    if (!p) {
      if (size == 0 && error.empty()) { void* d; napi_create_arraybuffer(env, 0, &d, &ab); return ab; }
      throw ArgError{"cannot map " + path + ": " + error, false};
    }
    napi_status st = napi_create_external_arraybuffer(env, p, size_t(size), [](napi_env, void* data, void* hint) {
      unmap_file(data, reinterpret_cast<int64_t>(hint));
    }, reinterpret_cast<void*>(size), &ab);
    if (st != napi_ok) { unmap_file(p, size); throw ArgError{"external ArrayBuffers are not available in this Node", false}; }
    return ab;
  });
}

// releasePages(view: any TypedArray): drop the whole pages under the view from this process
napi_value ReleasePages(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info);
    bool is;
    napi_is_typedarray(env, a.at(0), &is);
    if (!is) throw ArgError{"argument 0 must be a typed array", false};
    napi_typedarray_type type; size_t len; void* data; napi_value ab; size_t off;
    napi_get_typedarray_info(env, a.at(0), &type, &len, &data, &ab, &off);
    size_t bytes = 0;
    napi_get_arraybuffer_info(env, ab, nullptr, &bytes);
    size_t elem = type == napi_float32_array ? 4 : type == napi_uint16_array ? 2 : 1;
    if (off + len * elem > bytes) throw ArgError{"view runs past its buffer", true};
    release_pages(data, int64_t(len * elem));
    return undefined(env);
  });
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", nullptr, SgemmOn<false>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgemmDnnl", nullptr, SgemmOn<true>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bf16Pack", nullptr, Bf16Pack, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bf16Describe", nullptr, Bf16Describe, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bf16Matmul", nullptr, Bf16Matmul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bf16Unpack", nullptr, Bf16Unpack, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bf16MatmulViaF32", nullptr, Bf16MatmulViaF32, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"f32ToBf16", nullptr, F32ToBf16, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bf16ToF32", nullptr, Bf16ToF32, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"mapFile", nullptr, MapFile, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"releasePages", nullptr, ReleasePages, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNorm", nullptr, LayerNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rmsNorm", nullptr, RmsNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gelu", nullptr, Gelu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"siluMul", nullptr, SiluMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"add", nullptr, Add, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"addBias", nullptr, AddBias, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rope", nullptr, Rope, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attention", nullptr, Attention, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionScores", nullptr, AttentionScores, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxRows", nullptr, SoftmaxRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionApply", nullptr, AttentionApply, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"logitStats", nullptr, LogitStats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"klRows", nullptr, KlRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"firstNonFinite", nullptr, FirstNonFinite, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
