#pragma once
// Resource limits of the readers (IDX, npy, model directories): a file's header states the
// shapes of what follows, and a reader checks them against the file's size and against this
// cap before it allocates anything, so a corrupt or hostile header cannot make it allocate
// more than the file could fill or more than the caller allows.
//
//   sleepnet::ReadLimits limits;
//   limits.max_elements = 1 << 20;                       // at most 1M elements per tensor
//   auto w = sleepnet::npy::load<float, 2>("W1.npy", limits);
//
// A tensor with more elements is a limit_error (core/error.hpp) naming the file or
// tensor, its shape and the cap.

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "error.hpp"
#include "tensor.hpp"

namespace sleepnet {

/// Caps of the readers.
struct ReadLimits {
    /// Largest number of elements of one tensor (default 2^28: 1 GiB of float32).
    std::size_t max_elements = std::size_t(1) << 28;
};

namespace detail {

/// limit_error "<where>: shape <shape> has <count> elements, more than the cap
/// ReadLimits::max_elements = <cap>" when count exceeds the cap.
inline void check_element_cap(std::size_t count, const std::vector<std::size_t>& shape, const ReadLimits& limits,
                              const std::string& where)
{
    if (count > limits.max_elements) {
        throw limit_error(
            where + ": shape " + shape_string(shape) + " has " + std::to_string(count) +
            " elements, more than the cap ReadLimits::max_elements = " + std::to_string(limits.max_elements));
    }
}

/// check_element_cap for the product of `shape`, which may overflow (then it is over any cap).
inline void check_element_cap(const std::vector<std::size_t>& shape, const ReadLimits& limits, const std::string& where)
{
    std::size_t count = 1;
    for (std::size_t d : shape) {
        if (d == 0) return;  // no elements, whatever the other dimensions
    }
    for (std::size_t d : shape) {
        if (count > std::numeric_limits<std::size_t>::max() / d) {
            throw limit_error(where + ": shape " + shape_string(shape) +
                              " has more elements than a size_t holds, more than the cap ReadLimits::max_elements = " +
                              std::to_string(limits.max_elements));
        }
        count *= d;
    }
    check_element_cap(count, shape, limits, where);
}

}  // namespace detail
}  // namespace sleepnet
