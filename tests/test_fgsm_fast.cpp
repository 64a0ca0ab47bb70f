// The certified FGSM grid (FgsmOptions::grid.certify, attacks/fgsm_certify.hpp) against the
// brute-force grid: identical results sample by sample on small random networks of every
// kind the library builds, and soundness of the segment bound itself.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/data/idx.hpp>
#include <sleepnet/nn/io.hpp>

using namespace sleepnet;

namespace {

struct NetKind {
    std::vector<std::size_t> sizes;
    bool bias;
    Activation output;
    Activation hidden;
    double dropout;
    DropoutMode mode;
};

std::string describe(const NetKind& k)
{
    std::string s;
    for (auto v : k.sizes) s += std::to_string(v) + "-";
    s += k.bias ? " bias" : " no-bias";
    s += " out=" + to_string(k.output) + " hidden=" + to_string(k.hidden);
    s += " dropout=" + std::to_string(k.dropout) +
         (k.mode == DropoutMode::scale_at_test ? " scale_at_test" : " inverted");
    return s;
}

template <class T>
DenseNetwork<T> random_net(const NetKind& k, std::uint64_t seed, double init)
{
    NetworkOptions o;
    o.hidden = k.hidden;
    o.output = k.output;
    o.bias = k.bias;
    o.dropout = k.dropout;
    o.dropout_mode = k.mode;
    DenseNetwork<T> net(k.sizes, o);
    default_engine eng(seed);
    net.initialize(Init::uniform(init), eng);
    if (k.bias) {
        for (std::size_t l = 0; l < net.num_layers(); ++l)
            for (auto& b : net.bias(l)) b = static_cast<T>(rng::uniform<double>(eng, -0.3, 0.3));
    }
    return net;
}

// MNIST-like inputs: most pixels exactly 0 or 1, the rest grey (they saturate along the ray)
template <class T>
matrix<T> mixed_inputs(std::size_t n, std::size_t d, std::uint64_t seed)
{
    default_engine eng(seed);
    matrix<T> x = matrix<T>::from_shape({n, d});
    for (auto& v : x) {
        const double u = rng::uniform01<double>(eng);
        v = u < 0.45 ? T(0) : (u < 0.6 ? T(1) : static_cast<T>(rng::uniform01<double>(eng)));
    }
    return x;
}

// grid points at which the decision along the ray changes, per sample (brute force)
template <class T>
std::vector<std::size_t> decision_changes(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                          const FgsmOptions& o)
{
    const matrix<T> g = fgsm_direction(net, x, y, o.loss, o.bounds);
    const std::size_t n = x.shape()[0];
    std::vector<std::size_t> changes(n, 0);
    std::vector<std::size_t> rows;
    std::vector<double> eps;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 1; k <= o.steps; ++k) {
            rows.push_back(i);
            eps.push_back(o.max_epsilon * static_cast<double>(k) / static_cast<double>(o.steps));
        }
    matrix<T> cand;
    detail::fgsm_candidates(x, g, rows, eps, o.bounds, cand);
    const label_vector p = net.predict(cand);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 1; k < o.steps; ++k)
            if ((p(i * o.steps + k) == y(i)) != (p(i * o.steps + k - 1) == y(i))) ++changes[i];
    return changes;
}

template <class T>
void check_same(const AttackResult<T>& a, const AttackResult<T>& b)
{
    REQUIRE(a.samples.size() == b.samples.size());
    for (std::size_t i = 0; i < a.samples.size(); ++i) {
        CAPTURE(i);
        const auto& s = a.samples[i];
        const auto& t = b.samples[i];
        CHECK(s.attempted == t.attempted);
        CHECK(s.success == t.success);
        const bool same_eps = s.epsilon == t.epsilon || (std::isnan(s.epsilon) && std::isnan(t.epsilon));
        CHECK(same_eps);
        CHECK(s.iterations == t.iterations);
        CHECK(s.adversarial_prediction == t.adversarial_prediction);
        const bool same_distance = s.distance == t.distance;
        CHECK(same_distance);
    }
    CHECK(a.adversarial == b.adversarial);
}

// Every kind x loss x initial weight scale: a random network, 24 MNIST-like inputs and
// their predicted labels, every `wrong_every`-th changed to another class (some inputs
// misclassified); f(net, x, y, loss). Seeds from `seed` + 1 on.
template <class T, class F>
void for_each_case(const std::vector<NetKind>& kinds, std::uint64_t seed, std::size_t wrong_every, F&& f)
{
    for (const auto& kind : kinds)
        for (AttackLoss loss : {AttackLoss::network, AttackLoss::cross_entropy})
            for (double init : {0.3, 1.0}) {
                ++seed;
                CAPTURE(describe(kind));
                CAPTURE(seed);
                const auto net = random_net<T>(kind, seed, init);
                const matrix<T> x = mixed_inputs<T>(24, kind.sizes.front(), seed + 1000);
                label_vector y = net.predict(x);
                for (std::size_t i = 0; i < y.size(); i += wrong_every) y(i) = (y(i) + 1) % kind.sizes.back();
                f(net, x, y, loss);
            }
}

template <class T>
void compare_modes(const std::vector<NetKind>& kinds)
{
    std::size_t certified = 0, multi_flip = 0, successes = 0, failures = 0;
    for_each_case<T>(kinds, 100, 7,
                     [&](const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, AttackLoss loss) {
                         FgsmOptions brute;
                         brute.loss = loss;
                         brute.grid.certify.enabled = false;
                         FgsmOptions fast = brute;
                         fast.grid.certify.enabled = true;
                         fast.grid.certify.chunk = 5;  // several chunks
                         const auto rb = fgsm(net, x, y, brute);
                         const auto rf = fgsm(net, x, y, fast);
                         check_same(rf, rb);
                         certified += rf.stats.certified;
                         successes += rb.successes();
                         failures += rb.attempted() - rb.successes();
                         const auto changes = decision_changes(net, x, y, brute);
                         for (std::size_t i = 0; i < changes.size(); ++i)
                             if (rb.samples[i].attempted && changes[i] >= 2) ++multi_flip;
                     });
    // the comparison must not be vacuous: segments were certified, inputs flipped and did
    // not, and some decisions changed back and forth along the ray
    CHECK(certified > 0);
    CHECK(successes > 0);
    CHECK(failures > 0);
    CHECK(multi_flip > 0);
    MESSAGE("certified segments " << certified << ", successes " << successes << ", failures " << failures
                                  << ", inputs whose decision changes >= 2 times " << multi_flip);
}

std::vector<NetKind> all_kinds()
{
    std::vector<NetKind> kinds;
    for (bool bias : {false, true})
        for (Activation out : {Activation::relu, Activation::linear})
            for (double dropout : {0.0, 0.2})
                kinds.push_back({{12, 16, 10, 4}, bias, out, Activation::relu, dropout, DropoutMode::scale_at_test});
    kinds.push_back({{12, 16, 10, 4}, false, Activation::relu, Activation::relu, 0.3, DropoutMode::inverted});
    kinds.push_back({{10, 3}, true, Activation::linear, Activation::relu, 0.0, DropoutMode::scale_at_test});
    kinds.push_back({{10, 20, 3}, false, Activation::relu, Activation::relu, 0.2, DropoutMode::scale_at_test});
    kinds.push_back({{9, 8, 8, 8, 5}, true, Activation::linear, Activation::relu, 0.1, DropoutMode::scale_at_test});
    kinds.push_back({{10, 12, 4}, true, Activation::linear, Activation::linear, 0.2, DropoutMode::scale_at_test});
    return kinds;
}

}  // namespace

TEST_CASE("certified FGSM grid == brute-force grid on random float networks") { compare_modes<float>(all_kinds()); }

TEST_CASE("certified FGSM grid == brute-force grid on random double networks") { compare_modes<double>(all_kinds()); }

TEST_CASE("certified FGSM grid: ties, other grids and bounds, a constant model")
{
    // two identical output rows: logits tie exactly, predict() takes the first index
    DenseNetwork<float> net({8, 10, 3}, NetworkOptions{Activation::relu, Activation::linear});
    default_engine eng(5);
    net.initialize(Init::uniform(1.0), eng);
    auto w = net.weights(1);
    for (std::size_t j = 0; j < 10; ++j) w(2, j) = w(1, j);
    net.set_weights(1, w);
    const matrix<float> x = mixed_inputs<float>(40, 8, 9);
    label_vector y = net.predict(x);
    for (std::size_t i = 0; i < y.size(); i += 3) y(i) = 2;  // label 2 can never win a tie with 1
    for (AttackLoss loss : {AttackLoss::network, AttackLoss::cross_entropy}) {
        FgsmOptions brute;
        brute.loss = loss;
        brute.grid.certify.enabled = false;
        FgsmOptions fast = brute;
        fast.grid.certify.enabled = true;
        check_same(fgsm(net, x, y, fast), fgsm(net, x, y, brute));
        // a coarser grid with a larger range, other refinement, bounds [-1, 2]
        brute.steps = fast.steps = 137;
        brute.max_epsilon = fast.max_epsilon = 2.5;
        brute.grid.refine_below = fast.grid.refine_below = 30;
        brute.grid.refine_steps = fast.grid.refine_steps = 7;
        check_same(fgsm(net, x, y, fast), fgsm(net, x, y, brute));
        matrix<float> wide = x * 3.0f - 1.0f;
        brute.bounds = fast.bounds = Bounds{-1.0, 2.0};
        check_same(fgsm(net, wide, y, fast), fgsm(net, wide, y, brute));
        // bounds not representable in float: falls back to the brute force, same answer
        brute.bounds = fast.bounds = Bounds{-1.0, 2.1};
        check_same(fgsm(net, wide, y, fast), fgsm(net, wide, y, brute));
    }
    DenseNetwork<double> constant({12, 4});
    const matrix<double> xc = mixed_inputs<double>(10, 12, 3);
    const label_vector zeros = xt::zeros<std::size_t>({10});
    FgsmOptions brute;
    brute.grid.certify.enabled = false;
    const auto rc = fgsm(constant, xc, zeros);
    CHECK(rc.successes() == 0);  // label 0 wins every tie
    check_same(rc, fgsm(constant, xc, zeros, brute));
}

namespace {

// the accuracy curve computed here, one predict() per epsilon: the oracle of both scans
template <class T>
std::vector<double> curve_oracle(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                 const std::vector<double>& eps, const FgsmCurveOptions& o)
{
    const matrix<T> g = fgsm_direction(net, x, y, o.loss, o.bounds);
    const std::size_t n = x.shape()[0];
    std::vector<std::size_t> rows(n);
    for (std::size_t i = 0; i < n; ++i) rows[i] = i;
    std::vector<double> acc;
    for (double e : eps) {
        matrix<T> cand;
        detail::fgsm_candidates(x, g, rows, std::vector<double>(n, e), o.bounds, cand);
        const label_vector p = net.predict(cand);
        std::size_t right = 0;
        for (std::size_t i = 0; i < n; ++i) right += p(i) == y(i) ? 1 : 0;
        acc.push_back(static_cast<double>(right) / static_cast<double>(n));
    }
    return acc;
}

template <class T>
void compare_curves(const std::vector<NetKind>& kinds)
{
    // a uniform grid, and one out of order with repeats and uneven gaps
    std::vector<double> uniform;
    for (int k = 0; k <= 50; ++k) uniform.push_back(0.02 * k);
    const std::vector<double> messy{0.5, 0.1, 0.1, 0.0, 0.73, 0.31, 0.2, 0.9, 0.05, 0.33, 0.34, 0.35, 0.36, 0.6, 0.5};
    FgsmCurveStats fast_stats;
    std::size_t brute_evaluations = 0;
    for_each_case<T>(
        kinds, 300, 5, [&](const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, AttackLoss loss) {
            for (const std::vector<double>* eps : std::vector<const std::vector<double>*>{&uniform, &messy}) {
                FgsmCurveOptions brute;
                brute.loss = loss;
                brute.certify.enabled = false;
                brute.batch_rows = 7;  // several batches per point
                FgsmCurveOptions fast = brute;
                fast.certify.enabled = true;
                fast.certify.chunk = 5;  // several chunks
                const FgsmCurve cb = fgsm_curve(net, x, y, *eps, brute);
                const FgsmCurve cf = fgsm_curve(net, x, y, *eps, fast);
                CHECK(cb.accuracy == curve_oracle(net, x, y, *eps, brute));
                CHECK(cf.accuracy == cb.accuracy);
                brute_evaluations += cb.stats.evaluations;
                fast_stats.bounds += cf.stats.bounds;
                fast_stats.certified_right += cf.stats.certified_right;
                fast_stats.certified_wrong += cf.stats.certified_wrong;
                fast_stats.evaluations += cf.stats.evaluations;
            }
        });
    // not vacuous: both kinds of certificate were used, and they saved evaluations
    CHECK(fast_stats.certified_right > 0);
    CHECK(fast_stats.certified_wrong > 0);
    CHECK(fast_stats.evaluations < brute_evaluations);
    MESSAGE("curve: bounds " << fast_stats.bounds << ", certified right " << fast_stats.certified_right
                             << ", certified wrong " << fast_stats.certified_wrong << ", evaluations "
                             << fast_stats.evaluations << " against " << brute_evaluations);
}

}  // namespace

TEST_CASE("certified FGSM accuracy curve == brute force == one predict() per epsilon, float")
{
    compare_curves<float>(all_kinds());
}

TEST_CASE("certified FGSM accuracy curve == brute force == one predict() per epsilon, double")
{
    compare_curves<double>(all_kinds());
}

TEST_CASE("FGSM accuracy curve: ties, other bounds, empty input, bad options")
{
    DenseNetwork<float> net({8, 10, 3}, NetworkOptions{Activation::relu, Activation::linear});
    default_engine eng(5);
    net.initialize(Init::uniform(1.0), eng);
    auto w = net.weights(1);
    for (std::size_t j = 0; j < 10; ++j) w(2, j) = w(1, j);  // logits 1 and 2 tie exactly
    net.set_weights(1, w);
    const matrix<float> x = mixed_inputs<float>(40, 8, 9);
    label_vector y = net.predict(x);
    for (std::size_t i = 0; i < y.size(); i += 3) y(i) = 2;
    std::vector<double> eps;
    for (int k = 0; k <= 60; ++k) eps.push_back(0.04 * k);
    FgsmCurveOptions fast;
    fast.bounds = Bounds{-1.0, 2.0};
    FgsmCurveOptions brute = fast;
    brute.certify.enabled = false;
    const matrix<float> wide = x * 3.0f - 1.0f;
    CHECK(fgsm_curve(net, wide, y, eps, fast).accuracy == fgsm_curve(net, wide, y, eps, brute).accuracy);
    CHECK(fgsm_curve(net, wide, y, eps, fast).accuracy == curve_oracle(net, wide, y, eps, brute));
    const matrix<float> none = matrix<float>::from_shape({0, 8});
    CHECK(fgsm_curve(net, none, label_vector{}, {0.0, 0.1}).accuracy == std::vector<double>{0.0, 0.0});
    CHECK(fgsm_curve(net, x, y, {}).accuracy.empty());
    FgsmCurveOptions bad;
    bad.certify.leaf = 0;
    CHECK_THROWS_WITH_AS(fgsm_curve(net, x, y, eps, bad), doctest::Contains("certify.leaf"), invalid_argument);
    bad = {};
    bad.batch_rows = 0;
    CHECK_THROWS_WITH_AS(fgsm_curve(net, x, y, eps, bad), doctest::Contains("batch_rows"), invalid_argument);
    CHECK_THROWS_WITH_AS(fgsm_curve(net, x, y, {0.1, -0.2}), doctest::Contains("epsilon"), invalid_argument);
    CHECK_THROWS_WITH_AS(fgsm_accuracy_curve(net, x, y, {NAN}), doctest::Contains("fgsm_accuracy_curve"),
                         invalid_argument);
}

TEST_CASE("the segment bound is sound: sampled points have margin >= the bound")
{
    std::uint64_t seed = 40;
    std::size_t checked = 0, certified = 0;
    for (const auto& kind : all_kinds()) {
        ++seed;
        CAPTURE(describe(kind));
        const auto net = random_net<float>(kind, seed, 0.8);
        const matrix<float> x = mixed_inputs<float>(12, kind.sizes.front(), seed + 7);
        const label_vector y = net.predict(x);
        const Bounds bounds;
        const matrix<float> g = fgsm_direction(net, x, y, AttackLoss::cross_entropy, bounds);
        std::vector<std::size_t> all(x.shape()[0]);
        for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
        detail::FgsmCertifier<float> cert(net, x, g, y, all, bounds, 1.0, 2);
        default_engine eng(seed);
        // two rounds of segments at random places: the second round goes back along the
        // ray behind pixels the first one folded into the certifier's per-sample sums
        for (int round = 0; round < 2; ++round) {
            std::vector<detail::FgsmCertifier<float>::Segment> segs;
            for (std::size_t i = 0; i < all.size(); ++i)
                for (double w : {0.002, 0.02, 0.1, 0.5}) {
                    const double a = rng::uniform<double>(eng, 0.001, 1.0 - w);
                    segs.push_back({i, a, a + w});
                }
            std::vector<detail::FgsmCertifier<float>::Bound> bnd;
            cert.bound(segs, bnd);
            std::vector<std::size_t> rows;
            std::vector<double> eps;
            std::vector<std::size_t> seg_of;
            for (std::size_t s = 0; s < segs.size(); ++s)
                for (std::size_t k = 0; k <= 40; ++k) {
                    rows.push_back(segs[s].sample);
                    eps.push_back(segs[s].a + (segs[s].b - segs[s].a) * static_cast<double>(k) / 40.0);
                    seg_of.push_back(s);
                }
            matrix<float> cand;
            detail::fgsm_candidates(x, g, rows, eps, bounds, cand);
            const matrix<float> z = net.logits(cand);
            const std::size_t c = kind.sizes.back();
            for (std::size_t r = 0; r < rows.size(); ++r) {
                const std::size_t yy = y(rows[r]);
                double margin = INFINITY;
                for (std::size_t k = 0; k < c; ++k)
                    if (k != yy)
                        margin = std::min(margin, static_cast<double>(z(r, yy)) - static_cast<double>(z(r, k)));
                CAPTURE(r);
                CHECK(margin >= bnd[seg_of[r]].lower);
                ++checked;
            }
            for (const auto& b : bnd) certified += b.lower > 0.0 ? 1 : 0;
        }
    }
    CHECK(checked > 1000);
    CHECK(certified > 0);
}

TEST_CASE("certified FGSM grid == brute-force grid on MNIST (Release, model from SLEEPNET_FGSM_MNIST_MODEL)")
{
    // Registered as a CTest case by tests/cases_numpy.cmake in Release builds with the MNIST
    // data, on the control network the example cases train; skipped otherwise.
    const char* model = std::getenv("SLEEPNET_FGSM_MNIST_MODEL");
    if (model == nullptr || *model == '\0') return;
    const char* count_env = std::getenv("SLEEPNET_FGSM_MNIST_COUNT");
    const std::size_t count = count_env ? std::strtoul(count_env, nullptr, 10) : 1000;
    const auto mnist = load_mnist<float>(std::string(SLEEPNET_DATA_DIR) + "/mnist");
    const auto net = load_model<float>(model);
    const matrix<float> x = xt::view(mnist.test.x, xt::range(0, count), xt::all());
    const label_vector y = xt::view(mnist.test.y, xt::range(0, count));
    FgsmOptions brute;
    brute.grid.certify.enabled = false;
    FgsmOptions fast;
    const auto rf = fgsm(net, x, y, fast);
    const FgsmStats& stats = rf.stats;
    const auto rb = fgsm(net, x, y, brute);
    check_same(rf, rb);
    MESSAGE("MNIST " << count << " images: median epsilon " << rf.median_epsilon() << ", success " << rf.success_rate()
                     << ", bounds/image " << static_cast<double>(stats.bounds) / count << ", evaluations/image "
                     << static_cast<double>(stats.evaluations) / count);
    CHECK(stats.evaluations < 30 * count);
    // the authors' curve grid (reproduce's Fig. 1): certified == brute force, in fewer evaluations
    std::vector<double> eps;
    for (int k = 0; k <= 80; ++k) eps.push_back(0.005 * k);
    FgsmCurveOptions curve_brute;
    curve_brute.certify.enabled = false;
    const FgsmCurve cf = fgsm_curve(net, x, y, eps);
    CHECK(cf.accuracy == fgsm_curve(net, x, y, eps, curve_brute).accuracy);
    MESSAGE("MNIST curve, " << eps.size() << " points: evaluations/image "
                            << static_cast<double>(cf.stats.evaluations) / count << ", bounds/image "
                            << static_cast<double>(cf.stats.bounds) / count << ", certified right "
                            << cf.stats.certified_right << ", wrong " << cf.stats.certified_wrong);
    CHECK(cf.stats.evaluations < eps.size() * count / 2);
}
