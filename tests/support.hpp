#pragma once
// Small helpers shared by the test programs (files in a scratch folder, exception text,
// random matrices).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sleepnet/core/error.hpp>
#include <sleepnet/core/rng.hpp>
#include <sleepnet/core/tensor.hpp>
#include <sleepnet/data/dataset.hpp>

namespace test_support {

/// n samples of three classes in 8 dimensions: sample i has class i % 3, feature j is 0.8
/// where j % 3 is the class and 0.1 elsewhere, plus normal noise of sd 0.1 drawn from an
/// engine seeded with `seed`.
inline sleepnet::Dataset<double> blobs(std::size_t n, std::uint64_t seed)
{
    sleepnet::default_engine eng(seed);
    sleepnet::Dataset<double> d;
    d.classes = 3;
    d.name = "blobs";
    d.x = sleepnet::matrix<double>::from_shape({n, 8});
    d.y = sleepnet::label_vector::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i % 3;
        d.y(i) = c;
        for (std::size_t j = 0; j < 8; ++j) {
            const double centre = (j % 3 == c) ? 0.8 : 0.1;
            d.x(i, j) = centre + 0.1 * sleepnet::rng::normal<double>(eng);
        }
    }
    return d;
}

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

/// "ok: " + describe(), or the sleepnet exception's kind and message: what a reader's test
/// compares between two ways of reading the same bytes (a file and a buffer).
template <class F>
std::string outcome_text(F&& describe)
{
    try {
        return "ok: " + describe();
    } catch (const sleepnet::limit_error& e) {
        return std::string("limit_error: ") + e.what();
    } catch (const sleepnet::format_error& e) {
        return std::string("format_error: ") + e.what();
    } catch (const sleepnet::io_error& e) {
        return std::string("io_error: ") + e.what();
    } catch (const sleepnet::numeric_error& e) {
        return std::string("numeric_error: ") + e.what();
    } catch (const sleepnet::invalid_argument& e) {
        return std::string("invalid_argument: ") + e.what();
    } catch (const std::exception& e) {
        return std::string("other: ") + e.what();
    }
}

/// An r x c matrix of uniform draws in [lo, hi) from eng, row-major.
inline sleepnet::matrix<double> random_matrix(std::size_t r, std::size_t c, sleepnet::default_engine& eng,
                                              double lo = 0.0, double hi = 1.0)
{
    auto m = sleepnet::matrix<double>::from_shape({r, c});
    for (auto& v : m) v = sleepnet::rng::uniform<double>(eng, lo, hi);
    return m;
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// Checks the exception type of `expr` and that its message names `path` and contains `part`.
#define CHECK_THROWS_NAMING(expr, Ex, path, part)                                                                      \
    do {                                                                                                               \
        CHECK_THROWS_AS((void)(expr), Ex);                                                                             \
        const std::string msg_ = test_support::message_of<Ex>([&] { (void)(expr); });                                  \
        INFO("message: " << msg_);                                                                                     \
        CHECK(test_support::contains(msg_, path));                                                                     \
        CHECK(test_support::contains(msg_, part));                                                                     \
    } while (0)

}  // namespace test_support
