#include <cblas.h>
#include "kernels.h"

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
char* openblas_get_config(void);
}

namespace layerlab {

static int g_kernel_threads = std::max(1u, std::thread::hardware_concurrency());

int kernel_threads() { return g_kernel_threads; }
void set_kernel_threads(int n) { g_kernel_threads = std::max(1, n); }

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
           int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
              alpha, a, lda, b, ldb, beta, c, ldc);
}

void set_blas_threads(int n) { openblas_set_num_threads(std::max(1, n)); }
int blas_threads() { return openblas_get_num_threads(); }
const char* blas_core_name() { return openblas_get_corename(); }
const char* blas_config() { return openblas_get_config(); }

}  // namespace layerlab
