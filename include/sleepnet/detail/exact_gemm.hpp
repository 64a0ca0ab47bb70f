#pragma once
// A matrix product whose every element is computed by the same sequence of operations
// whatever the matrix sizes and the number of threads: C[i][j] = sum over p = 0..k-1, in
// that order, of op(A)[i][p] * B[p][j], one accumulator per element. OpenBLAS does not
// promise that (its results change with the batch size and the thread count), so the
// paths that decide predictions and attack results use this one: a sample's logits do
// not depend on which other samples share its batch.
//
// The kernel vectorizes along the columns of B (GCC/Clang vector extensions), computes
// MR rows x 2 vectors per tile, and splits rows between threads. Column tails go through
// the same tiles on a zero-padded copy.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>

#include "parallel.hpp"

namespace sleepnet {
namespace detail {

// the widest vectors the target has (results do not depend on the choice)
#if defined(__AVX512F__)
constexpr std::size_t exact_vector_bytes = 64;
#elif defined(__AVX__)
constexpr std::size_t exact_vector_bytes = 32;
#else
constexpr std::size_t exact_vector_bytes = 16;
#endif

template <class T>
struct exact_vec;
template <>
struct exact_vec<float> {
    typedef float type __attribute__((vector_size(exact_vector_bytes)));
};
template <>
struct exact_vec<double> {
    typedef double type __attribute__((vector_size(exact_vector_bytes)));
};

template <class V, class T>
inline V exact_load(const T* p)
{
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
}

template <class V, class T>
inline void exact_store(T* p, const V& v)
{
    std::memcpy(p, &v, sizeof(V));
}

// element (r, p) of op(A)
template <class T>
inline T exact_a(const T* a, std::size_t lda, bool trans_a, std::size_t r, std::size_t p)
{
    return trans_a ? a[p * lda + r] : a[r * lda + p];
}

// Rows [r0, r0 + R) of op(A) times columns [j0, j0 + 2W) of B, stored at c_rows (the C
// row of r0) + r * ldc + j0.
template <class T, std::size_t R>
inline void exact_tile(std::size_t r0, std::size_t j0, std::size_t k, const T* a, std::size_t lda, bool trans_a,
                       const T* b, std::size_t ldb, T* c_rows, std::size_t ldc)
{
    using V = typename exact_vec<T>::type;
    constexpr std::size_t W = sizeof(V) / sizeof(T);
    V acc0[R], acc1[R];
    for (std::size_t r = 0; r < R; ++r) {
        acc0[r] = V{};
        acc1[r] = V{};
    }
    for (std::size_t p = 0; p < k; ++p) {
        const V b0 = exact_load<V>(b + p * ldb + j0);
        const V b1 = exact_load<V>(b + p * ldb + j0 + W);
        for (std::size_t r = 0; r < R; ++r) {
            const T s = exact_a(a, lda, trans_a, r0 + r, p);
            acc0[r] += s * b0;
            acc1[r] += s * b1;
        }
    }
    for (std::size_t r = 0; r < R; ++r) {
        exact_store(c_rows + r * ldc + j0, acc0[r]);
        exact_store(c_rows + r * ldc + j0 + W, acc1[r]);
    }
}

template <class T>
inline void exact_rows(std::size_t row_begin, std::size_t row_end, std::size_t n, std::size_t k, const T* a,
                       std::size_t lda, bool trans_a, const T* b, std::size_t ldb, T* c, std::size_t ldc)
{
    using V = typename exact_vec<T>::type;
    constexpr std::size_t W = sizeof(V) / sizeof(T);
    constexpr std::size_t MR = 6;
    const std::size_t n_vec = n - n % (2 * W);
    // With long rows of B, a panel of 2W columns touches one page per row: it is copied
    // to a contiguous buffer first (the tiles then read it sequentially; the operations
    // on every element are the same)
    const bool pack = ldb * sizeof(T) >= 2048 && row_end - row_begin > MR;
    // (uninitialized: every element used is written first)
    std::unique_ptr<T[]> panel(pack ? new T[k * 2 * W] : nullptr);
    for (std::size_t j0 = 0; j0 < n_vec; j0 += 2 * W) {
        const T* bp = b;
        std::size_t ldp = ldb, jp = j0;
        if (pack) {
            for (std::size_t p = 0; p < k; ++p)
                std::memcpy(panel.get() + p * 2 * W, b + p * ldb + j0, 2 * W * sizeof(T));
            bp = panel.get();
            ldp = 2 * W;
            jp = 0;
        }
        std::size_t r = row_begin;
        for (; r + MR <= row_end; r += MR)
            exact_tile<T, MR>(r, jp, k, a, lda, trans_a, bp, ldp, c + r * ldc + j0 - jp, ldc);
        for (; r < row_end; ++r) exact_tile<T, 1>(r, jp, k, a, lda, trans_a, bp, ldp, c + r * ldc + j0 - jp, ldc);
    }
    if (n_vec < n) {
        // the last columns go through the same vector tiles on a zero-padded copy: every
        // element still gets the same sequence of operations, and small batches (attacks
        // whose unfinished inputs dwindle) stay vectorized
        const std::size_t tail = n - n_vec;
        std::unique_ptr<T[]> bt(new T[k * 2 * W]);
        for (std::size_t p = 0; p < k; ++p) {
            for (std::size_t j = 0; j < tail; ++j) bt[p * 2 * W + j] = b[p * ldb + n_vec + j];
            for (std::size_t j = tail; j < 2 * W; ++j) bt[p * 2 * W + j] = T(0);
        }
        T ct[MR * 2 * W];
        for (std::size_t r0 = row_begin; r0 < row_end; r0 += MR) {
            const std::size_t rows = std::min(MR, row_end - r0);
            if (rows == MR) {
                exact_tile<T, MR>(r0, 0, k, a, lda, trans_a, bt.get(), 2 * W, ct, 2 * W);
            } else {
                for (std::size_t r = 0; r < rows; ++r)
                    exact_tile<T, 1>(r0 + r, 0, k, a, lda, trans_a, bt.get(), 2 * W, ct + r * 2 * W, 2 * W);
            }
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t j = 0; j < tail; ++j) c[(r0 + r) * ldc + n_vec + j] = ct[r * 2 * W + j];
        }
    }
}

/// C (m x n) = op(A) (m x k) * B (k x n), row-major; op(A) = A, or A^T when trans_a (A is
/// then stored k x m). Element values do not depend on m, n or `threads`.
template <class T>
inline void exact_gemm(std::size_t m, std::size_t n, std::size_t k, const T* a, std::size_t lda, bool trans_a,
                       const T* b, std::size_t ldb, T* c, std::size_t ldc, unsigned threads = 1)
{
    if (m == 0 || n == 0) return;
    const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    // small products on the caller's thread; larger ones in contiguous row chunks
    parallel_for(m, work < 2e6 ? 1u : threads, [&](std::size_t begin, std::size_t end) {
        exact_rows(begin, end, n, k, a, lda, trans_a, b, ldb, c, ldc);
    });
}

}  // namespace detail
}  // namespace sleepnet
