#pragma once
// What the libFuzzer targets (fuzz/*.cpp, docs/fuzzing.md) share: a target feeds the input
// to one of sleepnet's readers and accepts only sleepnet's own exceptions (sleepnet::error
// and its subclasses, core/error.hpp). Anything else is a finding: a crash, a sanitizer
// report, std::bad_alloc or another exception escaping (libFuzzer reports the uncaught
// exception as a deadly signal), or a failed round trip (require() aborts with a message).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include <sleepnet/core/error.hpp>
#include <sleepnet/core/read_limits.hpp>

namespace fuzz {

/// The input as a string.
inline std::string text(const std::uint8_t* data, std::size_t size)
{
    return std::string(reinterpret_cast<const char*>(data), size);
}

/// Runs read(); sleepnet's exceptions are the documented refusals of bad input, so they
/// end the run quietly; every other exception escapes to libFuzzer.
template <class F>
inline void refusals_allowed(F&& read)
{
    try {
        read();
    } catch (const sleepnet::error&) {
    }
}

/// Aborts (a finding) with `what` when `ok` is false.
inline void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz: round trip failed: %s\n", what);
        std::abort();
    }
}

/// The round trip of an option file's reader: read(text, origin) parses `text`; what it
/// returns is written again (to_json), must read back, and must write the same JSON.
/// Refusals of the first read end the run quietly (refusals_allowed); a refusal of the
/// second read is a finding.
template <class Read>
inline void json_round_trip(Read&& read, const std::string& text, const char* what)
{
    refusals_allowed([&] {
        const nlohmann::json j = read(text, "fuzz");
        const std::string again = j.dump();
        nlohmann::json k;
        try {
            k = read(again, "again");
        } catch (const sleepnet::error& e) {
            std::fprintf(stderr, "fuzz: %s written by to_json was refused: %s\n", what, e.what());
            std::abort();
        }
        require(k == j, what);
    });
}

/// The readers' cap in the targets: 2^22 elements (16 MiB of float32), small enough that
/// every input runs fast, large enough for every seed. The cap itself is production code.
inline sleepnet::ReadLimits limits()
{
    sleepnet::ReadLimits l;
    l.max_elements = std::size_t(1) << 22;
    return l;
}

}  // namespace fuzz
