#pragma once
// The test inputs an example program works on: --count of them (0 = all) after the
// first --offset, shared by attack and audit.
#include <algorithm>
#include <cstddef>
#include <string>

#include <xtensor/xview.hpp>

#include <sleepnet/core/error.hpp>
#include <sleepnet/core/tensor.hpp>
#include <sleepnet/data/dataset.hpp>

namespace examples {

/// Rows of a test set: inputs and their labels.
template <class T>
struct TestInputs {
    sleepnet::matrix<T> x;
    sleepnet::label_vector y;
};

/// Rows [offset, offset + count) of `test` (count 0 or past the end: up to the end);
/// invalid_argument when offset is not below the number of rows.
template <class T>
inline TestInputs<T> test_inputs(const sleepnet::Dataset<T>& test, std::size_t offset, std::size_t count)
{
    const std::size_t total = test.size();
    if (offset >= total)
        throw sleepnet::invalid_argument("--offset " + std::to_string(offset) + " >= " + std::to_string(total) +
                                         " test inputs");
    const std::size_t n = count == 0 ? total - offset : std::min(count, total - offset);
    return {xt::view(test.x, xt::range(offset, offset + n), xt::all()),
            xt::view(test.y, xt::range(offset, offset + n))};
}

}  // namespace examples
