// FGSM and DeepFool against analytic oracles (affine and brightness models), plus the
// invariants every attack must keep.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>

#include <sleepnet/attacks/deepfool.hpp>
#include <sleepnet/attacks/fgsm.hpp>

#include "attack_models.hpp"
#include "support.hpp"

using namespace sleepnet;
using test_support::affine_model;
using test_support::brightness_model;
using test_support::mid_inputs;

TEST_CASE("FGSM on the brightness model: minimal epsilon = margin / 2")
{
    const auto net = brightness_model(50);
    const std::vector<double> c0{0.6, 0.55, 0.3}, c1{0.4, 0.5, 0.9};
    matrix<double> x = test_support::brightness_inputs(c0, c1, 50);
    const label_vector y{0, 0, 1};
    const matrix<double> before = x;
    FgsmOptions o;
    o.loss = AttackLoss::cross_entropy;
    const auto r = fgsm(net, x, y, o);
    CHECK(x == before);
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        REQUIRE(r.samples[i].success);
        const double half_margin = std::abs(c0[i] - c1[i]) / 2.0;
        // first grid point strictly past the tie, or the refined grid below 0.02
        CHECK(r.samples[i].epsilon > half_margin);
        CHECK(r.samples[i].epsilon <= half_margin + 0.0011);
        CHECK(r.samples[i].adversarial_prediction != y(i));
    }
    // sample 1 has margin 0.05: 0.025 lies beyond the first 20 grid points -> no refinement
    CHECK(r.samples[1].epsilon == doctest::Approx(0.026));
    CHECK(r.median_epsilon() == doctest::Approx(r.samples[0].epsilon));  // {0.026, 0.101, 0.301}
    CHECK(r.success_rate() == 1.0);

    // a margin below 0.04 is found on the finer grid: 20 steps in (0, 0.02]
    matrix<double> close = x;
    for (std::size_t j = 0; j < 100; ++j) close(0, j) = j < 50 ? 0.51 : 0.49;
    const auto rc = fgsm(net, close, y, o);
    CHECK(rc.samples[0].epsilon > 0.01);
    CHECK(rc.samples[0].epsilon <= 0.011);
    CHECK(rc.samples[0].iterations == 11 + 20);  // grid points 1..11, then the 20 refinements
}

TEST_CASE("FGSM on random affine models matches the analytic L-inf distance")
{
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        const auto net = affine_model(30, seed);
        const auto x = mid_inputs(20, 30, seed + 10);
        const auto y = net.predict(x);
        FgsmOptions o;
        o.loss = AttackLoss::cross_entropy;
        const auto r = fgsm(net, x, y, o);
        const auto& w = net.weights(0);
        const auto z = net.logits(x);
        for (std::size_t i = 0; i < 20; ++i) {
            const std::size_t t = y(i), u = 1 - y(i);
            double l1 = 0.0;
            for (std::size_t j = 0; j < 30; ++j) l1 += std::abs(w(t, j) - w(u, j));
            const double exact = (z(i, t) - z(i, u)) / l1;
            // the step may clip at the bounds: only check cases where it cannot
            if (exact + 0.002 > 0.35) continue;
            CAPTURE(i);
            REQUIRE(r.samples[i].success);
            CHECK(r.samples[i].epsilon >= exact - 1e-9);
            CHECK(r.samples[i].epsilon <= exact + 0.0011);
        }
    }
}

TEST_CASE("DeepFool on affine binary models: one step of (1 + overshoot) times the minimal L2 perturbation")
{
    for (std::uint64_t seed : {4u, 5u}) {
        const auto net = affine_model(25, seed);
        const auto x = mid_inputs(15, 25, seed + 20);
        const auto y = net.predict(x);
        const auto z = net.logits(x);
        const auto& w = net.weights(0);
        DeepFoolOptions o;  // no clipping by default (the authors' code)
        const auto r = deepfool(net, x, y, o);
        for (std::size_t i = 0; i < 15; ++i) {
            CAPTURE(i);
            REQUIRE(r.samples[i].success);
            CHECK(r.samples[i].iterations == 1);
            double l2 = 0.0;
            for (std::size_t j = 0; j < 25; ++j) l2 += (w(0, j) - w(1, j)) * (w(0, j) - w(1, j));
            const double minimal = std::abs(z(i, 0) - z(i, 1)) / std::sqrt(l2);
            const double expected = 1.05 * minimal;
            CHECK(std::sqrt(r.samples[i].distance * 25.0) == doctest::Approx(expected).epsilon(1e-6));
        }
        // at_end mode with 0.02 also flips in one step, by 1.02 times the minimum
        DeepFoolOptions e = o;
        e.mode = OvershootMode::at_end;
        e.overshoot = 0.02;
        const auto r2 = deepfool(net, x, y, e);
        for (std::size_t i = 0; i < 15; ++i) {
            double l2 = 0.0;
            for (std::size_t j = 0; j < 25; ++j) l2 += (w(0, j) - w(1, j)) * (w(0, j) - w(1, j));
            const double minimal = std::abs(z(i, 0) - z(i, 1)) / std::sqrt(l2);
            CHECK(std::sqrt(r2.samples[i].distance * 25.0) == doctest::Approx(1.02 * minimal).epsilon(1e-6));
        }
    }
}

TEST_CASE("DeepFool on the brightness model moves the two channels by margin / 2 per pixel")
{
    const auto net = brightness_model(10);
    matrix<double> x = matrix<double>::from_shape({1, 20});
    for (std::size_t j = 0; j < 20; ++j) x(0, j) = j < 10 ? 0.6 : 0.4;
    const auto r = deepfool(net, x, label_vector{0});
    REQUIRE(r.samples[0].success);
    for (std::size_t j = 0; j < 20; ++j) {
        const double delta = r.adversarial(0, j) - x(0, j);
        CHECK(std::abs(delta) == doctest::Approx(1.05 * 0.1));
        const bool right_direction = j < 10 ? delta < 0 : delta > 0;
        CHECK(right_direction);
    }
}

TEST_CASE("attack invariants: misclassified skipped, bounds, verification, batch independence, constant model")
{
    auto [eng, net, x, y] = test_support::invariant_case();  // every fifth input misclassified on purpose
    const matrix<double> before = x;
    const AttackResult<double> rf = fgsm(net, x, y);  // an FgsmResult is an AttackResult
    DeepFoolOptions clipped;
    clipped.clip = true;
    const auto rd = deepfool(net, x, y, clipped);
    CHECK(x == before);
    for (const auto* r : {&rf, &rd}) {
        CHECK(r->attempted() == 24);
        for (const auto& s : r->samples) {
            if (s.index % 5 == 0) {
                CHECK(!s.attempted);
                CHECK(s.iterations == 0);
                CHECK(!s.success);
                CHECK(s.distance == 0.0);
            }
            if (s.success) {
                CHECK(s.adversarial_prediction != s.label);
                const matrix<double> row = xt::view(r->adversarial, xt::range(s.index, s.index + 1), xt::all());
                CHECK(net.predict(row)(0) == s.adversarial_prediction);
            } else {
                const bool unchanged = xt::view(r->adversarial, s.index, xt::all()) == xt::view(x, s.index, xt::all());
                CHECK(unchanged);
            }
        }
        CHECK(xt::amin(r->adversarial)() >= 0.0);
        CHECK(xt::amax(r->adversarial)() <= 1.0);
    }
    // batch independence: the same samples attacked in two parts
    const matrix<double> a = xt::view(x, xt::range(0, 11), xt::all());
    const matrix<double> b = xt::view(x, xt::range(11, 30), xt::all());
    const label_vector ya = xt::view(y, xt::range(0, 11)), yb = xt::view(y, xt::range(11, 30));
    const auto fa = fgsm(net, a, ya), fb = fgsm(net, b, yb);
    const auto da = deepfool(net, a, ya, clipped), db = deepfool(net, b, yb, clipped);
    for (std::size_t i = 0; i < 30; ++i) {
        const auto& f = i < 11 ? fa.samples[i] : fb.samples[i - 11];
        const auto& dd = i < 11 ? da.samples[i] : db.samples[i - 11];
        const bool same_eps =
            f.epsilon == rf.samples[i].epsilon || (std::isnan(f.epsilon) && std::isnan(rf.samples[i].epsilon));
        CHECK(same_eps);
        CHECK(dd.distance == rd.samples[i].distance);
    }
    // the FGSM directions of a large batch (several inference chunks) equal those of
    // slices across the chunk boundaries, for both losses
    {
        const std::size_t big = 2 * detail::inference_chunk + 300;
        matrix<double> xl = matrix<double>::from_shape({big, 12});
        for (auto& v : xl) v = rng::uniform01<double>(eng);
        label_vector yl = label_vector::from_shape({big});
        for (std::size_t i = 0; i < big; ++i) yl(i) = static_cast<std::size_t>(rng::uniform<double>(eng, 0.0, 3.999));
        for (AttackLoss loss : {AttackLoss::network, AttackLoss::cross_entropy}) {
            const matrix<double> g_all = detail::loss_input_gradient(net, xl, yl, loss);
            for (std::size_t start : {std::size_t{0}, detail::inference_chunk - 3, 2 * detail::inference_chunk + 100}) {
                const std::size_t len = 40;
                const matrix<double> part = xt::view(xl, xt::range(start, start + len), xt::all());
                const label_vector yp = xt::view(yl, xt::range(start, start + len));
                const matrix<double> gp = detail::loss_input_gradient(net, part, yp, loss);
                CAPTURE(start);
                CHECK(gp == xt::view(g_all, xt::range(start, start + len), xt::all()));
            }
        }
    }
    // a constant model: nothing can flip it; both attacks fail cleanly within budget
    DenseNetwork<double> constant({12, 4});
    const label_vector zeros = xt::zeros<std::size_t>({30});
    const auto cf = fgsm(constant, x, zeros);
    DeepFoolOptions dopt;
    dopt.max_iterations = 5;
    const auto cd = deepfool(constant, x, zeros, dopt);
    CHECK(cf.attempted() == 30);
    CHECK(cf.successes() == 0);
    CHECK(std::isinf(cf.median_epsilon()));
    CHECK(cd.successes() == 0);
    CHECK(std::isinf(cd.median_distance()));
    CHECK(cd.samples[0].iterations == 5);
}

TEST_CASE("FGSM bisection agrees with the grid on a monotone model, accuracy curve")
{
    const auto net = brightness_model(50);
    matrix<double> x = matrix<double>::from_shape({4, 100});
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 100; ++j) x(i, j) = j < 50 ? 0.6 + 0.05 * i : 0.3;
    const label_vector y{0, 0, 0, 0};
    FgsmOptions grid;
    grid.loss = AttackLoss::cross_entropy;
    FgsmOptions bis = grid;
    bis.search = FgsmSearch::bisection;
    const auto rg = fgsm(net, x, y, grid), rb = fgsm(net, x, y, bis);
    for (std::size_t i = 0; i < 4; ++i) {
        const double half_margin = (0.3 + 0.05 * i) / 2.0;
        CHECK(rb.samples[i].epsilon > half_margin);
        CHECK(rb.samples[i].epsilon <= half_margin + 1e-4);
        CHECK(rg.samples[i].epsilon >= rb.samples[i].epsilon);
    }
    const auto curve = fgsm_accuracy_curve(net, x, y, {0.0, 0.149, 0.151, 0.21, 0.3}, AttackLoss::cross_entropy);
    CHECK(curve == std::vector<double>{1.0, 1.0, 0.75, 0.25, 0.0});
    CHECK_THROWS_AS(fgsm_accuracy_curve(net, x, y, {-0.1}), invalid_argument);
}

TEST_CASE("bad attack input gets clear errors")
{
    const auto net = brightness_model(5);
    matrix<double> x = xt::ones<double>({2, 10}) * 0.5;
    CHECK_THROWS_WITH_AS(fgsm(net, x, label_vector{0}), doctest::Contains("2 inputs but 1 labels"), invalid_argument);
    CHECK_THROWS_WITH_AS(fgsm(net, x, label_vector{0, 7}), doctest::Contains("label 7"), invalid_argument);
    x(1, 3) = 1.5;
    CHECK_THROWS_WITH_AS(deepfool(net, x, label_vector{0, 1}), doctest::Contains("outside [0"), invalid_argument);
    FgsmOptions o;
    o.steps = 0;
    CHECK_THROWS_AS(fgsm(net, x, label_vector{0, 1}, o), invalid_argument);
    DeepFoolOptions d;
    d.candidates = 1;
    CHECK_THROWS_AS(deepfool(net, x, label_vector{0, 1}, d), invalid_argument);
}

TEST_CASE("FGSM options per mode name the nested field on error, and the result carries its work")
{
    const auto net = brightness_model(5);
    const matrix<double> x = xt::ones<double>({2, 10}) * 0.5;
    const label_vector y{0, 1};
    auto message = [&](const FgsmOptions& o) {
        return test_support::message_of<invalid_argument>([&] { fgsm(net, x, y, o); });
    };
    FgsmOptions o;
    o.grid.refine_steps = 0;
    CHECK(message(o) == "FgsmOptions: grid.refine_steps must be > 0");
    o = FgsmOptions{};
    o.grid.certify.leaf = 0;
    CHECK(message(o) == "FgsmOptions: grid.certify.leaf must be > 0");
    o = FgsmOptions{};
    o.grid.certify.chunk = 0;
    CHECK(message(o) == "FgsmOptions: grid.certify.chunk must be > 0");
    o = FgsmOptions{};
    o.grid.certify.reach = 0.0;
    CHECK(test_support::contains(message(o), "FgsmOptions: grid.certify.reach"));
    o = FgsmOptions{};
    o.bisection.stride = 0;
    CHECK(message(o) == "FgsmOptions: bisection.stride must be > 0");
    o = FgsmOptions{};
    o.steps = 0;
    CHECK(message(o) == "FgsmOptions: steps must be > 0");
    FgsmBisectionOptions bad_stride;
    bad_stride.stride = 0;
    CHECK(test_support::message_of<invalid_argument>([&] { bad_stride.validate(); }) ==
          "FgsmBisectionOptions: stride must be > 0");

    // stats: the work of this call only (brute force: every grid point up to each hit, and
    // the rest of the chunk it was in, goes through the network; no bounds)
    const matrix<double> xs = test_support::brightness_inputs({0.6, 0.55, 0.3}, {0.4, 0.5, 0.9}, 5);
    const label_vector ys = net.predict(xs);
    FgsmOptions brute;
    brute.grid.certify.enabled = false;
    const FgsmResult<double> r = fgsm(net, xs, ys, brute);
    std::size_t rows = 0;
    for (const auto& s : r.samples) rows += s.attempted ? s.iterations : 0;
    CHECK(rows > 0);
    CHECK(r.stats.evaluations >= rows);
    CHECK(r.stats.evaluations < rows + 3 * 64);
    CHECK(r.stats.bounds == 0);
    CHECK(r.stats.certified == 0);
    CHECK(fgsm(net, xs, ys, brute).stats.evaluations == r.stats.evaluations);  // not added to an earlier call's
    const AttackResult<double>& base = r;  // usable wherever an AttackResult is expected
    CHECK(base.samples.size() == 3);
}
