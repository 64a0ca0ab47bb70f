// The robustness audit: every check passes on an affine model (exact attacks), the
// masked (saturated-softmax) affine model is flagged, the curves of a small ReLU network
// are consistent, callbacks stop it, and bad options name their field.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sleepnet/attacks/audit.hpp>

#include "attack_models.hpp"
#include "support.hpp"

using namespace sleepnet;
using test_support::affine_distance;
using test_support::affine_model;
using test_support::contains;
using test_support::message_of;
using test_support::mid_inputs;

namespace {

/// The verdict of every check, for the failure messages.
std::string summary(const AuditReport<double>& r)
{
    std::string s;
    for (const auto& c : r.checks)
        s += (c.pass ? "PASS " : "FAIL ") + c.name + ": " + std::to_string(c.value) + " vs " +
             std::to_string(c.reference) + " (" + c.detail + ")\n";
    return s;
}

bool passed(const AuditReport<double>& r, const char* name)
{
    const AuditCheck* c = r.check(name);
    REQUIRE_MESSAGE(c != nullptr, name);
    return c->pass;
}

const std::vector<double>& curve(const std::vector<std::pair<std::string, std::vector<double>>>& curves,
                                 const std::string& name)
{
    for (const auto& c : curves)
        if (c.first == name) return c.second;
    FAIL("no curve " << name);
    return curves.front().second;
}

/// A d-input affine 2-class model whose every mid input is within L-inf 0.25 of the boundary.
struct AffineCase {
    DenseNetwork<double> net;
    matrix<double> x;
    label_vector y;
};

AffineCase affine_case(double scale)
{
    AffineCase a{affine_model(64, 11, scale), mid_inputs(40, 64, 12), {}};
    a.y = a.net.predict(a.x);
    return a;
}

/// The budget near the median distance, so that the per-budget checks see both kinds of inputs.
AuditOptions affine_options()
{
    AuditOptions o;
    o.epsilon = 0.04;
    o.l2_norms = {0.05, 0.1, 0.2, 0.3, 0.5};
    return o;
}

}  // namespace

TEST_CASE("affine model: every check passes, no masking suspected")
{
    const auto a = affine_case(1.0);
    std::size_t reachable = 0;
    for (std::size_t i = 0; i < 40; ++i) reachable += affine_distance(a.net, a.x, i, a.y(i), Norm::linf) < 0.25;
    REQUIRE(reachable == 40);
    std::size_t robust_at_eps = 0;  // the per-budget checks see broken and unbroken inputs
    for (std::size_t i = 0; i < 40; ++i) robust_at_eps += affine_distance(a.net, a.x, i, a.y(i), Norm::linf) > 0.04;
    REQUIRE(robust_at_eps > 8);
    REQUIRE(robust_at_eps < 32);
    const auto surrogate = affine_model(64, 11, 0.5);  // the same boundary, smaller logits
    default_engine eng(1);
    const auto r = audit(a.net, a.x, a.y, &surrogate, affine_options(), eng);
    INFO(summary(r));
    REQUIRE(r.checks.size() == 7);
    for (const auto& c : r.checks) CHECK_MESSAGE(c.pass, c.name);
    CHECK_FALSE(r.masking_suspected());
    CHECK_FALSE(r.stopped);
    CHECK(r.clean_accuracy == 1.0);
    // the APGD curve is the analytic one (bisection to 1e-3; the grid points are away from it)
    const auto& apgd = curve(r.linf_curves, "apgd");
    for (std::size_t k = 0; k < r.epsilons.size(); ++k) {
        std::size_t robust = 0;
        for (std::size_t i = 0; i < 40; ++i)
            robust += affine_distance(a.net, a.x, i, a.y(i), Norm::linf) > r.epsilons[k];
        CHECK(apgd[k] == doctest::Approx(robust / 40.0).epsilon(0.03));
    }
}

TEST_CASE("saturated softmax (logits x 1e4): cross-entropy alone is masked and the audit says so")
{
    const auto a = affine_case(1e4);
    default_engine eng(2);
    AuditOptions o = affine_options();
    o.attack.losses = {LogitLoss::cross_entropy};
    o.l2 = false;
    const auto masked = audit(a.net, a.x, a.y, nullptr, o, eng);
    {
        INFO(summary(masked));
        CHECK(masked.masking_suspected());
        CHECK_FALSE(passed(masked, audit_checks::margin));   // margin alone breaks what CE cannot
        CHECK(masked.check(audit_checks::margin)->masking);  // and the attack audited is CE only
        CHECK(contains(masked.check(audit_checks::margin)->detail, "median top softmax probability 1: saturated"));
        CHECK_FALSE(passed(masked, audit_checks::reaches_zero));  // CE-APGD does not move even at eps 1
        CHECK_FALSE(passed(masked, audit_checks::black_box));     // Square does not need the gradient
    }
    // with the default losses APGD's margin run breaks it: only the CE-vs-margin check
    // fails, and it still says masking (the saturated softmax masks every CE-based attack,
    // FGSM included)
    default_engine e2(2);
    o.attack = PgdOptions{};
    const auto r = audit(a.net, a.x, a.y, nullptr, o, e2);
    INFO(summary(r));
    CHECK(r.masking_suspected());
    CHECK_FALSE(passed(r, audit_checks::margin));
    CHECK(r.check(audit_checks::margin)->masking);
    CHECK(r.converged());
    std::size_t robust = 0;
    for (std::size_t i = 0; i < a.y.size(); ++i)
        robust += affine_distance(a.net, a.x, i, a.y(i), Norm::linf) > o.epsilon;
    CHECK(r.robust_accuracy == doctest::Approx(static_cast<double>(robust) / static_cast<double>(a.y.size())));
    CHECK(masked.robust_accuracy == r.robust_accuracy);  // Square and the margin-free runs reach the same inputs
    for (const char* name : {audit_checks::iterative, audit_checks::reaches_zero, audit_checks::black_box,
                             audit_checks::converged, audit_checks::noise})
        CHECK_MESSAGE(passed(r, name), name);
    CHECK(curve(r.linf_curves, "apgd").back() == 0.0);
}

namespace {

/// A random 16-12-4 ReLU network (4 classes: the targeted DLR run is made), inputs in
/// [0, 1] labelled by it.
DenseNetwork<double> relu_net(std::uint64_t seed)
{
    DenseNetwork<double> net({16, 12, 4}, NetworkOptions{Activation::relu, Activation::linear, true});
    default_engine eng(seed);
    net.initialize(Init::uniform(0.6), eng);
    return net;
}

AuditOptions small_options()
{
    AuditOptions o;
    o.epsilons = {0.02, 0.05, 0.1, 0.2, 0.4};
    o.attack.steps = 20;
    o.search.tolerance = 0.01;
    o.square_queries = 100;
    o.noise_draws = 3;
    o.l2_max = 4.0;
    o.l2_norms = {0.1, 0.3, 0.6, 1.0};
    return o;
}

struct Recorder {
    std::vector<std::string> stages;
    std::size_t stages_total = 0, pgd_calls = 0;
    std::size_t stop_at_stage = 1000;
    bool stop_in_pgd = false;
    bool on_progress(const AuditProgress& p)
    {
        stages.push_back(p.stage);
        stages_total = p.stages;
        return p.index == stop_at_stage;
    }
    bool on_progress(const PgdProgress&)
    {
        ++pgd_calls;
        return stop_in_pgd;
    }
};

}  // namespace

TEST_CASE("small ReLU network: curves non-increasing, worst case below every attack, sizes, determinism")
{
    const auto net = relu_net(3), surrogate = relu_net(4);
    default_engine data(5);
    const auto x = test_support::random_matrix(30, 16, data, 0.0, 1.0);
    const auto y = net.predict(x);
    const auto o = small_options();
    default_engine eng(6);
    Recorder rec;
    const auto r = audit(net, x, y, &surrogate, o, eng, rec);
    INFO(summary(r));
    CHECK(r.checks.size() == 7);
    CHECK(rec.stages.size() == 14);
    CHECK(rec.stages_total == 14);
    CHECK(rec.pgd_calls > 0);
    CHECK(r.epsilons == o.epsilons);
    CHECK(r.l2_norms == o.l2_norms);
    REQUIRE(r.linf_curves.size() == 5);
    REQUIRE(r.l2_curves.size() == 3);
    CHECK(r.worst.samples.size() == 30);
    CHECK(r.worst_l2.samples.size() == 30);
    for (const auto* curves : {&r.linf_curves, &r.l2_curves}) {
        const auto& worst = curve(*curves, "worst-case");
        for (const auto& [name, c] : *curves) {
            CAPTURE(name);
            REQUIRE(c.size() == (curves == &r.linf_curves ? o.epsilons.size() : o.l2_norms.size()));
            for (std::size_t k = 0; k < c.size(); ++k) {
                CHECK(c[k] <= r.clean_accuracy);
                CHECK(worst[k] <= c[k]);
                if (k > 0) CHECK(c[k] <= c[k - 1]);
            }
        }
    }
    // same seed, same report
    default_engine again(6);
    const auto r2 = audit(net, x, y, &surrogate, o, again);
    REQUIRE(r2.checks.size() == r.checks.size());
    for (std::size_t k = 0; k < r.checks.size(); ++k) {
        CHECK(r2.checks[k].value == r.checks[k].value);
        CHECK(r2.checks[k].detail == r.checks[k].detail);
    }
    CHECK(r2.linf_curves == r.linf_curves);
    CHECK(r2.l2_curves == r.l2_curves);
    // without a surrogate or L2: the other parts draw the same numbers
    auto o3 = o;
    o3.l2 = false;
    default_engine third(6);
    const auto r3 = audit(net, x, y, nullptr, o3, third);
    CHECK(r3.checks.size() == 6);
    CHECK(r3.check(audit_checks::transfer) == nullptr);
    CHECK(r3.l2_curves.empty());
    CHECK(r3.linf_curves == r.linf_curves);
    CHECK(r3.check(audit_checks::margin)->detail == r.check(audit_checks::margin)->detail);
}

TEST_CASE("a callback stops the audit: the report holds what was done")
{
    const auto net = relu_net(3);
    default_engine data(5);
    const auto x = test_support::random_matrix(10, 16, data, 0.0, 1.0);
    const auto y = net.predict(x);
    default_engine eng(1);
    Recorder at_fmn;
    at_fmn.stop_at_stage = 4;  // before FMN: check 1 is made, the curves are not
    const auto r = audit(net, x, y, nullptr, small_options(), eng, at_fmn);
    CHECK(r.stopped);
    CHECK(at_fmn.stages ==
          std::vector<std::string>{"apgd-linf minimal", "apgd-linf at eps", "fgsm-ce", "fgsm-network", "fmn-linf"});
    REQUIRE(r.checks.size() == 1);
    CHECK(r.checks[0].name == audit_checks::iterative);
    CHECK(r.linf_curves.empty());
    Recorder in_pgd;
    in_pgd.stop_in_pgd = true;  // inside the first APGD run: nothing is reported
    const auto r2 = audit(net, x, y, nullptr, small_options(), eng, in_pgd);
    CHECK(r2.stopped);
    CHECK(r2.checks.empty());
    CHECK(in_pgd.pgd_calls == 1);
}

TEST_CASE("noise check: sign perturbations of norm eps, clipped")
{
    const auto net = relu_net(3);
    default_engine data(5);
    const auto x = test_support::random_matrix(40, 16, data, 0.0, 1.0);
    const auto y = net.predict(x);
    const auto n = detail::audit_noise(net, x, y, 0.3, 5, Bounds{}, 9);
    std::size_t broken = 0;
    for (const auto& s : n.samples) {
        if (!s.success) continue;
        ++broken;
        const double* a = n.adversarial.data() + s.index * 16;
        CHECK(perturbation_norm(a, x.data() + s.index * 16, 16, Norm::linf) <= 0.3 + 1e-12);
        for (std::size_t j = 0; j < 16; ++j) CHECK((a[j] >= 0.0 && a[j] <= 1.0));
    }
    CHECK(broken > 0);
    CHECK(broken < 40);
    // the rule: noise robust accuracy >= APGD's + half the gap to the clean accuracy
    const AuditOptions o;
    CHECK(detail::audit_noise_check(0.8, 0.4, 1.0, o).pass);
    CHECK_FALSE(detail::audit_noise_check(0.6, 0.4, 0.9, o).pass);
}

TEST_CASE("bad options and arguments: exceptions name the field")
{
    const auto a = affine_case(1.0);
    default_engine eng(1);
    auto msg = [&](auto&& change) {
        AuditOptions o;
        change(o);
        return message_of<invalid_argument>([&] { audit(a.net, a.x, a.y, nullptr, o, eng); });
    };
    CHECK(contains(msg([](AuditOptions& o) { o.epsilons.clear(); }), "AuditOptions: epsilons must not be empty"));
    CHECK(contains(msg([](AuditOptions& o) {
                       o.epsilons = {0.1, 0.05};
                   }),
                   "AuditOptions: epsilons must be strictly increasing"));
    CHECK(contains(msg([](AuditOptions& o) {
                       o.epsilons = {0.0, 0.1};
                   }),
                   "AuditOptions: epsilons must be finite and > 0"));
    CHECK(contains(msg([](AuditOptions& o) { o.epsilon = 0.0; }), "AuditOptions: epsilon must be finite and > 0"));
    CHECK(contains(msg([](AuditOptions& o) { o.attack.norm = Norm::l2; }), "AuditOptions: attack.norm must be linf"));
    CHECK(contains(msg([](AuditOptions& o) { o.attack.steps = 0; }),
                   "AuditOptions: attack: PgdOptions: steps must be > 0"));
    CHECK(contains(msg([](AuditOptions& o) { o.attack.losses = {LogitLoss::targeted_dlr}; }),
                   "AuditOptions: attack: PgdOptions: loss dlr-t needs at least 4 classes"));
    CHECK(contains(msg([](AuditOptions& o) { o.search.tolerance = 0.0; }),
                   "AuditOptions: search: MinimalEpsilonSearch: tolerance must be finite and > 0"));
    CHECK(contains(msg([](AuditOptions& o) { o.square_queries = 0; }), "AuditOptions: square_queries must be > 0"));
    CHECK(contains(msg([](AuditOptions& o) { o.noise_draws = 0; }), "AuditOptions: noise_draws must be > 0"));
    CHECK(contains(msg([](AuditOptions& o) { o.tolerance = 1.0; }), "AuditOptions: tolerance must be in [0, 1)"));
    CHECK(contains(msg([](AuditOptions& o) { o.l2_max = -1.0; }), "AuditOptions: l2_max must be finite and > 0"));
    CHECK(contains(msg([](AuditOptions& o) {
                       o.l2_norms = {1.0, 1.0};
                   }),
                   "AuditOptions: l2_norms must be strictly increasing"));
    AuditOptions no_l2;  // the L2 fields are not read without l2
    no_l2.l2 = false;
    no_l2.l2_norms.clear();
    no_l2.l2_max = 0.0;
    CHECK_NOTHROW(no_l2.validate());
    const DenseNetwork<double> wide({65, 2});
    const AuditOptions defaults;
    CHECK(contains(message_of<invalid_argument>([&] { audit(a.net, a.x, a.y, &wide, defaults, eng); }),
                   "audit: the surrogate maps 65 -> 2, the network 64 -> 2"));
    const label_vector short_y{0, 1};
    CHECK(contains(message_of<invalid_argument>([&] { audit(a.net, a.x, short_y, nullptr, defaults, eng); }),
                   "audit: 40 inputs but 2 labels"));
}

namespace {

/// A result of 10 attempted inputs, the first `broken` of them broken.
AttackResult<double> first_broken(std::size_t broken)
{
    AttackResult<double> r;
    r.samples.resize(10);
    for (std::size_t i = 0; i < 10; ++i) {
        r.samples[i].attempted = true;
        r.samples[i].success = i < broken;
    }
    return r;
}

}  // namespace

TEST_CASE("the CE-vs-margin check says masking for a saturated softmax or a CE-only attack, not for a flat one")
{
    const auto margin = first_broken(7);  // robust accuracy 0.3
    const auto ce = first_broken(2);      // 0.8
    AuditOptions o;                       // attack: CE then margin
    const auto flat = detail::audit_margin_check(margin, ce, 0.25, o);
    CHECK_FALSE(flat.pass);
    CHECK(flat.value == doctest::Approx(0.5));
    CHECK_FALSE(flat.masking);
    CHECK(contains(flat.detail, "flat"));
    CHECK(detail::audit_margin_check(margin, ce, 0.995, o).masking);
    o.attack.losses = {LogitLoss::cross_entropy};
    CHECK(detail::audit_margin_check(margin, ce, 0.25, o).masking);
    CHECK(detail::audit_margin_check(ce, ce, 0.25, o).pass);
}

TEST_CASE("an unconverged attack or strong noise is no sign of masking")
{
    const auto base = first_broken(2), strong = first_broken(6);
    AuditOptions o;
    const auto c = detail::audit_converged(base, strong, "more runs", o);
    CHECK_FALSE(c.pass);
    CHECK(c.value == doctest::Approx(0.4));
    CHECK_FALSE(c.masking);
    const auto n = detail::audit_noise_check(0.3, 0.3, 0.9, o);
    CHECK_FALSE(n.pass);
    CHECK_FALSE(n.masking);
    AuditReport<double> r;
    r.checks = {c, n};
    CHECK_FALSE(r.masking_suspected());
    CHECK_FALSE(r.converged());
    r.checks.push_back(detail::audit_not_stronger(audit_checks::black_box, "Square", strong, base, o));
    CHECK(r.masking_suspected());  // a black-box attack beating the white-box one is
}
