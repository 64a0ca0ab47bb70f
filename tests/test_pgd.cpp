// PGD / APGD and the logit losses: analytic oracles (affine and brightness models),
// finite-difference gradients, "never weaker than FGSM", gradient masking by saturated
// softmax, and the invariants every attack keeps.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>

#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/pgd.hpp>

#include "attack_models.hpp"
#include "support.hpp"

using namespace sleepnet;
using test_support::affine_distance;
using test_support::affine_model;
using test_support::brightness_model;
using test_support::mid_inputs;

using test_support::contains;
using test_support::message_of;

namespace {

// a small random ReLU network and inputs in [0, 1]
DenseNetwork<float> relu_model(std::uint64_t seed)
{
    DenseNetwork<float> net({40, 24, 24, 5});
    default_engine eng(seed);
    net.initialize(Init::uniform(0.4), eng);
    return net;
}

matrix<float> unit_inputs(std::size_t n, std::size_t d, std::uint64_t seed)
{
    default_engine eng(seed);
    matrix<float> x = matrix<float>::from_shape({n, d});
    for (auto& v : x) v = rng::uniform<float>(eng, 0.0f, 1.0f);
    return x;
}

}  // namespace

TEST_CASE("logit losses: gradients match central finite differences")
{
    default_engine eng(3);
    for (LogitLoss loss : {LogitLoss::cross_entropy, LogitLoss::margin, LogitLoss::dlr, LogitLoss::targeted_dlr}) {
        for (int trial = 0; trial < 20; ++trial) {
            std::vector<double> z(6);
            for (auto& v : z) v = rng::uniform<double>(eng, -3.0, 3.0);
            const std::size_t y = trial % 6, t = (trial + 2) % 6;
            std::vector<double> g(6);
            logit_loss(loss, z.data(), 1, 6, y, t, g.data());
            for (std::size_t k = 0; k < 6; ++k) {
                const double h = 1e-6;
                auto zp = z, zm = z;
                zp[k] += h;
                zm[k] -= h;
                const double fd = (logit_loss(loss, zp.data(), 1, 6, y, t, nullptr) -
                                   logit_loss(loss, zm.data(), 1, 6, y, t, nullptr)) /
                                  (2 * h);
                CAPTURE(to_string(loss));
                CAPTURE(k);
                CHECK(g[k] == doctest::Approx(fd).epsilon(1e-5).scale(1.0));
            }
        }
    }
    // values: margin > 0 exactly when another class wins; dlr is scale invariant
    const double z[] = {1.0, 3.0, 2.0, 0.5};
    CHECK(logit_loss(LogitLoss::margin, z, 1, 4, 0, 0, nullptr) == 2.0);
    CHECK(logit_margin(z, 1, 4, 1) == 1.0);
    const double z10[] = {10.0, 30.0, 20.0, 5.0};
    CHECK(logit_loss(LogitLoss::dlr, z, 1, 4, 0, 0, nullptr) ==
          doctest::Approx(logit_loss(LogitLoss::dlr, z10, 1, 4, 0, 0, nullptr)));
    CHECK(logit_loss(LogitLoss::dlr, z, 1, 4, 0, 0, nullptr) == doctest::Approx(2.0 / 2.0));
    CHECK(logit_loss_from_string("dlr-t") == LogitLoss::targeted_dlr);
    CHECK(
        contains(message_of<invalid_argument>([] { logit_loss_from_string("hinge"); }), "unknown logit loss 'hinge'"));
}

TEST_CASE("minimal-eps PGD on affine models equals the analytic distance (L-inf and L2)")
{
    for (Norm norm : {Norm::linf, Norm::l2}) {
        for (PgdMethod method : {PgdMethod::apgd, PgdMethod::pgd}) {
            for (std::uint64_t seed : {1u, 2u}) {
                const auto net = affine_model(30, seed);
                const auto x = mid_inputs(15, 30, seed + 10);
                const auto y = net.predict(x);
                PgdOptions o;
                o.norm = norm;
                o.method = method;
                o.steps = 20;
                MinimalEpsilonSearch ms;
                ms.max_epsilon = norm == Norm::linf ? 1.0 : 5.0;
                ms.tolerance = 1e-4;
                default_engine eng(seed);
                const auto r = pgd_minimal(net, x, y, o, ms, eng);
                for (std::size_t i = 0; i < 15; ++i) {
                    const double exact = affine_distance(net, x, i, y(i), norm);
                    // only where the optimal perturbation stays inside [0, 1]
                    if (exact > 0.3) continue;
                    CAPTURE(to_string(norm));
                    CAPTURE(to_string(method));
                    CAPTURE(i);
                    REQUIRE(r.samples[i].success);
                    CHECK(r.samples[i].epsilon >= exact - 1e-9);
                    CHECK(r.samples[i].epsilon <= exact + 2e-4);
                    const double* a = r.adversarial.data() + i * 30;
                    CHECK(perturbation_norm(a, x.data() + i * 30, 30, norm) == doctest::Approx(r.samples[i].epsilon));
                }
            }
        }
    }
}

TEST_CASE("minimal-eps search with a smaller split and a warm start: the same analytic distances, fewer passes")
{
    for (Norm norm : {Norm::linf, Norm::l2}) {
        const auto net = affine_model(30, 1);
        const auto x = mid_inputs(15, 30, 11);
        const auto y = net.predict(x);
        PgdOptions o;
        o.norm = norm;
        o.steps = 20;
        MinimalEpsilonSearch cold;
        cold.max_epsilon = norm == Norm::linf ? 1.0 : 5.0;
        cold.tolerance = 1e-4;
        cold.split = 0.02;  // walking down from hi to the distance alone takes more than 64 rounds
        MinimalEpsilonSearch warm = cold;
        warm.warm_start = true;
        default_engine e1(1), e2(1);
        const auto rc = pgd_minimal(net, x, y, o, cold, e1);
        const auto rw = pgd_minimal(net, x, y, o, warm, e2);
        std::size_t checked = 0;
        for (std::size_t i = 0; i < 15; ++i) {
            const double exact = affine_distance(net, x, i, y(i), norm);
            if (exact > 0.3) continue;
            CAPTURE(to_string(norm));
            CAPTURE(i);
            for (const auto* r : {&rc, &rw}) {
                REQUIRE(r->samples[i].success);
                CHECK(r->samples[i].epsilon >= exact - 1e-9);
                CHECK(r->samples[i].epsilon <= exact + 2e-4);
            }
            // L-inf, a round that breaks the input: the warm start is the projection of the
            // corner x - e' sign(w) of a larger ball, which on an affine model is the corner of
            // this ball, already adversarial (1 pass, against at least 2 from x); rounds that do
            // not break it cost the same. (L2: clipping to [0, 1] spoils the projection.)
            if (norm == Norm::linf) CHECK(rw.samples[i].iterations < rc.samples[i].iterations);
            ++checked;
        }
        CHECK(checked >= (norm == Norm::linf ? 10u : 1u));
    }
}

TEST_CASE("PGD at a fixed budget: breaks just above the analytic distance, never below")
{
    const auto net = affine_model(25, 7);
    const auto x = mid_inputs(20, 25, 8);
    const auto y = net.predict(x);
    for (Norm norm : {Norm::linf, Norm::l2}) {
        PgdOptions o;
        o.norm = norm;
        o.steps = 10;
        o.restarts = 3;  // random restarts must not find anything below the distance either
        for (std::size_t i = 0; i < 20; ++i) {
            const double exact = affine_distance(net, x, i, y(i), norm);
            if (exact > 0.25) continue;
            const matrix<double> xi = xt::view(x, xt::range(i, i + 1), xt::all());
            const label_vector yi{y(i)};
            default_engine eng(i);
            CAPTURE(i);
            CHECK(pgd(net, xi, yi, exact * 1.01, o, eng).samples[0].success);
            CHECK_FALSE(pgd(net, xi, yi, exact * 0.99, o, eng).samples[0].success);
        }
    }
}

TEST_CASE("brightness model: minimal L-inf eps = margin / 2")
{
    const auto net = brightness_model(50);
    const std::vector<double> c0{0.6, 0.55, 0.3}, c1{0.4, 0.5, 0.9};
    matrix<double> x = test_support::brightness_inputs(c0, c1, 50);
    const label_vector y{0, 0, 1};
    default_engine eng(1);
    MinimalEpsilonSearch ms;
    ms.tolerance = 1e-4;
    const auto r = pgd_minimal(net, x, y, PgdOptions{}, ms, eng);
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        REQUIRE(r.samples[i].success);
        const double half = std::abs(c0[i] - c1[i]) / 2.0;
        CHECK(r.samples[i].epsilon >= half);
        CHECK(r.samples[i].epsilon <= half + 1e-4);
    }
}

TEST_CASE("PGD is never weaker than FGSM on the same sample and eps")
{
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        const auto net = relu_model(seed);
        const auto x = unit_inputs(60, 40, seed + 100);
        const auto y = net.predict(x);  // every input attempted
        FgsmOptions fo;
        fo.loss = AttackLoss::cross_entropy;
        const auto f = fgsm(net, x, y, fo);
        PgdOptions o;
        o.losses = {LogitLoss::cross_entropy};
        o.steps = 5;
        std::size_t checked = 0;
        for (const auto& s : f.samples) {
            if (!s.success) continue;
            const matrix<float> xi = xt::view(x, xt::range(s.index, s.index + 1), xt::all());
            const label_vector yi{y(s.index)};
            default_engine eng(s.index);
            CAPTURE(s.index);
            CHECK(pgd(net, xi, yi, s.epsilon, o, eng).samples[0].success);
            ++checked;
        }
        CHECK(checked > 30);
        // and in minimal-eps terms, with the default losses
        default_engine eng(seed);
        const auto m = pgd_minimal(net, x, y, PgdOptions{}, MinimalEpsilonSearch{}, eng);
        for (std::size_t i = 0; i < 60; ++i)
            if (f.samples[i].success) CHECK(m.samples[i].epsilon <= f.samples[i].epsilon + 1e-3);
    }
}

TEST_CASE("saturated softmax masks the cross-entropy gradient, the margin loss is not fooled")
{
    // logits scaled by 1e4: exp underflows, the CE gradient is exactly 0
    const auto net = affine_model(20, 5, 1e4);
    const auto x = mid_inputs(20, 20, 6);
    const auto y = net.predict(x);
    PgdOptions ce;
    ce.losses = {LogitLoss::cross_entropy};
    PgdOptions margin;
    margin.losses = {LogitLoss::margin};
    default_engine e1(1), e2(1);
    const auto rc = pgd(net, x, y, 0.3, ce, e1);
    const auto rm = pgd(net, x, y, 0.3, margin, e2);
    std::size_t reachable = 0;
    for (std::size_t i = 0; i < 20; ++i) reachable += affine_distance(net, x, i, y(i), Norm::linf) < 0.3;
    REQUIRE(reachable > 3);
    CHECK(rm.successes() == reachable);
    CHECK(rc.successes() < rm.successes());
}

TEST_CASE("PGD invariants: inputs kept, ball and bounds, verification, batch, threads and seeds")
{
    const auto net = relu_model(11);
    const auto x = unit_inputs(50, 40, 12);
    label_vector y = net.predict(x);
    for (std::size_t i = 0; i < 50; i += 5) y(i) = (y(i) + 1) % 5;  // misclassified: skipped
    const matrix<float> before = x;
    for (Norm norm : {Norm::linf, Norm::l2}) {
        PgdOptions o;
        o.norm = norm;
        o.steps = 15;
        o.restarts = 2;
        o.random_start = true;
        const double eps = norm == Norm::linf ? 0.05 : 0.5;
        default_engine e1(9);
        const auto r = pgd(net, x, y, eps, o, e1);
        CHECK(x == before);
        const auto p = net.predict(r.adversarial);
        std::size_t broken = 0;
        for (std::size_t i = 0; i < 50; ++i) {
            const auto& s = r.samples[i];
            CAPTURE(i);
            CHECK(s.attempted == (i % 5 != 0));
            const float* a = r.adversarial.data() + i * 40;
            CHECK(perturbation_norm(a, x.data() + i * 40, 40, norm) <= eps * (1 + 1e-6));
            for (std::size_t j = 0; j < 40; ++j) CHECK((a[j] >= 0.0f && a[j] <= 1.0f));
            if (s.success) {
                CHECK(p(i) != y(i));
                ++broken;
            }
        }
        CHECK(broken > 5);
        CHECK(r.robust_accuracy() == doctest::Approx(static_cast<double>(r.attempted() - broken) / 50.0));
        for (std::size_t batch : {std::size_t{1}, std::size_t{7}}) {
            PgdOptions ob = o;
            ob.batch = batch;
            default_engine e2(9);
            const auto rb = pgd(net, x, y, eps, ob, e2);
            CHECK(rb.adversarial == r.adversarial);
            for (std::size_t i = 0; i < 50; ++i) CHECK(rb.samples[i].iterations == r.samples[i].iterations);
        }
        // minimal mode: epsilon is the norm of the kept adversarial (a random start may
        // break an input well inside the ball tried)
        MinimalEpsilonSearch ms;
        ms.max_epsilon = eps * 4;
        default_engine e5(9);
        const auto m = pgd_minimal(net, x, y, o, ms, e5);
        std::size_t inside = 0;
        for (const auto& s : m.samples) {
            if (!s.success) continue;
            const double n = perturbation_norm(m.adversarial.data() + s.index * 40, x.data() + s.index * 40, 40, norm);
            CHECK(s.epsilon == doctest::Approx(n).epsilon(1e-12));
            inside += n < ms.max_epsilon * 0.999;
        }
        CHECK(inside > 5);
        auto net1 = net;
        net1.set_inference_threads(1);
        default_engine e3(9), e4(10);
        CHECK(pgd(net1, x, y, eps, o, e3).adversarial == r.adversarial);
        CHECK(pgd(net, x, y, eps, o, e4).adversarial != r.adversarial);
    }
}

TEST_CASE("targeted DLR runs one target after another, robust accuracy falls to 0 with eps")
{
    const auto net = relu_model(21);
    const auto x = unit_inputs(40, 40, 22);
    const auto y = net.predict(x);
    PgdOptions o;
    o.losses = {LogitLoss::targeted_dlr};
    o.targets = 3;
    o.steps = 20;
    default_engine eng(1);
    double last = 1.0;
    for (double eps : {0.0, 0.02, 0.1, 1.0}) {
        const auto r = pgd(net, x, y, eps, o, eng);
        CAPTURE(eps);
        CHECK(r.robust_accuracy() <= last);
        last = r.robust_accuracy();
        if (eps == 0.0) CHECK(last == 1.0);
        for (const auto& s : r.samples)
            if (!s.success) CHECK(s.iterations == 3 * 21);  // 3 targets x (start + 20 steps)
    }
    CHECK(last == 0.0);
}

TEST_CASE("bad PGD input gets clear errors")
{
    const auto net = affine_model(10, 1);
    const auto x = mid_inputs(3, 10, 2);
    const auto y = net.predict(x);
    default_engine eng(1);
    PgdOptions o;
    o.losses = {LogitLoss::dlr};
    CHECK(contains(message_of<invalid_argument>([&] { pgd(net, x, y, 0.1, o, eng); }),
                   "PgdOptions: loss dlr needs at least 3 classes, the network has 2"));
    o = PgdOptions{};
    o.steps = 0;
    CHECK(
        contains(message_of<invalid_argument>([&] { pgd(net, x, y, 0.1, o, eng); }), "PgdOptions: steps must be > 0"));
    CHECK(contains(message_of<invalid_argument>([&] { pgd(net, x, y, -0.1, PgdOptions{}, eng); }),
                   "pgd: epsilon must be finite and >= 0, got -0.1"));
    MinimalEpsilonSearch ms;
    ms.tolerance = 0.0;
    CHECK(contains(message_of<invalid_argument>([&] { pgd_minimal(net, x, y, PgdOptions{}, ms, eng); }),
                   "MinimalEpsilonSearch: tolerance must be finite and > 0"));
    ms = MinimalEpsilonSearch{};
    ms.split = 1.0;
    CHECK(contains(message_of<invalid_argument>([&] { pgd_minimal(net, x, y, PgdOptions{}, ms, eng); }),
                   "MinimalEpsilonSearch: split must be in [0.01, 0.99], got 1.000000"));
    matrix<double> out = x;
    out(1, 3) = 1.5;
    CHECK(contains(message_of<invalid_argument>([&] { pgd(net, out, y, 0.1, PgdOptions{}, eng); }),
                   "pgd: input 1, element 3 = 1.5"));
    CHECK(norm_from_string("l2") == Norm::l2);
    CHECK(contains(message_of<invalid_argument>([] { norm_from_string("l1"); }), "unknown norm 'l1'"));
}

TEST_CASE("APGD step-size schedule: checkpoints of the paper, halving rule")
{
    // p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06), w_j = p_j N
    CHECK(detail::apgd_checkpoints(100) == std::vector<std::size_t>{22, 41, 57, 70, 80, 87, 93, 99});
    CHECK(detail::apgd_checkpoints(50) == std::vector<std::size_t>{11, 21, 30, 38, 45});
    CHECK(detail::apgd_checkpoints(3) == std::vector<std::size_t>{1, 2, 3});

    // slot 0 rose in 5 of 22 steps (oscillating), slot 1 in 20 of 22 (rising): only slot 0 halves,
    // and returns to its best point
    detail::PgdState<double> s;
    s.d = 2;
    s.x = matrix<double>{{0.1, 0.2}, {0.3, 0.4}};
    s.x_old = s.x;
    s.x_best = matrix<double>{{0.5, 0.6}, {0.7, 0.8}};
    s.grad = matrix<double>{{1, 1}, {1, 1}};
    s.grad_best = matrix<double>{{2, 2}, {2, 2}};
    s.eta = {0.4, 0.4};
    s.loss = {1.0, 1.0};
    s.loss_best = {2.0, 3.0};
    s.loss_best_check = {1.5, 1.5};
    s.increases = {5, 20};
    s.reduced = {0, 0};
    s.active = {0, 1};
    detail::pgd_checkpoint(s, 22);
    CHECK(s.eta == std::vector<double>{0.2, 0.4});
    CHECK(s.x(0, 0) == 0.5);
    CHECK(s.x_old(0, 1) == 0.6);
    CHECK(s.grad(0, 0) == 2.0);
    CHECK(s.x(1, 0) == 0.3);
    CHECK(s.loss[0] == 2.0);
    CHECK(s.increases == std::vector<std::size_t>{0, 0});
    // next checkpoint: slot 1 rose often but its best loss did not improve since the last
    // checkpoint, which kept eta: halve; slot 0 was halved last time and did not improve: keep
    s.increases = {19, 19};
    detail::pgd_checkpoint(s, 19);
    CHECK(s.eta == std::vector<double>{0.2, 0.2});
    CHECK(s.x(1, 0) == 0.7);
}

TEST_CASE("PGD progress callbacks: one call per block and run, true stops")
{
    const auto net = relu_model(31);
    const auto x = unit_inputs(30, 40, 32);
    const auto y = net.predict(x);
    PgdOptions o;
    o.steps = 5;
    o.restarts = 2;
    o.batch = 10;
    struct Count {
        std::vector<PgdProgress> seen;
        void on_progress(const PgdProgress& p) { seen.push_back(p); }
    } count;
    default_engine e1(1);
    const auto r = pgd(net, x, y, 0.01, o, e1, count);
    REQUIRE(!count.seen.empty());
    CHECK(count.seen.front().runs == 4);  // 2 losses x 2 restarts
    CHECK(count.seen.front().inputs == 30);
    CHECK(count.seen.front().run == 1);
    CHECK(count.seen.back().unbroken == r.attempted() - r.successes());
    struct Stop {
        bool on_progress(const PgdProgress&) { return true; }
    } stop;
    default_engine e2(1);
    const auto rs = pgd(net, x, y, 0.01, o, e2, stop);
    std::size_t attacked = 0;
    for (const auto& s : rs.samples) attacked += s.iterations > 0;
    CHECK(attacked == 10);  // the first block of the first run only
}

TEST_CASE("the thorough settings break every input the defaults break, and more")
{
    const auto net = relu_model(41);
    const auto x = unit_inputs(80, 40, 42);
    const auto y = net.predict(x);
    PgdOptions quick;
    quick.steps = 3;
    PgdOptions thorough = PgdOptions::thorough();
    thorough.steps = 3;
    thorough.targets = 4;
    CHECK(thorough.losses.size() == 3);
    CHECK(thorough.restarts == 5);
    CHECK_FALSE(thorough.random_start);  // the first run of each loss from x, as the defaults
    default_engine e1(1), e2(1);
    const auto a = pgd(net, x, y, 0.05, quick, e1);
    const auto b = pgd(net, x, y, 0.05, thorough, e2);
    for (std::size_t i = 0; i < 80; ++i)
        if (a.samples[i].success) CHECK(b.samples[i].success);
    CHECK(b.successes() > a.successes());
}
