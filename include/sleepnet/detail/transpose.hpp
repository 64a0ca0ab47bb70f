#pragma once
// Cache-tiled matrix transpose (row-major buffers).

#include <algorithm>
#include <cstddef>

namespace sleepnet {
namespace detail {

/// dst (cols x rows) = src (rows x cols)^T
template <class T>
inline void transpose(const T* src, std::size_t rows, std::size_t cols, T* dst)
{
    constexpr std::size_t tile = 32;
    for (std::size_t i0 = 0; i0 < rows; i0 += tile) {
        const std::size_t i1 = std::min(rows, i0 + tile);
        for (std::size_t j0 = 0; j0 < cols; j0 += tile) {
            const std::size_t j1 = std::min(cols, j0 + tile);
            for (std::size_t i = i0; i < i1; ++i) {
                for (std::size_t j = j0; j < j1; ++j) {
                    dst[j * rows + i] = src[i * cols + j];
                }
            }
        }
    }
}

}  // namespace detail
}  // namespace sleepnet
