#pragma once
// Class-incremental learning with sleep between tasks: Sleep Replay Consolidation (SRC;
// Tadros, Krishnan, Ramyaa, Bazhenov, Nature Communications 2022, "Sleep-like unsupervised
// replay reduces catastrophic forgetting in artificial neural networks") and its baselines.
//
//   TaskSplit train_tasks = class_tasks(train.y, 10, ClassTaskOptions{2, false, 5000}, engine);
//   TaskSplit test_tasks = class_tasks(test.y, train_tasks.classes);
//   ContinualOptions o;                            // method sleep (SRC), the release's settings
//   ContinualEngines<> engines{default_engine(1), default_engine(2), default_engine(3)};
//   ContinualReport r = continual_learning(net, train, test, train_tasks, test_tasks, o, engines);
//   r.accuracy[i][j], r.average, backward_transfer(r.accuracy), forgetting(r.accuracy)
//
// Methods (ContinualMethod):
// - sequential: train on each task's rows in turn (the release's "control": forgetting).
// - sleep (SRC): after training task i (0-based), sleep for
//   sleep.first_steps + i * sleep.more_steps steps (the release: 15000 + i * 5000) with
//   normalization on, and masked mean-image input (snn/masked_mean.hpp) from, ALL training
//   rows of the classes seen so far (the release uses `find(ismember(tasks, 1:i))`, not
//   the capped rows); the slept network starts the next task. sleep.every = k sleeps
//   after tasks k-1, 2k-1, ... and after the last; sleep.keep_layers are copied back from
//   before sleep (the release's optional `layers`).
// - rehearsal: task i trains on its rows plus a buffer drawn with engines.buffer by
//   rehearsal_rule (data/tasks.hpp): per_task (the default, ours) rehearsal_fraction of the
//   rows of every earlier task (rehearsal_buffer); release (the release's rule)
//   round(rehearsal_fraction * N, -2) of the N training rows of all earlier tasks' classes
//   (release_rehearsal_buffer).
// - rehearsal_sleep: rehearsal, then sleep as SRC.
// - joint: one phase on the rows of all tasks (the release's "ideal"); the accuracy matrix
//   then has one row.
// After every phase the network is evaluated on each test task: R[i][j].
//
// Randomness: training (shuffles, dropout) draws from a copy of engines.train made for
// each method run, sleep from a copy of engines.sleep, the buffer from engines.buffer, so
// two methods given the same prototypes train task 0 identically. Callbacks:
// on_progress(const ContinualProgress&) before each phase's training, sleep and
// evaluation; true stops (the report holds the phases finished).
// Differences from the release: our SGD starts every task with zero momentum (the
// release's network struct carries its velocity from task to task); MATLAB's random
// numbers cannot be reproduced.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../callbacks/spike_budget.hpp"
#include "../core/callbacks.hpp"
#include "../core/enum_names.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../data/dataset.hpp"
#include "../data/tasks.hpp"
#include "../nn/dense_network.hpp"
#include "../nn/loss.hpp"
#include "../nn/sgd.hpp"
#include "../nn/train.hpp"
#include "../snn/masked_mean.hpp"
#include "../snn/sleep.hpp"
#include "metrics.hpp"

namespace sleepnet {

enum class ContinualMethod { sequential, sleep, rehearsal, rehearsal_sleep, joint };

template <>
struct EnumNames<ContinualMethod> {
    static constexpr const char* kind = "continual method";
    static constexpr EnumName<ContinualMethod> table[] = {{ContinualMethod::sequential, "sequential"},
                                                          {ContinualMethod::sleep, "sleep"},
                                                          {ContinualMethod::rehearsal, "rehearsal"},
                                                          {ContinualMethod::rehearsal_sleep, "rehearsal+sleep"},
                                                          {ContinualMethod::joint, "joint"}};
};

/// The sleep phases of SRC (methods sleep and rehearsal_sleep).
struct ContinualSleepOptions {
    SleepParams params = sleep_preset("mnist-src");  ///< params.steps is replaced per task
    std::size_t first_steps = 15000;                 ///< after the first task
    std::size_t more_steps = 5000;                   ///< added per later task
    std::size_t every = 1;                           ///< sleep after every k-th task (and the last)
    MaskedMeanOptions mask;
    std::vector<std::size_t> keep_layers;  ///< weight layers (0-based) restored after sleep
    /// Stop a sleep once all layers together spiked more than this (0: no limit; its
    /// report then has stopped_early; callbacks/spike_budget.hpp).
    std::uint64_t max_spikes = 0;

    /// This schedule with its first sleep `first` steps long and later ones growing in the
    /// same proportion: more_steps * first / first_steps, rounded (tune_continual's rule).
    ContinualSleepOptions scaled_to(std::size_t first) const
    {
        ContinualSleepOptions s = *this;
        s.first_steps = first;
        s.more_steps = static_cast<std::size_t>(std::llround(
            static_cast<double>(first) * static_cast<double>(more_steps) / static_cast<double>(first_steps)));
        return s;
    }
    /// Steps of the sleep after task i (0-based).
    std::size_t steps_after(std::size_t i) const { return first_steps + i * more_steps; }
    /// Whether the method sleeps after task i of `tasks`.
    bool sleeps_after(std::size_t i, std::size_t tasks) const { return (i + 1) % every == 0 || i + 1 == tasks; }
};

struct ContinualOptions {
    ContinualMethod method = ContinualMethod::sleep;
    SgdOptions sgd;                      ///< per task (the release: lr 0.1, momentum 0.5, batch 100, 2 epochs)
    double rehearsal_fraction = 0.0075;  ///< of the earlier tasks' rows (rehearsal methods), by rehearsal_rule
    RehearsalRule rehearsal_rule = RehearsalRule::per_task;
    ContinualSleepOptions sleep;

    void validate(std::size_t weight_layers) const
    {
        sgd.validate();
        if (!(rehearsal_fraction >= 0.0 && rehearsal_fraction <= 1.0))
            throw invalid_argument("ContinualOptions: rehearsal_fraction must lie in [0, 1], got " +
                                   std::to_string(rehearsal_fraction));
        if (sleep.every == 0) throw invalid_argument("ContinualOptions: sleep.every must be > 0");
        if (sleep.first_steps == 0) throw invalid_argument("ContinualOptions: sleep.first_steps must be > 0");
        for (std::size_t l : sleep.keep_layers)
            if (l >= weight_layers)
                throw invalid_argument("ContinualOptions: sleep.keep_layers has layer " + std::to_string(l) +
                                       ", the network has " + std::to_string(weight_layers));
        if (sleeps()) sleep.params.validate(weight_layers);
    }
    bool sleeps() const { return method == ContinualMethod::sleep || method == ContinualMethod::rehearsal_sleep; }
    bool rehearses() const
    {
        return method == ContinualMethod::rehearsal || method == ContinualMethod::rehearsal_sleep;
    }
};

template <class Engine = default_engine>
struct ContinualEngines {
    Engine train, sleep, buffer;  ///< prototypes: each run copies them
};

/// What on_progress(const ContinualProgress&) callbacks see.
struct ContinualProgress {
    std::size_t task = 0;   ///< 0-based phase
    std::size_t tasks = 0;  ///< phases of this run (1 for joint)
    std::string stage;      ///< "train", "sleep" or "evaluate"
};

struct ContinualReport {
    ContinualMethod method = ContinualMethod::sleep;
    AccuracyMatrix accuracy;                ///< R[phase][test task]
    std::vector<double> average;            ///< A_i: mean of row i over tasks 0 .. i (joint: all)
    std::vector<double> total_accuracy;     ///< after each phase, on all rows of all test tasks
    std::vector<SleepReport> sleeps;        ///< one per sleep, in order
    std::vector<std::size_t> slept_after;   ///< the phase each sleep followed
    std::vector<std::size_t> trained_rows;  ///< training rows per phase (with the buffer)
    bool stopped = false;
    double seconds = 0.0;
};

namespace detail {

/// Accuracy after a phase on each test task, and on all their rows together.
template <class T>
inline std::pair<std::vector<double>, double> continual_evaluate(const DenseNetwork<T>& net, const Dataset<T>& test,
                                                                 const TaskSplit& tasks)
{
    std::vector<double> per_task;
    for (const auto& rows : tasks.rows) per_task.push_back(accuracy(net, test.subset(rows)));
    return {per_task, accuracy(net, test.subset(tasks.rows_of(0, tasks.tasks() - 1)))};
}

/// SRC's sleep after task i: masked mean images of the classes seen so far.
template <class T, class Engine>
inline SleepReport continual_sleep(DenseNetwork<T>& net, const Dataset<T>& train, const TaskSplit& split, std::size_t i,
                                   const ContinualSleepOptions& s, Engine& engine)
{
    const Dataset<T> seen = train.subset(class_rows(train.y, split, i));
    SleepParams p = s.params;
    p.steps = s.steps_after(i);
    MaskedMean source(seen.x, seen.y, PoissonOptions{p.rate, p.dt, p.rate_factor}, s.mask);
    std::vector<matrix<T>> kept;
    for (std::size_t l : s.keep_layers) kept.push_back(net.weights(l));
    SpikeBudget budget{s.max_spikes};
    SleepReport report = sleep_with_source(net, source, seen.x, p, engine, budget);
    for (std::size_t k = 0; k < kept.size(); ++k) net.weights(s.keep_layers[k]) = kept[k];
    return report;
}

/// The training rows of phase i: the task's rows (all tasks' for joint), then the buffer.
template <class Engine>
inline std::vector<std::size_t> continual_rows(const label_vector& y, const TaskSplit& split, std::size_t i,
                                               const ContinualOptions& o, Engine& buffer_engine)
{
    if (o.method == ContinualMethod::joint) return split.rows_of(0, split.tasks() - 1);
    std::vector<std::size_t> rows = split.rows[i];
    if (o.rehearses() && i > 0) {
        const auto buffer = o.rehearsal_rule == RehearsalRule::release
                                ? release_rehearsal_buffer(y, split, i - 1, o.rehearsal_fraction, buffer_engine)
                                : rehearsal_buffer(split, i - 1, o.rehearsal_fraction, buffer_engine);
        rows.insert(rows.end(), buffer.begin(), buffer.end());
    }
    return rows;
}

template <class T>
inline void check_continual_inputs(const DenseNetwork<T>& net, const Dataset<T>& train, const Dataset<T>& test,
                                   const TaskSplit& train_tasks, const TaskSplit& test_tasks, const ContinualOptions& o)
{
    o.validate(net.num_layers());
    if (train_tasks.tasks() == 0 || train_tasks.classes != test_tasks.classes)
        throw invalid_argument("continual_learning: the training and test splits must have the same tasks and classes");
    if (train.classes != net.output_size() || test.classes != net.output_size())
        throw invalid_argument("continual_learning: the data sets have " + std::to_string(train.classes) + " / " +
                               std::to_string(test.classes) + " classes, the network " +
                               std::to_string(net.output_size()) + " outputs");
}

}  // namespace detail

/// Trains `net` task by task as o.method says (see the top of this header); returns the
/// accuracy matrix and the per-phase figures. `net` ends as the method leaves it.
template <class T, class Engine, class... Callbacks>
inline ContinualReport continual_learning(DenseNetwork<T>& net, const Dataset<T>& train, const Dataset<T>& test,
                                          const TaskSplit& train_tasks, const TaskSplit& test_tasks,
                                          const ContinualOptions& o, const ContinualEngines<Engine>& engines,
                                          Callbacks&&... callbacks)
{
    detail::check_continual_inputs(net, train, test, train_tasks, test_tasks, o);
    const auto t0 = std::chrono::steady_clock::now();
    auto hooks = std::forward_as_tuple(callbacks...);
    Engine train_engine = engines.train, sleep_engine = engines.sleep, buffer_engine = engines.buffer;
    const std::size_t tasks = train_tasks.tasks(), phases = o.method == ContinualMethod::joint ? 1 : tasks;
    ContinualReport r;
    r.method = o.method;
    auto stop = [&](std::size_t i, const char* stage) {
        return r.stopped = r.stopped || detail::call_on_progress(hooks, ContinualProgress{i, phases, stage});
    };
    for (std::size_t i = 0; i < phases && !stop(i, "train"); ++i) {
        const auto rows = detail::continual_rows(train.y, train_tasks, i, o, buffer_engine);
        sleepnet::train(net, train.subset(rows), MseLoss{}, o.sgd, train_engine);
        r.trained_rows.push_back(rows.size());
        if (o.sleeps() && phases > 1 && o.sleep.sleeps_after(i, tasks)) {
            if (stop(i, "sleep")) break;
            r.sleeps.push_back(detail::continual_sleep(net, train, train_tasks, i, o.sleep, sleep_engine));
            r.slept_after.push_back(i);
        }
        if (stop(i, "evaluate")) break;
        auto [per_task, total] = detail::continual_evaluate(net, test, test_tasks);
        const std::size_t seen = phases == 1 ? tasks : i + 1;
        double mean = 0.0;
        for (std::size_t j = 0; j < seen; ++j) mean += per_task[j] / static_cast<double>(seen);
        r.accuracy.push_back(std::move(per_task));
        r.average.push_back(mean);
        r.total_accuracy.push_back(total);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace sleepnet
