// libFuzzer target: .npy files (data/npy.hpp): the header alone, then the data converted
// to several element types and dimensions. An array that reads as double is written again
// (xtensor's writer, which npy::save uses) and must read back bit for bit.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

#include <xtensor/xnpy.hpp>

#include <sleepnet/data/npy.hpp>

#include "fuzz_common.hpp"

namespace {

template <class T, std::size_t N>
void load_as(const std::string& bytes, const sleepnet::ReadLimits& limits)
{
    fuzz::refusals_allowed([&] { sleepnet::npy::load_memory<T, N>(bytes.data(), bytes.size(), "fuzz", limits); });
}

template <std::size_t N>
void round_trip(const std::string& bytes, const sleepnet::ReadLimits& limits)
{
    fuzz::refusals_allowed([&] {
        const auto a = sleepnet::npy::load_memory<double, N>(bytes.data(), bytes.size(), "fuzz", limits);
        std::ostringstream out;
        xt::detail::dump_npy_stream(out, a);
        const std::string again = out.str();
        const auto b = sleepnet::npy::load_memory<double, N>(again.data(), again.size(), "again", limits);
        fuzz::require(a.shape() == b.shape(), "npy shape");
        fuzz::require(a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0, "npy data");
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string bytes = fuzz::text(data, size);
    const sleepnet::ReadLimits limits = fuzz::limits();
    bool header_ok = false;
    fuzz::refusals_allowed([&] {
        sleepnet::npy::read_header_memory(bytes.data(), bytes.size(), "fuzz");
        header_ok = true;
    });
    if (!header_ok) return 0;  // every load reads this header first and would refuse it the same way
    load_as<float, 1>(bytes, limits);
    load_as<float, 2>(bytes, limits);
    load_as<std::int64_t, 1>(bytes, limits);
    load_as<std::uint8_t, 2>(bytes, limits);
    load_as<bool, 1>(bytes, limits);
    load_as<int, 3>(bytes, limits);
    round_trip<1>(bytes, limits);
    round_trip<2>(bytes, limits);
    return 0;
}
