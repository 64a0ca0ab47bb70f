// Sleep parameter search: the space's mapping, ranking, determinism across thread counts,
// the JSON-lines log (resume, torn lines, foreign logs), GA elitism, the runaway guard and
// callbacks.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <sleepnet/tune/objective.hpp>
#include <sleepnet/tune/search.hpp>

#include "support.hpp"

using namespace sleepnet;
using test_support::contains;
using test_support::message_of;

namespace {

/// The candidates' engine prototypes of most tests: sleep and refit draw from copies of
/// default_engine(1).
const CandidateEngines<> seed1{default_engine(1), default_engine(1)};

DenseNetwork<float> small_net(std::uint64_t seed)
{
    DenseNetwork<float> net({20, 12, 4});
    default_engine eng(seed);
    for (std::size_t l = 0; l < net.num_layers(); ++l)
        for (auto& w : net.weights(l)) w = static_cast<float>(rng::uniform<double>(eng, -0.3, 0.6));
    return net;
}

TuneData<float> small_data(std::uint64_t seed)
{
    default_engine eng(seed);
    TuneData<float> d;
    d.sleep_x = matrix<float>::from_shape({30, 20});
    for (auto& v : d.sleep_x) v = rng::uniform01<double>(eng) < 0.4 ? 0.f : rng::uniform01<float>(eng);
    d.val_x = matrix<float>::from_shape({24, 20});
    for (auto& v : d.val_x) v = rng::uniform01<float>(eng);
    const auto net = small_net(seed);
    d.val_y = net.predict(d.val_x);  // the control is right on all of them
    for (std::size_t i = 0; i < d.val_y.size(); i += 5) d.val_y(i) = (d.val_y(i) + 1) % 4;  // and wrong on some
    return d;
}

/// Objective: the sum of the first layer's weights (sleep changes it); counts its calls.
struct WeightSum {
    std::atomic<int>* calls = nullptr;
    bool some_infinite = false;  ///< +inf for about half the networks (as a median over resisting inputs)
    std::string name() const { return "weight_sum"; }
    double operator()(const DenseNetwork<float>& net, const matrix<float>&, const label_vector&) const
    {
        if (calls) ++*calls;
        double s = 0.0;
        for (float w : net.weights(0)) s += w;
        if (some_infinite && static_cast<long long>(std::fabs(s) * 1000.0) % 2 == 0)
            return std::numeric_limits<double>::infinity();
        return s;
    }
};

SearchSpace small_space()
{
    SearchSpace s;
    s.steps = {50.0, 400.0, true};
    s.threshold = {0.05, 2.0, true};
    s.alpha_scale = {0.5, 5.0, true};
    s.rate = {50.0, 400.0, true};
    return s;
}

void same_history(const TuneResult& a, const TuneResult& b)
{
    REQUIRE(a.history.size() == b.history.size());
    for (std::size_t i = 0; i < a.history.size(); ++i) {
        CAPTURE(i);
        CHECK(a.history[i].genes == b.history[i].genes);
        CHECK(a.history[i].accuracy == b.history[i].accuracy);
        CHECK(a.history[i].feasible == b.history[i].feasible);
        CHECK(a.history[i].spikes == b.history[i].spikes);
        if (a.history[i].feasible) CHECK(a.history[i].value == b.history[i].value);
    }
}

std::string log_file(const std::string& name) { return test_support::fresh_dir("tune", name) + "/log.jsonl"; }

}  // namespace

TEST_CASE("search space: log and linear decoding, rounding, input choice, encode inverts decode")
{
    ParamRange r{0.01, 100.0, true};
    CHECK(r.decode(0.0) == doctest::Approx(0.01));
    CHECK(r.decode(1.0) == doctest::Approx(100.0));
    CHECK(r.decode(0.5) == doctest::Approx(1.0));    // geometric mean
    CHECK(r.decode(2.0) == doctest::Approx(100.0));  // clamped
    ParamRange lin{2.0, 4.0, false};
    CHECK(lin.decode(0.25) == doctest::Approx(2.5));
    CHECK(ParamRange{3.0, 3.0, true}.decode(0.9) == 3.0);

    SearchSpace s;
    const std::size_t L = 3;
    REQUIRE(s.genes(L) == 9);
    std::vector<double> g{0.5, 0.0, 1.0, 0.25, 0.5, 0.75, 0.0, 0.5, 1.0};
    const SleepParams p = s.decode(g, L);
    CHECK(p.rate == doctest::Approx(std::sqrt(10.0 * 490.0)));
    CHECK(p.inc == doctest::Approx(1e-4));
    CHECK(p.dec == doctest::Approx(0.1));
    CHECK(p.steps == static_cast<std::size_t>(std::llround(std::sqrt(300.0 * 30000.0))));
    CHECK(p.input == SleepInput::mean);
    CHECK(p.thresholds[0] == doctest::Approx(0.3));
    CHECK(p.thresholds[2] == doctest::Approx(100.0));
    CHECK(p.alpha.empty());
    p.validate(L);

    const auto back = s.encode(p);
    const SleepParams q = s.decode(back, L);
    CHECK(q.rate == doctest::Approx(p.rate));
    CHECK(q.inc == doctest::Approx(p.inc));
    CHECK(q.thresholds[1] == doctest::Approx(p.thresholds[1]));
    CHECK(q.steps == p.steps);
    CHECK(q.input == p.input);

    CHECK(contains(message_of<invalid_argument>([&] { s.decode({0.5}, L); }), "genome has 1 genes, expected 9"));
    SearchSpace bad;
    bad.rate.hi = 600.0;  // 2 * 0.001 * 600 > 1
    CHECK(contains(message_of<invalid_argument>([&] { bad.validate(L); }), "spike probability"));
    SearchSpace bad2;
    bad2.inc = {0.0, 0.1, true};
    CHECK(contains(message_of<invalid_argument>([&] { bad2.validate(L); }), "log-scale range 'inc' needs lo > 0"));
    SearchSpace bad3;
    bad3.per_layer_threshold = {{1.0, 2.0, true}};
    CHECK(contains(message_of<invalid_argument>([&] { bad3.validate(L); }),
                   "1 per-layer threshold ranges for 3 simulated layers"));
}

TEST_CASE("search space: optional genes are off by default and leave the genome and its JSON as before")
{
    SearchSpace s;
    CHECK(s.optional_genes() == 0);
    CHECK(s.genes(3) == 9);
    const auto j = nlohmann::json(s);
    for (const char* key : {"decay", "rules", "normalizations", "vary_include_output"}) {
        CAPTURE(key);
        CHECK_FALSE(j.contains(key));
    }
    const SleepParams p = s.decode(std::vector<double>(9, 0.5), 3);
    CHECK(p.decay == s.base.decay);
    CHECK(p.rule == s.base.rule);
    CHECK(p.normalization == s.base.normalization);
    CHECK(p.include_output);
    CHECK(p.thresholds.size() == 3);
}

TEST_CASE("search space: decay, rule, normalization and include_output genes decode, encode and validate")
{
    SearchSpace s;
    s.decay = ParamRange{0.9, 1.0, false};
    s.rules = {StdpRuleKind::authors, StdpRuleKind::paper};
    s.normalizations = {NormalizationChain::authors, NormalizationChain::textbook, NormalizationChain::percentile};
    s.vary_include_output = true;
    const std::size_t L = 3;
    s.validate(L);
    REQUIRE(s.optional_genes() == 4);
    REQUIRE(s.genes(L) == 13);
    CHECK(nlohmann::json(s)["decay"]["lo"] == 0.9);
    CHECK(nlohmann::json(s)["rules"] == nlohmann::json({"authors", "paper"}));
    CHECK(nlohmann::json(s)["normalizations"] == nlohmann::json({"authors", "textbook", "percentile"}));
    CHECK(nlohmann::json(s)["vary_include_output"] == true);

    // genes 0..5 fixed, 6..8 thresholds, then decay, rule, normalization, include_output
    std::vector<double> g{0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.5, 1.0, 0.5, 0.75, 0.5, 0.2};
    SleepParams p = s.decode(g, L);
    CHECK(p.decay == doctest::Approx(0.95));
    CHECK(p.rule == StdpRuleKind::paper);
    CHECK(p.normalization == NormalizationChain::textbook);
    CHECK(p.include_output);
    REQUIRE(p.thresholds.size() == 3);
    CHECK(p.thresholds[2] == doctest::Approx(100.0));
    p.validate(L);
    // the other ends of the choices
    g[9] = 1.0, g[10] = 0.49, g[11] = 1.0, g[12] = 0.5;
    SleepParams q = s.decode(g, L);
    CHECK(q.decay == doctest::Approx(1.0));
    CHECK(q.rule == StdpRuleKind::authors);
    CHECK(q.normalization == NormalizationChain::percentile);
    CHECK_FALSE(q.include_output);
    REQUIRE(q.thresholds.size() == 2);  // the output layer's threshold gene is ignored
    CHECK(q.thresholds[0] == doctest::Approx(0.3));
    CHECK(q.thresholds[1] == doctest::Approx(std::sqrt(0.3 * 100.0)));
    q.validate(L);
    g[9] = 0.0;
    CHECK(s.decode(g, L).decay == doctest::Approx(0.9));

    // encode inverts decode, with and without the output layer
    for (const SleepParams& x : {p, q}) {
        const auto back = s.encode(x);
        REQUIRE(back.size() == 13);
        const SleepParams y = s.decode(back, L);
        CHECK(y.decay == doctest::Approx(x.decay));
        CHECK(y.rule == x.rule);
        CHECK(y.normalization == x.normalization);
        CHECK(y.include_output == x.include_output);
        REQUIRE(y.thresholds.size() == x.thresholds.size());
        for (std::size_t l = 0; l < x.thresholds.size(); ++l)
            CHECK(y.thresholds[l] == doctest::Approx(x.thresholds[l]));
    }

    // bad settings name themselves
    SearchSpace bad = s;
    bad.decay = ParamRange{0.5, 1.2, false};
    CHECK(
        contains(message_of<invalid_argument>([&] { bad.validate(L); }), "range 'decay' must lie in (0, 1], got [0.5"));
    bad.decay = ParamRange{0.99, 0.9, false};
    CHECK(
        contains(message_of<invalid_argument>([&] { bad.validate(L); }), "range 'decay' must be finite with lo <= hi"));
    bad.decay = ParamRange{0.0, 0.9, false};
    CHECK(contains(message_of<invalid_argument>([&] { bad.validate(L); }), "range 'decay' must lie in (0, 1]"));
    bad = s;
    bad.base.include_output = false;
    CHECK(contains(message_of<invalid_argument>([&] { bad.validate(2); }),
                   "vary_include_output needs base.include_output = true"));
    bad = s;
    CHECK(contains(message_of<invalid_argument>([&] { bad.validate(1); }),
                   "vary_include_output needs at least 2 weight layers"));
    bad = s;
    bad.base.percentile = 0.0;
    CHECK(contains(message_of<invalid_argument>([&] { bad.validate(L); }),
                   "normalization 'percentile' needs base.percentile"));
    CHECK(contains(message_of<invalid_argument>([&] { s.decode(std::vector<double>(9, 0.5), L); }),
                   "genome has 9 genes, expected 13"));
}

TEST_CASE(
    "search with optional genes: every candidate reproduces through plain sleep() with its own chain, decay and rule")
{
    // three layers: the authors' and the textbook chains differ only from the third on
    DenseNetwork<float> net({20, 12, 8, 4});
    {
        default_engine eng(7);
        for (std::size_t l = 0; l < net.num_layers(); ++l)
            for (auto& w : net.weights(l)) w = static_cast<float>(rng::uniform<double>(eng, -0.3, 0.6));
    }
    auto data = small_data(7);
    data.val_y = net.predict(data.val_x);
    auto space = small_space();
    space.decay = ParamRange{0.8, 1.0, false};
    space.rules = {StdpRuleKind::authors, StdpRuleKind::paper};
    space.normalizations = {NormalizationChain::authors, NormalizationChain::textbook};
    space.vary_include_output = true;
    TuneOptions o;
    o.method = TuneMethod::random;
    o.budget = 16;
    o.max_accuracy_drop = 1.0;  // every candidate feasible: each has a value to reproduce
    default_engine e(3);
    const auto r = tune_sleep(net, data, space, WeightSum{}, o, seed1, e);
    REQUIRE(r.history.size() == 16);
    std::size_t without_output = 0, textbook = 0, paper = 0;
    for (const auto& c : r.history) {
        CAPTURE(c.index);
        REQUIRE(c.genes.size() == space.genes(3));
        const SleepParams d = space.decode(c.genes, 3);
        CHECK(c.params.decay == d.decay);
        CHECK(c.params.include_output == d.include_output);
        CHECK(c.spikes.size() == (c.params.include_output ? 3u : 2u));
        without_output += c.params.include_output ? 0 : 1;
        textbook += c.params.normalization == NormalizationChain::textbook ? 1 : 0;
        paper += c.params.rule == StdpRuleKind::paper ? 1 : 0;
        if (!c.feasible) continue;
        auto slept = net;
        default_engine se = seed1.sleep;
        const auto rep = sleep(slept, data.sleep_x, c.params, se);
        CHECK(rep.spikes == c.spikes);
        CHECK(WeightSum{}(slept, data.val_x, data.val_y) == c.value);
        CHECK(accuracy(slept, data.val_x, data.val_y) == c.accuracy);
    }
    // 16 uniform draws cover both sides of each choice
    CHECK(without_output > 0);
    CHECK(without_output < 16);
    CHECK(textbook > 0);
    CHECK(textbook < 16);
    CHECK(paper > 0);
    CHECK(paper < 16);
}

TEST_CASE("ranking: feasible first, then value, then accuracy, infeasible by accuracy")
{
    TuneCandidate a, b;
    a.feasible = true, a.value = 0.1, a.accuracy = 0.5;
    b.feasible = false, b.accuracy = 0.99;
    CHECK(better(a, b));
    CHECK_FALSE(better(b, a));
    b.feasible = true, b.value = 0.2;
    CHECK(better(b, a));
    b.value = 0.1;
    CHECK(better(b, a));  // tie on value: accuracy
    b.value = std::nan("");
    CHECK(better(a, b));  // NaN value ranks last among feasible
    a.feasible = b.feasible = false;
    a.accuracy = 0.7, b.accuracy = 0.6;
    CHECK(better(a, b));
}

TEST_CASE("random search and GA: same seed same history, whatever the thread count")
{
    const auto net = small_net(1);
    const auto data = small_data(1);
    for (auto method : {TuneMethod::random, TuneMethod::genetic}) {
        CAPTURE(to_string(method));
        TuneOptions o;
        o.method = method;
        o.budget = 14;
        o.genetic.population = 6;
        o.max_accuracy_drop = 0.2;
        o.threads = 1;
        default_engine e1(5), e2(5), e3(6);
        const auto r1 = tune_sleep(net, data, small_space(), WeightSum{}, o, seed1, e1);
        o.threads = 2;
        const auto r2 = tune_sleep(net, data, small_space(), WeightSum{}, o, seed1, e2);
        same_history(r1, r2);
        REQUIRE(r1.history.size() == 14);
        // feasibility follows the floor, and only feasible candidates carry a value
        std::size_t feasible = 0;
        for (const auto& c : r1.history) {
            CHECK(c.feasible == (c.error.empty() && c.accuracy >= r1.accuracy_floor));
            CHECK(std::isnan(c.value) == !c.feasible);
            feasible += c.feasible ? 1 : 0;
        }
        CHECK(feasible > 0);
        // the best is at least as good as everything
        for (const auto& c : r1.history) CHECK_FALSE(better(c, r1.best()));
        // a different seed draws other candidates
        const auto r3 = tune_sleep(net, data, small_space(), WeightSum{}, o, seed1, e3);
        CHECK(r3.history[0].genes != r1.history[0].genes);
        // the winner's parameters reproduce its value through plain sleep()
        const auto& best = r1.best();
        if (best.feasible) {
            auto slept = net;
            default_engine se = seed1.sleep;
            sleep(slept, data.sleep_x, best.params, se);
            CHECK(WeightSum{}(slept, data.val_x, data.val_y) == best.value);
        }
    }
}

TEST_CASE("search with refit: candidates are measured after their refit, reproducibly, whatever the thread count")
{
    const auto net = small_net(2);
    auto data = small_data(2);
    {
        default_engine eng(9);
        data.refit_x = matrix<float>::from_shape({40, 20});
        for (auto& v : data.refit_x) v = rng::uniform01<float>(eng);
        data.refit_y = net.predict(data.refit_x);
        for (std::size_t i = 0; i < 40; i += 3) data.refit_y(i) = (data.refit_y(i) + 2) % 4;
    }
    /// The objective reads the refitted (second) layer.
    struct UpperSum {
        std::string name() const { return "upper_sum"; }
        double operator()(const DenseNetwork<float>& n, const matrix<float>&, const label_vector&) const
        {
            double s = 0.0;
            for (float w : n.weights(1)) s += w;
            return s;
        }
    };
    TuneOptions o;
    o.method = TuneMethod::random;
    o.budget = 8;
    o.max_accuracy_drop = 1.0;
    RefitOptions ro;
    ro.samples = 30;
    ro.sgd.epochs = 2;
    ro.sgd.batch_size = 8;
    o.refit = ro;
    const CandidateEngines<> refit4{default_engine(1), default_engine(4)};
    o.threads = 1;
    default_engine e1(5), e2(5), e3(5);
    const auto r1 = tune_sleep(net, data, small_space(), UpperSum{}, o, refit4, e1);
    o.threads = 2;
    const auto r2 = tune_sleep(net, data, small_space(), UpperSum{}, o, refit4, e2);
    same_history(r1, r2);
    TuneOptions plain = o;
    plain.refit.reset();
    const auto r3 = tune_sleep(net, data, small_space(), UpperSum{}, plain, refit4, e3);
    REQUIRE(r1.history.size() == 8);
    std::size_t checked = 0;
    for (std::size_t i = 0; i < r1.history.size(); ++i) {
        const auto& c = r1.history[i];
        CAPTURE(i);
        CHECK(c.genes == r3.history[i].genes);
        if (!c.feasible) continue;
        // sleep, then refit with an engine seeded with the refit's seed: the same network
        auto slept = net;
        default_engine se = refit4.sleep;
        sleep(slept, data.sleep_x, c.params, se);
        CHECK(UpperSum{}(slept, data.val_x, data.val_y) == r3.history[i].value);  // sleep alone: the plain search
        default_engine re = refit4.refit;
        refit(slept, data.refit_x, data.refit_y, ro, re);
        CHECK(UpperSum{}(slept, data.val_x, data.val_y) == c.value);
        CHECK(accuracy(slept, data.val_x, data.val_y) == c.accuracy);
        CHECK(c.value != r3.history[i].value);
        ++checked;
    }
    CHECK(checked > 0);

    // the refit is part of the log's identity
    const std::string path = log_file("refit");
    TuneOptions logged = o;
    logged.log_path = path;
    default_engine e4(5), e5(5);
    tune_sleep(net, data, small_space(), UpperSum{}, logged, refit4, e4);
    const CandidateEngines<> refit5{default_engine(1), default_engine(5)};
    CHECK(contains(
        message_of<invalid_argument>([&] { tune_sleep(net, data, small_space(), UpperSum{}, logged, refit5, e5); }),
        "'refit_engine' differs"));
    logged.refit->sgd.epochs = 3;
    CHECK(contains(
        message_of<invalid_argument>([&] { tune_sleep(net, data, small_space(), UpperSum{}, logged, refit4, e5); }),
        "'refit' differs"));

    // bad refit input, by name
    TuneData<float> none = data;
    none.refit_x = matrix<float>::from_shape({0, 20});
    none.refit_y = label_vector::from_shape({0});
    CHECK(
        contains(message_of<invalid_argument>([&] { tune_sleep(net, none, small_space(), UpperSum{}, o, refit4, e5); }),
                 "refit needs refit_x"));
    TuneOptions many = o;
    many.refit->samples = 41;
    CHECK(contains(
        message_of<invalid_argument>([&] { tune_sleep(net, data, small_space(), UpperSum{}, many, refit4, e5); }),
        "refit samples 41"));
    many.refit->samples = 0;
    many.refit->sgd.frozen_layers = 2;
    CHECK(contains(
        message_of<invalid_argument>([&] { tune_sleep(net, data, small_space(), UpperSum{}, many, refit4, e5); }),
        "refit options: frozen_layers 2"));
}

TEST_CASE("GA: elites survive unchanged, and without crossover and mutation children are parents")
{
    const auto net = small_net(2);
    const auto data = small_data(2);
    TuneOptions o;
    o.budget = 18;
    o.genetic.population = 6;
    o.genetic.elite = 2;
    o.max_accuracy_drop = 0.2;
    std::atomic<int> calls{0};
    default_engine e(3);
    const auto r = tune_sleep(net, data, small_space(), WeightSum{&calls}, o, seed1, e);
    REQUIRE(r.history.size() == 18);
    for (std::size_t gen = 0; gen + 1 < 3; ++gen) {
        std::vector<TuneCandidate> pop(r.history.begin() + static_cast<std::ptrdiff_t>(6 * gen),
                                       r.history.begin() + static_cast<std::ptrdiff_t>(6 * gen + 6));
        std::stable_sort(pop.begin(), pop.end(), [](const auto& a, const auto& b) { return better(a, b); });
        for (std::size_t k = 0; k < 2; ++k) {
            CHECK(r.history[6 * (gen + 1) + k].genes == pop[k].genes);
            CHECK(r.history[6 * (gen + 1) + k].generation == gen + 1);
        }
    }
    // repeated genomes are not evaluated twice
    CHECK(calls.load() < 18);

    o.genetic.crossover = 0.0;
    o.genetic.mutation_rate = 0.0;
    default_engine e2(3);
    const auto c = tune_sleep(net, data, small_space(), WeightSum{}, o, seed1, e2);
    for (std::size_t i = 6; i < c.history.size(); ++i) {
        bool found = false;
        for (std::size_t j = 0; j < 6; ++j) found = found || c.history[i].genes == c.history[j].genes;
        CHECK(found);
    }
}

TEST_CASE("log: a resumed search equals an uninterrupted one and evaluates only the new candidates")
{
    const auto net = small_net(3);
    const auto data = small_data(3);
    for (auto method : {TuneMethod::random, TuneMethod::genetic, TuneMethod::genetic}) {
        static int round = 0;
        const bool infinite = ++round == 3;  // +inf values must survive the log
        CAPTURE(to_string(method));
        CAPTURE(infinite);
        WeightSum objective;
        objective.some_infinite = infinite;
        TuneOptions o;
        o.method = method;
        o.genetic.population = 5;
        o.max_accuracy_drop = 0.2;
        o.budget = 15;
        default_engine ef(9);
        const auto full = tune_sleep(net, data, small_space(), objective, o, seed1, ef);

        o.log_path = log_file(to_string(method) + (infinite ? "_inf" : ""));
        o.budget = 7;
        default_engine e1(9);
        tune_sleep(net, data, small_space(), objective, o, seed1, e1);
        {  // the log: a description line and one line per candidate
            std::ifstream in(o.log_path);
            std::string line;
            std::size_t n = 0;
            while (std::getline(in, line)) ++n;
            CHECK(n == 8);
        }
        o.budget = 15;
        std::atomic<int> calls{0};
        default_engine e2(9);
        const auto resumed = tune_sleep(
            net, data, small_space(),
            [&] {
                auto c = objective;
                c.calls = &calls;
                return c;
            }(),
            o, seed1, e2);
        CHECK(resumed.resumed == 7);
        same_history(full, resumed);
        if (infinite) {
            std::size_t n_inf = 0;
            for (const auto& c : full.history) n_inf += std::isinf(c.value) ? 1 : 0;
            CHECK(n_inf > 0);
        }
        CHECK(calls.load() <= 15 - 7 + 1);  // the control's value + new candidates at most

        // a torn last line is dropped and recomputed
        {
            std::string text = test_support::read_bytes(o.log_path);
            text.resize(text.size() - 10);
            test_support::write_bytes(o.log_path, text);
        }
        default_engine e3(9);
        const auto torn = tune_sleep(net, data, small_space(), objective, o, seed1, e3);
        CHECK(torn.resumed == 14);
        same_history(full, torn);

        // another seed or another space cannot continue this log
        default_engine e4(10);
        CHECK(contains(
            message_of<invalid_argument>([&] { tune_sleep(net, data, small_space(), objective, o, seed1, e4); }),
            "other genes than this search draws"));
        auto other = small_space();
        other.steps.hi = 500.0;
        default_engine e5(9);
        CHECK(contains(message_of<invalid_argument>([&] { tune_sleep(net, data, other, objective, o, seed1, e5); }),
                       "'space' differs"));
        // garbage in the middle is an error naming the line
        test_support::write_bytes(o.log_path, test_support::read_bytes(o.log_path) + "{not json\n");
        default_engine e6(9);
        CHECK(contains(message_of<format_error>([&] { tune_sleep(net, data, small_space(), objective, o, seed1, e6); }),
                       "is not JSON"));
    }
}

TEST_CASE("log: the engines are recorded by fingerprint, and other prototypes or a version 1 log are refused")
{
    const auto net = small_net(3);
    const auto data = small_data(3);
    TuneOptions o;
    o.method = TuneMethod::random;
    o.budget = 3;
    o.max_accuracy_drop = 1.0;
    o.log_path = log_file("engines");
    default_engine e1(9);
    tune_sleep(net, data, small_space(), WeightSum{}, o, seed1, e1);
    const std::string log_text = test_support::read_bytes(o.log_path);
    const nlohmann::json header = nlohmann::json::parse(log_text.substr(0, log_text.find('\n')));
    CHECK(header.at("format_version") == 2);
    CHECK(header.at("sleep_engine") == rng::fingerprint(default_engine(1)));
    CHECK(header.at("sleep_engine").get<std::string>().size() == 64);
    CHECK_FALSE(header.contains("sleep_seed"));
    CHECK_FALSE(header.contains("refit_engine"));  // no refit
    CHECK(rng::fingerprint(default_engine(1)) != rng::fingerprint(default_engine(2)));
    default_engine moved(1);
    moved();
    CHECK(rng::fingerprint(moved) != rng::fingerprint(default_engine(1)));  // the state, not the seed

    // the same prototypes resume; another sleep prototype is another search
    default_engine e2(9);
    CHECK(tune_sleep(net, data, small_space(), WeightSum{}, o, seed1, e2).resumed == 3);
    const CandidateEngines<> other{default_engine(2), default_engine(1)};
    default_engine e3(9);
    CHECK(
        contains(message_of<invalid_argument>([&] { tune_sleep(net, data, small_space(), WeightSum{}, o, other, e3); }),
                 "'sleep_engine' differs"));

    // a log of the format that recorded seeds cannot be resumed, and says why
    nlohmann::json v1 = header;
    v1["format_version"] = 1;
    v1.erase("sleep_engine");
    v1["sleep_seed"] = 1;
    test_support::write_bytes(o.log_path, v1.dump() + "\n");
    default_engine e4(9);
    const std::string m =
        message_of<invalid_argument>([&] { tune_sleep(net, data, small_space(), WeightSum{}, o, seed1, e4); });
    CHECK(contains(m, "has format version 1, this search writes version 2"));
    CHECK(contains(m, "fingerprints"));
}

TEST_CASE("log: a candidate line's integers (index, generation, spikes) are checked, never converted out of range")
{
    const auto net = small_net(3);
    const auto data = small_data(3);
    TuneOptions o;
    o.method = TuneMethod::random;
    o.budget = 1;
    o.max_accuracy_drop = 1.0;
    o.log_path = log_file("integers");
    default_engine e1(9);
    tune_sleep(net, data, small_space(), WeightSum{}, o, seed1, e1);
    const std::string text = test_support::read_bytes(o.log_path);
    const std::size_t nl = text.find('\n');
    const std::string header = text.substr(0, nl + 1);
    const nlohmann::json line = nlohmann::json::parse(text.substr(nl + 1));
    CHECK(detail::read_tune_log(o.log_path).candidates.size() == 1);
    for (const char* bad : {"3e38", "-1", "1.5"}) {
        for (const char* key : {"index", "generation", "spikes"}) {
            CAPTURE(std::string(bad));
            CAPTURE(std::string(key));
            nlohmann::json j = line;
            const auto v = nlohmann::json::parse(bad);
            j[key] = std::string(key) == "spikes" ? nlohmann::json::array({v}) : v;
            test_support::write_bytes(o.log_path, header + j.dump() + "\n");
            const std::string m = message_of<format_error>([&] { detail::read_tune_log(o.log_path); });
            CHECK(contains(m, o.log_path + ": line 2: key '" + key + "' must be a non-negative integer (got "));
        }
    }
}

TEST_CASE("runaway guard, callbacks and bad options")
{
    const auto net = small_net(4);
    const auto data = small_data(4);
    TuneOptions o;
    o.method = TuneMethod::random;
    o.budget = 6;
    o.max_spikes = 1;
    auto space = small_space();
    space.threshold = {0.01, 0.01, true};  // everything fires
    default_engine e(1);
    const auto r = tune_sleep(net, data, space, WeightSum{}, o, seed1, e);
    for (const auto& c : r.history) {
        CHECK(contains(c.error, "runaway activity"));
        CHECK_FALSE(c.feasible);
    }

    struct StopAfter {
        std::size_t n;
        bool on_progress(const TuneProgress& p) { return p.evaluated >= n; }
    } stop{3};
    o.max_spikes = 0;
    o.budget = 10;
    default_engine e2(1);
    const auto s = tune_sleep(net, data, small_space(), WeightSum{}, o, seed1, e2, stop);
    CHECK(s.history.size() == 3);
    CHECK(s.stopped);

    TuneOptions bad;
    bad.budget = 0;
    default_engine e3(1);
    CHECK(contains(
        message_of<invalid_argument>([&] { tune_sleep(net, data, small_space(), WeightSum{}, bad, seed1, e3); }),
        "budget must be > 0"));
    bad.budget = 4;
    bad.genetic.elite = 16;
    CHECK(contains(
        message_of<invalid_argument>([&] { tune_sleep(net, data, small_space(), WeightSum{}, bad, seed1, e3); }),
        "elite must be < population"));
    bad.genetic.elite = 2;
    bad.initial = {{0.5, 0.5}};
    CHECK(contains(
        message_of<invalid_argument>([&] { tune_sleep(net, data, small_space(), WeightSum{}, bad, seed1, e3); }),
        "initial genome has 2 genes, expected 8"));
    TuneData<float> d2 = data;
    d2.val_y = label_vector::from_shape({3});
    TuneOptions ok;
    CHECK(
        contains(message_of<invalid_argument>([&] { tune_sleep(net, d2, small_space(), WeightSum{}, ok, seed1, e3); }),
                 "val_y has 3 labels for 24 validation inputs"));
}

TEST_CASE("objectives: FGSM, DeepFool and noise measure what they name")
{
    const auto net = small_net(5);
    const auto data = small_data(5);
    const double f = FgsmObjective{}(net, data.val_x, data.val_y);
    const auto direct = fgsm(net, data.val_x, data.val_y, FgsmObjective{}.options).median_epsilon();
    CHECK(f == direct);
    CHECK(DeepFoolObjective{}(net, data.val_x, data.val_y) == deepfool(net, data.val_x, data.val_y).median_distance());
    // FGSM settings other than the defaults are part of the name (the log's identity) and
    // of the value
    FgsmObjective ce;
    ce.options.loss = AttackLoss::cross_entropy;
    CHECK(FgsmObjective{}.name() == "fgsm_median_epsilon");
    CHECK(ce.name() == "fgsm_median_epsilon_cross_entropy");
    FgsmObjective grid;
    grid.options.search = FgsmSearch::grid;
    CHECK(grid.name() == "fgsm_median_epsilon_grid");
    CHECK(ce(net, data.val_x, data.val_y) == fgsm(net, data.val_x, data.val_y, ce.options).median_epsilon());
    NoiseObjective n;
    n.std_devs = {0.0};
    CHECK(n(net, data.val_x, data.val_y) == doctest::Approx(accuracy(net, data.val_x, data.val_y)));
    n.std_devs = {};
    CHECK(contains(message_of<invalid_argument>([&] { n(net, data.val_x, data.val_y); }), "no noise levels"));
}

TEST_CASE("the PGD objective measures what it names, every attack setting is in the name")
{
    const auto net = small_net(5);
    const auto data = small_data(5);
    PgdObjective o;
    o.epsilon = 0.05;
    default_engine e1(o.seed);
    CHECK(o(net, data.val_x, data.val_y) == pgd(net, data.val_x, data.val_y, 0.05, o.options, e1).robust_accuracy());
    CHECK(o.name() == "apgd_linf_robust_accuracy_eps0.05_ce_margin_steps100_restarts1");
    PgdObjective m = o;
    m.mode = PgdObjective::Mode::minimal_epsilon;
    m.options.restarts = 2;
    default_engine e2(m.seed);
    CHECK(m(net, data.val_x, data.val_y) ==
          pgd_minimal(net, data.val_x, data.val_y, m.options, m.search, e2).median_epsilon());
    CHECK(m.name() == "apgd_linf_median_minimal_eps_max1_tol0.001_ce_margin_steps100_restarts2_seed1");
    // the objective is the same whatever the caller did before (its own engine per call)
    CHECK(m(net, data.val_x, data.val_y) == m(net, data.val_x, data.val_y));
    PgdObjective steps = o;
    steps.options.steps = 20;
    CHECK(steps.name() != o.name());
}

TEST_CASE("shipped parameter files load, validate for the 784-1200-1200-10 control, and name their origin")
{
    for (const char* name : {"mnist", "mnist-robust", "mnist-refit", "mnist-pgd", "mnist-pgd-refit", "fashion"}) {
        CAPTURE(name);
        const std::string path = std::string(SLEEPNET_SOURCE_DIR) + "/examples/params/" + name + ".json";
        const SleepParams p = load_sleep_params(path);
        p.validate(3);
        CHECK(p.alpha.empty());  // relative to the network's normalization
        CHECK(contains(p.provenance, "tune --method genetic"));
        // only the refit files refit, and they leave layers to train in the 3-layer control
        const auto r = load_refit_plan(path);
        CHECK(r.has_value() == (std::string(name) == "mnist-refit" || std::string(name) == "mnist-pgd-refit"));
        if (r) {
            CHECK(r->options.sgd.frozen_layers < 3);
            CHECK(contains(p.provenance, "--refit"));
        }
    }
    const std::string dir = test_support::fresh_dir("tune", "files");
    CHECK(contains(message_of<io_error>([&] { load_sleep_params(dir + "/missing.json"); }), "missing.json"));
    test_support::write_bytes(dir + "/bad.json", "{\"rate\": ");
    CHECK(
        contains(message_of<format_error>([&] { load_sleep_params(dir + "/bad.json"); }), "bad.json: not valid JSON"));
    test_support::write_bytes(dir + "/typo.json", "{\"rat\": 3}");
    CHECK(contains(message_of<invalid_argument>([&] { load_sleep_params(dir + "/typo.json"); }), "typo.json: "));
}
