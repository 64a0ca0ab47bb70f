#pragma once
// Thin typed wrappers over the CBLAS routines that xtensor-blas already declares
// (never include <cblas.h> beside xtensor-blas: the declarations conflict).
// All matrices are row-major and contiguous.

#include <cstddef>
#include <limits>

#include <xtensor-blas/xblas.hpp>

#include "../core/error.hpp"

namespace sleepnet {
namespace detail {

inline int blas_int(std::size_t n)
{
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw invalid_argument("matrix dimension " + std::to_string(n) + " exceeds the BLAS integer range");
    }
    return static_cast<int>(n);
}

/// C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is m x k, op(B) is k x n.
inline void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                 std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc)
{
    if (m == 0 || n == 0) {
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, blas_int(m),
                blas_int(n), blas_int(k), alpha, a, blas_int(lda), b, blas_int(ldb), beta, c, blas_int(ldc));
}

inline void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
                 std::size_t lda, const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc)
{
    if (m == 0 || n == 0) {
        return;
    }
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, blas_int(m),
                blas_int(n), blas_int(k), alpha, a, blas_int(lda), b, blas_int(ldb), beta, c, blas_int(ldc));
}

/// y += alpha * x
inline void axpy(std::size_t n, float alpha, const float* x, float* y) { cblas_saxpy(blas_int(n), alpha, x, 1, y, 1); }

inline void axpy(std::size_t n, double alpha, const double* x, double* y)
{
    cblas_daxpy(blas_int(n), alpha, x, 1, y, 1);
}

}  // namespace detail
}  // namespace sleepnet
