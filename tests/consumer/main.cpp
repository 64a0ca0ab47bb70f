// A minimal program that uses sleepnet the way a downstream project would: through the
// CMake package (installed or add_subdirectory). Built and run by tests/cases_consumer.cmake.
#include <sleepnet/core/error.hpp>
#include <sleepnet/core/tensor.hpp>

#include <cstdio>

int main()
{
    sleepnet::matrix<float> m = xt::xtensor<float, 2>({{1.0f, 2.0f}, {3.0f, 4.0f}});
    if (m.shape(0) != 2 || m.shape(1) != 2 || m(1, 0) != 3.0f) {
        std::fprintf(stderr, "consumer: unexpected tensor content\n");
        return 1;
    }
    try {
        sleepnet::detail::require(false, "consumer: expected failure");
        std::fprintf(stderr, "consumer: sleepnet::invalid_argument was not thrown\n");
        return 1;
    } catch (const sleepnet::invalid_argument& e) {
        std::printf("consumer: caught sleepnet::invalid_argument: %s\n", e.what());
    }
    try {
        throw sleepnet::invalid_argument("thrown directly");
    } catch (const sleepnet::error&) {
        // invalid_argument derives from sleepnet::error
    }
    std::printf("consumer: ok\n");
    return 0;
}
