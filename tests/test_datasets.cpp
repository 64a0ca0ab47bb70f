// Tests of data/dataset.hpp, data/patches.hpp, data/features.hpp and data/load.hpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "sleepnet/data/dataset.hpp"
#include "sleepnet/data/features.hpp"
#include "sleepnet/data/load.hpp"
#include "sleepnet/data/npy.hpp"
#include "sleepnet/data/patches.hpp"

namespace fs = std::filesystem;
using namespace sleepnet;

namespace {

std::string tmp_dir(const std::string& sub) { return test_support::fresh_dir("datasets", sub); }
using test_support::contains;
using test_support::message_of;

// Checks the exception type and that its message contains both parts.
#define CHECK_THROWS_SAYING(expr, Ex, part1, part2)                                                                    \
    do {                                                                                                               \
        CHECK_THROWS_AS((void)(expr), Ex);                                                                             \
        const std::string msg_ = message_of<Ex>([&] { (void)(expr); });                                                \
        INFO("message: " << msg_);                                                                                     \
        CHECK(contains(msg_, part1));                                                                                  \
        CHECK(contains(msg_, part2));                                                                                  \
    } while (0)

/// 5 samples x 3 features; x(i, j) = 10 i + j, labels 0 1 2 0 1.
Dataset<float> small()
{
    Dataset<float> d;
    d.x = matrix<float>({5, 3});
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 3; ++j) d.x(i, j) = static_cast<float>(10 * i + j);
    d.y = label_vector{0, 1, 2, 0, 1};
    d.classes = 3;
    d.name = "small";
    return d;
}

std::size_t bright_count(const matrix<float>& x, std::size_t row)
{
    std::size_t n = 0;
    for (std::size_t j = 0; j < x.shape(1); ++j) n += x(row, j) == 1.0f;
    return n;
}

std::size_t shared_count(const matrix<float>& x, std::size_t a, std::size_t b)
{
    std::size_t n = 0;
    for (std::size_t j = 0; j < x.shape(1); ++j) n += x(a, j) == 1.0f && x(b, j) == 1.0f;
    return n;
}

/// Accuracy of the nearest class mean (class means from `train`) on `test`.
template <class T>
double nearest_mean_accuracy(const Dataset<T>& train, const Dataset<T>& test)
{
    const std::size_t c = train.classes, d = train.dim();
    std::vector<double> mean(c * d, 0.0);
    std::vector<double> count(c, 0.0);
    for (std::size_t i = 0; i < train.size(); ++i) {
        count[train.y(i)] += 1.0;
        for (std::size_t j = 0; j < d; ++j) mean[train.y(i) * d + j] += train.x(i, j);
    }
    for (std::size_t k = 0; k < c; ++k)
        for (std::size_t j = 0; j < d; ++j) mean[k * d + j] /= count[k];
    std::size_t ok = 0;
    for (std::size_t i = 0; i < test.size(); ++i) {
        double best = 1e300;
        std::size_t arg = 0;
        for (std::size_t k = 0; k < c; ++k) {
            double dist = 0.0;
            for (std::size_t j = 0; j < d; ++j) {
                const double t = test.x(i, j) - mean[k * d + j];
                dist += t * t;
            }
            if (dist < best) {
                best = dist;
                arg = k;
            }
        }
        ok += arg == test.y(i);
    }
    return static_cast<double>(ok) / static_cast<double>(test.size());
}

}  // namespace

// ---------------------------------------------------------------- Dataset helpers

TEST_CASE("Dataset size, dim and validate")
{
    Dataset<float> d = small();
    CHECK(d.size() == 5);
    CHECK(d.dim() == 3);
    CHECK_NOTHROW(d.validate());

    SUBCASE("row / label mismatch")
    {
        d.y = label_vector{0, 1};
        CHECK_THROWS_SAYING(d.validate(), invalid_argument, "'small'", "x has 5 rows but y has 2 labels");
    }
    SUBCASE("label out of range")
    {
        d.y(3) = 3;
        CHECK_THROWS_SAYING(d.validate(), invalid_argument, "label 3 is 3", "classes = 3");
    }
    SUBCASE("classes 0")
    {
        d.classes = 0;
        CHECK_THROWS_AS(d.validate(), invalid_argument);
    }
    SUBCASE("non-finite x")
    {
        d.x(1, 2) = std::nanf("");
        CHECK_THROWS_SAYING(d.validate(), numeric_error, "'small'", "x(1, 2)");
        d.x(1, 2) = INFINITY;
        CHECK_THROWS_AS(d.validate(), numeric_error);
    }
}

TEST_CASE("Dataset subset and head")
{
    const Dataset<float> d = small();
    const Dataset<float> s = d.subset({4, 0, 4});
    CHECK(s.size() == 3);
    CHECK(s.dim() == 3);
    CHECK(s.classes == 3);
    CHECK(s.name == "small");
    CHECK(s.y == label_vector{1, 0, 1});
    CHECK(s.x(0, 2) == 42.0f);
    CHECK(s.x(1, 1) == 1.0f);
    CHECK(s.x(2, 0) == 40.0f);
    CHECK(d.subset({}).size() == 0);
    CHECK_THROWS_SAYING(d.subset({1, 7}), invalid_argument, "idx[1] = 7", "size 5");

    const Dataset<float> h = d.head(2);
    CHECK(h.size() == 2);
    CHECK(h.y == label_vector{0, 1});
    CHECK(h.x(1, 0) == 10.0f);
    CHECK(d.head(100).size() == 5);
    CHECK(d.head(0).size() == 0);
    CHECK(d.head(0).dim() == 3);
}

TEST_CASE("one_hot")
{
    const matrix<double> m = one_hot<double>(label_vector{2, 0, 1, 2}, 3);
    CHECK(m == matrix<double>{{0, 0, 1}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}});
    CHECK(one_hot<float>(label_vector{}, 4).shape(1) == 4);
    CHECK_THROWS_SAYING(one_hot<float>(label_vector{0, 5}, 3), invalid_argument, "y(1) = 5", "classes = 3");
    CHECK_THROWS_AS(one_hot<float>(label_vector{0}, 0), invalid_argument);
}

TEST_CASE("split_validation shuffles with the caller's engine and partitions the samples")
{
    Dataset<float> d;
    d.x = matrix<float>({50, 2});
    d.y = label_vector(label_vector::shape_type{50});
    for (std::size_t i = 0; i < 50; ++i) {
        d.x(i, 0) = static_cast<float>(i);
        d.x(i, 1) = static_cast<float>(2 * i);
        d.y(i) = i % 5;
    }
    d.classes = 5;
    d.name = "fifty";

    default_engine e1(7), e2(7), e3(8);
    const auto [train, validation] = split_validation(d, 12, e1);
    CHECK(train.size() == 38);
    CHECK(validation.size() == 12);
    std::set<std::size_t> seen;
    for (const Dataset<float>* part : {&train, &validation}) {
        CHECK(part->classes == 5);
        for (std::size_t r = 0; r < part->size(); ++r) {
            const auto i = static_cast<std::size_t>(part->x(r, 0));
            CHECK(part->x(r, 1) == static_cast<float>(2 * i));  // rows stay whole
            CHECK(part->y(r) == i % 5);                         // labels follow their rows
            seen.insert(i);
        }
    }
    CHECK(seen.size() == 50);  // disjoint and complete

    // Shuffled: the validation part is not simply the first or last samples.
    bool in_order = true;
    for (std::size_t r = 0; r < validation.size(); ++r) in_order &= validation.x(r, 0) == static_cast<float>(r);
    CHECK(!in_order);

    const auto again = split_validation(d, 12, e2);
    CHECK(again.second.x == validation.x);
    CHECK(again.first.y == train.y);
    const auto other = split_validation(d, 12, e3);
    CHECK(other.second.x != validation.x);

    CHECK(split_validation(d, 0, e1).first.size() == 50);
    CHECK(split_validation(d, 50, e1).second.size() == 50);
    CHECK_THROWS_SAYING(split_validation(d, 51, e1), invalid_argument, "n_validation", "51");
}

// ---------------------------------------------------------------- Patches

TEST_CASE("Patches: four 10x10 images, 25 bright pixels each, a common core of 15")
{
    default_engine engine(2020);
    const DataSplits<float> p = make_patches<float>(engine);
    REQUIRE(p.train.size() == 4);
    REQUIRE(p.test.size() == 4);
    CHECK(p.train.dim() == 100);
    CHECK(p.train.classes == 4);
    CHECK(p.test.classes == 4);
    CHECK(p.train.name == "patches");
    CHECK(p.train.y == label_vector{0, 1, 2, 3});
    CHECK(p.test.y == label_vector{0, 1, 2, 3});
    CHECK(p.train.x == p.test.x);
    p.train.validate();

    for (float v : p.train.x) CHECK((v == 0.0f || v == 1.0f));
    for (std::size_t k = 0; k < 4; ++k) CHECK(bright_count(p.train.x, k) == 25);
    // The documented overlap: every pair shares exactly 15 bright pixels ...
    for (std::size_t a = 0; a < 4; ++a)
        for (std::size_t b = a + 1; b < 4; ++b) CHECK(shared_count(p.train.x, a, b) == 15);
    // ... and they are the same 15 for all pairs; each image has 10 of its own.
    std::size_t in_all = 0, in_any = 0;
    for (std::size_t j = 0; j < 100; ++j) {
        std::size_t n = 0;
        for (std::size_t k = 0; k < 4; ++k) n += p.train.x(k, j) == 1.0f;
        in_all += n == 4;
        in_any += n > 0;
        CHECK((n == 0 || n == 1 || n == 4));
    }
    CHECK(in_all == 15);
    CHECK(in_any == 15 + 4 * 10);
}

TEST_CASE("Patches are deterministic per seed and differ between seeds")
{
    default_engine a(1), b(1), c(2);
    const auto pa = make_patches<float>(a);
    const auto pb = make_patches<float>(b);
    const auto pc = make_patches<float>(c);
    CHECK(pa.train.x == pb.train.x);
    CHECK(pa.train.x != pc.train.x);
    CHECK(a() == b());  // the same number of draws was taken

    // The layout is the documented one: the engine's shuffle of 0..99, core first.
    default_engine r(1);
    std::vector<std::size_t> order(100);
    for (std::size_t i = 0; i < 100; ++i) order[i] = i;
    rng::shuffle(order.begin(), order.end(), r);
    for (std::size_t i = 0; i < 15; ++i)
        for (std::size_t k = 0; k < 4; ++k) CHECK(pa.train.x(k, order[i]) == 1.0f);
    for (std::size_t k = 0; k < 4; ++k)
        for (std::size_t i = 15 + 10 * k; i < 25 + 10 * k; ++i) CHECK(pa.train.x(k, order[i]) == 1.0f);

    default_engine a_again(1);
    const auto pd = make_patches<double>(a_again);
    for (std::size_t i = 0; i < pd.train.x.size(); ++i)
        CHECK(pd.train.x.data()[i] == static_cast<double>(pa.train.x.data()[i]));
}

TEST_CASE("Patches options: copies, other overlaps, invalid values")
{
    default_engine e(3);
    PatchesOptions o;
    o.copies = 3;
    const auto p = make_patches<float>(e, o);
    REQUIRE(p.train.size() == 12);
    CHECK(p.test.size() == 4);
    for (std::size_t r = 0; r < 12; ++r) {
        CHECK(p.train.y(r) == r % 4);
        for (std::size_t j = 0; j < 100; ++j) CHECK(p.train.x(r, j) == p.test.x(r % 4, j));
    }

    PatchesOptions disjoint;
    disjoint.overlap = 0;
    const auto q = make_patches<float>(e, disjoint);
    for (std::size_t a = 0; a < 4; ++a) {
        CHECK(bright_count(q.test.x, a) == 25);
        for (std::size_t b = a + 1; b < 4; ++b) CHECK(shared_count(q.test.x, a, b) == 0);
    }

    PatchesOptions bad;
    bad.overlap = 26;
    CHECK_THROWS_SAYING(make_patches<float>(e, bad), invalid_argument, "'overlap' = 26", "'bright' = 25");
    bad = PatchesOptions{};
    bad.overlap = 25;
    CHECK_THROWS_AS(make_patches<float>(e, bad), invalid_argument);
    bad = PatchesOptions{};
    bad.side = 5;
    CHECK_THROWS_SAYING(make_patches<float>(e, bad), invalid_argument, "25 pixels", "5x5");
    bad = PatchesOptions{};
    bad.copies = 0;
    CHECK_THROWS_SAYING(make_patches<float>(e, bad), invalid_argument, "'copies'", "0");
    bad = PatchesOptions{};
    bad.classes = 0;
    CHECK_THROWS_AS(make_patches<float>(e, bad), invalid_argument);
}

// ---------------------------------------------------------------- features

TEST_CASE("synthetic features: CUB-200-like shape, non-negative, labelled synthetic")
{
    default_engine e(11);
    const DataSplits<float> s = make_synthetic_features<float>(e);
    CHECK(s.train.size() == 200 * 30);
    CHECK(s.test.size() == 200 * 29);
    CHECK(s.train.dim() == 2048);
    CHECK(s.test.dim() == 2048);
    CHECK(s.train.classes == 200);
    CHECK(s.train.name == "synthetic-features");
    CHECK(s.test.name == "synthetic-features");
    s.train.validate();
    s.test.validate();
    std::size_t zeros = 0, negative = 0;
    for (float v : s.train.x) {
        negative += v < 0.0f;
        zeros += v == 0.0f;
    }
    CHECK(negative == 0);
    const double zero_fraction = static_cast<double>(zeros) / static_cast<double>(s.train.x.size());
    CHECK(zero_fraction > 0.3);  // ReLU-like sparsity
    CHECK(zero_fraction < 0.7);
    std::vector<std::size_t> count(200, 0);
    for (std::size_t v : s.train.y) ++count[v];
    CHECK(std::all_of(count.begin(), count.end(), [](std::size_t c) { return c == 30; }));

    // load_dataset("synthetic-features", seed) is the same generator with default_engine(seed).
    const DataSplits<float> by_name = load_dataset<float>("synthetic-features", "", 11);
    CHECK(by_name.train.name == "synthetic-features");
    CHECK(by_name.train.x == s.train.x);
    CHECK(by_name.test.x == s.test.x);
    CHECK(by_name.test.y == s.test.y);
}

TEST_CASE("synthetic features: deterministic per seed, clustered by class")
{
    SyntheticFeaturesOptions o;
    o.classes = 20;
    o.per_class_train = 15;
    o.per_class_test = 10;
    o.dim = 64;
    o.separation = 1.0;
    default_engine a(5), b(5), c(6);
    const auto sa = make_synthetic_features<float>(a, o);
    const auto sb = make_synthetic_features<float>(b, o);
    const auto sc = make_synthetic_features<float>(c, o);
    CHECK(sa.train.x == sb.train.x);
    CHECK(sa.test.x == sb.test.x);
    CHECK(sa.train.x != sc.train.x);
    CHECK(sa.train.y(21) == 1);
    CHECK(sa.test.size() == 200);

    // Well-separated clusters: the nearest class mean is nearly always right.
    CHECK(nearest_mean_accuracy(sa.train, sa.test) > 0.95);
    // No separation: labels carry no information, accuracy near chance (1 / 20).
    o.separation = 0.0;
    default_engine d(5);
    const auto flat = make_synthetic_features<float>(d, o);
    CHECK(nearest_mean_accuracy(flat.train, flat.test) < 0.25);

    SyntheticFeaturesOptions bad = o;
    bad.classes = 0;
    CHECK_THROWS_AS(make_synthetic_features<float>(d, bad), invalid_argument);
    bad = o;
    bad.spread = -1.0;
    CHECK_THROWS_SAYING(make_synthetic_features<float>(d, bad), invalid_argument, "'spread'", "-1");
    bad = o;
    bad.separation = NAN;
    CHECK_THROWS_SAYING(make_synthetic_features<float>(d, bad), invalid_argument, "'separation'", "nan");
}

TEST_CASE("save_features / load_features round trip")
{
    SyntheticFeaturesOptions o;
    o.classes = 7;
    o.per_class_train = 4;
    o.per_class_test = 3;
    o.dim = 16;
    default_engine e(9);
    const auto s = make_synthetic_features<double>(e, o);
    const std::string dir = tmp_dir("roundtrip") + "/sub/features";  // created by save_features
    save_features(dir, s);
    CHECK(npy::read_header(dir + "/x_train.npy").descr == "<f8");
    CHECK(npy::read_header(dir + "/y_train.npy").descr == "<i8");

    const DataSplits<double> back = load_features<double>(dir);
    CHECK(back.train.x == s.train.x);
    CHECK(back.test.x == s.test.x);
    CHECK(back.train.y == s.train.y);
    CHECK(back.test.y == s.test.y);
    CHECK(back.train.classes == 7);  // max label + 1
    CHECK(back.train.name == "features");

    const DataSplits<float> as_float = load_features<float>(dir, 10);
    CHECK(as_float.train.classes == 10);
    CHECK(as_float.test.classes == 10);
    CHECK(as_float.train.x(3, 5) == static_cast<float>(s.train.x(3, 5)));
}

TEST_CASE("load_features accepts (N, 1) labels of any integer type and checks consistency")
{
    const std::string dir = tmp_dir("checks");
    auto write_all = [&] {
        npy::save(dir + "/x_train.npy", xt::xtensor<float, 2>{{0.5f, 1.0f}, {2.0f, 0.0f}, {1.0f, 1.0f}});
        npy::save(dir + "/y_train.npy", xt::xtensor<std::int32_t, 2>{{2}, {0}, {1}});
        npy::save(dir + "/x_test.npy", xt::xtensor<float, 2>{{0.0f, 3.0f}});
        npy::save(dir + "/y_test.npy", xt::xtensor<std::uint8_t, 1>{4});
    };
    write_all();
    const auto s = load_features<float>(dir);
    CHECK(s.train.y == label_vector{2, 0, 1});
    CHECK(s.test.y == label_vector{4});
    CHECK(s.train.classes == 5);

    SUBCASE("label not below the given classes")
    {
        const std::string y = (fs::path(dir) / "y_test.npy").string();
        CHECK_THROWS_SAYING(load_features<float>(dir, 4), format_error, y, "label 0 has value 4, not < classes = 4");
    }
    SUBCASE("rows and labels disagree")
    {
        npy::save(dir + "/y_train.npy", xt::xtensor<std::int64_t, 1>{1, 2});
        CHECK_THROWS_SAYING(load_features<float>(dir), format_error, "y_train.npy", "3 rows but 2 labels");
    }
    SUBCASE("train and test widths disagree")
    {
        npy::save(dir + "/x_test.npy", xt::xtensor<float, 2>{{0.0f, 3.0f, 1.0f}});
        CHECK_THROWS_SAYING(load_features<float>(dir), format_error, "x_test.npy", "2 vs 3 columns");
    }
    SUBCASE("negative label")
    {
        const std::string y = (fs::path(dir) / "y_train.npy").string();
        npy::save(y, xt::xtensor<std::int64_t, 1>{1, -2, 0});
        CHECK_THROWS_SAYING(load_features<float>(dir), format_error, y, "value -2");
    }
    SUBCASE("labels of the wrong shape")
    {
        const std::string y = (fs::path(dir) / "y_train.npy").string();
        npy::save(y, xt::xtensor<std::int64_t, 2>{{1, 2}, {0, 1}, {2, 2}});
        CHECK_THROWS_SAYING(load_features<float>(dir), format_error, y, "(N,) or (N, 1)");
    }
    SUBCASE("non-finite features")
    {
        const std::string x = (fs::path(dir) / "x_train.npy").string();
        npy::save(x, xt::xtensor<double, 2>{{0.5, 1.0}, {2.0, 0.0}, {1.0, INFINITY}});
        CHECK_THROWS_SAYING(load_features<float>(dir), format_error, x, "x(2, 1) is not finite");
    }
    SUBCASE("1-D features")
    {
        const std::string x = (fs::path(dir) / "x_train.npy").string();
        npy::save(x, xt::xtensor<float, 1>{1, 2, 3});
        CHECK_THROWS_SAYING(load_features<float>(dir), format_error, x, "shape (3,)");
    }
    SUBCASE("missing file")
    {
        const std::string y = (fs::path(dir) / "y_test.npy").string();
        fs::remove(y);
        CHECK_THROWS_SAYING(load_features<float>(dir), io_error, y, "does not exist");
    }
}

// ---------------------------------------------------------------- load_dataset

TEST_CASE("load_dataset dispatches by name")
{
    const auto p = load_dataset<float>("patches", "", 42);
    default_engine e(42);
    CHECK(p.train.x == make_patches<float>(e).train.x);

    const std::string dir = tmp_dir("load");
    SyntheticFeaturesOptions o;
    o.classes = 3;
    o.per_class_train = 2;
    o.per_class_test = 1;
    o.dim = 5;
    default_engine f(1);
    save_features(dir, make_synthetic_features<float>(f, o));
    const auto feats = load_dataset<float>("features", dir, 0);
    CHECK(feats.train.size() == 6);
    CHECK(feats.train.classes == 3);

    // "synthetic-features" is checked against make_synthetic_features in its own test case.
    CHECK_THROWS_SAYING(load_dataset<float>("cifar", dir, 0), invalid_argument, "'cifar'",
                        "mnist, fashion, patches, features, synthetic-features");
    CHECK_THROWS_SAYING(load_dataset<float>("mnist", "", 0), invalid_argument, "'mnist'", "'dir'");
    CHECK_THROWS_SAYING(load_dataset<float>("mnist", dir, 0), io_error, "train-images-idx3-ubyte",
                        "scripts/fetch-data.sh");
    CHECK_THROWS_SAYING(load_dataset<float>("fashion", dir, 0), io_error, dir, "dataset-fashion-mnist");
}
