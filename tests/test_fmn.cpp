// Fast Minimum-Norm attack: analytic oracles (affine and brightness models, L-inf and L2),
// units of the input range, the invariants every attack keeps, batch independence, a
// random ReLU network, a model nothing can flip, and option errors.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/fmn.hpp>

#include "attack_models.hpp"
#include "support.hpp"

using namespace sleepnet;
using test_support::affine_model;
using test_support::brightness_model;
using test_support::mid_inputs;

namespace {

FmnOptions with_norm(Norm n)
{
    FmnOptions o;
    o.norm = n;
    return o;
}

}  // namespace

TEST_CASE("fmn: options, defaults per norm, result name")
{
    const FmnOptions linf = with_norm(Norm::linf), l2 = with_norm(Norm::l2);
    CHECK(linf.initial_alpha() == 10.0);
    CHECK(linf.final_alpha() == doctest::Approx(0.1));
    CHECK(l2.initial_alpha() == 1.0);
    CHECK(l2.final_alpha() == doctest::Approx(0.01));
    FmnOptions own = l2;
    own.alpha_init = 3.0;
    CHECK(own.final_alpha() == doctest::Approx(0.03));
    own.alpha_final = 0.5;
    CHECK(own.final_alpha() == 0.5);

    const auto net = brightness_model(5);
    const matrix<double> x = test_support::brightness_inputs({0.6}, {0.4}, 5);
    CHECK(fmn(net, x, label_vector{0}, linf).attack == "fmn-linf");
    CHECK(fmn(net, x, label_vector{0}, l2).attack == "fmn-l2");
}

TEST_CASE("fmn on random affine models: the analytic minimal L-inf and L2 norms")
{
    // minimal L-inf norm |f_0 - f_1| / ||w_0 - w_1||_1, minimal L2 norm |f_0 - f_1| / ||w_0 - w_1||_2;
    // inputs in [0.35, 0.65] and minimal perturbations whose coordinates stay below 0.35,
    // so the bounds cannot interfere
    // relative excess allowed over the minimum: measured at most 1.0e-5 (final gamma 0.001)
    const double tolerance = 1e-4;
    for (Norm norm : {Norm::linf, Norm::l2}) {
        std::size_t checked = 0;
        double worst_ratio = 0.0;
        for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
            const std::size_t n = 20, d = 30;
            const auto net = affine_model(d, seed);
            const auto x = mid_inputs(n, d, seed + 10);
            const auto y = net.predict(x);
            const auto r = fmn(net, x, y, with_norm(norm));
            const auto& w = net.weights(0);
            const auto z = net.logits(x);
            double l1 = 0.0, l2 = 0.0, wmax = 0.0;
            for (std::size_t j = 0; j < d; ++j) {
                const double dw = std::abs(w(0, j) - w(1, j));
                l1 += dw;
                l2 += dw * dw;
                wmax = std::max(wmax, dw);
            }
            l2 = std::sqrt(l2);
            for (std::size_t i = 0; i < n; ++i) {
                const double m = std::abs(z(i, 0) - z(i, 1));
                const double exact = norm == Norm::linf ? m / l1 : m / l2;
                const double largest_coordinate = norm == Norm::linf ? exact : m * wmax / (l2 * l2);
                if (largest_coordinate > 0.34) continue;
                CAPTURE(seed);
                CAPTURE(i);
                REQUIRE(r.samples[i].success);
                CHECK(r.samples[i].iterations == 100);
                CHECK(r.samples[i].epsilon >= exact - 1e-9);
                CHECK(r.samples[i].epsilon <= exact * (1.0 + tolerance));
                worst_ratio = std::max(worst_ratio, r.samples[i].epsilon / exact);
                ++checked;
            }
        }
        CAPTURE(to_string(norm));
        CAPTURE(worst_ratio);
        CHECK(checked >= 60);  // of 80 (L2: a few minimal perturbations leave the box)
    }
}

TEST_CASE("fmn on the brightness model: L-inf margin / 2, L2 margin * sqrt(half / 2)")
{
    const std::size_t half = 50;
    const auto net = brightness_model(half);
    const std::vector<double> c0{0.6, 0.55, 0.3}, c1{0.4, 0.5, 0.9};
    const matrix<double> x = test_support::brightness_inputs(c0, c1, half);
    const label_vector y{0, 0, 1};
    for (Norm norm : {Norm::linf, Norm::l2}) {
        const auto r = fmn(net, x, y, with_norm(norm));
        CHECK(r.success_rate() == 1.0);
        for (std::size_t i = 0; i < 3; ++i) {
            CAPTURE(to_string(norm));
            CAPTURE(i);
            const double margin = std::abs(c0[i] - c1[i]);
            const double exact = norm == Norm::linf ? margin / 2.0 : margin * std::sqrt(half / 2.0);
            CHECK(r.samples[i].epsilon >= exact - 1e-9);
            CHECK(r.samples[i].epsilon <= exact * (1.0 + 1e-4));
            CHECK(r.samples[i].adversarial_prediction != y(i));
        }
    }
}

TEST_CASE("fmn: norms and steps are in units of the input range")
{
    // the brightness model on inputs and bounds scaled by 2: the same epsilon
    const std::size_t half = 10;
    const auto net = brightness_model(half);
    const matrix<double> x = test_support::brightness_inputs({0.6, 0.3}, {0.45, 0.8}, half);
    const matrix<double> x2 = 2.0 * x;
    const label_vector y{0, 1};
    for (Norm norm : {Norm::linf, Norm::l2}) {
        FmnOptions o = with_norm(norm), o2 = o;
        o2.bounds = Bounds{0.0, 2.0};
        const auto r = fmn(net, x, y, o), r2 = fmn(net, x2, y, o2);
        for (std::size_t i = 0; i < 2; ++i) {
            CAPTURE(to_string(norm));
            REQUIRE(r2.samples[i].success);
            CHECK(r2.samples[i].epsilon == doctest::Approx(r.samples[i].epsilon).epsilon(1e-9));
        }
        CHECK(xt::allclose(r2.adversarial, 2.0 * r.adversarial, 1e-12, 1e-12));
    }
}

TEST_CASE("fmn invariants: inputs kept, verified adversarials inside the bounds, skipped inputs, batch independence")
{
    auto [eng, net, x, y] = test_support::invariant_case();  // every fifth input misclassified on purpose
    const matrix<double> before = x;
    for (Norm norm : {Norm::linf, Norm::l2}) {
        CAPTURE(to_string(norm));
        FmnOptions o = with_norm(norm);
        o.steps = 60;
        const auto r = fmn(net, x, y, o);
        CHECK(x == before);
        CHECK(r.attempted() == 24);
        CHECK(r.successes() >= 20);
        const label_vector p = net.predict(r.adversarial);
        for (const auto& s : r.samples) {
            CAPTURE(s.index);
            const double* row = r.adversarial.data() + s.index * 12;
            const double* x0 = x.data() + s.index * 12;
            if (s.index % 5 == 0) {
                CHECK(!s.attempted);
                CHECK(!s.success);
                CHECK(s.iterations == 0);
                CHECK(std::isnan(s.epsilon));
                CHECK(s.distance == 0.0);
            } else {
                CHECK(s.iterations == 60);
            }
            if (s.success) {
                CHECK(p(s.index) != s.label);
                CHECK(s.adversarial_prediction == p(s.index));
                CHECK(s.epsilon > 0.0);
                // equal up to rounding: with -march=native the compiler may contract the sum of
                // squares into FMAs differently at each inlined call of perturbation_norm
                CHECK(s.epsilon == doctest::Approx(perturbation_norm(row, x0, 12, norm, o.bounds)).epsilon(1e-12));
            } else {
                CHECK(std::equal(row, row + 12, x0));
                if (s.attempted) CHECK(std::isinf(s.epsilon));
            }
        }
        CHECK(xt::amin(r.adversarial)() >= 0.0);
        CHECK(xt::amax(r.adversarial)() <= 1.0);

        // the same results whatever the block size, and when the inputs are attacked in two parts
        for (std::size_t batch : {std::size_t{1}, std::size_t{7}}) {
            FmnOptions ob = o;
            ob.batch = batch;
            const auto rb = fmn(net, x, y, ob);
            CAPTURE(batch);
            CHECK(rb.adversarial == r.adversarial);
            for (std::size_t i = 0; i < 30; ++i) {
                const bool same = rb.samples[i].epsilon == r.samples[i].epsilon ||
                                  (std::isnan(rb.samples[i].epsilon) && std::isnan(r.samples[i].epsilon));
                CHECK(same);
                CHECK(rb.samples[i].iterations == r.samples[i].iterations);
            }
        }
        const matrix<double> a = xt::view(x, xt::range(0, 11), xt::all());
        const label_vector ya = xt::view(y, xt::range(0, 11));
        const auto ra = fmn(net, a, ya, o);
        CHECK(ra.adversarial == xt::view(r.adversarial, xt::range(0, 11), xt::all()));
    }
}

TEST_CASE("fmn on a random 3-layer ReLU network (float): nearly every input flipped, beats FGSM")
{
    default_engine eng(21);
    DenseNetwork<float> net({64, 32, 32, 5});
    net.initialize(Init::he(), eng);
    matrix<float> x = matrix<float>::from_shape({40, 64});
    for (auto& v : x) v = static_cast<float>(rng::uniform01<double>(eng));
    const label_vector y = net.predict(x);
    FgsmOptions fo;
    fo.loss = AttackLoss::cross_entropy;
    const auto rf = fgsm(net, x, y, fo);
    for (Norm norm : {Norm::linf, Norm::l2}) {
        CAPTURE(to_string(norm));
        const auto r = fmn(net, x, y, with_norm(norm));
        CHECK(r.attempted() == 40);
        CHECK(r.success_rate() >= 0.95);
        for (const auto& s : r.samples)
            if (s.success) {
                CHECK(s.epsilon > 0.0);
                CHECK(std::isfinite(s.epsilon));
            }
        // FGSM's point is a feasible L-inf adversarial; FMN minimizes the norm
        if (norm == Norm::linf) {
            CHECK(r.median_epsilon() <= rf.median_epsilon());
            std::size_t not_worse = 0;
            for (std::size_t i = 0; i < 40; ++i)
                if (r.samples[i].epsilon <= rf.samples[i].epsilon) ++not_worse;
            CHECK(not_worse >= 38);  // measured: all 40
        }
    }
}

TEST_CASE("fmn: a model nothing can flip fails cleanly and stops")
{
    DenseNetwork<double> constant({12, 4});  // zero weights: every logit 0, class 0, zero gradient
    const matrix<double> x = xt::ones<double>({5, 12}) * 0.5;
    const label_vector zeros = xt::zeros<std::size_t>({5});
    for (Norm norm : {Norm::linf, Norm::l2}) {
        const auto r = fmn(constant, x, zeros, with_norm(norm));
        CHECK(r.attempted() == 5);
        CHECK(r.successes() == 0);
        CHECK(std::isinf(r.median_epsilon()));
        CHECK(r.samples[0].iterations == 1);
        CHECK(r.adversarial == x);
    }
}

TEST_CASE("fmn: bad options and inputs get clear errors naming the field")
{
    const auto net = brightness_model(5);
    const matrix<double> x = test_support::brightness_inputs({0.6, 0.3}, {0.4, 0.7}, 5);
    const label_vector y{0, 1};
    auto message = [&](FmnOptions o) { return test_support::message_of<invalid_argument>([&] { fmn(net, x, y, o); }); };
    FmnOptions o;
    o.steps = 0;
    CHECK(test_support::contains(message(o), "FmnOptions: steps"));
    o = {};
    o.batch = 0;
    CHECK(test_support::contains(message(o), "FmnOptions: batch"));
    o = {};
    o.alpha_init = -1.0;
    CHECK(test_support::contains(message(o), "FmnOptions: alpha_init"));
    o = {};
    o.alpha_final = std::numeric_limits<double>::quiet_NaN();
    CHECK(test_support::contains(message(o), "FmnOptions: alpha_final"));
    o = {};
    o.gamma_init = 1.0;
    CHECK(test_support::contains(message(o), "FmnOptions: gamma_init must be in [0, 1), got 1"));
    o = {};
    o.gamma_final = -0.1;
    CHECK(test_support::contains(message(o), "FmnOptions: gamma_final"));
    o = {};
    o.bounds = Bounds{1.0, 0.0};
    CHECK(test_support::contains(message(o), "fmn: bounds"));
    CHECK_THROWS_WITH_AS(fmn(net, x, label_vector{0}), doctest::Contains("fmn: 2 inputs but 1 labels"),
                         invalid_argument);
}
