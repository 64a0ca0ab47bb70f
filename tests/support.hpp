#pragma once
// Small helpers shared by the test programs (files in a scratch folder, exception text).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace test_support {

/// An empty folder SLEEPNET_TEST_TMP/area/sub (removed first if it exists).
inline std::string fresh_dir(const std::string& area, const std::string& sub)
{
    const std::filesystem::path p = std::filesystem::path(SLEEPNET_TEST_TMP) / area / sub;
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p.string();
}

inline void write_bytes(const std::string& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

inline std::string read_bytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// The message of the Ex that f() throws, or a marker saying what happened instead.
template <class Ex, class F>
std::string message_of(F&& f)
{
    try {
        f();
    } catch (const Ex& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("<wrong exception type> ") + e.what();
    }
    return "<nothing thrown>";
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace test_support
