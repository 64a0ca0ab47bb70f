// Tests of data/idx.hpp: IDX round trips (raw and gzip), every corrupt-file case, the
// MNIST directory loader on small generated files, and the real MNIST and Fashion-MNIST.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "alloc_probe.hpp"
#include "support.hpp"

#include <zlib.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <xtensor/xtensor.hpp>

#include "sleepnet/core/read_limits.hpp"
#include "sleepnet/data/idx.hpp"

namespace fs = std::filesystem;
using namespace sleepnet;

namespace {

std::string tmp_dir(const std::string& sub) { return test_support::fresh_dir("idx", sub); }
using test_support::contains;
using test_support::message_of;
using test_support::read_bytes;
using test_support::write_bytes;

/// gzip-compresses `bytes` into `path` with zlib.
void write_gz(const std::string& path, const std::string& bytes)
{
    gzFile gz = gzopen(path.c_str(), "wb");
    REQUIRE(gz != nullptr);
    if (!bytes.empty()) {
        REQUIRE(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    }
    REQUIRE(gzclose(gz) == Z_OK);
}

/// An IDX header: 0 0 type ndim, then big-endian uint32 dimensions.
std::string idx_header(unsigned type, std::initializer_list<std::uint32_t> dims)
{
    std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
    for (std::uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            s += static_cast<char>((d >> shift) & 0xff);
        }
    }
    return s;
}

/// 3 images of 2 x 4 with pixel value 10 * image + index.
xt::xtensor<std::uint8_t, 3> small_images()
{
    xt::xtensor<std::uint8_t, 3> a({3, 2, 4});
    for (std::size_t n = 0; n < 3; ++n)
        for (std::size_t k = 0; k < 8; ++k) a.data()[n * 8 + k] = static_cast<std::uint8_t>(10 * n + k);
    a(2, 1, 3) = 255;
    return a;
}

void check_small_images(const matrix<float>& x)
{
    REQUIRE(x.shape(0) == 3);
    REQUIRE(x.shape(1) == 8);
    for (std::size_t n = 0; n < 3; ++n)
        for (std::size_t k = 0; k < 8; ++k)
            if (!(n == 2 && k == 7)) CHECK(x(n, k) == doctest::Approx((10.0 * n + k) / 255.0));
    CHECK(x(2, 7) == 1.0f);
}

}  // namespace

TEST_CASE("IDX round trip of images and labels, raw and gzip")
{
    const std::string dir = tmp_dir("roundtrip");
    const std::string images = dir + "/images-idx3-ubyte";
    const std::string labels = dir + "/labels-idx1-ubyte";
    idx::write_images(images, small_images());
    idx::write_labels(labels, label_vector{7, 0, 9});

    CHECK(read_bytes(images).size() == 16 + 24);
    CHECK(read_bytes(images).substr(0, 16) == idx_header(0x08, {3, 2, 4}));
    check_small_images(idx::read_images<float>(images));
    const auto xd = idx::read_images<double>(images);
    CHECK(xd(0, 1) == 1.0 / 255.0);
    CHECK(idx::read_labels(labels) == label_vector{7, 0, 9});

    SUBCASE("gzip is detected by content, not by name")
    {
        write_gz(dir + "/images.gz", read_bytes(images));
        write_gz(dir + "/compressed-without-suffix", read_bytes(images));
        write_bytes(dir + "/raw-with-suffix.gz", read_bytes(images));
        check_small_images(idx::read_images<float>(dir + "/images.gz"));
        check_small_images(idx::read_images<float>(dir + "/compressed-without-suffix"));
        check_small_images(idx::read_images<float>(dir + "/raw-with-suffix.gz"));
        write_gz(dir + "/labels.gz", read_bytes(labels));
        CHECK(idx::read_labels(dir + "/labels.gz") == label_vector{7, 0, 9});
    }
    SUBCASE("float images are stored as round(255 v)")
    {
        const matrix<float> x = {{0.0f, 1.0f, 0.5f, 0.2f}, {0.001f, 0.999f, 0.25f, 0.75f}};
        idx::write_images(dir + "/f", x, 2, 2);
        const auto back = idx::read_images<float>(dir + "/f");
        REQUIRE(back.shape(0) == 2);
        REQUIRE(back.shape(1) == 4);
        for (std::size_t i = 0; i < x.size(); ++i) {
            CHECK(back.data()[i] == doctest::Approx(std::round(x.data()[i] * 255.0) / 255.0));
        }
    }
    SUBCASE("writing rejects bad input")
    {
        const std::string f = dir + "/never";
        CHECK_THROWS_AS(idx::write_images(f, matrix<float>{{0.5f, 1.5f}}, 1, 2), invalid_argument);
        CHECK_THROWS_AS(idx::write_images(f, matrix<float>{{0.5f, std::nanf("")}}, 1, 2), invalid_argument);
        CHECK_THROWS_AS(idx::write_images(f, matrix<float>{{0.5f, 0.5f}}, 1, 3), invalid_argument);
        CHECK_THROWS_AS(idx::write_labels(f, label_vector{1, 256}), invalid_argument);
        CHECK(!fs::exists(f));
        const std::string nodir = dir + "/no/such/dir/labels";
        CHECK_THROWS_NAMING(idx::write_labels(nodir, label_vector{1}), io_error, nodir, "cannot write");
    }
}

TEST_CASE("corrupt IDX files fail with a specific exception naming the file")
{
    const std::string dir = tmp_dir("corrupt");
    const std::string p = dir + "/bad-idx";
    const std::string good = idx_header(0x08, {3, 2, 4}) + std::string(24, '\x05');
    const std::string good_labels = idx_header(0x08, {4}) + std::string("\x01\x02\x03\x04", 4);

    SUBCASE("missing file and directory")
    {
        const std::string missing = dir + "/nothing-here";
        CHECK_THROWS_NAMING(idx::read_images<float>(missing), io_error, missing, "does not exist");
        CHECK_THROWS_NAMING(idx::read_labels(missing), io_error, missing, "does not exist");
        CHECK_THROWS_NAMING(idx::read_labels(dir), io_error, dir, "not a regular file");
    }
    SUBCASE("bad magic")
    {
        write_bytes(p, "\x01" + good.substr(1));
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "bad magic 0x01 0x00");
    }
    SUBCASE("unsupported and unknown data types")
    {
        write_bytes(p, idx_header(0x0D, {3, 2, 4}) + std::string(96, '\0'));
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "0x0d (float32) is not supported");
        write_bytes(p, idx_header(0x0B, {4}) + std::string(8, '\0'));
        CHECK_THROWS_NAMING(idx::read_labels(p), format_error, p, "(int16) is not supported");
        write_bytes(p, idx_header(0x07, {4}) + std::string(4, '\0'));
        CHECK_THROWS_NAMING(idx::read_labels(p), format_error, p, "unknown data type 0x07");
    }
    SUBCASE("wrong number of dimensions")
    {
        write_bytes(p, good_labels);
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "has 1 dimension(s), expected 3");
        write_bytes(p, good);
        CHECK_THROWS_NAMING(idx::read_labels(p), format_error, p, "has 3 dimension(s), expected 1");
    }
    SUBCASE("truncated header")
    {
        write_bytes(p, good.substr(0, 2));
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "truncated header");
        write_bytes(p, good.substr(0, 10));
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "truncated header (dimension 1 missing)");
        write_gz(p, good.substr(0, 10));
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "truncated header");
    }
    SUBCASE("truncated data, raw and gzip")
    {
        write_bytes(p, good.substr(0, good.size() - 1));
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "truncated data");
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "need 24 data bytes, file has 23");
        write_gz(p, good.substr(0, good.size() - 5));
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p,
                            "need 24 data bytes, file has 19 (decompressed)");
        write_bytes(p, good_labels.substr(0, 9));
        CHECK_THROWS_NAMING(idx::read_labels(p), format_error, p, "need 4 data bytes, file has 1");
    }
    SUBCASE("trailing data, raw and gzip")
    {
        write_bytes(p, good + "xyz");
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "trailing data");
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "need 24 data bytes, file has 27");
        write_gz(p, good_labels + "z");
        CHECK_THROWS_NAMING(idx::read_labels(p), format_error, p, "need 4 data bytes, file has 5 (decompressed)");
    }
    SUBCASE("a cut or damaged gzip stream")
    {
        // Incompressible content so the compressed stream is long enough to cut and damage.
        std::string content = idx_header(0x08, {100, 10, 10});
        std::uint32_t state = 12345;
        for (int i = 0; i < 10000; ++i) {
            state = state * 1664525u + 1013904223u;
            content += static_cast<char>(state >> 24);
        }
        write_gz(dir + "/whole.gz", content);
        const std::string gz = read_bytes(dir + "/whole.gz");
        REQUIRE(gz.size() > 5000);
        CHECK(idx::read_images<float>(dir + "/whole.gz").shape(0) == 100);

        write_bytes(p, gz.substr(0, gz.size() / 2));
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "truncated gzip stream");

        std::string damaged = gz;
        for (std::size_t i = gz.size() / 2; i < gz.size() / 2 + 64; ++i) {
            damaged[i] = static_cast<char>(~damaged[i]);
        }
        write_bytes(p, damaged);
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "gzip");

        std::string bad_crc = gz;
        bad_crc[gz.size() - 6] = static_cast<char>(~bad_crc[gz.size() - 6]);  // inside the CRC-32 trailer
        write_bytes(p, bad_crc);
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "corrupt gzip data");
    }
    SUBCASE("dimensions that overflow or describe empty images")
    {
        write_bytes(p, idx_header(0x08, {0xffffffffu, 0xffffffffu, 0xffffffffu}));
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "overflow");
        write_bytes(p, idx_header(0x08, {0xffffffffu, 0xffffffu, 1}) + "abc");
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "file has 3");
        write_bytes(p, idx_header(0x08, {2, 0, 4}));
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "is empty");
    }
    SUBCASE("labels out of range name index and value")
    {
        write_bytes(p, idx_header(0x08, {4}) + std::string("\x01\x0c\x03\x04", 4));
        CHECK_THROWS_NAMING(idx::read_labels(p), format_error, p, "label 1 has value 12, not < classes = 10");
        CHECK(idx::read_labels(p, 13) == label_vector{1, 12, 3, 4});
        CHECK_THROWS_NAMING(idx::read_labels(p, 4), format_error, p, "label 1 has value 12, not < classes = 4");
        CHECK_THROWS_AS(idx::read_labels(p, 0), invalid_argument);
    }
}

namespace {

/// What reading `bytes` as images (labels) gives: the values, or the exception's type and message.
template <class F>
std::string outcome(F&& read)
{
    return test_support::outcome_text([&] {
        std::ostringstream os;
        for (const auto v : read()) os << v << ' ';
        return os.str();
    });
}

}  // namespace

TEST_CASE("IDX from memory gives the file's results and messages, raw and gzip")
{
    const std::string dir = tmp_dir("memory");
    const std::string p = dir + "/same-name";
    const std::string good = idx_header(0x08, {3, 2, 4}) + std::string(24, '\x05');
    const std::string labels = idx_header(0x08, {4}) + std::string("\x01\x02\x03\x04", 4);
    std::vector<std::string> cases = {good,
                                      labels,
                                      labels.substr(0, 6),
                                      good.substr(0, good.size() - 1),
                                      good + "xyz",
                                      "\x01" + good.substr(1),
                                      idx_header(0x0D, {3, 2, 4}),
                                      idx_header(0x08, {2, 0, 4}),
                                      idx_header(0x08, {0xffffffffu, 0xffffffffu, 0xffffffffu}),
                                      idx_header(0x08, {4}) + std::string("\x01\x0c\x03\x04", 4),
                                      "",
                                      "\x1f"};
    const auto gzip = [&](const std::string& bytes) {
        write_gz(p, bytes);
        return read_bytes(p);
    };
    for (std::size_t i = 0, n = cases.size(); i < n; ++i) cases.push_back(gzip(cases[i]));  // the same gzipped
    const std::string gz = gzip(good);
    cases.push_back(gz.substr(0, gz.size() / 2));                       // cut
    cases.push_back(gz.substr(0, gz.size() - 3) + "abc");               // damaged trailer
    cases.push_back(gzip(good.substr(0, 10)) + gzip(good.substr(10)));  // two members
    cases.push_back(gz + "garbage");                                    // ignored, as gzread does
    cases.push_back(gz + "\x1f");                                       // likewise
    cases.push_back(gz + gzip(""));                                     // an empty member
    const std::string two = gzip(good.substr(0, 10)) + gzip(good.substr(10));
    CHECK(outcome([&] { return idx::read_images_memory<float>(two.data(), two.size(), "two"); }) ==
          outcome([&] { return idx::read_images_memory<float>(good.data(), good.size(), "one"); }));
    for (const std::string& bytes : cases) {
        write_bytes(p, bytes);
        INFO("case of " << bytes.size() << " bytes");
        CHECK(outcome([&] { return idx::read_images<float>(p); }) ==
              outcome([&] { return idx::read_images_memory<float>(bytes.data(), bytes.size(), p); }));
        CHECK(outcome([&] { return idx::read_labels(p); }) ==
              outcome([&] { return idx::read_labels_memory(bytes.data(), bytes.size(), p); }));
    }
    CHECK(outcome([&] { return idx::read_images_memory<float>(good.data(), good.size(), "buffer"); }) ==
          outcome([&] { return xt::xtensor<float, 1>(xt::xtensor<float, 1>::shape_type{24}, 5.0f / 255.0f); }));
}

TEST_CASE("IDX: a header claiming more elements than ReadLimits allows is a limit_error naming file, shape and cap")
{
    const std::string dir = tmp_dir("limits");
    const std::string p = dir + "/big-idx";
    const std::string good = idx_header(0x08, {3, 2, 4}) + std::string(24, '\x05');
    write_bytes(p, good);
    ReadLimits small;
    small.max_elements = 23;
    CHECK_THROWS_NAMING(idx::read_images<float>(p, small), limit_error, p, "shape (3, 2, 4) has 24 elements");
    CHECK_THROWS_NAMING(idx::read_images<float>(p, small), limit_error, p, "ReadLimits::max_elements = 23");
    CHECK_THROWS_AS(idx::read_images_memory<float>(good.data(), good.size(), "buf", small), limit_error);
    small.max_elements = 24;
    CHECK(idx::read_images<float>(p, small).size() == 24);
    write_gz(p, good);
    small.max_elements = 23;
    CHECK_THROWS_NAMING(idx::read_images<float>(p, small), limit_error, p, "has 24 elements");
    // the default cap, 2^28: a gzipped (2^16, 2^8, 257) header over 4 data bytes (raw, the
    // file's size refuses it first: "truncated data")
    write_gz(p, idx_header(0x08, {65536, 256, 257}) + "abcd");
    CHECK_THROWS_NAMING(idx::read_images<float>(p), limit_error, p, "more than the cap");
}

TEST_CASE("IDX: a header larger than the file is refused before anything of its size is allocated")
{
    const std::string dir = tmp_dir("alloc");
    const std::string p = dir + "/huge-header";
    const std::string raw = idx_header(0x08, {4096, 256, 256}) + "abc";  // 2^28 bytes claimed, 3 present
    write_bytes(p, raw);
    {
        alloc_probe::scope probe;
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "need 268435456 data bytes, file has 3");
        CHECK(probe.max() < (std::size_t(1) << 18));
    }
    write_gz(p, raw);
    {
        alloc_probe::scope probe;
        CHECK_THROWS_NAMING(idx::read_images<float>(p), format_error, p, "file has 3 (decompressed)");
        CHECK(probe.max() < (std::size_t(1) << 18));
    }
}

TEST_CASE("load_mnist reads a directory of raw and gzipped files")
{
    const std::string dir = tmp_dir("mnist_dir");
    xt::xtensor<std::uint8_t, 3> train({5, 3, 3});
    xt::xtensor<std::uint8_t, 3> test({2, 3, 3});
    for (std::size_t i = 0; i < train.size(); ++i) train.data()[i] = static_cast<std::uint8_t>(i);
    for (std::size_t i = 0; i < test.size(); ++i) test.data()[i] = static_cast<std::uint8_t>(200 + i);
    idx::write_images(dir + "/train-images-idx3-ubyte", train);
    idx::write_labels(dir + "/tmp-labels", label_vector{5, 0, 4, 1, 9});
    write_gz(dir + "/train-labels-idx1-ubyte.gz", read_bytes(dir + "/tmp-labels"));
    fs::remove(dir + "/tmp-labels");
    idx::write_images(dir + "/tmp-images", test);
    write_gz(dir + "/t10k-images-idx3-ubyte.gz", read_bytes(dir + "/tmp-images"));
    fs::remove(dir + "/tmp-images");
    idx::write_labels(dir + "/t10k-labels-idx1-ubyte", label_vector{7, 2});

    const DataSplits<float> s = load_mnist<float>(dir);
    CHECK(s.train.size() == 5);
    CHECK(s.train.dim() == 9);
    CHECK(s.test.size() == 2);
    CHECK(s.train.classes == 10);
    CHECK(s.train.name == "mnist");
    CHECK(s.train.y == label_vector{5, 0, 4, 1, 9});
    CHECK(s.test.y == label_vector{7, 2});
    CHECK(s.train.x(4, 8) == doctest::Approx(44.0 / 255.0));
    CHECK(s.test.x(1, 0) == doctest::Approx(209.0 / 255.0));
    s.train.validate();
    s.test.validate();

    SUBCASE("image and label counts must agree")
    {
        idx::write_labels(dir + "/t10k-labels-idx1-ubyte", label_vector{7, 2, 1});
        const std::string both = dir + "/t10k-labels-idx1-ubyte";
        CHECK_THROWS_NAMING(load_mnist<float>(dir), format_error, both, "2 images but 3 labels");
        CHECK_THROWS_NAMING(load_mnist<float>(dir), format_error, "t10k-images-idx3-ubyte.gz", "disagree");
    }
    SUBCASE("train and test image sizes must agree")
    {
        idx::write_images(dir + "/t10k-images-idx3-ubyte.gz", xt::xtensor<std::uint8_t, 3>({2, 2, 2}));
        CHECK_THROWS_NAMING(load_mnist<float>(dir), format_error, "t10k-images-idx3-ubyte.gz", "different image sizes");
    }
    SUBCASE("a missing file names the path and the fetch script")
    {
        fs::remove(dir + "/train-labels-idx1-ubyte.gz");
        const std::string missing = (fs::path(dir) / "train-labels-idx1-ubyte").string();
        CHECK_THROWS_NAMING(load_mnist<float>(dir), io_error, missing, "run scripts/fetch-data.sh");
        CHECK_THROWS_NAMING(load_fashion_mnist<float>(dir), io_error, missing, "dataset-fashion-mnist");
    }
}

TEST_CASE("the real MNIST (SLEEPNET_DATA_DIR/mnist)")
{
    const std::string dir = std::string(SLEEPNET_DATA_DIR) + "/mnist";
    DataSplits<float> s;
    try {
        s = load_mnist<float>(dir);
    } catch (const std::exception& e) {
        FAIL("MNIST is not in " << dir << " - run scripts/fetch-data.sh (" << std::string(e.what()) << ")");
    }
    REQUIRE(s.train.size() == 60000);
    REQUIRE(s.test.size() == 10000);
    CHECK(s.train.dim() == 784);
    CHECK(s.test.dim() == 784);
    CHECK(s.train.y(0) == 5);
    CHECK(s.train.y(1) == 0);
    CHECK(s.train.y(2) == 4);
    CHECK(s.test.y(0) == 7);
    CHECK(s.test.y(1) == 2);

    const std::array<std::size_t, 10> train_counts = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
    const std::array<std::size_t, 10> test_counts = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    std::array<std::size_t, 10> tr{}, te{};
    for (std::size_t v : s.train.y) ++tr[v];
    for (std::size_t v : s.test.y) ++te[v];
    CHECK(tr == train_counts);
    CHECK(te == test_counts);

    double sum = 0.0, lo = 1.0, hi = 0.0;
    for (float v : s.train.x) {
        sum += v;
        lo = std::min<double>(lo, v);
        hi = std::max<double>(hi, v);
    }
    CHECK(lo == 0.0);
    CHECK(hi == 1.0);
    CHECK(sum / static_cast<double>(s.train.x.size()) == doctest::Approx(0.1307).epsilon(0.001));  // the usual mean
    // First training image (a 5): blank corner, pixel (14, 14) is 240, 166 inked pixels.
    CHECK(s.train.x(0, 0) == 0.0f);
    CHECK(s.train.x(0, 14 * 28 + 14) == 240.0f / 255.0f);
    std::size_t ink = 0;
    for (std::size_t k = 0; k < 784; ++k) ink += s.train.x(0, k) > 0.0f;
    CHECK(ink == 166);
}

TEST_CASE("the real Fashion-MNIST (Debian package dataset-fashion-mnist)")
{
    DataSplits<float> s;
    try {
        s = load_fashion_mnist<float>();
    } catch (const std::exception& e) {
        FAIL("Fashion-MNIST missing - apt-get install dataset-fashion-mnist (" << std::string(e.what()) << ")");
    }
    REQUIRE(s.train.size() == 60000);
    REQUIRE(s.test.size() == 10000);
    CHECK(s.train.dim() == 784);
    CHECK(s.train.name == "fashion-mnist");
    CHECK(s.train.y(0) == 9);  // ankle boot
    CHECK(s.train.y(1) == 0);
    CHECK(s.test.y(0) == 9);
    CHECK(s.test.y(1) == 2);
    std::array<std::size_t, 10> tr{}, te{};
    for (std::size_t v : s.train.y) ++tr[v];
    for (std::size_t v : s.test.y) ++te[v];
    for (std::size_t c = 0; c < 10; ++c) {
        CHECK(tr[c] == 6000);
        CHECK(te[c] == 1000);
    }
    double sum = 0.0;
    for (float v : s.train.x) sum += v;
    CHECK(sum / static_cast<double>(s.train.x.size()) == doctest::Approx(0.2860).epsilon(0.001));
}
