// The ready-made callbacks (include/sleepnet/callbacks/): ProgressBar's output in both
// modes and that it never stops a run, SpikeBudget stopping sleep at the first step over
// budget, EarlyStopping stopping training and restoring the best weights.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstring>
#include <sstream>
#include <tuple>
#include <vector>

#include <sleepnet/attacks/audit.hpp>
#include <sleepnet/attacks/pgd.hpp>
#include <sleepnet/callbacks/early_stopping.hpp>
#include <sleepnet/callbacks/progress_bar.hpp>
#include <sleepnet/callbacks/spike_budget.hpp>
#include <sleepnet/tune/search.hpp>

#include "support.hpp"

using namespace sleepnet;

namespace {

ProgressBarOptions quiet_options(bool tty)
{
    ProgressBarOptions o;
    o.tty = tty;
    o.every_percent = 25.0;
    o.redraw_seconds = 0.0;
    o.show_time = false;
    o.width = 8;
    return o;
}

using test_support::blobs;

DenseNetwork<double> sleepy_net()
{
    DenseNetwork<double> net({30, 20, 10, 4});
    default_engine eng(3);
    for (std::size_t l = 0; l < net.num_layers(); ++l)
        for (auto& w : net.weights(l)) w = rng::uniform<double>(eng, -0.02, 0.1);
    return net;
}

SleepParams sleepy_params()
{
    SleepParams p;
    p.rate = 100;
    p.thresholds = {1.0, 1.0, 1.0};
    p.alpha_scale = 3.0;
    p.steps = 200;
    return p;
}

bool bitwise_equal(const matrix<double>& a, const matrix<double>& b)
{
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

struct StopAt {
    std::size_t at;
    bool on_step(const SleepProgress& s) { return s.step == at; }
};

struct SpikeTotals {
    std::vector<std::uint64_t> totals;  ///< all layers' spikes after each step
    void on_step(const SleepProgress& s)
    {
        std::uint64_t t = 0;
        for (auto v : s.spikes) t += v;
        totals.push_back(t);
    }
};

}  // namespace

TEST_CASE("ProgressBar off a terminal: a line per every_percent crossed, the last one once")
{
    std::ostringstream out;
    ProgressBar bar(out, "job", quiet_options(false));
    for (std::size_t i = 0; i <= 8; ++i) bar.update(i, 8, "x");
    bar.update(8, 8, "x");  // already finished: nothing
    CHECK(out.str() == "job [##......]  25% 2/8 x\n"
                       "job [####....]  50% 4/8 x\n"
                       "job [######..]  75% 6/8 x\n"
                       "job [########] 100% 8/8 x\n");
    // a smaller count starts a new bar
    out.str("");
    bar.update(1, 2);
    bar.update(2, 2);
    CHECK(out.str() == "job [####....]  50% 1/2\njob [########] 100% 2/2\n");
}

TEST_CASE("ProgressBar on a terminal: redrawn in place, a newline at the end")
{
    std::ostringstream out;
    ProgressBar bar(out, "job", quiet_options(true));
    for (std::size_t i = 1; i <= 4; ++i) bar.update(i, 4);
    CHECK(out.str() == "\rjob [##......]  25% 1/4\rjob [####....]  50% 2/4\rjob [######..]  75% 3/4"
                       "\rjob [########] 100% 4/4\n");
    // with time shown: elapsed and eta
    std::ostringstream timed;
    auto o = quiet_options(true);
    o.show_time = true;
    ProgressBar t(timed, "job", o);
    t.update(2, 2);
    CHECK(test_support::contains(timed.str(), "s eta 0.0s"));
    o.every_percent = 0.0;
    CHECK_THROWS_NAMING(ProgressBar(timed, "job", o), invalid_argument, "every_percent", "(0, 100]");
}

TEST_CASE("ProgressBar draws training, sleep, tune, PGD and audit progress and never stops them")
{
    std::ostringstream out;
    ProgressBar bar(out, "run", quiet_options(false));
    const auto data = blobs(60, 1);
    DenseNetwork<double> net({8, 6, 3});
    default_engine eng(2);
    net.initialize(Init::he(), eng);
    SgdOptions sgd;
    sgd.epochs = 2;
    sgd.batch_size = 20;
    const auto report = train(net, data, MseLoss{}, sgd, eng, bar);
    CHECK(report.epochs_completed == 2);
    CHECK(!report.stopped_early);
    CHECK(test_support::contains(out.str(), "run epoch 1/2 [##......]  33% 1/3 loss "));
    CHECK(test_support::contains(out.str(), "run epoch 2/2 [########] 100% 3/3 loss "));

    out.str("");
    auto sleeper = sleepy_net();
    default_engine e(4);
    const auto rep = sleep(sleeper, test_support::random_matrix(20, 30, e), sleepy_params(), e, bar);
    CHECK(rep.steps == 200);
    CHECK(!rep.stopped_early);
    CHECK(test_support::contains(out.str(), "run [########] 100% 200/200 spikes "));

    auto hooks = std::forward_as_tuple(bar);
    TuneCandidate best;
    best.feasible = true;
    best.value = 0.25;
    best.accuracy = 0.5;
    out.str("");
    CHECK(!detail::call_on_progress(hooks, TuneProgress{4, 4, &best, &best}));
    CHECK(out.str() == "run [########] 100% 4/4 best feasible value 0.25 acc 0.5000\n");
    out.str("");
    CHECK(!detail::call_on_progress(hooks, AuditProgress{"square", 2, 7}));
    CHECK(!detail::call_on_progress(hooks, PgdProgress{1, 3, 3, 10, 4}));
    CHECK(out.str() == "run: stage 3/7: square\nsquare [########] 100% 3/3 round 1, unbroken 4/10\n");
    // the next bisection round starts a new bar even where its run count is no smaller
    out.str("");
    CHECK(!detail::call_on_progress(hooks, PgdProgress{2, 3, 3, 10, 2}));
    CHECK(out.str() == "square [########] 100% 3/3 round 2, unbroken 2/10\n");
}

TEST_CASE("SpikeBudget stops sleep at the first step over budget, the weights as of that step")
{
    const auto p = sleepy_params();
    default_engine ex(4);
    const auto x = test_support::random_matrix(20, 30, ex);
    auto free_net = sleepy_net();
    SpikeTotals totals;
    default_engine e0(9);
    sleep(free_net, x, p, e0, totals);
    REQUIRE(totals.totals.size() == 200);
    // a budget crossed in the middle of the run
    const std::uint64_t budget = totals.totals[60];
    std::size_t first_over = 0;
    while (totals.totals[first_over] <= budget) ++first_over;
    const std::size_t step = first_over + 1;  // 1-based
    REQUIRE(step < 200);

    auto net = sleepy_net(), stopped_by_hand = sleepy_net();
    SpikeBudget guard{budget};
    default_engine e1(9), e2(9);
    const auto rep = sleep(net, x, p, e1, guard);
    sleep(stopped_by_hand, x, p, e2, StopAt{step});
    CHECK(guard.exceeded());
    CHECK(guard.stopped_at == step);
    CHECK(guard.spikes == totals.totals[first_over]);
    CHECK(rep.steps == step);
    CHECK(rep.stopped_early);
    for (std::size_t l = 0; l < net.num_layers(); ++l) CHECK(bitwise_equal(net.weights(l), stopped_by_hand.weights(l)));

    // no budget (0) and a budget never reached do not stop; a new run resets it
    for (std::uint64_t b : {std::uint64_t{0}, totals.totals.back()}) {
        auto n2 = sleepy_net();
        SpikeBudget none{b};
        default_engine e3(9);
        CHECK(sleep(n2, x, p, e3, none).steps == 200);
        CHECK(!none.exceeded());
        CHECK(bitwise_equal(n2.weights(0), free_net.weights(0)));
    }
    auto n3 = sleepy_net();
    default_engine e4(9);
    CHECK(sleep(n3, x, p, e4, guard).steps == step);
}

TEST_CASE("EarlyStopping stops after patience epochs without improvement and restores the best weights")
{
    const auto data = blobs(60, 5);
    DenseNetwork<double> net({8, 6, 3});
    default_engine eng(6);
    net.initialize(Init::he(), eng);
    // scripted measurements: the best (0.7) at epoch 2, then 3 epochs no better than 0.7 + min_delta
    const std::vector<double> script{0.5, 0.7, 0.6, 0.75, 0.69, 0.9, 0.9};
    std::size_t calls = 0;
    auto measure = [&](const DenseNetwork<double>&) { return script.at(calls++); };
    EarlyStoppingOptions o;
    o.goal = Goal::maximize;
    o.patience = 3;
    o.min_delta = 0.1;
    EarlyStopping<double> stop(net, measure, o);
    struct Snapshots {
        DenseNetwork<double>* net;
        std::vector<DenseNetwork<double>> after;
        void on_end_epoch(const TrainInfo&) { after.push_back(*net); }
    } snaps{&net, {}};
    SgdOptions sgd;
    sgd.epochs = 7;
    sgd.batch_size = 20;
    const auto report = train(net, data, MseLoss{}, sgd, eng, snaps, stop);
    CHECK(report.stopped_early);
    CHECK(report.epochs_completed == 5);
    CHECK(stop.stopped());
    CHECK(stop.stopped_epoch() == 5);
    CHECK(stop.best_epoch() == 2);
    CHECK(stop.best_value() == 0.7);
    CHECK(stop.history() == std::vector<double>(script.begin(), script.begin() + 5));
    REQUIRE(snaps.after.size() == 5);
    CHECK(!bitwise_equal(net.weights(0), snaps.after[1].weights(0)));
    stop.restore_best();
    for (std::size_t l = 0; l < net.num_layers(); ++l) CHECK(bitwise_equal(net.weights(l), snaps.after[1].weights(l)));

    // minimize: a falling measure never stops
    calls = 0;
    const std::vector<double> falling{5, 4, 3, 2, 1, 0, -1};
    auto down = [&](const DenseNetwork<double>&) { return falling.at(calls++); };
    EarlyStopping<double> never(net, down, {Goal::minimize, 1});
    CHECK(!train(net, data, MseLoss{}, sgd, eng, never).stopped_early);
    CHECK(never.best_epoch() == 7);

    o.patience = 0;
    CHECK_THROWS_NAMING(EarlyStopping<double>(net, measure, o), invalid_argument, "patience", "> 0");
    o.patience = 1;
    o.keep_best_weights = false;
    EarlyStopping<double> no_copy(net, measure, o);
    CHECK_THROWS_NAMING(no_copy.restore_best(), invalid_argument, "restore_best", "keep_best_weights");
}
