// Tests of core/atomic_file.hpp and data/npy.hpp: round trips, dtype conversions,
// Fortran order, numpy interoperability (when a python3 with numpy is found), and every
// corrupt-file case failing with a specific exception that names the file.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "alloc_probe.hpp"
#include "support.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xio.hpp>
#include <xtensor/xnpy.hpp>
#include <xtensor/xtensor.hpp>

#include "sleepnet/core/atomic_file.hpp"
#include "sleepnet/core/read_limits.hpp"
#include "sleepnet/data/npy.hpp"

namespace fs = std::filesystem;
using namespace sleepnet;

namespace {

std::string tmp_dir(const std::string& sub) { return test_support::fresh_dir("npy", sub); }
using test_support::contains;
using test_support::message_of;
using test_support::read_bytes;
using test_support::write_bytes;

/// A hand-made .npy file: magic, version, header length (2 or 4 bytes), the dictionary
/// padded with spaces to a multiple of 64 and ended by '\n', then `data`.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1)
{
    const std::size_t len_bytes = major == 1 ? 2 : 4;
    std::string header = dict;
    while ((8 + len_bytes + header.size() + 1) % 64 != 0) {
        header += ' ';
    }
    header += '\n';
    std::string out = std::string("\x93NUMPY", 6);
    out += static_cast<char>(major);
    out += '\0';
    for (std::size_t i = 0; i < len_bytes; ++i) {
        out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
    }
    return out + header + data;
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false)
{
    return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape +
           ", }";
}

template <class V>
std::string raw_values(std::initializer_list<V> values)
{
    std::string s;
    for (V v : values) {
        s.append(reinterpret_cast<const char*>(&v), sizeof(V));
    }
    return s;
}

/// 0, 1, 2, ... in row-major order.
template <class T, std::size_t N>
xt::xtensor<T, N> iota(const std::array<std::size_t, N>& shape)
{
    xt::xtensor<T, N> a(shape);
    for (std::size_t i = 0; i < a.size(); ++i) {
        a.data()[i] = static_cast<T>(i);
    }
    return a;
}

bool no_temporary_files(const std::string& dir)
{
    for (const auto& e : fs::directory_iterator(dir)) {
        if (contains(e.path().filename().string(), ".tmp-")) {
            return false;
        }
    }
    return true;
}

/// A python3 that can import numpy, or "" (checks $SLEEPNET_PYTHON, python3, /usr/bin/python3).
std::string python_with_numpy()
{
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("SLEEPNET_PYTHON")) {
        candidates.emplace_back(env);
    }
    candidates.emplace_back("python3");
    candidates.emplace_back("/usr/bin/python3");
    for (const auto& py : candidates) {
        // numpy.zeros: a directory named numpy in the working directory imports as an empty package
        const std::string cmd = py + " -c \"import numpy; numpy.zeros(1)\" >/dev/null 2>&1";
        if (std::system(cmd.c_str()) == 0) {
            return py;
        }
    }
    return "";
}

}  // namespace

TEST_CASE("write_file_atomically writes the whole file and leaves no temporary")
{
    const std::string dir = tmp_dir("atomic_ok");
    const std::string path = dir + "/a.txt";
    detail::write_file_atomically(path, [](std::ostream& out) { out << "hello\n"; });
    CHECK(read_bytes(path) == "hello\n");
    detail::write_file_atomically(path, [](std::ostream& out) { out << "replaced"; });
    CHECK(read_bytes(path) == "replaced");
    CHECK(no_temporary_files(dir));
}

TEST_CASE("write_file_atomically keeps the old file when the writer fails")
{
    const std::string dir = tmp_dir("atomic_fail");
    const std::string path = dir + "/keep.txt";
    write_bytes(path, "old content");

    SUBCASE("a sleepnet error is passed on unchanged")
    {
        CHECK_THROWS_AS(detail::write_file_atomically(path,
                                                      [](std::ostream& out) {
                                                          out << "half";
                                                          throw invalid_argument("bad value");
                                                      }),
                        invalid_argument);
    }
    SUBCASE("another exception becomes an io_error naming the path")
    {
        auto f = [&] {
            detail::write_file_atomically(path, [](std::ostream& out) {
                out << "half";
                throw std::runtime_error("boom");
            });
        };
        CHECK_THROWS_NAMING(f(), io_error, path, "boom");
    }
    SUBCASE("a stream failure is an io_error naming the path")
    {
        auto f = [&] {
            detail::write_file_atomically(path, [](std::ostream& out) {
                out << "half";
                out.setstate(std::ios::badbit);
            });
        };
        CHECK_THROWS_NAMING(f(), io_error, path, "stream error");
    }
    CHECK(read_bytes(path) == "old content");
    CHECK(no_temporary_files(dir));
}

TEST_CASE("write_file_atomically into a missing directory is an io_error naming the path")
{
    const std::string dir = tmp_dir("atomic_missing");
    const std::string path = dir + "/no/such/dir/f.bin";
    CHECK_THROWS_NAMING(detail::write_file_atomically(path, [](std::ostream& out) { out << "x"; }), io_error, path,
                        "cannot write");
    CHECK(!fs::exists(path));
}

TEST_CASE("npy round trips keep dtype, shape and values")
{
    const std::string dir = tmp_dir("roundtrip");

    SUBCASE("float32 2-D")
    {
        const xt::xtensor<float, 2> a = {{1.5f, -2.0f, 3.25f}, {0.0f, 1e-20f, -7.0f}};
        npy::save(dir + "/f32.npy", a);
        const npy::Header h = npy::read_header(dir + "/f32.npy");
        CHECK(h.descr == "<f4");
        CHECK(h.kind == 'f');
        CHECK(h.itemsize == 4);
        CHECK(!h.fortran_order);
        CHECK(h.shape == std::vector<std::size_t>{2, 3});
        CHECK(h.data_offset % 16 == 0);
        CHECK(h.data_offset + 24 == fs::file_size(dir + "/f32.npy"));
        CHECK(npy::load<float, 2>(dir + "/f32.npy") == a);
    }
    SUBCASE("float64 3-D")
    {
        xt::xtensor<double, 3> a = iota<double, 3>({2, 3, 4});
        a *= 0.1;
        npy::save(dir + "/f64.npy", a);
        CHECK(npy::read_header(dir + "/f64.npy").descr == "<f8");
        CHECK(npy::load<double, 3>(dir + "/f64.npy") == a);
    }
    SUBCASE("int64, uint8, bool, uint64, int16")
    {
        const xt::xtensor<std::int64_t, 1> i = {-5, 0, 7, 1234567890123LL};
        const xt::xtensor<std::uint8_t, 2> u = {{0, 255}, {17, 128}};
        const xt::xtensor<bool, 2> b = {{true, false, true}, {false, false, true}};
        const xt::xtensor<std::size_t, 1> s = {0, 9, 3};
        const xt::xtensor<std::int16_t, 1> h = {-32768, 32767};
        npy::save(dir + "/i64.npy", i);
        npy::save(dir + "/u8.npy", u);
        npy::save(dir + "/b.npy", b);
        npy::save(dir + "/s.npy", s);
        npy::save(dir + "/i16.npy", h);
        CHECK(npy::read_header(dir + "/i64.npy").descr == "<i8");
        CHECK(npy::read_header(dir + "/u8.npy").descr == "|u1");
        CHECK(npy::read_header(dir + "/b.npy").descr == "|b1");
        CHECK(npy::read_header(dir + "/s.npy").descr == "<u8");
        CHECK(npy::load<std::int64_t, 1>(dir + "/i64.npy") == i);
        CHECK(npy::load<std::uint8_t, 2>(dir + "/u8.npy") == u);
        CHECK(npy::load<bool, 2>(dir + "/b.npy") == b);
        CHECK(npy::load<std::size_t, 1>(dir + "/s.npy") == s);
        CHECK(npy::load<std::int16_t, 1>(dir + "/i16.npy") == h);
    }
    SUBCASE("empty and scalar arrays")
    {
        const xt::xtensor<float, 2> e = xt::zeros<float>({std::size_t(0), std::size_t(4)});
        npy::save(dir + "/empty.npy", e);
        const auto back = npy::load<float, 2>(dir + "/empty.npy");
        CHECK(back.shape(0) == 0);
        CHECK(back.shape(1) == 4);
        xt::xtensor<double, 0> scalar;
        scalar() = 2.5;
        npy::save(dir + "/scalar.npy", scalar);
        CHECK(npy::load<double, 0>(dir + "/scalar.npy")() == 2.5);
    }
    SUBCASE("expressions and column-major containers are saved row-major")
    {
        const xt::xtensor<float, 2> a = {{1, 2, 3}, {4, 5, 6}};
        npy::save(dir + "/expr.npy", a * 2.0f + 1.0f);
        CHECK(npy::load<float, 2>(dir + "/expr.npy") == xt::xtensor<float, 2>{{3, 5, 7}, {9, 11, 13}});

        xt::xtensor<float, 2, xt::layout_type::column_major> cm = a;
        npy::save(dir + "/cm.npy", cm);
        CHECK(!npy::read_header(dir + "/cm.npy").fortran_order);
        CHECK(npy::load<float, 2>(dir + "/cm.npy") == a);
    }
    CHECK(no_temporary_files(dir));
}

TEST_CASE("npy::load converts between dtypes and refuses values that do not fit")
{
    const std::string dir = tmp_dir("convert");
    const xt::xtensor<double, 2> d = {{0.25, -1.0}, {3.0, 1e10}};
    npy::save(dir + "/d.npy", d);
    const auto f = npy::load<float, 2>(dir + "/d.npy");
    CHECK(f(0, 0) == 0.25f);
    CHECK(f(1, 1) == 1e10f);

    const xt::xtensor<std::int64_t, 1> labels = {3, 0, 9, 2};
    npy::save(dir + "/labels.npy", labels);
    CHECK(npy::load<std::size_t, 1>(dir + "/labels.npy") == label_vector{3, 0, 9, 2});
    CHECK(npy::load<float, 1>(dir + "/labels.npy") == xt::xtensor<float, 1>{3, 0, 9, 2});

    const xt::xtensor<std::uint8_t, 1> bytes = {0, 255};
    npy::save(dir + "/bytes.npy", bytes);
    CHECK(npy::load<double, 1>(dir + "/bytes.npy") == xt::xtensor<double, 1>{0.0, 255.0});
    CHECK(npy::load<std::int64_t, 1>(dir + "/bytes.npy") == xt::xtensor<std::int64_t, 1>{0, 255});

    const xt::xtensor<bool, 1> flags = {true, false};
    npy::save(dir + "/flags.npy", flags);
    CHECK(npy::load<float, 1>(dir + "/flags.npy") == xt::xtensor<float, 1>{1.0f, 0.0f});

    const xt::xtensor<double, 1> integral = {4.0, 0.0, 1.0};
    npy::save(dir + "/integral.npy", integral);
    CHECK(npy::load<std::size_t, 1>(dir + "/integral.npy") == label_vector{4, 0, 1});

    const std::string negative = dir + "/negative.npy";
    npy::save(negative, xt::xtensor<std::int64_t, 1>{1, -1, 2});
    CHECK_THROWS_NAMING((npy::load<std::size_t, 1>(negative)), format_error, negative, "element 1 has value -1");

    const std::string fraction = dir + "/fraction.npy";
    npy::save(fraction, xt::xtensor<double, 1>{1.0, 2.5});
    CHECK_THROWS_NAMING((npy::load<std::size_t, 1>(fraction)), format_error, fraction, "element 1 has value 2.5");

    const std::string nan = dir + "/nan.npy";
    npy::save(nan, xt::xtensor<float, 1>{std::nanf("")});
    CHECK_THROWS_NAMING((npy::load<std::int32_t, 1>(nan)), format_error, nan, "element 0");

    const std::string big = dir + "/big.npy";
    npy::save(big, xt::xtensor<std::int64_t, 1>{300});
    CHECK_THROWS_NAMING((npy::load<std::uint8_t, 1>(big)), format_error, big, "uint8");

    const std::string huge = dir + "/huge.npy";
    npy::save(huge, xt::xtensor<double, 1>{1e300});
    CHECK_THROWS_NAMING((npy::load<float, 1>(huge)), format_error, huge, "float32");

    const std::string two = dir + "/integral.npy";
    CHECK_THROWS_NAMING((npy::load<bool, 1>(two)), format_error, two, "element 0 has value 4");
}

TEST_CASE("npy::load returns Fortran-order files in row-major logical order")
{
    const std::string dir = tmp_dir("fortran");
    const xt::xtensor<float, 2> logical = {{1, 2, 3}, {4, 5, 6}};
    // xtensor writes fortran_order True for a column-major container.
    xt::xtensor<float, 2, xt::layout_type::column_major> cm = logical;
    xt::dump_npy(dir + "/cm.npy", cm);
    CHECK(npy::read_header(dir + "/cm.npy").fortran_order);
    CHECK(npy::load<float, 2>(dir + "/cm.npy") == logical);
    CHECK(npy::load<double, 2>(dir + "/cm.npy") == xt::cast<double>(logical));

    // A hand-made one: data 1 4 2 5 3 6 in memory order is the 2 x 3 matrix above.
    const std::string hand = dir + "/hand.npy";
    write_bytes(hand, npy_bytes(dict("<i4", "(2, 3)", true), raw_values<std::int32_t>({1, 4, 2, 5, 3, 6})));
    CHECK(npy::load<float, 2>(hand) == logical);

    // 3-D: element (i, j, k) sits at i + 2 j + 4 k.
    xt::xtensor<double, 3, xt::layout_type::column_major> cube({2, 2, 3});
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 2; ++j)
            for (std::size_t k = 0; k < 3; ++k) cube(i, j, k) = 100.0 * i + 10.0 * j + k;
    xt::dump_npy(dir + "/cube.npy", cube);
    const auto back = npy::load<double, 3>(dir + "/cube.npy");
    CHECK(back(1, 0, 2) == 102.0);
    CHECK(back(0, 1, 1) == 11.0);
    CHECK(back == cube);
}

TEST_CASE("npy format versions and byte-order variants")
{
    const std::string dir = tmp_dir("versions");
    const std::string data = raw_values<float>({1.0f, 2.0f, 3.0f});
    for (int major : {1, 2, 3}) {
        const std::string p = dir + "/v" + std::to_string(major) + ".npy";
        write_bytes(p, npy_bytes(dict("<f4", "(3,)"), data, major));
        CHECK(npy::load<float, 1>(p) == xt::xtensor<float, 1>{1, 2, 3});
        CHECK(npy::read_header(p).data_offset % 64 == 0);
        CHECK(npy::read_header(p).data_offset + 12 == fs::file_size(p));
    }
    for (const char* descr : {"|u1", "<u1", "=u1"}) {
        const std::string p = dir + "/u1.npy";
        write_bytes(p, npy_bytes(dict(descr, "(2,)"), std::string("\x07\xff", 2)));
        CHECK(npy::read_header(p).descr == "|u1");
        CHECK(npy::load<int, 1>(p) == xt::xtensor<int, 1>{7, 255});
    }
    const std::string i1 = dir + "/i1.npy";
    write_bytes(i1, npy_bytes(dict("|i1", "(2,)"), std::string("\xff\x05", 2)));
    CHECK(npy::load<int, 1>(i1) == xt::xtensor<int, 1>{-1, 5});
    const std::string u2 = dir + "/u2.npy";
    write_bytes(u2, npy_bytes(dict("<u2", "(1,)"), std::string("\x01\x02", 2)));
    CHECK(npy::load<int, 1>(u2) == xt::xtensor<int, 1>{0x0201});
}

TEST_CASE("corrupt npy files fail with a specific exception naming the file")
{
    const std::string dir = tmp_dir("corrupt");
    const std::string good = npy_bytes(dict("<f4", "(2, 3)"), raw_values<float>({1, 2, 3, 4, 5, 6}));
    const std::string p = dir + "/bad.npy";

    SUBCASE("missing file")
    {
        const std::string missing = dir + "/does_not_exist.npy";
        CHECK_THROWS_NAMING((npy::load<float, 2>(missing)), io_error, missing, "does not exist");
        CHECK_THROWS_NAMING(npy::read_header(missing), io_error, missing, "does not exist");
    }
    SUBCASE("a directory") { CHECK_THROWS_NAMING((npy::load<float, 2>(dir)), io_error, dir, "not a regular file"); }
    SUBCASE("bad magic")
    {
        std::string b = good;
        b[5] = 'Z';
        write_bytes(p, b);
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "bad magic");
        write_bytes(p, "hi");
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "bad magic");
    }
    SUBCASE("empty file and short preamble")
    {
        write_bytes(p, "");
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "truncated header");
        write_bytes(p, good.substr(0, 9));  // version 1 needs 2 length bytes
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "truncated header");
    }
    SUBCASE("unsupported version")
    {
        std::string b = good;
        b[6] = 4;
        write_bytes(p, b);
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "version 4.0");
        b[6] = 1;
        b[7] = 1;
        write_bytes(p, b);
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "version 1.1");
    }
    SUBCASE("truncated header")
    {
        write_bytes(p, good.substr(0, 30));
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "only 20 follow");
    }
    SUBCASE("empty header")
    {
        write_bytes(p, std::string("\x93NUMPY\x01\x00\x00\x00", 10));
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "empty header");
    }
    SUBCASE("malformed headers")
    {
        const std::string no_newline = std::string("\x93NUMPY\x01\x00\x04\x00{}  ", 14);
        write_bytes(p, no_newline);
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "newline");
        write_bytes(p, npy_bytes("", ""));
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "malformed header");
        write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': }", ""));
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "malformed header");
        write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (a, 2), }", ""));
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "malformed header");
        write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,,3), }", ""));
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "empty entry");
        write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': maybe, 'shape': (2, 3), }",
                                 raw_values<float>({1, 2, 3, 4, 5, 6})));
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "fortran_order");
        write_bytes(p, npy_bytes("{'fortran_order': False, 'shape': (2, 3), }", ""));
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "'descr'");
        write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", ""));
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "not a dictionary");
    }
    SUBCASE("truncated data")
    {
        write_bytes(p, good.substr(0, good.size() - 1));
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "truncated data");
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "needs 24 bytes, file has 23 bytes");
    }
    SUBCASE("trailing data")
    {
        write_bytes(p, good + "abc");
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "trailing data");
        CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "needs 24 bytes, file has 27 bytes");
    }
    SUBCASE("shape overflow")
    {
        write_bytes(p, npy_bytes(dict("<f8", "(4294967296, 4294967296, 4294967296)"), ""));
        CHECK_THROWS_NAMING((npy::load<double, 3>(p)), format_error, p, "overflows");
        write_bytes(p, npy_bytes(dict("<f8", "(4294967296, 536870912)"), ""));
        CHECK_THROWS_NAMING((npy::load<double, 2>(p)), format_error, p, "overflows the byte count");
        // found by fuzz_npy: an empty array whose other dimensions overflow xtensor's strides
        write_bytes(p, npy_bytes(dict("<f4", "(0, 53000000000, 536870912)"), ""));
        CHECK_THROWS_NAMING((npy::load<float, 3>(p)), format_error, p, "overflows the element count");
    }
    SUBCASE("wrong number of dimensions")
    {
        write_bytes(p, good);
        CHECK_THROWS_NAMING((npy::load<float, 1>(p)), format_error, p, "shape (2, 3)");
        CHECK_THROWS_NAMING((npy::load<float, 3>(p)), format_error, p, "expected an array with 3 dimension(s)");
    }
    SUBCASE("unsupported dtypes")
    {
        write_bytes(p, npy_bytes(dict("<f2", "(2,)"), "abcd"));
        CHECK_THROWS_NAMING((npy::load<float, 1>(p)), format_error, p, "unsupported dtype '<f2'");
        write_bytes(p, npy_bytes(dict("<c8", "(1,)"), "abcdefgh"));
        CHECK_THROWS_NAMING((npy::load<float, 1>(p)), format_error, p, "unsupported dtype '<c8'");
        write_bytes(p, npy_bytes(dict("<U2", "(1,)"), "abcdefgh"));
        CHECK_THROWS_NAMING((npy::load<float, 1>(p)), format_error, p, "unsupported dtype '<U2'");
        write_bytes(p, npy_bytes(dict("|f4", "(1,)"), "abcd"));
        CHECK_THROWS_NAMING((npy::load<float, 1>(p)), format_error, p, "unsupported dtype '|f4'");
        write_bytes(p, npy_bytes(dict("=f4", "(1,)"), "abcd"));
        CHECK_THROWS_NAMING((npy::load<float, 1>(p)), format_error, p, "native byte order");
        write_bytes(p, npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "abcd"));
        CHECK_THROWS_NAMING((npy::load<float, 1>(p)), format_error, p, "unsupported dtype");
    }
    SUBCASE("big-endian")
    {
        write_bytes(p, npy_bytes(dict(">f4", "(1,)"), "abcd"));
        CHECK_THROWS_NAMING((npy::load<float, 1>(p)), format_error, p, "big-endian");
        CHECK_THROWS_NAMING(npy::read_header(p), format_error, p, "big-endian");
    }
}

namespace {

/// What loading as T, N gives: the shape and values, or the exception's type and message.
template <class T, std::size_t N, class F>
std::string outcome(F&& load)
{
    return test_support::outcome_text([&] {
        const xt::xtensor<T, N> a = load();
        std::ostringstream os;
        os << sleepnet::detail::shape_string(a) << ':';
        for (const auto v : a) os << ' ' << v;
        return os.str();
    });
}

}  // namespace

TEST_CASE("npy from memory gives the file's results and messages")
{
    const std::string dir = tmp_dir("memory");
    const std::string p = dir + "/same-name.npy";
    const std::string good = npy_bytes(dict("<f4", "(2, 3)"), raw_values<float>({1, 2, 3, 4, 5, 6}));
    std::string bad_magic = good;
    bad_magic[5] = 'Z';
    const std::vector<std::string> cases = {
        good,
        npy_bytes(dict("<f8", "(2, 3)", true), raw_values<double>({1, 2, 3, 4, 5, 6})),
        npy_bytes(dict("<i8", "(6,)"), raw_values<std::int64_t>({1, -2, 3, 4, 5, 6})),
        npy_bytes(dict("<f4", "(2, 3)"), raw_values<float>({1, 2, 3, 4, 5, 6}), 2),
        good.substr(0, good.size() - 1),
        good + "abc",
        good.substr(0, 30),
        bad_magic,
        "hi",
        "",
        npy_bytes(dict(">f4", "(1,)"), "abcd"),
        npy_bytes(dict("<f8", "(4294967296, 536870912)"), ""),
        npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,,3), }", ""),
        npy_bytes(dict("<f8", "(1, 1)"), raw_values<double>({1e300}))};
    for (const std::string& bytes : cases) {
        write_bytes(p, bytes);
        INFO("case of " << bytes.size() << " bytes");
        CHECK(outcome<float, 2>([&] { return npy::load<float, 2>(p); }) ==
              outcome<float, 2>([&] { return npy::load_memory<float, 2>(bytes.data(), bytes.size(), p); }));
        CHECK(outcome<double, 1>([&] { return npy::load<double, 1>(p); }) ==
              outcome<double, 1>([&] { return npy::load_memory<double, 1>(bytes.data(), bytes.size(), p); }));
        std::string file_header, memory_header;
        try {
            file_header = npy::read_header(p).descr;
        } catch (const error& e) {
            file_header = e.what();
        }
        try {
            memory_header = npy::read_header_memory(bytes.data(), bytes.size(), p).descr;
        } catch (const error& e) {
            memory_header = e.what();
        }
        CHECK(file_header == memory_header);
    }
    CHECK(outcome<float, 2>([&] { return npy::load_memory<float, 2>(good.data(), good.size(), "buffer"); }) ==
          "ok: (2, 3): 1 2 3 4 5 6");
}

TEST_CASE("npy: a header claiming more elements than ReadLimits allows is a limit_error naming file, shape and cap")
{
    const std::string dir = tmp_dir("limits");
    const std::string p = dir + "/big.npy";
    const std::string good = npy_bytes(dict("<f4", "(2, 3)"), raw_values<float>({1, 2, 3, 4, 5, 6}));
    write_bytes(p, good);
    ReadLimits small;
    small.max_elements = 5;
    CHECK_THROWS_NAMING((npy::load<float, 2>(p, small)), limit_error, p, "shape (2, 3) has 6 elements");
    CHECK_THROWS_NAMING((npy::load<float, 2>(p, small)), limit_error, p, "ReadLimits::max_elements = 5");
    CHECK_THROWS_AS((npy::load_memory<float, 2>(good.data(), good.size(), "buf", small)), limit_error);
    small.max_elements = 6;
    CHECK((npy::load<float, 2>(p, small)).size() == 6);
}

TEST_CASE("npy: a header larger than the file is refused before anything of its size is allocated")
{
    const std::string dir = tmp_dir("alloc");
    const std::string p = dir + "/huge-header.npy";
    write_bytes(p, npy_bytes(dict("|u1", "(16384, 16384)"), "abc"));  // 2^28 bytes claimed, 3 present
    alloc_probe::scope probe;
    CHECK_THROWS_NAMING((npy::load<float, 2>(p)), format_error, p, "needs 268435456 bytes, file has 3 bytes");
    CHECK(probe.max() < (std::size_t(1) << 18));
}

TEST_CASE("npy::save is atomic: a failed save leaves nothing, an existing file survives")
{
    const std::string dir = tmp_dir("save_fail");
    const std::string missing = dir + "/no/such/dir/x.npy";
    CHECK_THROWS_NAMING(npy::save(missing, xt::xtensor<float, 1>{1, 2}), io_error, missing, "cannot write");
    CHECK(!fs::exists(missing));
    CHECK(no_temporary_files(dir));
}

TEST_CASE("numpy reads what npy::save writes and npy::load reads what numpy writes")
{
    const std::string py = python_with_numpy();
    if (py.empty()) {
        MESSAGE("no python3 with numpy found (set SLEEPNET_PYTHON); numpy interoperability not checked");
        return;
    }
    const std::string dir = tmp_dir("numpy");

    xt::xtensor<float, 2> f32 = iota<float, 2>({2, 3});
    f32 = f32 * 0.5f - 1.0f;
    xt::xtensor<double, 3> f64 = iota<double, 3>({2, 3, 4});
    f64 /= 3.0;
    const xt::xtensor<std::int64_t, 1> i64 = {-3, 0, 5, 9000000000LL};
    const xt::xtensor<std::uint8_t, 2> u8 = {{0, 1, 254}, {255, 128, 7}};
    const xt::xtensor<bool, 1> b = {true, false, false, true};
    npy::save(dir + "/f32.npy", f32);
    npy::save(dir + "/f64.npy", f64);
    npy::save(dir + "/i64.npy", i64);
    npy::save(dir + "/u8.npy", u8);
    npy::save(dir + "/b.npy", b);

    const std::string script = dir + "/check.py";
    write_bytes(script, R"PY(
import sys
import numpy as np
d = sys.argv[1]
def check(name, dtype, expected):
    a = np.load(d + "/" + name)
    assert a.dtype == np.dtype(dtype), (name, a.dtype)
    assert a.shape == expected.shape, (name, a.shape)
    assert np.array_equal(a, expected), (name, a, expected)
check("f32.npy", "<f4", (np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5) - np.float32(1)))
check("f64.npy", "<f8", np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 3.0)
check("i64.npy", "<i8", np.array([-3, 0, 5, 9000000000], dtype=np.int64))
check("u8.npy", "|u1", np.array([[0, 1, 254], [255, 128, 7]], dtype=np.uint8))
check("b.npy", "|b1", np.array([True, False, False, True]))
# files for the C++ side
np.save(d + "/np_fortran.npy", np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4) / 8.0))
np.save(d + "/np_f64.npy", np.array([[0.1, 0.2], [1e-3, -4.5]]))
np.save(d + "/np_labels.npy", np.array([5, 0, 4, 1, 9], dtype=np.int64))
np.save(d + "/np_i32_2d.npy", np.array([[1, -2, 3]], dtype=np.int32))
np.save(d + "/np_bool.npy", np.array([[True, False], [False, True]]))
np.save(d + "/np_u8_3d.npy", np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
np.save(d + "/np_big.npy", np.arange(3, dtype=">f4"))
np.save(d + "/np_empty.npy", np.zeros((0, 5), dtype=np.float32))
for v in [(2, 0), (3, 0)]:
    with open(d + "/np_v%d.npy" % v[0], "wb") as f:
        np.lib.format.write_array(f, np.arange(5, dtype=np.float32), version=v)
print("numpy check ok")
)PY");
    const std::string cmd = py + " '" + script + "' '" + dir + "'";
    INFO("command: " << cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);

    const auto fortran = npy::load<double, 2>(dir + "/np_fortran.npy");
    CHECK(npy::read_header(dir + "/np_fortran.npy").fortran_order);
    REQUIRE(fortran.shape(0) == 3);
    REQUIRE(fortran.shape(1) == 4);
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 4; ++j) CHECK(fortran(i, j) == (4.0 * i + j) / 8.0);
    const auto fortran_f = npy::load<float, 2>(dir + "/np_fortran.npy");
    CHECK(fortran_f(2, 3) == 11.0f / 8.0f);

    const auto f = npy::load<float, 2>(dir + "/np_f64.npy");
    CHECK(f(0, 0) == 0.1f);
    CHECK(f(1, 0) == static_cast<float>(1e-3));
    CHECK(f(1, 1) == -4.5f);
    CHECK(npy::load<std::size_t, 1>(dir + "/np_labels.npy") == label_vector{5, 0, 4, 1, 9});
    CHECK(npy::load<double, 2>(dir + "/np_i32_2d.npy") == xt::xtensor<double, 2>{{1, -2, 3}});
    CHECK(npy::load<bool, 2>(dir + "/np_bool.npy") == xt::xtensor<bool, 2>{{true, false}, {false, true}});
    const auto cube = iota<std::uint8_t, 3>({2, 3, 4});
    CHECK(npy::load<std::uint8_t, 3>(dir + "/np_u8_3d.npy") == cube);
    CHECK(npy::load<float, 2>(dir + "/np_empty.npy").shape(1) == 5);
    CHECK(npy::load<float, 1>(dir + "/np_v2.npy") == xt::xtensor<float, 1>{0, 1, 2, 3, 4});
    CHECK(npy::load<float, 1>(dir + "/np_v3.npy") == xt::xtensor<float, 1>{0, 1, 2, 3, 4});
    const std::string big = dir + "/np_big.npy";
    CHECK_THROWS_NAMING((npy::load<float, 1>(big)), format_error, big, "big-endian dtype '>f4'");
}
