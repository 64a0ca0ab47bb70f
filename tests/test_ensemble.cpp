// Worst case over attacks, robust accuracy from minimal budgets, and the transfer attack:
// analytic oracles on affine models and the masking case transfer exists to reveal.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sleepnet/attacks/ensemble.hpp>
#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/fmn.hpp>

#include "attack_models.hpp"
#include "support.hpp"

using namespace sleepnet;
using test_support::affine_distance;
using test_support::affine_model;
using test_support::contains;
using test_support::message_of;
using test_support::mid_inputs;

TEST_CASE("worst case: per input the smallest budget of any attack, its adversarial")
{
    const auto net = affine_model(30, 4);
    const auto x = mid_inputs(25, 30, 5);
    const auto y = net.predict(x);
    default_engine eng(1);
    MinimalEpsilonSearch coarse;
    coarse.tolerance = 0.05;  // a loose bisection: FMN is tighter on most inputs
    const auto a = pgd_minimal(net, x, y, PgdOptions{}, coarse, eng);
    const auto f = fmn(net, x, y);
    const auto w = worst_case<double>({a, f});
    CHECK(w.attack == "worst-case(apgd-linf, fmn-linf)");
    std::size_t from_fmn = 0;
    for (std::size_t i = 0; i < 25; ++i) {
        CAPTURE(i);
        const double best = std::min(a.samples[i].epsilon, f.samples[i].epsilon);
        CHECK(w.samples[i].epsilon == best);
        CHECK(w.samples[i].iterations == a.samples[i].iterations + f.samples[i].iterations);
        const auto& src = f.samples[i].epsilon < a.samples[i].epsilon ? f : a;
        from_fmn += &src == &f;
        for (std::size_t j = 0; j < 30; ++j) CHECK(w.adversarial(i, j) == src.adversarial(i, j));
    }
    CHECK(from_fmn > 5);
    // robust accuracy read off the budgets: the analytic distances decide, away from them
    for (double e : {0.02, 0.05, 0.1}) {
        std::size_t robust = 0;
        for (std::size_t i = 0; i < 25; ++i) robust += affine_distance(net, x, i, y(i), Norm::linf) > e;
        CHECK(robust_accuracy_at(f, e) == doctest::Approx(robust / 25.0));
    }
    CHECK(robust_accuracy_curve(w, {0.0, 10.0}) == std::vector<double>{1.0, 0.0});
    // a fixed-budget result has no budgets to read
    default_engine e2(2);
    const auto fixed = pgd(net, x, y, 0.1, PgdOptions{}, e2);
    CHECK(
        contains(message_of<invalid_argument>([&] { robust_accuracy_at(fixed, 0.1); }), "reports no budget per input"));
    const auto other = mid_inputs(3, 30, 6);
    const auto small = fmn(net, other, net.predict(other));
    CHECK(contains(message_of<invalid_argument>([&] { worst_case<double>({a, small}); }), "has 3 inputs"));
}

TEST_CASE("transfer from the network itself: the analytic distance decides")
{
    const auto net = affine_model(25, 7);
    const auto x = mid_inputs(20, 25, 8);
    const auto y = net.predict(x);
    default_engine eng(1);
    for (std::size_t i = 0; i < 20; ++i) {
        const double exact = affine_distance(net, x, i, y(i), Norm::linf);
        if (exact > 0.25) continue;
        const matrix<double> xi = xt::view(x, xt::range(i, i + 1), xt::all());
        const label_vector yi{y(i)};
        CAPTURE(i);
        CHECK(transfer_attack(net, net, xi, yi, exact * 1.01, PgdOptions{}, eng).samples[0].success);
        CHECK_FALSE(transfer_attack(net, net, xi, yi, exact * 0.99, PgdOptions{}, eng).samples[0].success);
    }
}

TEST_CASE("transfer reveals masking: a saturated softmax hides the CE gradient, not the boundary")
{
    // the same affine model, its logits scaled by 1e4: the CE gradient underflows to 0
    const auto surrogate = affine_model(20, 5);
    const auto masked = affine_model(20, 5, 1e4);
    const auto x = mid_inputs(30, 20, 6);
    const auto y = masked.predict(x);
    PgdOptions ce;
    ce.losses = {LogitLoss::cross_entropy};
    default_engine e1(1), e2(1);
    const auto white = pgd(masked, x, y, 0.2, ce, e1);
    const auto transfer = transfer_attack(surrogate, masked, x, y, 0.2, ce, e2);
    std::size_t reachable = 0;
    for (std::size_t i = 0; i < 30; ++i) reachable += affine_distance(masked, x, i, y(i), Norm::linf) < 0.2;
    REQUIRE(reachable > 3);
    CHECK(transfer.successes() == reachable);
    CHECK(white.successes() < transfer.successes());
    for (const auto& s : transfer.samples) {
        if (!s.success) continue;
        const double* a = transfer.adversarial.data() + s.index * 20;
        CHECK(perturbation_norm(a, x.data() + s.index * 20, 20, Norm::linf) <= 0.2 + 1e-12);
    }
    DenseNetwork<double> wide({21, 2});
    CHECK(contains(message_of<invalid_argument>([&] { transfer_attack(wide, masked, x, y, 0.1, ce, e1); }),
                   "transfer_attack: the surrogate maps 21 -> 2, the target 20 -> 2"));
}
