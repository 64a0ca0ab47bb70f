// Distortions: additive Gaussian noise (statistics, std/variance, clipping, draw order,
// identity at level 0), Gaussian blur (impulse response, truncation radius, constants,
// symmetry, a direct 2-D reference convolution per border mode, scipy when available)
// and accuracy curves (agreement with the one-shot functions, chunking, errors).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "support.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sleepnet/distort/blur.hpp>
#include <sleepnet/distort/curves.hpp>
#include <sleepnet/distort/curves_json.hpp>
#include <sleepnet/distort/noise.hpp>
#include <sleepnet/nn/train.hpp>

using namespace sleepnet;
namespace fs = std::filesystem;

namespace {

using test_support::contains;
using test_support::message_of;

template <class T>
matrix<T> random_matrix(std::size_t n, std::size_t d, std::uint64_t seed, double lo = 0.0, double hi = 1.0)
{
    default_engine eng(seed);
    matrix<T> x = matrix<T>::from_shape({n, d});
    for (auto& v : x) v = static_cast<T>(rng::uniform<double>(eng, lo, hi));
    return x;
}

template <class T>
bool same(const matrix<T>& a, const matrix<T>& b)
{
    if (a.shape() != b.shape()) return false;
    for (std::size_t k = 0; k < a.size(); ++k)
        if (!(a.data()[k] == b.data()[k])) return false;
    return true;
}

template <class T>
double max_abs_diff(const matrix<T>& a, const matrix<T>& b)
{
    REQUIRE(a.shape() == b.shape());
    double m = 0.0;
    for (std::size_t k = 0; k < a.size(); ++k)
        m = std::max(m, std::abs(static_cast<double>(a.data()[k]) - static_cast<double>(b.data()[k])));
    return m;
}

// Independent reference: the normalized kernel with radius int(4 sigma + 0.5).
std::vector<double> ref_kernel(double sigma)
{
    const int r = static_cast<int>(4.0 * sigma + 0.5);
    std::vector<double> w;
    double sum = 0.0;
    for (int k = -r; k <= r; ++k) {
        w.push_back(std::exp(-0.5 * k * k / (sigma * sigma)));
        sum += w.back();
    }
    for (double& v : w) v /= sum;
    return w;
}

// Independent reference border handling by repeated unfolding; returns -1 for a zero.
int ref_index(int p, int n, BorderMode border)
{
    if (border == BorderMode::constant_zero) return (p < 0 || p >= n) ? -1 : p;
    if (border == BorderMode::replicate) return p < 0 ? 0 : (p >= n ? n - 1 : p);
    while (p < 0 || p >= n) {
        if (p < 0) p = -p - 1;          // a | a b c: -1 -> 0, -2 -> 1
        if (p >= n) p = 2 * n - 1 - p;  // c | c b a: n -> n-1
    }
    return p;
}

// Direct (non-separable) 2-D convolution of one rows x cols image, no clipping.
std::vector<double> ref_blur(const std::vector<double>& img, int rows, int cols, double sigma, BorderMode border)
{
    const std::vector<double> g = ref_kernel(sigma);
    const int r = static_cast<int>(g.size() / 2);
    std::vector<double> out(img.size(), 0.0);
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) {
            double s = 0.0;
            for (int a = -r; a <= r; ++a)
                for (int b = -r; b <= r; ++b) {
                    const int si = ref_index(i + a, rows, border);
                    const int sj = ref_index(j + b, cols, border);
                    if (si < 0 || sj < 0) continue;
                    s += g[a + r] * g[b + r] * img[si * cols + sj];
                }
            out[i * cols + j] = s;
        }
    return out;
}

template <class T>
matrix<T> mirror_cols(const matrix<T>& x, std::size_t rows, std::size_t cols)
{
    matrix<T> out = x;
    for (std::size_t n = 0; n < x.shape()[0]; ++n)
        for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t j = 0; j < cols; ++j) out(n, i * cols + j) = x(n, i * cols + (cols - 1 - j));
    return out;
}

template <class T>
matrix<T> mirror_rows(const matrix<T>& x, std::size_t rows, std::size_t cols)
{
    matrix<T> out = x;
    for (std::size_t n = 0; n < x.shape()[0]; ++n)
        for (std::size_t i = 0; i < rows; ++i)
            for (std::size_t j = 0; j < cols; ++j) out(n, i * cols + j) = x(n, (rows - 1 - i) * cols + j);
    return out;
}

const BorderMode all_borders[] = {BorderMode::reflect, BorderMode::replicate, BorderMode::constant_zero};

/// A python3 that can import scipy.ndimage, or "" (checks $SLEEPNET_PYTHON, python3).
/// -I keeps the working directory (which may hold a 'numpy' folder) off sys.path.
std::string python_with_scipy()
{
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("SLEEPNET_PYTHON")) candidates.emplace_back(env);
    candidates.emplace_back("python3");
    candidates.emplace_back("/usr/bin/python3");
    for (const auto& py : candidates) {
        const std::string cmd =
            py + " -I -c \"import numpy, scipy.ndimage; scipy.ndimage.gaussian_filter(numpy.zeros((3, 3)), 1.0)\" "
                 ">/dev/null 2>&1";
        if (std::system(cmd.c_str()) == 0) return py;
    }
    return "";
}

}  // namespace

// ----------------------------------------------------------------------------- noise

TEST_CASE_TEMPLATE("gaussian_noise: mean and std of x' - x match sigma at mid-range", T, float, double)
{
    const std::size_t n = 200, d = 500;  // 100,000 draws
    matrix<T> x = matrix<T>::from_shape({n, d});
    x.fill(T(0.5));
    for (const double sigma : {0.02, 0.05, 0.08}) {  // clipping at >= 6 sigma: negligible
        default_engine eng(11);
        const matrix<T> y = gaussian_noise(x, sigma, NoiseLevel::std_dev, eng);
        double s = 0.0, s2 = 0.0;
        for (std::size_t k = 0; k < y.size(); ++k) {
            const double e = static_cast<double>(y.data()[k]) - 0.5;
            s += e;
            s2 += e * e;
        }
        const double count = static_cast<double>(y.size());
        const double mean = s / count;
        const double sd = std::sqrt(s2 / count - mean * mean);
        INFO("sigma " << sigma << " mean " << mean << " sd " << sd);
        CHECK(std::abs(mean) < 4.0 * sigma / std::sqrt(count));
        CHECK(std::abs(sd / sigma - 1.0) < 0.015);  // sd of the sd estimate ~ 0.22%
    }
}

TEST_CASE("gaussian_noise: a variance level is the square of the std level")
{
    const matrix<double> x = random_matrix<double>(30, 40, 3, 0.3, 0.7);
    default_engine a(5), b(5);
    const matrix<double> by_std = gaussian_noise(x, 0.5, NoiseLevel::std_dev, a);
    const matrix<double> by_var = gaussian_noise(x, 0.25, NoiseLevel::variance, b);
    CHECK(same(by_std, by_var));
    default_engine c(5);
    const matrix<double> other = gaussian_noise(x, 0.25, NoiseLevel::std_dev, c);
    CHECK_FALSE(same(by_std, other));
    CHECK(noise_sigma(0.09, NoiseLevel::variance) == doctest::Approx(0.3).epsilon(1e-15));
    CHECK(noise_sigma(0.09, NoiseLevel::std_dev) == 0.09);

    // empirical std for a variance level: sigma = sqrt(0.0025) = 0.05
    matrix<double> half = matrix<double>::from_shape({100, 1000});
    half.fill(0.5);
    default_engine e(8);
    const matrix<double> y = gaussian_noise(half, 0.0025, NoiseLevel::variance, e);
    double s2 = 0.0;
    for (auto v : y) s2 += (v - 0.5) * (v - 0.5);
    CHECK(std::sqrt(s2 / static_cast<double>(y.size())) == doctest::Approx(0.05).epsilon(0.015));
}

TEST_CASE_TEMPLATE("gaussian_noise: results stay inside lo..hi and reach both bounds", T, float, double)
{
    const matrix<T> x = random_matrix<T>(50, 60, 4);
    default_engine eng(6);
    const matrix<T> y = gaussian_noise(x, 0.9, NoiseLevel::std_dev, eng);
    std::size_t at_lo = 0, at_hi = 0;
    for (auto v : y) {
        CHECK(v >= T(0));
        CHECK(v <= T(1));
        at_lo += v == T(0) ? 1 : 0;
        at_hi += v == T(1) ? 1 : 0;
    }
    CHECK(at_lo > 100);
    CHECK(at_hi > 100);

    const matrix<T> z = gaussian_noise(x, 3.0, NoiseLevel::variance, eng, -0.25, 0.75);
    for (auto v : z) {
        CHECK(v >= T(-0.25));
        CHECK(v <= T(0.75));
    }
}

TEST_CASE("gaussian_noise: documented draw order (row-major, one normal per element) and seeds")
{
    const matrix<double> x = random_matrix<double>(7, 5, 9);
    const double sigma = 0.2;
    default_engine eng(42), ref(42);
    const matrix<double> y = gaussian_noise(x, sigma, NoiseLevel::std_dev, eng);
    for (std::size_t i = 0; i < 7; ++i)
        for (std::size_t j = 0; j < 5; ++j) {
            const double v = std::clamp(x(i, j) + sigma * rng::normal<double>(ref), 0.0, 1.0);
            CHECK(y(i, j) == v);
        }
    CHECK(eng() == ref());  // the same number of draws was taken

    default_engine again(42), other(43);
    CHECK(same(y, gaussian_noise(x, sigma, NoiseLevel::std_dev, again)));
    CHECK_FALSE(same(y, gaussian_noise(x, sigma, NoiseLevel::std_dev, other)));
}

TEST_CASE_TEMPLATE("gaussian_noise: level 0 returns x exactly and draws nothing, input unchanged", T, float, double)
{
    matrix<T> x = random_matrix<T>(6, 8, 1);
    x(0, 0) = T(1.5);  // outside [lo, hi]: level 0 does not clip
    x(1, 1) = T(-0.25);
    const matrix<T> copy = x;
    default_engine eng(3), fresh(3);
    for (const auto kind : {NoiseLevel::std_dev, NoiseLevel::variance}) {
        CHECK(same(gaussian_noise(x, 0.0, kind, eng), x));
    }
    CHECK(eng() == fresh());
    (void)gaussian_noise(x, 0.3, NoiseLevel::std_dev, eng);
    CHECK(same(x, copy));
}

TEST_CASE("gaussian_noise: bad arguments are named")
{
    const matrix<double> x = random_matrix<double>(2, 3, 1);
    default_engine eng(1);
    CHECK_THROWS_NAMING(gaussian_noise(x, -0.1, NoiseLevel::std_dev, eng), invalid_argument, "'level'", "-0.1");
    CHECK_THROWS_NAMING(gaussian_noise(x, std::nan(""), NoiseLevel::variance, eng), invalid_argument, "'level'", "nan");
    CHECK_THROWS_NAMING(gaussian_noise(x, HUGE_VAL, NoiseLevel::std_dev, eng), invalid_argument, "'level'", "inf");
    CHECK_THROWS_NAMING(gaussian_noise(x, 0.1, NoiseLevel::std_dev, eng, 1.0, 0.0), invalid_argument, "'lo'", "hi = 0");
    CHECK_THROWS_NAMING(gaussian_noise(x, 0.1, NoiseLevel::std_dev, eng, 0.0, HUGE_VAL), invalid_argument, "'hi'",
                        "inf");
}

// ------------------------------------------------------------------------------ blur

TEST_CASE("gaussian_kernel and blur_radius: scipy's radius int(4 sigma + 0.5), weights sum to 1")
{
    CHECK(blur_radius(0.0) == 0);
    CHECK(blur_radius(0.1) == 0);
    CHECK(blur_radius(0.125) == 1);
    CHECK(blur_radius(0.5) == 2);
    CHECK(blur_radius(0.6) == 2);  // ceil(4 sigma) would give 3
    CHECK(blur_radius(1.0) == 4);
    CHECK(blur_radius(2.5) == 10);
    for (const double sigma : {0.3, 0.6, 1.0, 1.7, 2.5}) {
        const std::vector<double> w = gaussian_kernel(sigma);
        const std::vector<double> r = ref_kernel(sigma);
        REQUIRE(w.size() == r.size());
        double sum = 0.0;
        for (std::size_t i = 0; i < w.size(); ++i) {
            CHECK(w[i] == doctest::Approx(r[i]).epsilon(1e-14));
            CHECK(w[i] == w[w.size() - 1 - i]);
            sum += w[i];
        }
        CHECK(sum == doctest::Approx(1.0).epsilon(1e-14));
    }
    CHECK(gaussian_kernel(0.0) == std::vector<double>{1.0});
}

TEST_CASE("blur border index maps: reflect is d c b a | a b c d | d c b a, periodic beyond")
{
    using V = std::vector<std::ptrdiff_t>;
    // n = 4, r = 5: positions -5 .. 8
    CHECK(detail::blur_index_map(4, 5, BorderMode::reflect) == V{3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0});
    CHECK(detail::blur_index_map(4, 2, BorderMode::replicate) == V{0, 0, 0, 1, 2, 3, 3, 3});
    CHECK(detail::blur_index_map(4, 2, BorderMode::constant_zero) == V{-1, -1, 0, 1, 2, 3, -1, -1});
    CHECK(detail::blur_index_map(1, 2, BorderMode::reflect) == V{0, 0, 0, 0, 0});
}

TEST_CASE_TEMPLATE("gaussian_blur: an impulse gives the outer product of the normalized kernel", T, float, double)
{
    const std::size_t side = 25, c = 12;
    for (const double sigma : {0.6, 1.0, 1.5, 2.5}) {
        const std::vector<double> g = ref_kernel(sigma);
        const int r = static_cast<int>(g.size() / 2);
        matrix<T> x = matrix<T>::from_shape({1, side * side});
        x.fill(T(0));
        x(0, c * side + c) = T(1);
        for (const BorderMode border : all_borders) {
            INFO("sigma " << sigma << " border " << to_string(border));
            const matrix<T> y = gaussian_blur(x, side, side, sigma, border);
            double sum = 0.0;
            for (int i = 0; i < static_cast<int>(side); ++i)
                for (int j = 0; j < static_cast<int>(side); ++j) {
                    const int di = i - static_cast<int>(c), dj = j - static_cast<int>(c);
                    const double expected = (std::abs(di) <= r && std::abs(dj) <= r) ? g[di + r] * g[dj + r] : 0.0;
                    const double got = static_cast<double>(y(0, i * side + j));
                    CHECK(std::abs(got - expected) <= 1e-6 * expected);           // exact 0 outside the radius
                    if (std::abs(di) > r || std::abs(dj) > r) CHECK(got == 0.0);  // truncated at r
                    sum += got;
                }
            CHECK(sum == doctest::Approx(1.0).epsilon(std::is_same<T, float>::value ? 1e-5 : 1e-12));
            // the tap at the radius is non-zero
            CHECK(y(0, c * side + c + static_cast<std::size_t>(r)) > T(0));
        }
    }
}

TEST_CASE("gaussian_blur: constant images stay constant under reflect and replicate")
{
    const std::size_t rows = 7, cols = 9;
    matrix<double> x = matrix<double>::from_shape({2, rows * cols});
    x.fill(0.37);
    for (const double sigma : {0.5, 2.0, 10.0}) {  // 10: radius 40, far beyond the image
        for (const BorderMode border : {BorderMode::reflect, BorderMode::replicate}) {
            INFO("sigma " << sigma << " border " << to_string(border));
            const matrix<double> y = gaussian_blur(x, rows, cols, sigma, border);
            for (auto v : y) CHECK(v == doctest::Approx(0.37).epsilon(1e-13));
        }
        const matrix<double> z = gaussian_blur(x, rows, cols, sigma, BorderMode::constant_zero);
        CHECK(z(0, 0) < 0.37 - 1e-6);  // the corner sees zeros
    }
}

TEST_CASE_TEMPLATE("gaussian_blur: sigma 0 returns x exactly, input unchanged", T, float, double)
{
    matrix<T> x = random_matrix<T>(3, 20, 2);
    x(1, 3) = T(2.0);  // outside [0, 1]: not clipped at sigma 0
    const matrix<T> copy = x;
    for (const BorderMode border : all_borders) CHECK(same(gaussian_blur(x, 4, 5, 0.0, border), x));
    (void)gaussian_blur(x, 4, 5, 1.3);
    CHECK(same(x, copy));
}

TEST_CASE("gaussian_blur: blurring a mirrored image mirrors the blur")
{
    const std::size_t rows = 12, cols = 10;
    const matrix<double> x = random_matrix<double>(4, rows * cols, 17);
    for (const double sigma : {0.7, 1.6, 4.0}) {
        for (const BorderMode border : all_borders) {
            INFO("sigma " << sigma << " border " << to_string(border));
            const matrix<double> y = gaussian_blur(x, rows, cols, sigma, border);
            CHECK(max_abs_diff(gaussian_blur(mirror_cols(x, rows, cols), rows, cols, sigma, border),
                               mirror_cols(y, rows, cols)) < 1e-14);
            CHECK(max_abs_diff(gaussian_blur(mirror_rows(x, rows, cols), rows, cols, sigma, border),
                               mirror_rows(y, rows, cols)) < 1e-14);
        }
    }
}

TEST_CASE_TEMPLATE("gaussian_blur: equals a direct 2-D convolution on a random 7 x 9 image, every border", T, float,
                   double)
{
    const int rows = 7, cols = 9;
    const matrix<T> x = random_matrix<T>(3, rows * cols, 23);
    const double tol = std::is_same<T, float>::value ? 2e-7 : 1e-14;
    for (const double sigma : {0.4, 1.0, 1.7, 3.0}) {  // 3.0: radius 12 exceeds both sides
        for (const BorderMode border : all_borders) {
            INFO("sigma " << sigma << " border " << to_string(border));
            const matrix<T> y = gaussian_blur(x, rows, cols, sigma, border);
            double worst = 0.0;
            for (std::size_t n = 0; n < 3; ++n) {
                std::vector<double> img(rows * cols);
                for (std::size_t k = 0; k < img.size(); ++k) img[k] = static_cast<double>(x(n, k));
                const std::vector<double> ref = ref_blur(img, rows, cols, sigma, border);
                for (std::size_t k = 0; k < img.size(); ++k) {
                    const double e = std::clamp(ref[k], 0.0, 1.0);
                    worst = std::max(worst, std::abs(static_cast<double>(y(n, k)) - e));
                }
            }
            CHECK(worst < tol);
        }
    }
}

TEST_CASE("gaussian_blur: clips to lo..hi")
{
    // a bright pixel on a dark, out-of-range background: the blur leaves values outside
    // [0.1, 0.2] on both sides, which must be clipped
    matrix<double> x = matrix<double>::from_shape({1, 25});
    x.fill(-1.0);
    x(0, 12) = 40.0;
    const matrix<double> y = gaussian_blur(x, 5, 5, 1.0, BorderMode::reflect, 0.1, 0.2);
    std::size_t lo = 0, hi = 0;
    for (auto v : y) {
        CHECK(v >= 0.1);
        CHECK(v <= 0.2);
        lo += v == 0.1 ? 1 : 0;
        hi += v == 0.2 ? 1 : 0;
    }
    CHECK(lo > 0);
    CHECK(hi > 0);
}

TEST_CASE("gaussian_blur: bad arguments are named")
{
    const matrix<double> x = random_matrix<double>(2, 12, 1);
    CHECK_THROWS_NAMING(gaussian_blur(x, 3, 5, 1.0), invalid_argument, "'rows' x 'cols' = 3 x 5", "12 columns");
    CHECK_THROWS_NAMING(gaussian_blur(x, 0, 12, 1.0), invalid_argument, "'rows'", "0 x 12");
    CHECK_THROWS_NAMING(gaussian_blur(x, 3, 4, -0.5), invalid_argument, "'sigma'", "-0.5");
    CHECK_THROWS_NAMING(gaussian_blur(x, 3, 4, std::nan("")), invalid_argument, "'sigma'", "nan");
    CHECK_THROWS_NAMING(gaussian_blur(x, 3, 4, 1e9), invalid_argument, "'sigma'", "1e+09");
    CHECK_THROWS_NAMING(gaussian_blur(x, 3, 4, 1.0, BorderMode::reflect, 0.5, 0.25), invalid_argument, "'lo'",
                        "lo = 0.5");
}

TEST_CASE("gaussian_blur agrees with scipy.ndimage.gaussian_filter (when python3 + scipy is available)")
{
    const std::string py = python_with_scipy();
    if (py.empty()) {
        MESSAGE("no python3 with scipy found (set SLEEPNET_PYTHON); scipy comparison of gaussian_blur skipped");
        return;
    }
    const std::size_t rows = 7, cols = 9;
    const matrix<double> x = random_matrix<double>(1, rows * cols, 29);
    const std::string dir = std::string(SLEEPNET_TEST_TMP) + "/distort_scipy";
    fs::create_directories(dir);
    {
        std::ofstream f(dir + "/in.txt");
        f.precision(17);
        for (auto v : x) f << v << "\n";
    }
    const std::string script = dir + "/blur.py";
    {
        std::ofstream f(script);
        f << "import sys, numpy as np, scipy.ndimage as nd\n"
             "d = sys.argv[1]\n"
             "x = np.loadtxt(d + '/in.txt').reshape("
          << rows << ", " << cols
          << ")\n"
             "out = []\n"
             "for s in (0.4, 0.6, 1.0, 1.7, 3.0):\n"
             "    for m in ('reflect', 'nearest', 'constant'):\n"
             "        out.append(np.clip(nd.gaussian_filter(x, s, mode=m, cval=0.0), 0, 1).ravel())\n"
             "np.savetxt(d + '/out.txt', np.concatenate(out), fmt='%.17g')\n";
    }
    REQUIRE(std::system((py + " -I " + script + " " + dir).c_str()) == 0);
    std::ifstream in(dir + "/out.txt");
    for (const double sigma : {0.4, 0.6, 1.0, 1.7, 3.0}) {
        for (const BorderMode border : all_borders) {
            INFO("sigma " << sigma << " border " << to_string(border));
            const matrix<double> y = gaussian_blur(x, rows, cols, sigma, border);
            double worst = 0.0;
            for (std::size_t k = 0; k < rows * cols; ++k) {
                double v = 0.0;
                REQUIRE(static_cast<bool>(in >> v));
                worst = std::max(worst, std::abs(v - y(0, k)));
            }
            CHECK(worst < 1e-12);
        }
    }
}

// ---------------------------------------------------------------------------- curves

namespace {

// 4 x 4 images, 3 classes, random weights; labels: the network's own prediction for
// two thirds of the rows, shifted by one for the rest (so accuracy is about 2/3).
struct Toy {
    DenseNetwork<double> net{{16, 12, 3}, NetworkOptions{Activation::relu, Activation::linear}};
    matrix<double> x;
    label_vector y;

    explicit Toy(std::size_t n)
    {
        default_engine eng(77);
        net.initialize(Init::he(), eng);
        x = random_matrix<double>(n, 16, 78);
        y = net.predict(x);
        for (std::size_t i = 0; i < n; i += 3) y(i) = (y(i) + 1) % 3;
    }
};

}  // namespace

TEST_CASE("noise_accuracy_curve: level 0 is the plain accuracy, each level equals gaussian_noise + accuracy")
{
    const Toy toy(2500);  // > 2 chunks of 1024 rows
    const std::vector<double> levels{0.0, 0.1, 0.3, 0.0, 0.9};
    for (const auto kind : {NoiseLevel::std_dev, NoiseLevel::variance}) {
        default_engine eng(123), ref(123);
        const std::vector<double> acc = noise_accuracy_curve(toy.net, toy.x, toy.y, levels, kind, eng);
        REQUIRE(acc.size() == levels.size());
        const double clean = accuracy(toy.net, toy.x, toy.y);
        CHECK(clean > 0.5);
        CHECK(clean < 0.8);
        CHECK(acc[0] == clean);
        CHECK(acc[3] == clean);
        for (std::size_t i = 0; i < levels.size(); ++i) {
            CHECK(acc[i] >= 0.0);
            CHECK(acc[i] <= 1.0);
            const double expected = accuracy(toy.net, gaussian_noise(toy.x, levels[i], kind, ref), toy.y);
            CHECK(acc[i] == expected);
        }
        CHECK(eng() == ref());  // same draws, same order
        CHECK(acc[4] < acc[1]);
    }
    default_engine eng(1);
    CHECK(noise_accuracy_curve(toy.net, toy.x, toy.y, {}, NoiseLevel::std_dev, eng).empty());
}

TEST_CASE("blur_accuracy_curve: sigma 0 is the plain accuracy, each sigma equals gaussian_blur + accuracy")
{
    const Toy toy(2100);
    const std::vector<double> sigmas{0.0, 0.5, 1.0, 2.5};
    for (const BorderMode border : all_borders) {
        const std::vector<double> acc = blur_accuracy_curve(toy.net, toy.x, toy.y, 4, 4, sigmas, border);
        REQUIRE(acc.size() == sigmas.size());
        CHECK(acc[0] == accuracy(toy.net, toy.x, toy.y));
        for (std::size_t i = 0; i < sigmas.size(); ++i) {
            CHECK(acc[i] >= 0.0);
            CHECK(acc[i] <= 1.0);
            CHECK(acc[i] == accuracy(toy.net, gaussian_blur(toy.x, 4, 4, sigmas[i], border), toy.y));
        }
    }
    const auto curve = blur_curve(toy.net, toy.x, toy.y, 4, 4, sigmas);
    REQUIRE(curve.size() == 4);
    CHECK(curve[2].level == 1.0);
    const nlohmann::json j = curve;
    REQUIRE(j.is_array());
    CHECK(j.size() == 4);
    CHECK(j[1]["level"].get<double>() == 0.5);
    CHECK(j[1]["accuracy"].get<double>() == curve[1].accuracy);
}

TEST_CASE("curves with float networks compile and agree with the one-shot functions")
{
    DenseNetwork<float> net({16, 5, 2});
    default_engine eng(3);
    net.initialize(Init::he(), eng);
    const matrix<float> x = random_matrix<float>(40, 16, 4);
    label_vector y = net.predict(x);
    default_engine a(9), b(9);
    const auto pts = noise_curve(net, x, y, {0.0, 0.2}, NoiseLevel::variance, a);
    CHECK(pts[0].accuracy == 1.0);
    (void)gaussian_noise(x, 0.0, NoiseLevel::variance, b);
    CHECK(pts[1].accuracy == accuracy(net, gaussian_noise(x, 0.2, NoiseLevel::variance, b), y));
    CHECK(blur_accuracy_curve(net, x, y, 4, 4, {0.0})[0] == 1.0);
}

TEST_CASE("curves: bad arguments are named and leave the engine untouched")
{
    const Toy toy(10);
    default_engine eng(5), fresh(5);
    CHECK_THROWS_NAMING(noise_accuracy_curve(toy.net, toy.x, toy.y, {0.1, 0.2, -0.5}, NoiseLevel::std_dev, eng),
                        invalid_argument, "'levels[2]'", "-0.5");
    CHECK(eng() == fresh());
    label_vector short_y = label_vector::from_shape({9});
    CHECK_THROWS_NAMING(noise_accuracy_curve(toy.net, toy.x, short_y, {0.1}, NoiseLevel::std_dev, eng),
                        invalid_argument, "10 rows", "9 labels");
    const matrix<double> empty = matrix<double>::from_shape({0, 16});
    const label_vector no_labels = label_vector::from_shape({0});
    CHECK_THROWS_NAMING(noise_accuracy_curve(toy.net, empty, no_labels, {0.1}, NoiseLevel::std_dev, eng),
                        invalid_argument, "noise_accuracy_curve", "empty");
    const matrix<double> wide = random_matrix<double>(10, 20, 1);
    CHECK_THROWS_NAMING(noise_accuracy_curve(toy.net, wide, toy.y, {0.1}, NoiseLevel::std_dev, eng), invalid_argument,
                        "noise_accuracy_curve", "16 columns");
    CHECK_THROWS_NAMING(blur_accuracy_curve(toy.net, toy.x, toy.y, 4, 4, {1.0, std::nan("")}), invalid_argument,
                        "'sigmas[1]'", "nan");
    CHECK_THROWS_NAMING(blur_accuracy_curve(toy.net, toy.x, toy.y, 2, 4, {1.0}), invalid_argument, "'rows' x 'cols'",
                        "2 x 4");
    CHECK_THROWS_NAMING(blur_accuracy_curve(toy.net, toy.x, toy.y, 4, 4, {1.0}, BorderMode::reflect, 1.0, 0.0),
                        invalid_argument, "blur_accuracy_curve", "'lo'");
    CHECK_THROWS_NAMING(make_curve({1.0, 2.0}, {0.5}), invalid_argument, "2 levels", "1 accuracies");
}
