#pragma once
// `continual --tune BUDGET`: the sleep parameter search of continual/tune.hpp for the
// example's setting, on a validation split carved from the training images (never the
// test images): the last --validation training images are held out (default 10,000); the
// search trains the tasks on the rows before them (the first --per-task of each task, as
// the trials do) and sleeps on those rows, and scores A_{T-1} (average accuracy after the
// last task) on the held-out rows' tasks. Its network and engines are those of a trial
// that no evaluation trial uses: rng::stream(seed, tune_trial, 0 | 1 | 2 | 3 | 4) (initial
// network, training, sleep, buffer, class order), the search's own draws
// rng::stream(seed, tune_trial, 5). The first candidate is the starting parameters (the
// release's, or --params), so the log compares the winner with them on the same split.
// The winner's steps gene is the first sleep's length; later sleeps grow in the
// --more-steps / --first-steps proportion (ContinualSleepOptions::scaled_to), which
// `continual --params FILE --params-steps` repeats.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sleepnet/continual/tune.hpp>

#include "common.hpp"
#include "strict_cli.hpp"
#include "tune_space.hpp"

namespace cont {

/// The trial index of the search's network and engines (no evaluation trial has it).
constexpr std::uint64_t tune_trial = 1000000;

struct TuneFlags {
    std::size_t budget = 0;  ///< 0: no search
    std::string method = "genetic", tune_for = "sleep", log_file, out_file;
    std::size_t population = 16, validation = 10000;
    double max_drop = 0.03;
    std::uint64_t max_spikes = 500000;
    unsigned threads = 1;
    bool restart = false;
    examples::SpaceFlags space;

    TuneFlags() { space.rule.clear(); }  // candidates keep the starting parameters' STDP rule
};

inline void add_tune_options(CLI::App& app, TuneFlags& t)
{
    app.add_option("--tune", t.budget,
                   "search sleep parameters first (BUDGET candidates), then run the trials with the winner")
        ->check(examples::positive_count());
    app.add_option("--tune-method", t.method, "the search: genetic | random");
    app.add_option("--tune-for", t.tune_for, "the method the search scores: sleep | rehearsal+sleep");
    app.add_option("--tune-log", t.log_file, "JSON-lines log of every candidate; an existing one is continued");
    app.add_option("--tune-out", t.out_file, "where to write the winning parameters (default OUT/tuned_params.json)");
    app.add_flag("--restart", t.restart, "start the search afresh, overwriting an existing --tune-log");
    app.add_option("--population", t.population, "GA population size")->check(examples::positive_count());
    app.add_option("--validation", t.validation, "validation images: the last N training images, held out")
        ->check(examples::positive_count());
    app.add_option("--max-drop", t.max_drop, "feasible: validation accuracy >= control (no sleep) - this")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--max-spikes", t.max_spikes, "runaway guard: stop a sleep after this many spikes (0 = none)");
    app.add_option("--threads", t.threads, "candidates evaluated at once")->check(examples::positive_count());
    examples::add_space_options(app, t.space, "first sleep's steps range LO HI");
}

/// The search's data: the training rows before the last `validation` and their tasks, and
/// those rows with the same classes' tasks (all their rows).
template <class T, class Engine>
sleepnet::ContinualTuneData<T> tune_data(const sleepnet::Dataset<T>& train, std::size_t validation,
                                         const sleepnet::ClassTaskOptions& co, Engine& order_engine)
{
    const std::size_t n = train.size();
    if (validation >= n)
        throw sleepnet::invalid_argument("--validation " + std::to_string(validation) + " leaves none of the " +
                                         std::to_string(n) + " training images to train on");
    std::vector<std::size_t> head(n - validation), tail(validation);
    for (std::size_t i = 0; i < head.size(); ++i) head[i] = i;
    for (std::size_t i = 0; i < tail.size(); ++i) tail[i] = head.size() + i;
    sleepnet::ContinualTuneData<T> d{train.subset(head), train.subset(tail), {}, {}};
    d.train_tasks = sleepnet::class_tasks(d.train.y, d.train.classes, co, order_engine);
    d.validation_tasks = sleepnet::class_tasks(d.validation.y, d.train_tasks.classes);
    return d;
}

inline sleepnet::TuneOptions tune_options(const TuneFlags& t)
{
    sleepnet::TuneOptions o;
    o.method = sleepnet::tune_method_from_string(t.method);
    o.budget = t.budget;
    o.genetic.population = t.population;
    o.max_accuracy_drop = t.max_drop;
    o.max_spikes = t.max_spikes;
    o.threads = t.threads;
    o.log_path = t.log_file;
    o.resume = !t.restart;
    return o;
}

/// Refuses bad search flags before the data are loaded.
inline void check_tune_flags(const TuneFlags& t)
{
    const auto m = sleepnet::enum_from_string<sleepnet::ContinualMethod>(t.tune_for);
    if (m != sleepnet::ContinualMethod::sleep && m != sleepnet::ContinualMethod::rehearsal_sleep)
        throw sleepnet::invalid_argument("--tune-for must be a method that sleeps (sleep or rehearsal+sleep), got '" +
                                         t.tune_for + "'");
    tune_options(t).validate();
}

/// Runs the search for `base` (its method sleeps) from `initial`: the first candidate is
/// base.sleep.params, then the --initial files; the space's flags go to `flags`.
template <class T>
sleepnet::TuneResult search(const TuneFlags& t, const sleepnet::DenseNetwork<T>& initial,
                            const sleepnet::ContinualTuneData<T>& data, const sleepnet::ContinualOptions& base,
                            std::uint64_t seed, std::string& flags)
{
    namespace rng = sleepnet::rng;
    const auto space = examples::search_space(t.space, initial.num_layers(), flags, base.sleep.params);
    auto opts = tune_options(t);
    opts.initial.push_back(space.encode(base.sleep.params));
    for (auto& g : examples::initial_genomes(t.space, space, initial.num_layers(), flags))
        opts.initial.push_back(std::move(g));
    const sleepnet::ContinualEngines<> engines{rng::stream(seed, tune_trial, 1), rng::stream(seed, tune_trial, 2),
                                               rng::stream(seed, tune_trial, 3)};
    auto engine = rng::stream(seed, tune_trial, 5);
    auto bar = examples::progress_bar("tune");
    return sleepnet::tune_continual(initial, data, space, base, opts, engines, engine, bar);
}

/// What the search found, for results.json and the provenance.
inline nlohmann::json tune_summary_json(const sleepnet::TuneResult& r, const TuneFlags& t, std::size_t train_rows,
                                        std::size_t validation_rows)
{
    const auto& best = r.best();
    nlohmann::json j{{"budget", t.budget},
                     {"method", t.method},
                     {"tuned_for", t.tune_for},
                     {"objective", r.objective},
                     {"train_rows", train_rows},
                     {"validation_rows", validation_rows},
                     {"candidates", r.history.size()},
                     {"resumed", r.resumed},
                     {"seconds", r.seconds},
                     {"control_value", sleepnet::tune_value_json(r.control_value)},
                     {"control_accuracy", r.control_accuracy},
                     {"start_value", sleepnet::tune_value_json(r.history.front().value)},
                     {"start_accuracy", r.history.front().accuracy},
                     {"best_index", best.index},
                     {"best_value", sleepnet::tune_value_json(best.value)},
                     {"best_accuracy", best.accuracy},
                     {"best_feasible", best.feasible}};
    return j;
}

}  // namespace cont
