// Square attack (L-inf): analytic oracles (affine and brightness models: it succeeds just
// above the minimal L-inf distance and never below it), the schedule, the invariants every
// attack keeps, determinism and batch independence, and option checks.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <sleepnet/attacks/square.hpp>

#include "attack_models.hpp"
#include "support.hpp"

using namespace sleepnet;
using test_support::affine_model;
using test_support::brightness_model;
using test_support::mid_inputs;

using test_support::contains;
using test_support::message_of;

namespace {

// logit k = mean of image channel k, channel-last (pixels interleaved), 2 channels
DenseNetwork<double> channel_brightness_model(std::size_t pixels)
{
    DenseNetwork<double> net({2 * pixels, 2}, NetworkOptions{Activation::relu, Activation::linear});
    matrix<double> w = matrix<double>::from_shape({2, 2 * pixels});
    w.fill(0.0);
    for (std::size_t p = 0; p < pixels; ++p) {
        w(0, 2 * p) = 1.0 / static_cast<double>(pixels);
        w(1, 2 * p + 1) = 1.0 / static_cast<double>(pixels);
    }
    net.set_weights(0, w);
    return net;
}

// a 2-layer ReLU network with random weights and biases
template <class T>
DenseNetwork<T> random_relu_net(std::vector<std::size_t> sizes, std::uint64_t seed)
{
    DenseNetwork<T> net(std::move(sizes), NetworkOptions{Activation::relu, Activation::linear, true});
    default_engine eng(seed);
    net.initialize(Init::he(), eng);
    for (std::size_t l = 0; l < net.num_layers(); ++l) {
        vector<T> b = vector<T>::from_shape({net.layer_sizes()[l + 1]});
        for (auto& v : b) v = static_cast<T>(rng::uniform<double>(eng, -0.1, 0.1));
        net.set_bias(l, b);
    }
    return net;
}

template <class T>
matrix<T> row_of(const matrix<T>& x, std::size_t i)
{
    const std::size_t d = x.shape()[1];
    matrix<T> r = matrix<T>::from_shape({1, d});
    std::copy(x.data() + i * d, x.data() + (i + 1) * d, r.data());
    return r;
}

// square attack on row i alone
AttackResult<double> attack_one(const DenseNetwork<double>& net, const matrix<double>& x, std::size_t i,
                                std::size_t label, double eps, const SquareOptions& o, std::uint64_t seed)
{
    default_engine eng(seed);
    return square_attack(net, row_of(x, i), label_vector{label}, eps, o, eng);
}

template <class T>
void check_same(const AttackResult<T>& a, const AttackResult<T>& b)
{
    REQUIRE(a.samples.size() == b.samples.size());
    CHECK(a.adversarial == b.adversarial);
    for (std::size_t i = 0; i < a.samples.size(); ++i) {
        CAPTURE(i);
        CHECK(a.samples[i].success == b.samples[i].success);
        CHECK(a.samples[i].iterations == b.samples[i].iterations);
        CHECK(a.samples[i].adversarial_prediction == b.samples[i].adversarial_prediction);
        CHECK((a.samples[i].epsilon == b.samples[i].epsilon ||
               (std::isnan(a.samples[i].epsilon) && std::isnan(b.samples[i].epsilon))));
    }
}

}  // namespace

TEST_CASE("Square on random affine models: succeeds at 1.1x the analytic L-inf distance, never at 0.95x")
{
    SquareOptions o;
    o.queries = 1000;
    o.height = 5;
    o.width = 6;
    std::size_t checked = 0, found = 0;
    for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
        const auto net = affine_model(30, seed);
        const auto x = mid_inputs(30, 30, seed + 10);
        const auto y = net.predict(x);
        const auto z = net.logits(x);
        const auto& w = net.weights(0);
        for (std::size_t i = 0; i < 30; ++i) {
            const std::size_t t = y(i), u = 1 - y(i);
            double l1 = 0.0;
            for (std::size_t j = 0; j < 30; ++j) l1 += std::abs(w(t, j) - w(u, j));
            const double exact = (z(i, t) - z(i, u)) / l1;
            if (1.1 * exact > 0.35) continue;  // clipping could interfere
            CAPTURE(seed);
            CAPTURE(i);
            ++checked;
            const auto above = attack_one(net, x, i, t, 1.1 * exact, o, 100 + i);
            REQUIRE(above.samples[0].attempted);
            if (above.samples[0].success) {
                ++found;
                CHECK(above.samples[0].epsilon <= 1.1 * exact + 1e-12);
                CHECK(above.samples[0].epsilon >= exact - 1e-12);  // nothing smaller exists
                CHECK(above.samples[0].adversarial_prediction == u);
                CHECK(above.samples[0].iterations <= o.queries);
            }
            const auto below = attack_one(net, x, i, t, 0.95 * exact, o, 200 + i);
            CHECK_FALSE(below.samples[0].success);
            CHECK(below.samples[0].iterations == o.queries);
            CHECK(std::isinf(below.samples[0].epsilon));
            CHECK(below.adversarial == row_of(x, i));
        }
    }
    MESSAGE("affine oracle: " << found << " of " << checked << " found at 1.1x");
    REQUIRE(checked >= 20);
    CHECK(found == checked);
}

TEST_CASE("Square on the brightness model: minimal L-inf perturbation = margin / 2")
{
    const auto net = brightness_model(50);  // 100 inputs: a 10 x 10 image, inferred
    matrix<double> x = matrix<double>::from_shape({3, 100});
    const double c0[] = {0.6, 0.55, 0.3}, c1[] = {0.4, 0.5, 0.9};
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 100; ++j) x(i, j) = j < 50 ? c0[i] : c1[i];
    const label_vector y{0, 0, 1};
    SquareOptions o;
    o.queries = 2000;
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        const double half_margin = std::abs(c0[i] - c1[i]) / 2.0;
        const auto above = attack_one(net, x, i, y(i), 1.1 * half_margin, o, 7 + i);
        REQUIRE(above.samples[0].success);
        CHECK(above.samples[0].epsilon <= 1.1 * half_margin + 1e-12);
        CHECK(above.samples[0].epsilon > half_margin);
        const auto below = attack_one(net, x, i, y(i), 0.95 * half_margin, o, 17 + i);
        CHECK_FALSE(below.samples[0].success);
        CHECK(below.samples[0].iterations == o.queries);
    }
}

TEST_CASE("Square with channels: per-channel signs on a channel-last 7 x 7 x 2 image")
{
    const auto net = channel_brightness_model(49);
    default_engine eng(3);
    matrix<double> x = matrix<double>::from_shape({4, 98});
    const double c0[] = {0.6, 0.45, 0.52, 0.4}, c1[] = {0.4, 0.55, 0.5, 0.7};
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t p = 0; p < 49; ++p) {
            x(i, 2 * p) = c0[i];
            x(i, 2 * p + 1) = c1[i];
        }
    const label_vector y = net.predict(x);
    SquareOptions o;
    o.queries = 1000;
    o.channels = 2;  // 98 / 2 = 49 pixels: 7 x 7 inferred
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        const double half_margin = std::abs(c0[i] - c1[i]) / 2.0;
        const auto above = attack_one(net, x, i, y(i), 1.1 * half_margin, o, 31 + i);
        CHECK(above.samples[0].success);
        const auto below = attack_one(net, x, i, y(i), 0.95 * half_margin, o, 41 + i);
        CHECK_FALSE(below.samples[0].success);
    }
    // 98 values as one channel are not a square image
    o.channels = 1;
    const std::string m = message_of<invalid_argument>([&] { attack_one(net, x, 0, y(0), 0.1, o, 1); });
    CHECK(contains(m, "98"));
    CHECK(contains(m, "height"));
}

TEST_CASE("Square schedule: p halves at the rescaled iterations, side = round(sqrt(p h w)) clamped")
{
    using detail::square_p;
    CHECK(square_p(0.8, 0, 10000) == 0.8);
    CHECK(square_p(0.8, 10, 10000) == 0.8);
    CHECK(square_p(0.8, 11, 10000) == 0.4);
    CHECK(square_p(0.8, 50, 10000) == 0.4);
    CHECK(square_p(0.8, 51, 10000) == 0.2);
    CHECK(square_p(0.8, 8000, 10000) == 0.8 / 256);
    CHECK(square_p(0.8, 8001, 10000) == 0.8 / 512);
    CHECK(square_p(0.8, 9999, 10000) == 0.8 / 512);
    // rescaled to 5,000 queries: t = floor(k / 5000 * 10000)
    CHECK(square_p(0.8, 5, 5000) == 0.8);
    CHECK(square_p(0.8, 6, 5000) == 0.4);
    CHECK(square_p(0.8, 4001, 5000) == 0.8 / 512);

    using detail::square_side;
    const detail::SquareImage mnist{28, 28, 1}, small{5, 5, 1}, thin{1, 6, 1};
    CHECK(square_side(0.8, mnist) == 25);       // sqrt(627.2) = 25.04
    CHECK(square_side(0.8 / 512, mnist) == 1);  // sqrt(1.225)
    CHECK(square_side(0.8 / 16, mnist) == 6);   // sqrt(39.2) = 6.26
    CHECK(square_side(1.0, small) == 4);        // 5 clamped to h - 1
    CHECK(square_side(0.8, thin) == 1);
    CHECK(square_side(1e-6, mnist) == 1);

    SquareOptions o;
    CHECK(detail::square_image(o, 784).height == 28);
    o.height = 4;
    o.width = 8;
    o.channels = 3;
    CHECK(detail::square_image(o, 96).width == 8);
    CHECK(contains(message_of<invalid_argument>([&] { detail::square_image(o, 95); }), "does not match"));
}

TEST_CASE("Square invariants: inputs kept, ball and bounds respected, misclassified skipped, budget kept")
{
    const auto net = random_relu_net<double>({36, 20, 3}, 11);
    default_engine data(12);
    const Bounds bounds{-1.0, 2.0};
    matrix<double> x = test_support::random_matrix(40, 36, data, -1.0, 2.0);
    for (std::size_t i = 0; i < 40; ++i) {  // some elements at the bounds
        x(i, i % 36) = -1.0;
        x(i, (i + 7) % 36) = 2.0;
    }
    label_vector y = net.predict(x);
    for (std::size_t i = 0; i < 40; i += 5) y(i) = (y(i) + 1) % 3;  // misclassified: skipped
    const matrix<double> before = x;
    SquareOptions o;
    o.queries = 300;
    o.bounds = bounds;
    const double eps = 0.05;
    default_engine eng(1);
    const auto r = square_attack(net, x, y, eps, o, eng);
    CHECK(x == before);
    CHECK(r.attack == "square");
    const label_vector p = net.predict(r.adversarial);
    std::size_t successes = 0, failures = 0;
    for (std::size_t i = 0; i < 40; ++i) {
        CAPTURE(i);
        const auto& s = r.samples[i];
        const double* adv = r.adversarial.data() + i * 36;
        const double* x0 = x.data() + i * 36;
        CHECK(perturbation_norm(adv, x0, 36, Norm::linf, bounds) <= eps + 1e-12);
        for (std::size_t j = 0; j < 36; ++j) {
            CHECK(adv[j] >= bounds.lo);
            CHECK(adv[j] <= bounds.hi);
        }
        if (i % 5 == 0) {
            CHECK_FALSE(s.attempted);
            CHECK_FALSE(s.success);
            CHECK(s.iterations == 0);
            CHECK(perturbation_norm(adv, x0, 36, Norm::linf, bounds) == 0.0);
            continue;
        }
        REQUIRE(s.attempted);
        CHECK(s.iterations >= 1);
        CHECK(s.iterations <= o.queries);
        if (s.success) {
            ++successes;
            CHECK(p(i) != y(i));
            CHECK(s.adversarial_prediction == p(i));
            CHECK(s.epsilon == perturbation_norm(adv, x0, 36, Norm::linf, bounds));
            CHECK(s.epsilon > 0.0);
        } else {
            ++failures;
            CHECK(s.iterations == o.queries);
            CHECK(std::isinf(s.epsilon));
            CHECK(p(i) == y(i));
        }
    }
    MESSAGE("invariants: " << successes << " successes, " << failures << " failures");
    CHECK(successes > 0);
    CHECK(failures > 0);
    CHECK(r.robust_accuracy() == doctest::Approx(static_cast<double>(failures) / 40.0));

    // a budget of one query: the vertical stripes only
    o.queries = 1;
    default_engine eng1(1);
    const auto r1 = square_attack(net, x, y, eps, o, eng1);
    for (std::size_t i = 0; i < 40; ++i) CHECK(r1.samples[i].iterations == (r1.samples[i].attempted ? 1u : 0u));
}

TEST_CASE("Square is deterministic and does not depend on the batch or on the other inputs")
{
    const auto net = random_relu_net<double>({25, 16, 3}, 21);
    default_engine data(22);
    const matrix<double> x = test_support::random_matrix(30, 25, data);
    const label_vector y = net.predict(x);
    SquareOptions o;
    o.queries = 200;
    const double eps = 0.05;
    auto run = [&](std::size_t batch, std::uint64_t seed) {
        SquareOptions ob = o;
        ob.batch = batch;
        default_engine eng(seed);
        return square_attack(net, x, y, eps, ob, eng);
    };
    const auto ref = run(o.batch, 5);
    REQUIRE(ref.successes() > 0);
    check_same(ref, run(1, 5));
    check_same(ref, run(7, 5));
    check_same(ref, run(o.batch, 5));
    const auto other = run(o.batch, 6);
    CHECK_FALSE(other.adversarial == ref.adversarial);

    // the first 12 inputs alone get the same results
    matrix<double> head = matrix<double>::from_shape({12, 25});
    std::copy(x.data(), x.data() + 12 * 25, head.data());
    label_vector yh = label_vector::from_shape({12});
    for (std::size_t i = 0; i < 12; ++i) yh(i) = y(i);
    default_engine eng(5);
    const auto rh = square_attack(net, head, yh, eps, o, eng);
    for (std::size_t i = 0; i < 12; ++i) {
        CAPTURE(i);
        CHECK(rh.samples[i].success == ref.samples[i].success);
        CHECK(rh.samples[i].iterations == ref.samples[i].iterations);
        CHECK(std::equal(rh.adversarial.data() + i * 25, rh.adversarial.data() + (i + 1) * 25,
                         ref.adversarial.data() + i * 25));
    }
}

TEST_CASE("Square on a random float ReLU network: success rate grows with epsilon")
{
    const auto net = random_relu_net<float>({64, 32, 4}, 31);
    default_engine data(32);
    const matrix<double> xd = test_support::random_matrix(60, 64, data);
    const matrix<float> x = xt::cast<float>(xd);
    const label_vector y = net.predict(x);
    SquareOptions o;
    o.queries = 500;
    std::vector<double> rates;
    for (double eps : {0.01, 0.03, 0.1}) {
        default_engine eng(33);
        const auto r = square_attack(net, x, y, eps, o, eng);
        for (std::size_t i = 0; i < 60; ++i) {
            const float* adv = r.adversarial.data() + i * 64;
            CHECK(perturbation_norm(adv, x.data() + i * 64, 64, Norm::linf) <= eps + 1e-12);
        }
        rates.push_back(r.success_rate());
    }
    MESSAGE("float net success rates: " << rates[0] << " " << rates[1] << " " << rates[2]);
    CHECK(rates[0] <= rates[1]);
    CHECK(rates[1] <= rates[2]);
    CHECK(rates[0] < rates[2]);
    CHECK(rates[2] > 0.5);
}

TEST_CASE("Square rejects bad options and inputs with messages naming them")
{
    const auto net = brightness_model(8);  // 16 inputs: 4 x 4
    const matrix<double> x = mid_inputs(2, 16, 1);
    const label_vector y = net.predict(x);
    default_engine eng(1);
    auto msg = [&](const SquareOptions& o, double eps = 0.1) {
        return message_of<invalid_argument>([&] { square_attack(net, x, y, eps, o, eng); });
    };
    SquareOptions o;
    o.queries = 0;
    CHECK(contains(msg(o), "queries"));
    o = {};
    o.p_init = 0.0;
    CHECK(contains(msg(o), "p_init"));
    o.p_init = 1.5;
    CHECK(contains(msg(o), "p_init"));
    o.p_init = std::nan("");
    CHECK(contains(msg(o), "p_init"));
    o = {};
    o.channels = 0;
    CHECK(contains(msg(o), "channels"));
    o = {};
    o.batch = 0;
    CHECK(contains(msg(o), "batch"));
    o = {};
    o.height = 4;
    CHECK(contains(msg(o), "height and width"));
    o = {};
    o.height = 2;
    o.width = 4;
    CHECK(contains(msg(o), "does not match"));
    o = {};
    o.bounds = Bounds{1.0, 0.0};
    CHECK(contains(msg(o), "bounds"));
    o = {};
    for (double bad : {0.0, -0.1, std::numeric_limits<double>::infinity(), std::nan("")})
        CHECK(contains(msg(o, bad), "epsilon"));
    // the network's row length (15) is not a square image without height and width
    const auto odd = affine_model(15, 1);
    const matrix<double> x15 = mid_inputs(2, 15, 2);
    const std::string m =
        message_of<invalid_argument>([&] { square_attack(odd, x15, odd.predict(x15), 0.1, SquareOptions{}, eng); });
    CHECK(contains(m, "15"));
    CHECK(contains(m, "not a square image"));
    // no input: an empty result
    const matrix<double> none = matrix<double>::from_shape({0, 16});
    const auto r = square_attack(net, none, label_vector::from_shape({0}), 0.1, SquareOptions{}, eng);
    CHECK(r.samples.empty());
}
