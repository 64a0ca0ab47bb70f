// Continual learning: class-incremental splits, rehearsal buffers, the masked mean-image
// source of Sleep Replay Consolidation, the metrics and the task-by-task driver.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include <sleepnet/continual/continual.hpp>
#include <sleepnet/continual/tune.hpp>

#include "support.hpp"

using namespace sleepnet;
using test_support::message_of;

namespace {

label_vector labels(std::initializer_list<std::size_t> v)
{
    label_vector y(label_vector::shape_type{v.size()});
    std::copy(v.begin(), v.end(), y.begin());
    return y;
}

/// Four classes of 4 x 4 images: class c lights row c (0.6) plus noise in [0, 0.4) everywhere.
Dataset<double> rows_data(std::size_t per_class, std::uint64_t seed)
{
    default_engine e(seed);
    Dataset<double> d;
    d.classes = 4;
    d.name = "rows";
    d.x = matrix<double>::from_shape({4 * per_class, 16});
    d.y = label_vector(label_vector::shape_type{4 * per_class});
    for (std::size_t i = 0; i < 4 * per_class; ++i) {
        const std::size_t c = i % 4;
        d.y(i) = c;
        for (std::size_t j = 0; j < 16; ++j) d.x(i, j) = (j / 4 == c ? 0.6 : 0.0) + 0.4 * rng::uniform01<double>(e);
    }
    return d;
}

}  // namespace

TEST_CASE("class_tasks groups the rows of each task in data set order, capped, and refuses bad splits")
{
    const auto y = labels({0, 1, 2, 3, 1, 0, 2, 3, 0});
    const TaskSplit s = class_tasks(y, {{0, 1}, {2, 3}});
    CHECK(s.rows == std::vector<std::vector<std::size_t>>{{0, 1, 4, 5, 8}, {2, 3, 6, 7}});
    CHECK(s.rows_of(0, 1) == std::vector<std::size_t>{0, 1, 4, 5, 8, 2, 3, 6, 7});
    CHECK(class_tasks(y, {{0, 1}, {2, 3}}, 2).rows == std::vector<std::vector<std::size_t>>{{0, 1}, {2, 3}});
    CHECK(class_tasks(y, {{3}, {0}}).rows == std::vector<std::vector<std::size_t>>{{3, 7}, {0, 5, 8}});
    CHECK(message_of<invalid_argument>([&] {
              class_tasks(y, {{0, 1}, {1, 2}});
          }) == "class_tasks: class 1 is in tasks 0 and 1");
    CHECK(message_of<invalid_argument>([&] {
              class_tasks(y, {{0}, {7}});
          }) == "class_tasks: task 1 (classes 7) has no rows in the data");
    default_engine e(1);
    CHECK(message_of<invalid_argument>([&] {
              class_tasks(y, 4, ClassTaskOptions{3, false, 0}, e);
          }) == "class_tasks: 4 classes do not split into tasks of 3");
    CHECK(message_of<invalid_argument>([&] { s.rows_of(1, 2); }) == "TaskSplit: tasks 1..2 of 2");

    const TaskSplit ordered = class_tasks(y, 4, ClassTaskOptions{}, e);
    CHECK(ordered.classes == std::vector<std::vector<std::size_t>>{{0, 1}, {2, 3}});
    default_engine a(5), b(5);
    const TaskSplit shuffled = class_tasks(y, 4, ClassTaskOptions{1, true, 0}, a);
    CHECK(shuffled.classes == class_tasks(y, 4, ClassTaskOptions{1, true, 0}, b).classes);
    std::set<std::size_t> all;
    for (const auto& g : shuffled.classes) all.insert(g.begin(), g.end());
    CHECK(all == std::set<std::size_t>{0, 1, 2, 3});
}

TEST_CASE("rehearsal_buffer draws ceil(fraction x rows) distinct rows of every earlier task")
{
    const TaskSplit s{{{0}, {1}, {2}}, {{10, 11, 12, 13, 14}, {20, 21}, {30}}};
    default_engine e(3);
    const auto buffer = rehearsal_buffer(s, 1, 0.5, e);
    REQUIRE(buffer.size() == 3 + 1);  // ceil(2.5) of task 0, ceil(1) of task 1
    CHECK(std::set<std::size_t>(buffer.begin(), buffer.begin() + 3).size() == 3);
    for (std::size_t k = 0; k < 3; ++k) CHECK((buffer[k] >= 10 && buffer[k] <= 14));
    CHECK((buffer[3] == 20 || buffer[3] == 21));
    CHECK(rehearsal_buffer(s, 2, 0.0, e).empty());
    auto whole = rehearsal_buffer(s, 0, 1.0, e);
    std::sort(whole.begin(), whole.end());
    CHECK(whole == s.rows[0]);
    CHECK(message_of<invalid_argument>([&] { rehearsal_buffer(s, 0, 1.5, e); }) ==
          "rehearsal_buffer: fraction must lie in [0, 1], got 1.500000");
}

TEST_CASE("release_buffer_size rounds fraction x rows to hundreds, halves away from zero, at most the rows")
{
    // MNIST's training images per digit: the release's buffers at 0.75% before tasks 2..5
    // (digit pairs {0,1}, ..., so N = 12665, 24754, 36017, 48200; x 0.0075 = 94.99,
    // 185.66, 270.13, 361.5) are 100, 200, 300, 400
    const std::size_t per_digit[] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
    std::size_t n = 0;
    const std::size_t expected[] = {100, 200, 300, 400};
    for (std::size_t k = 0; k < 4; ++k) {
        n += per_digit[2 * k] + per_digit[2 * k + 1];
        CHECK(release_buffer_size(n, 0.0075) == expected[k]);
    }
    CHECK(release_buffer_size(250, 0.2) == 100);  // 50: half a hundred rounds up
    CHECK(release_buffer_size(249, 0.2) == 0);    // 49.8 rounds down
    CHECK(release_buffer_size(160, 1.0) == 160);  // 200 is more than there are
    CHECK(release_buffer_size(250, 0.2, 10) == 50);
    CHECK(release_buffer_size(250, 0.0) == 0);
    CHECK(message_of<invalid_argument>([] { release_buffer_size(10, 1.5); }) ==
          "release_buffer_size: fraction must lie in [0, 1], got 1.500000");
}

TEST_CASE("release_rehearsal_buffer draws from every row of the earlier tasks' classes, past the cap")
{
    // 130 rows of class 0, 120 of class 1, 50 of class 2, interleaved; tasks {0}, {1}, {2}
    // capped at 10 rows each
    label_vector y(label_vector::shape_type{300});
    for (std::size_t i = 0; i < 300; ++i) y(i) = i < 240 ? i % 2 : (i < 250 ? 0 : 2);
    const TaskSplit s = class_tasks(y, {{0}, {1}, {2}}, 10);
    REQUIRE(class_rows(y, s, 1).size() == 250);
    default_engine e(4), same(4);
    const auto buffer = release_rehearsal_buffer(y, s, 1, 0.2, e);  // 250 x 0.2 = 50: 100 rows
    REQUIRE(buffer.size() == 100);
    CHECK(std::set<std::size_t>(buffer.begin(), buffer.end()).size() == 100);
    std::size_t past_cap = 0, zeros = 0;
    for (std::size_t r : buffer) {
        CHECK(y(r) <= 1);
        zeros += y(r) == 0 ? 1 : 0;
        past_cap += r >= 20 ? 1 : 0;  // the capped rows of tasks 0 and 1 are rows 0 .. 19
    }
    CHECK(past_cap >= 80);
    CHECK(zeros > 0);
    CHECK(zeros < 100);  // both classes drawn together, not one task after the other
    CHECK(release_rehearsal_buffer(y, s, 1, 0.2, same) == buffer);
    const auto first = release_rehearsal_buffer(y, s, 0, 0.5, e);  // 130 x 0.5 = 65: 100 rows of class 0
    CHECK(first.size() == 100);
    for (std::size_t r : first) CHECK(y(r) == 0);
    CHECK(release_rehearsal_buffer(y, s, 0, 0.3, e).empty());  // 39 rounds to 0
    CHECK(message_of<invalid_argument>([&] { class_rows(y, s, 3); }) == "class_rows: task 3 of 3");
    CHECK(enum_from_string<RehearsalRule>("release") == RehearsalRule::release);
    CHECK(to_string(RehearsalRule::per_task) == "per-task");
}

TEST_CASE("MaskedMean shows one window of the mean image per step, drawn as documented")
{
    // 4 x 4 images whose mean is 0.5 everywhere but pixel 0 (0): with rate_factor * dt *
    // rate = 2, every other pixel of the window spikes with probability 1
    matrix<double> x = matrix<double>::from_shape({2, 16});
    for (std::size_t j = 0; j < 16; ++j) x(0, j) = x(1, j) = j == 0 ? 0.0 : 0.5;
    const PoissonOptions po{1000.0, 0.001, 2.0};
    MaskedMean source(x, po, MaskedMeanOptions{4, 4, 2, false});
    default_engine e(9), replay(9);
    std::vector<std::uint32_t> active;
    std::set<std::pair<std::size_t, std::size_t>> corners;
    for (std::size_t t = 0; t < 200; ++t) {
        source.spikes(t, active, e);
        const auto r0 = static_cast<std::size_t>(rng::below(replay, 3)),
                   c0 = static_cast<std::size_t>(rng::below(replay, 3));
        std::vector<std::uint32_t> expect;
        for (std::size_t r = r0; r < r0 + 2; ++r)
            for (std::size_t c = c0; c < c0 + 2; ++c)
                if (r * 4 + c != 0) expect.push_back(static_cast<std::uint32_t>(r * 4 + c));
        for (std::size_t k = 0; k < expect.size(); k += 2) rng::bits64(replay);  // two 32-bit draws per output
        REQUIRE(active == expect);
        corners.insert({r0, c0});
    }
    CHECK(corners.size() == 9);  // every corner in 0 .. 2 x 0 .. 2 occurs
    CHECK(e() == replay());      // and the engine advanced exactly as documented

    // the release's rule: an 11 x 11 window on 28 x 28 images, corners 0 .. 17
    matrix<double> big = matrix<double>::from_shape({1, 784});
    std::fill(big.begin(), big.end(), 0.5);
    MaskedMean release(big, po, MaskedMeanOptions{});
    std::size_t lo = 100, hi = 0;
    for (std::size_t t = 0; t < 2000; ++t) {
        release.spikes(t, active, e);
        REQUIRE(active.size() == 121);
        lo = std::min<std::size_t>(lo, active.front() / 28);
        hi = std::max<std::size_t>(hi, active.back() / 28);
    }
    CHECK(lo == 0);
    CHECK(hi == 27);  // bottom row reached by corner 17, never beyond
    CHECK(message_of<invalid_argument>([&] {
              MaskedMean(x, po, MaskedMeanOptions{4, 4, 5, false});
          }) == "MaskedMeanOptions: window 5 does not fit 4 x 4 images");
    CHECK(message_of<invalid_argument>([&] {
              MaskedMean(x, po, MaskedMeanOptions{3, 4, 2, false});
          }) == "MaskedMeanOptions: rows x cols = 12 but the images have 16 inputs");
}

TEST_CASE("MaskedMean with per-class means shows one class's mean per step")
{
    matrix<double> x = matrix<double>::from_shape({3, 4});       // 2 x 2 images
    x(0, 0) = 0.5, x(0, 1) = 0.5, x(0, 2) = 0.0, x(0, 3) = 0.0;  // class 2: top row
    x(1, 0) = 0.0, x(1, 1) = 0.0, x(1, 2) = 0.5, x(1, 3) = 0.5;  // class 0: bottom row
    x(2, 0) = 0.0, x(2, 1) = 0.0, x(2, 2) = 0.5, x(2, 3) = 0.5;
    MaskedMean source(x, labels({2, 0, 0}), PoissonOptions{1000.0, 0.001, 2.0}, MaskedMeanOptions{2, 2, 2, true});
    CHECK(source.means() == 2);
    default_engine e(4);
    std::vector<std::uint32_t> active;
    std::set<std::vector<std::uint32_t>> seen;
    for (std::size_t t = 0; t < 50; ++t) {
        source.spikes(t, active, e);
        seen.insert(active);
    }
    CHECK(seen == std::set<std::vector<std::uint32_t>>{{0, 1}, {2, 3}});
}

TEST_CASE("average accuracy, backward transfer and forgetting of a hand-worked accuracy matrix")
{
    const AccuracyMatrix r{{0.9, 0.1, 0.0}, {0.5, 0.8, 0.2}, {0.3, 0.6, 0.7}};
    const auto a = average_accuracy(r);
    CHECK(a[0] == doctest::Approx(0.9));
    CHECK(a[1] == doctest::Approx(0.65));
    CHECK(a[2] == doctest::Approx(1.6 / 3));
    CHECK(backward_transfer(r) == doctest::Approx(((0.3 - 0.9) + (0.6 - 0.8)) / 2));
    CHECK(forgetting(r) == doctest::Approx(((0.9 - 0.3) + (0.8 - 0.6)) / 2));
    const AccuracyMatrix rising{{0.5, 0.0}, {0.7, 0.9}};  // task 0 improved later: negative forgetting
    CHECK(forgetting(rising) == doctest::Approx(-0.2));
    CHECK(std::isnan(backward_transfer(AccuracyMatrix{{0.5}})));
    CHECK(message_of<invalid_argument>([] {
              forgetting(AccuracyMatrix{{0.5, 0.1}});
          }) == "forgetting: row 0 has 2 entries, expected 1");
}

namespace {

struct ContinualSetup {
    Dataset<double> train = rows_data(40, 1), test = rows_data(10, 2);
    TaskSplit train_tasks = class_tasks(train.y, {{0, 1}, {2, 3}});
    TaskSplit test_tasks = class_tasks(test.y, train_tasks.classes);
    ContinualEngines<> engines{default_engine(1), default_engine(2), default_engine(3)};

    static DenseNetwork<double> net()
    {
        DenseNetwork<double> n({16, 12, 4});
        default_engine e(7);
        n.initialize(Init::uniform(0.1), e);
        return n;
    }
    static ContinualOptions options(ContinualMethod m)
    {
        ContinualOptions o;
        o.method = m;
        o.sgd.epochs = 3;
        o.sgd.batch_size = 10;
        o.rehearsal_fraction = 0.25;
        o.sleep.params = sleep_preset("patches");
        o.sleep.params.thresholds = {0.5, 0.5};  // sleep strong enough to move accuracies
        o.sleep.params.rate = 200.0;
        o.sleep.params.inc = 0.02;
        o.sleep.params.dec = 0.01;
        o.sleep.first_steps = 200;
        o.sleep.more_steps = 100;
        o.sleep.mask = MaskedMeanOptions{4, 4, 3, false};
        return o;
    }
    ContinualReport run(ContinualMethod m, DenseNetwork<double>& n, ContinualOptions o) const
    {
        o.method = m;
        return continual_learning(n, train, test, train_tasks, test_tasks, o, engines);
    }
};

}  // namespace

TEST_CASE("continual_learning: the accuracy matrix, sleeps on schedule, joint and rehearsal phases")
{
    const ContinualSetup s;
    auto seq_net = ContinualSetup::net(), sleep_net = ContinualSetup::net(), joint_net = ContinualSetup::net(),
         reh_net = ContinualSetup::net();
    const auto seq = s.run(ContinualMethod::sequential, seq_net, ContinualSetup::options(ContinualMethod::sequential));
    REQUIRE(seq.accuracy.size() == 2);
    CHECK(seq.accuracy[0].size() == 2);
    CHECK(seq.accuracy[0][0] > 0.9);   // task 0 learnt
    CHECK(seq.accuracy[0][1] == 0.0);  // its classes were never trained: predicted as 0 or 1
    CHECK(seq.accuracy[1][1] > 0.9);   // task 1 learnt after it
    CHECK(seq.average[1] == doctest::Approx((seq.accuracy[1][0] + seq.accuracy[1][1]) / 2));
    CHECK(seq.sleeps.empty());
    CHECK(seq.trained_rows == std::vector<std::size_t>{80, 80});

    const auto slept = s.run(ContinualMethod::sleep, sleep_net, ContinualSetup::options(ContinualMethod::sleep));
    CHECK(slept.slept_after == std::vector<std::size_t>{0, 1});
    REQUIRE(slept.sleeps.size() == 2);
    CHECK(slept.sleeps[0].steps == 200);  // first_steps, then + more_steps
    CHECK(slept.sleeps[1].steps == 300);

    const auto joint = s.run(ContinualMethod::joint, joint_net, ContinualSetup::options(ContinualMethod::joint));
    CHECK(joint.accuracy.size() == 1);
    CHECK(joint.trained_rows == std::vector<std::size_t>{160});
    CHECK(joint.average[0] == doctest::Approx((joint.accuracy[0][0] + joint.accuracy[0][1]) / 2));

    const auto reh = s.run(ContinualMethod::rehearsal, reh_net, ContinualSetup::options(ContinualMethod::rehearsal));
    CHECK(reh.trained_rows == std::vector<std::size_t>{80, 80 + 20});
    CHECK(reh.accuracy[0] == seq.accuracy[0]);  // task 0 has no buffer: the same training draws

    auto o = ContinualSetup::options(ContinualMethod::rehearsal);
    o.rehearsal_fraction = 0.6;  // per task: ceil(0.6 x 80) = 48; the release's: round(48, -2) = 0
    auto per_task_net = ContinualSetup::net(), release_net = ContinualSetup::net();
    CHECK(s.run(ContinualMethod::rehearsal, per_task_net, o).trained_rows == std::vector<std::size_t>{80, 128});
    o.rehearsal_rule = RehearsalRule::release;
    CHECK(s.run(ContinualMethod::rehearsal, release_net, o).trained_rows == std::vector<std::size_t>{80, 80});
    o.rehearsal_fraction = 0.7;  // round(56, -2) = 100, at most the 80 rows of task 0's classes
    CHECK(s.run(ContinualMethod::rehearsal, release_net, o).trained_rows == std::vector<std::size_t>{80, 160});
}

TEST_CASE("continual_learning: sleep that keeps every layer is the sequential run, and callbacks stop it")
{
    const ContinualSetup s;
    auto a = ContinualSetup::net(), b = ContinualSetup::net();
    auto o = ContinualSetup::options(ContinualMethod::sleep);
    o.sleep.keep_layers = {0, 1};  // every weight layer copied back after sleep
    const auto kept = s.run(ContinualMethod::sleep, a, o);
    const auto seq = s.run(ContinualMethod::sequential, b, o);
    CHECK(kept.sleeps.size() == 2);
    CHECK(kept.accuracy == seq.accuracy);
    CHECK(a.weights(0) == b.weights(0));

    auto c = ContinualSetup::net();
    struct StopAtSleep {
        std::vector<std::string> seen;
        bool on_progress(const ContinualProgress& p)
        {
            seen.push_back(std::to_string(p.task) + p.stage);
            return p.stage == "sleep";
        }
    } stopper;
    const auto stopped = continual_learning(c, s.train, s.test, s.train_tasks, s.test_tasks, o, s.engines, stopper);
    CHECK(stopped.stopped);
    CHECK(stopped.accuracy.empty());
    CHECK(stopper.seen == std::vector<std::string>{"0train", "0sleep"});

    auto bad = ContinualSetup::options(ContinualMethod::sleep);
    bad.sleep.keep_layers = {2};
    CHECK(message_of<invalid_argument>([&] { s.run(ContinualMethod::sleep, c, bad); }) ==
          "ContinualOptions: sleep.keep_layers has layer 2, the network has 2");
}

TEST_CASE("ContinualSleepOptions::scaled_to keeps the schedule's proportion")
{
    ContinualSleepOptions s;  // 15000, + 5000 per task
    const auto t = s.scaled_to(9000);
    CHECK(t.first_steps == 9000);
    CHECK(t.more_steps == 3000);
    CHECK(t.steps_after(2) == 15000);
    CHECK(s.scaled_to(10).more_steps == 3);  // 3.33 rounds to 3
    CHECK(s.scaled_to(11).more_steps == 4);  // 3.67 rounds to 4
}

TEST_CASE("tune_continual: candidates are continual runs, the control runs without sleep, logs resume")
{
    const ContinualSetup s;
    const auto initial = ContinualSetup::net();
    const ContinualTuneData<double> data{s.train, s.test, s.train_tasks, s.test_tasks};
    const auto base = ContinualSetup::options(ContinualMethod::sleep);
    SearchSpace space;
    space.base = base.sleep.params;
    space.steps = {50, 400};
    space.rate = {20, 200};
    TuneOptions o;
    o.budget = 6;
    o.genetic.population = 3;
    o.genetic.elite = 1;
    o.threads = 1;
    o.max_accuracy_drop = 1.0;
    o.log_path = test_support::fresh_dir("continual", "tune") + "/log.jsonl";
    default_engine e1(11), e2(11), e3(11);
    const TuneResult r = tune_continual(initial, data, space, base, o, s.engines, e1);
    REQUIRE(r.history.size() == 6);

    auto control_net = initial;
    auto seq = ContinualSetup::options(ContinualMethod::sequential);
    const auto control = continual_learning(control_net, s.train, s.test, s.train_tasks, s.test_tasks, seq, s.engines);
    CHECK(r.control_value == control.average.back());
    CHECK(r.control_accuracy == control.total_accuracy.back());

    const TuneCandidate& best = r.best();  // the objective is a continual run with its parameters
    auto again_net = initial;
    auto again_options = base;
    again_options.sleep.params = best.params;
    again_options.sleep.first_steps = best.params.steps;  // base ratio 200 : 100
    again_options.sleep.more_steps = (best.params.steps + 1) / 2;
    const auto again =
        continual_learning(again_net, s.train, s.test, s.train_tasks, s.test_tasks, again_options, s.engines);
    CHECK(best.value == again.average.back());
    CHECK(best.accuracy == again.total_accuracy.back());

    TuneOptions two = o;  // threads do not change the history
    two.threads = 2;
    two.log_path.clear();
    const TuneResult r2 = tune_continual(initial, data, space, base, two, s.engines, e2);
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(r2.history[i].genes == r.history[i].genes);
        CHECK(r2.history[i].value == r.history[i].value);
    }
    const TuneResult resumed = tune_continual(initial, data, space, base, o, s.engines, e3);
    CHECK(resumed.resumed == 6);
    CHECK(resumed.best().value == best.value);

    auto wrong = base;
    wrong.method = ContinualMethod::sequential;
    default_engine e4(11);
    CHECK(message_of<invalid_argument>([&] { tune_continual(initial, data, space, wrong, o, s.engines, e4); }) ==
          "tune_continual: the method must sleep (sleep or rehearsal+sleep), got sequential");
}
