#pragma once
// Random numbers. sleepnet never owns an engine: every function that draws takes the
// caller's engine (any UniformRandomBitGenerator). The distributions below are written
// here, not taken from <random>, so that a seed gives the same numbers with every
// standard library.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <type_traits>

namespace sleepnet {

/// The engine the examples use. Any UniformRandomBitGenerator works with the library.
using default_engine = std::mt19937_64;

namespace rng {

/// 64 random bits from any engine (concatenating draws when the engine gives fewer).
template <class Engine>
inline std::uint64_t bits64(Engine& engine)
{
    using result = typename Engine::result_type;
    static_assert(std::is_unsigned<result>::value, "engine must produce unsigned integers");
    constexpr auto range = static_cast<std::uint64_t>(Engine::max() - Engine::min());
    if constexpr (range == std::numeric_limits<std::uint64_t>::max()) {
        return static_cast<std::uint64_t>(engine() - Engine::min());
    } else {
        static_assert(range == 0xffffffffull, "engine must produce 32 or 64 uniformly random bits");
        const std::uint64_t hi = static_cast<std::uint64_t>(engine() - Engine::min());
        const std::uint64_t lo = static_cast<std::uint64_t>(engine() - Engine::min());
        return (hi << 32) | lo;
    }
}

/// Uniform in [0, 1) with 53 random bits (double) or 24 (float).
template <class T = double, class Engine>
inline T uniform01(Engine& engine)
{
    static_assert(std::is_floating_point<T>::value, "uniform01 needs a floating-point type");
    if constexpr (std::is_same<T, float>::value) {
        return static_cast<float>(bits64(engine) >> 40) * 0x1.0p-24f;
    } else {
        return static_cast<T>(static_cast<double>(bits64(engine) >> 11) * 0x1.0p-53);
    }
}

/// Uniform in [lo, hi).
template <class T = double, class Engine>
inline T uniform(Engine& engine, T lo, T hi)
{
    return lo + (hi - lo) * uniform01<T>(engine);
}

/// Uniform integer in [0, n) without modulo bias (Lemire's method). n must be > 0.
template <class Engine>
inline std::uint64_t below(Engine& engine, std::uint64_t n)
{
    std::uint64_t x = bits64(engine);
    __uint128_t m = static_cast<__uint128_t>(x) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
        const std::uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            x = bits64(engine);
            m = static_cast<__uint128_t>(x) * n;
            low = static_cast<std::uint64_t>(m);
        }
    }
    return static_cast<std::uint64_t>(m >> 64);
}

/// Standard normal draw (Marsaglia polar method, one value per call).
template <class T = double, class Engine>
inline T normal(Engine& engine)
{
    for (;;) {
        const double u = 2.0 * uniform01<double>(engine) - 1.0;
        const double v = 2.0 * uniform01<double>(engine) - 1.0;
        const double s = u * u + v * v;
        if (s > 0.0 && s < 1.0) {
            return static_cast<T>(u * std::sqrt(-2.0 * std::log(s) / s));
        }
    }
}

/// splitmix64 finaliser: a well-mixed 64-bit function of x.
inline std::uint64_t mix64(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/// An engine for one (sample, round) of a computation whose draws must not depend on how
/// samples are batched: seeded from `base` (drawn once from the caller's engine) and the
/// two counters. Same arguments, same stream.
inline default_engine stream(std::uint64_t base, std::uint64_t a, std::uint64_t b = 0)
{
    return default_engine(mix64(mix64(mix64(base) ^ a) ^ (b * 0xd1b54a32d192ed03ull)));
}

/// A fingerprint of an engine's state: the first four 64-bit draws of a copy, in hex (the
/// engine itself does not move). Two engines with the same fingerprint give the same first
/// draws; what a search log records instead of a seed, to tell whether a resumed run
/// meets the same random numbers.
template <class Engine>
inline std::string fingerprint(const Engine& engine)
{
    Engine copy = engine;
    std::string s;
    char buf[17];
    for (int i = 0; i < 4; ++i) {
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(bits64(copy)));
        s += buf;
    }
    return s;
}

/// Fisher-Yates shuffle of [first, last).
template <class RandomIt, class Engine>
inline void shuffle(RandomIt first, RandomIt last, Engine& engine)
{
    const auto n = static_cast<std::uint64_t>(last - first);
    for (std::uint64_t i = n; i > 1; --i) {
        const std::uint64_t j = below(engine, i);
        std::swap(first[static_cast<std::ptrdiff_t>(i - 1)], first[static_cast<std::ptrdiff_t>(j)]);
    }
}

}  // namespace rng
}  // namespace sleepnet
