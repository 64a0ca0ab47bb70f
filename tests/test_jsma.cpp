// JSMA: theta-multiple changes, the per-pixel budget, masking, batch-size independence,
// clean failure on a constant model, and analytic oracles on linear "brightness" models
// for the single-pixel, fallback and pair variants.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <sleepnet/attacks/jsma.hpp>
#include <sleepnet/core/rng.hpp>
#include <sleepnet/nn/dense_network.hpp>

using namespace sleepnet;

namespace {

template <class T>
DenseNetwork<T> random_mlp(std::vector<std::size_t> sizes, std::uint64_t seed)
{
    NetworkOptions o;
    o.output = Activation::linear;
    DenseNetwork<T> net(std::move(sizes), o);
    default_engine eng(seed);
    net.initialize(Init::he(), eng);
    return net;
}

template <class T>
matrix<T> random_inputs(std::size_t n, std::size_t d, std::uint64_t seed)
{
    default_engine eng(seed);
    matrix<T> x = matrix<T>::from_shape({n, d});
    for (auto& v : x) {
        // some pixels exactly at the bounds, like MNIST backgrounds
        const double u = rng::uniform01<double>(eng);
        v = static_cast<T>(u < 0.2 ? 0.0 : (u > 0.9 ? 1.0 : rng::uniform01<double>(eng)));
    }
    return x;
}

template <class T>
matrix<T> rows(const matrix<T>& x, std::size_t a, std::size_t b)
{
    matrix<T> out = matrix<T>::from_shape({b - a, x.shape()[1]});
    std::copy(x.data() + a * x.shape()[1], x.data() + b * x.shape()[1], out.data());
    return out;
}

label_vector sub_labels(const label_vector& y, std::size_t a, std::size_t b)
{
    label_vector out = label_vector::from_shape({b - a});
    for (std::size_t i = a; i < b; ++i) out(i - a) = y(i);
    return out;
}

// Records every step: checks the masking rules as the attack runs.
template <class T>
struct StepChecker {
    const matrix<T>* x0 = nullptr;
    double theta = 0.1;
    std::size_t max_changes = 7;
    std::vector<std::vector<T>> last;  // previous point per sample
    std::vector<std::vector<std::uint8_t>> was_active;
    std::vector<std::vector<int>> changes;
    std::size_t steps = 0;
    bool ok = true;
    std::string why;

    void fail(const std::string& w)
    {
        if (ok) why = w;
        ok = false;
    }

    void on_step(const JsmaStep<T>& s)
    {
        const std::size_t d = s.size;
        const std::size_t n = x0->shape()[0];
        if (last.empty()) {
            last.resize(n);
            was_active.resize(n);
            changes.resize(n);
        }
        auto& prev = last[s.sample];
        auto& act = was_active[s.sample];
        auto& ch = changes[s.sample];
        if (prev.empty()) {
            const T* src = x0->data() + s.sample * d;
            prev.assign(src, src + d);
            act.assign(d, 1);
            ch.assign(d, 0);
        }
        ++steps;
        std::vector<std::size_t> moved;
        for (std::size_t j = 0; j < d; ++j) {
            if (s.point[j] != prev[j]) moved.push_back(j);
        }
        for (std::size_t j : moved) {
            if (j != s.pixel && j != s.second_pixel) fail("a pixel that was not chosen changed");
            if (!act[j]) fail("a masked pixel changed");
            const double delta = static_cast<double>(s.point[j]) - static_cast<double>(prev[j]);
            const bool clipped = s.point[j] == T(0) || s.point[j] == T(1);
            if (!clipped && std::fabs(std::fabs(delta) - theta) > 1e-5) fail("a change is not theta");
            if (delta * s.direction < 0) fail("a pixel moved against the reported direction");
        }
        for (std::size_t j : {s.pixel, s.second_pixel}) {
            if (j == static_cast<std::size_t>(-1)) continue;
            if (!act[j]) fail("a masked pixel was chosen");
            ++ch[j];
            if (ch[j] > static_cast<int>(max_changes)) fail("a pixel changed too often");
        }
        for (std::size_t j = 0; j < d; ++j) {
            if (!act[j] && s.active[j]) fail("a masked pixel became active again");
            if (ch[j] >= static_cast<int>(max_changes) && s.active[j]) fail("a pixel at its budget stayed active");
            act[j] = s.active[j];
            prev[j] = s.point[j];
        }
    }
};

template <class T>
void check_result_properties(const DenseNetwork<T>& net, const matrix<T>& x, const AttackResult<T>& r,
                             const JsmaOptions& o)
{
    const std::size_t d = x.shape()[1];
    const label_vector p = net.predict(r.adversarial);
    for (const auto& s : r.samples) {
        CHECK(s.iterations <= o.max_iterations);
        if (!s.success) continue;
        CHECK(p(s.index) != s.label);
        CHECK(s.adversarial_prediction == p(s.index));
        const double step = o.theta * (o.bounds.hi - o.bounds.lo);
        for (std::size_t j = 0; j < d; ++j) {
            const double a = static_cast<double>(r.adversarial(s.index, j));
            const double b = static_cast<double>(x(s.index, j));
            const double m = (a - b) / step;
            const bool at_bound = a == o.bounds.lo || a == o.bounds.hi;
            if (!at_bound) {
                CHECK(std::fabs(m - std::round(m)) < 1e-4);
            }
            CHECK(std::fabs(a - b) <= o.max_changes_per_pixel * step + 1e-6);
        }
    }
}

template <class T>
void check_same(const AttackResult<T>& a, std::size_t offset, const AttackResult<T>& b)
{
    const std::size_t d = b.adversarial.shape()[1];
    for (std::size_t i = 0; i < b.samples.size(); ++i) {
        const auto& sa = a.samples[offset + i];
        const auto& sb = b.samples[i];
        CHECK(sa.attempted == sb.attempted);
        CHECK(sa.success == sb.success);
        CHECK(sa.iterations == sb.iterations);
        CHECK(sa.adversarial_prediction == sb.adversarial_prediction);
        CHECK(sa.distance == sb.distance);
        for (std::size_t j = 0; j < d; ++j) {
            CHECK(a.adversarial(offset + i, j) == b.adversarial(i, j));
        }
    }
}

// 2 classes, 10 pixels: class 0 looks at pixels 0-4, class 1 at pixels 5-9.
DenseNetwork<double> brightness_model(double w0_on_s0, double w0_on_s1, double w1_on_s1)
{
    NetworkOptions o;
    o.output = Activation::linear;
    DenseNetwork<double> net({10, 2}, o);
    matrix<double> w = matrix<double>::from_shape({2, 10});
    for (std::size_t j = 0; j < 10; ++j) {
        w(0, j) = j < 5 ? w0_on_s0 : w0_on_s1;
        w(1, j) = j < 5 ? 0.0 : w1_on_s1;
    }
    net.set_weights(0, w);
    return net;
}

matrix<double> brightness_input()
{
    matrix<double> x = matrix<double>::from_shape({1, 10});
    for (std::size_t j = 0; j < 10; ++j) x(0, j) = j < 5 ? 0.8 : 0.2;
    return x;
}

}  // namespace

TEST_CASE("jsma: changes are theta multiples within the per-pixel budget, masked pixels stay put")
{
    for (auto variant : {JsmaOptions::Variant::single, JsmaOptions::Variant::pairs}) {
        CAPTURE(to_string(variant));
        const auto net = random_mlp<double>({30, 24, 5}, 7);
        const matrix<double> x = random_inputs<double>(12, 30, 11);
        label_vector y = net.predict(x);
        y(2) = (y(2) + 1) % 5;  // misclassified: skipped
        const matrix<double> x_copy = x;
        JsmaOptions o;
        o.variant = variant;
        StepChecker<double> checker;
        checker.x0 = &x;
        const auto r = jsma(net, x, y, o, checker);
        CHECK_MESSAGE(checker.ok, checker.why);
        CHECK(checker.steps > 0);
        CHECK(x == x_copy);
        CHECK(r.attack == "jsma");
        CHECK_FALSE(r.samples[2].attempted);
        CHECK(r.samples[2].distance == 0.0);
        CHECK(r.samples[2].iterations == 0);
        CHECK(r.attempted() == 11);
        CHECK(r.successes() >= 9);
        check_result_properties(net, x, r, o);
        // a non-default theta and budget
        o.theta = 0.05;
        o.max_changes_per_pixel = 3;
        StepChecker<double> c2;
        c2.x0 = &x;
        c2.theta = 0.05;
        c2.max_changes = 3;
        const auto r2 = jsma(net, x, y, o, c2);
        CHECK_MESSAGE(c2.ok, c2.why);
        check_result_properties(net, x, r2, o);
    }
}

TEST_CASE("jsma: results do not depend on the batch")
{
    for (auto variant : {JsmaOptions::Variant::single, JsmaOptions::Variant::pairs}) {
        CAPTURE(to_string(variant));
        JsmaOptions o;
        o.variant = variant;
        {
            const auto net = random_mlp<double>({25, 40, 30, 6}, 3);
            const matrix<double> x = random_inputs<double>(10, 25, 5);
            const label_vector y = net.predict(x);
            const auto all = jsma(net, x, y, o);
            const auto a = jsma(net, rows(x, 0, 3), sub_labels(y, 0, 3), o);
            const auto b = jsma(net, rows(x, 3, 10), sub_labels(y, 3, 10), o);
            check_same(all, 0, a);
            check_same(all, 3, b);
            CHECK(all.successes() > 5);
        }
        {
            auto net = random_mlp<float>({25, 40, 30, 6}, 3);
            const matrix<float> x = random_inputs<float>(10, 25, 5);
            const label_vector y = net.predict(x);
            const auto all = jsma(net, x, y, o);
            net.set_inference_threads(1);
            const auto a = jsma(net, rows(x, 0, 3), sub_labels(y, 0, 3), o);
            net.set_inference_threads(3);
            const auto b = jsma(net, rows(x, 3, 10), sub_labels(y, 3, 10), o);
            check_same(all, 0, a);
            check_same(all, 3, b);
            check_result_properties(net, x, all, o);
        }
    }
}

TEST_CASE("jsma: a constant model fails cleanly")
{
    NetworkOptions no;
    no.output = Activation::linear;
    DenseNetwork<double> net({12, 8, 3}, no);  // all-zero weights: every prediction is 0
    const matrix<double> x = random_inputs<double>(6, 12, 2);
    label_vector y = label_vector::from_shape({6});
    for (std::size_t i = 0; i < 6; ++i) y(i) = i % 3;
    for (auto variant : {JsmaOptions::Variant::single, JsmaOptions::Variant::pairs}) {
        JsmaOptions o;
        o.variant = variant;
        const auto r = jsma(net, x, y, o);
        CHECK(r.attempted() == 2);
        CHECK(r.successes() == 0);
        for (const auto& s : r.samples) {
            CHECK(s.attempted == (s.label == 0));
            CHECK_FALSE(s.success);
            CHECK(s.iterations <= o.max_iterations);
            CHECK(s.distance == (s.attempted ? INFINITY : 0.0));
        }
        CHECK(r.adversarial == x);
        CHECK(std::isinf(r.median_distance()));
        CHECK(r.success_rate() == 0.0);
    }
}

TEST_CASE("jsma: brightness model, admissible pixels (Papernot saliency)")
{
    // Z0 = 0.2 sum(S0) - 0.1 sum(S1), Z1 = 0.2 sum(S1): for S1 pixels alpha = 0.2 > 0 and
    // beta = -0.1 < 0, S0 pixels have alpha = 0. Margin 0.7 - 0.2 = 0.5, each change
    // gains 0.03: 17 changes, pixels 5 and 6 seven times (their budget), pixel 7 three.
    const auto net = brightness_model(0.2, -0.1, 0.2);
    const matrix<double> x = brightness_input();
    label_vector y = {0};
    const auto r = jsma(net, x, y);
    REQUIRE(r.samples[0].success);
    CHECK(r.samples[0].iterations == 17);
    CHECK(r.samples[0].adversarial_prediction == 1);
    const double expected[10] = {0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 0.9, 0.5, 0.2, 0.2};
    for (std::size_t j = 0; j < 10; ++j) {
        CHECK(r.adversarial(0, j) == doctest::Approx(expected[j]).epsilon(1e-12));
    }
    CHECK(r.samples[0].distance == doctest::Approx((0.49 + 0.49 + 0.09) / 10.0));

    // pairs: (5, 6) seven times, then (7, 8) twice
    JsmaOptions o;
    o.variant = JsmaOptions::Variant::pairs;
    const auto rp = jsma(net, x, y, o);
    REQUIRE(rp.samples[0].success);
    CHECK(rp.samples[0].iterations == 9);
    const double expected_pairs[10] = {0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 0.9, 0.4, 0.4, 0.2};
    for (std::size_t j = 0; j < 10; ++j) {
        CHECK(rp.adversarial(0, j) == doctest::Approx(expected_pairs[j]).epsilon(1e-12));
    }

    // an iteration budget of 16 is one change short
    JsmaOptions short_budget;
    short_budget.max_iterations = 16;
    const auto rs = jsma(net, x, y, short_budget);
    CHECK_FALSE(rs.samples[0].success);
    CHECK(rs.samples[0].iterations == 16);
    CHECK(rs.adversarial == x);
}

TEST_CASE("jsma: brightness model, fallback when no pixel is admissible")
{
    // Z0 = 0.2 sum(S0), Z1 = 0.45 sum(S1): no pixel has alpha and beta of opposite signs;
    // |alpha - beta| is 0.45 on S1 (increase) and 0.2 on S0 (decrease), so exactly the S1
    // pixels are increased. Margin 0.8 - 0.45 = 0.35, 0.045 per change: 8 changes.
    const auto net = brightness_model(0.2, 0.0, 0.45);
    const matrix<double> x = brightness_input();
    label_vector y = {0};
    const auto r = jsma(net, x, y);
    REQUIRE(r.samples[0].success);
    CHECK(r.samples[0].iterations == 8);
    const double expected[10] = {0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 0.3, 0.2, 0.2, 0.2};
    for (std::size_t j = 0; j < 10; ++j) {
        CHECK(r.adversarial(0, j) == doctest::Approx(expected[j]).epsilon(1e-12));
    }
    // pairs fallback: the two best S1 pixels, (5, 6), together: 4 iterations (8 changes)
    JsmaOptions o;
    o.variant = JsmaOptions::Variant::pairs;
    const auto rp = jsma(net, x, y, o);
    REQUIRE(rp.samples[0].success);
    CHECK(rp.samples[0].iterations == 4);
    const double expected_pairs[10] = {0.8, 0.8, 0.8, 0.8, 0.8, 0.6, 0.6, 0.2, 0.2, 0.2};
    for (std::size_t j = 0; j < 10; ++j) {
        CHECK(rp.adversarial(0, j) == doctest::Approx(expected_pairs[j]).epsilon(1e-12));
    }
}

TEST_CASE("jsma: pixels at a bound only move inwards and are masked when they reach one")
{
    // Pixel 5 starts at 1.0: never chosen to increase. Pixel 6 starts at 0.95: one change
    // brings it to the bound (clipped), which masks it; margin 0.545 - 0.51 = 0.035,
    // minus 0.015 (pixel 6), minus 0.03 (pixel 7 to 0.3): adversarial.
    const auto net = brightness_model(0.2, -0.1, 0.2);
    matrix<double> x = brightness_input();
    x(0, 5) = 1.0;
    x(0, 6) = 0.95;
    label_vector y = {0};
    StepChecker<double> checker;
    checker.x0 = &x;
    const auto r = jsma(net, x, y, JsmaOptions{}, checker);
    CHECK_MESSAGE(checker.ok, checker.why);
    REQUIRE(r.samples[0].success);
    CHECK(r.adversarial(0, 5) == 1.0);
    CHECK(r.adversarial(0, 6) == 1.0);
    CHECK(r.samples[0].iterations == 2);
    CHECK(r.adversarial(0, 7) == doctest::Approx(0.3));
    for (std::size_t j = 0; j < 5; ++j) CHECK(r.adversarial(0, j) == 0.8);
}

TEST_CASE("jsma: the step callback can stop an input")
{
    const auto net = brightness_model(0.2, -0.1, 0.2);
    const matrix<double> x = brightness_input();
    label_vector y = {0};
    struct StopAt3 {
        std::size_t calls = 0;
        bool on_step(const JsmaStep<double>& s)
        {
            ++calls;
            return s.iteration == 3;
        }
    } stop;
    const auto r = jsma(net, x, y, JsmaOptions{}, stop);
    CHECK(stop.calls == 3);
    CHECK_FALSE(r.samples[0].success);  // not adversarial after 3 changes
    CHECK(r.samples[0].iterations == 3);
    CHECK(r.adversarial == x);
}

TEST_CASE("jsma: argument checks name the bad argument")
{
    const auto net = random_mlp<double>({5, 3}, 1);
    const matrix<double> x = random_inputs<double>(2, 5, 1);
    const label_vector y = net.predict(x);
    JsmaOptions o;
    o.theta = 0.0;
    CHECK_THROWS_WITH_AS(jsma(net, x, y, o), doctest::Contains("theta"), invalid_argument);
    o = {};
    o.max_changes_per_pixel = 0;
    CHECK_THROWS_WITH_AS(jsma(net, x, y, o), doctest::Contains("max_changes_per_pixel"), invalid_argument);
    o = {};
    label_vector bad = {0, 7};
    CHECK_THROWS_WITH_AS(jsma(net, x, bad, o), doctest::Contains("label 7"), invalid_argument);
    matrix<double> out = x;
    out(1, 2) = 1.5;
    CHECK_THROWS_WITH_AS(jsma(net, out, y, o), doctest::Contains("outside"), invalid_argument);
    const matrix<double> wrong = random_inputs<double>(2, 4, 1);
    CHECK_THROWS_AS(jsma(net, wrong, y, o), invalid_argument);
    // empty input: nothing to do
    const matrix<double> none = matrix<double>::from_shape({0, 5});
    const label_vector no_labels = label_vector::from_shape({0});
    CHECK(jsma(net, none, no_labels).samples.empty());
}

TEST_CASE("jsma: inputs beyond one internal group give the same per-input results")
{
    const auto net = random_mlp<double>({6, 8, 3}, 2);
    const std::size_t n = detail::inference_chunk + 7;
    const matrix<double> x = random_inputs<double>(n, 6, 17);
    const label_vector y = net.predict(x);
    const auto all = jsma(net, x, y);
    const auto tail = jsma(net, rows(x, n - 12, n), sub_labels(y, n - 12, n));
    check_same(all, n - 12, tail);
    CHECK(all.attempted() == n);
}
