#pragma once
// The sleep parameter search for continual learning: the release's SRC constants were
// tuned for the authors' network and data, so tune_continual searches sleep parameters
// (tune/space.hpp, the same genes as tune_sleep) for a continual-learning run
// (continual/continual.hpp). The steps gene sets the first sleep's length; later sleeps
// grow in the base options' proportion (the release: 15000, then + 5000 per task, so a
// candidate with steps S sleeps S, then + S / 3 per task). Objective: the average accuracy after the last task (A_{T-1})
// on a validation split's tasks; accuracy: the accuracy on all validation rows after the
// last task. The control is the same run without sleep (sequential, or rehearsal for
// rehearsal+sleep); feasible: accuracy >= control accuracy - max_accuracy_drop, and no
// sleep stopped by the spike budget (TuneOptions::max_spikes, per sleep) or non-finite.
//
//   ContinualTuneData<float> data{train_part, validation_part, train_tasks, validation_tasks};
//   auto r = tune_continual(initial, data, SearchSpace{base}, ContinualOptions{}, tune_options,
//                           ContinualEngines<>{...}, engine);
//   r.best_params()   // for ContinualOptions::sleep.params
//
// Every candidate runs continual_learning from a copy of `initial` with copies of the
// engine prototypes (common random numbers: candidates differ only by their sleep
// parameters), so the history is the same for any thread count or number of workers
// (tune_continual_on, tune/workers.hpp). The log and resume are tune_sleep's; its header
// has a "continual" object (the run's settings and engine fingerprints) that a resumed
// search must match. Never give the test set as the validation split.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../tune/search.hpp"
#include "continual.hpp"

namespace sleepnet {

template <class T>
struct ContinualTuneData {
    Dataset<T> train;       ///< the rows continual_learning trains on (rows of train_tasks)
    Dataset<T> validation;  ///< held out from the training set; never the test set
    TaskSplit train_tasks, validation_tasks;
};

namespace detail {

/// One candidate: a continual run with the candidate's sleep parameters.
template <class T, class Engine>
class ContinualCandidate {
public:
    ContinualCandidate(const DenseNetwork<T>& initial, const ContinualTuneData<T>& data, const SearchSpace& space,
                       const ContinualOptions& base, const TuneOptions& options,
                       const ContinualEngines<Engine>& engines, double floor)
        : initial_(initial), data_(data), space_(space), base_(base), options_(options), engines_(engines),
          floor_(floor), sim_(space.base.simulated_layers(initial.num_layers()))
    {
    }

    void operator()(TuneCandidate& c) const
    {
        measure_candidate(c, [&] {
            c.params = space_.decode(c.genes, sim_);
            ContinualOptions o = base_;
            o.sleep = base_.sleep.scaled_to(c.params.steps);  // the steps gene scales the schedule, keeping its shape
            o.sleep.params = c.params;
            o.sleep.max_spikes = options_.max_spikes;
            DenseNetwork<T> net = initial_;
            net.set_inference_threads(1);
            measure(continual_learning(net, data_.train, data_.validation, data_.train_tasks, data_.validation_tasks, o,
                                       engines_),
                    c);
        });
    }

private:
    void measure(const ContinualReport& r, TuneCandidate& c) const
    {
        c.spikes.assign(sim_, 0);
        for (const auto& s : r.sleeps) {
            for (std::size_t l = 0; l < sim_ && l < s.spikes.size(); ++l) c.spikes[l] += s.spikes[l];
            if (s.stopped_early)
                c.error = "runaway activity: a sleep spiked more than " + std::to_string(options_.max_spikes) +
                          " times by step " + std::to_string(s.steps);
        }
        c.accuracy = r.total_accuracy.back();
        c.feasible = c.error.empty() && c.accuracy >= floor_;
        if (c.feasible) c.value = r.average.back();
    }

    const DenseNetwork<T>& initial_;
    const ContinualTuneData<T>& data_;
    const SearchSpace& space_;
    const ContinualOptions& base_;
    const TuneOptions& options_;
    const ContinualEngines<Engine>& engines_;
    double floor_;
    std::size_t sim_;
};

/// The run without sleep: the control's accuracy, objective value and the floor.
template <class T, class Engine>
inline TuneResult measure_continual_control(const DenseNetwork<T>& initial, const ContinualTuneData<T>& data,
                                            const ContinualOptions& base, const TuneOptions& options,
                                            const ContinualEngines<Engine>& engines)
{
    ContinualOptions o = base;
    o.method = base.rehearses() ? ContinualMethod::rehearsal : ContinualMethod::sequential;
    DenseNetwork<T> net = initial;
    const ContinualReport r =
        continual_learning(net, data.train, data.validation, data.train_tasks, data.validation_tasks, o, engines);
    TuneResult result;
    result.objective = "continual_average_accuracy_" + to_string(base.method) + "_" +
                       std::to_string(data.train_tasks.tasks()) + "_tasks";
    result.control_accuracy = r.total_accuracy.back();
    result.control_value = r.average.back();
    result.accuracy_floor = result.control_accuracy - options.max_accuracy_drop;
    return result;
}

/// The run's settings for the log header (what a resumed search must share).
template <class T, class Engine>
inline nlohmann::json continual_identity(const ContinualTuneData<T>& data, const ContinualOptions& base,
                                         const ContinualEngines<Engine>& engines)
{
    const auto& s = base.sleep;
    nlohmann::json j{{"method", to_string(base.method)},
                     {"classes", data.train_tasks.classes},
                     {"train_rows", data.train.size()},
                     {"validation_rows", data.validation.size()},
                     {"sgd",
                      {{"learning_rate", base.sgd.learning_rate},
                       {"momentum", base.sgd.momentum},
                       {"batch_size", base.sgd.batch_size},
                       {"epochs", base.sgd.epochs}}},
                     {"rehearsal_fraction", base.rehearsal_fraction},
                     {"sleep",
                      {{"first_steps", s.first_steps},
                       {"more_steps", s.more_steps},
                       {"every", s.every},
                       {"window", s.mask.window},
                       {"per_class", s.mask.per_class},
                       {"keep_layers", s.keep_layers}}},
                     {"train_engine", rng::fingerprint(engines.train)},
                     {"buffer_engine", rng::fingerprint(engines.buffer)}};
    // only when not the default, so that logs written before the rule existed still resume
    if (base.rehearsal_rule != RehearsalRule::per_task) j["rehearsal_rule"] = to_string(base.rehearsal_rule);
    return j;
}

template <class T, class Engine>
inline void check_continual_tune(const DenseNetwork<T>& initial, const ContinualTuneData<T>& data,
                                 const SearchSpace& space, const ContinualOptions& base, const TuneOptions& options)
{
    options.validate();
    if (!base.sleeps())
        throw invalid_argument("tune_continual: the method must sleep (sleep or rehearsal+sleep), got " +
                               to_string(base.method));
    if (options.refit) throw invalid_argument("tune_continual: refit is not part of a continual run");
    check_sleep_network(initial);
    const std::size_t sim = space.base.simulated_layers(initial.num_layers());
    space.validate(sim);
    ContinualOptions probe = base;
    probe.sleep.params = space.base;
    probe.validate(initial.num_layers());
    for (const auto& g : options.initial)
        if (g.size() != space.genes(sim))
            throw invalid_argument("tune_continual: an initial genome has " + std::to_string(g.size()) +
                                   " genes, expected " + std::to_string(space.genes(sim)));
}

}  // namespace detail

/// tune_continual with the candidates evaluated by `workers` (tune/workers.hpp).
template <class Workers, class T, class CandidateEngine, class Engine, class... Callbacks>
inline TuneResult
tune_continual_on(const Workers& workers, const DenseNetwork<T>& initial, const ContinualTuneData<T>& data,
                  const SearchSpace& space, const ContinualOptions& base, const TuneOptions& options,
                  const ContinualEngines<CandidateEngine>& engines, Engine& engine, Callbacks&&... callbacks)
{
    detail::check_continual_tune<T, CandidateEngine>(initial, data, space, base, options);
    auto callback_tuple = std::forward_as_tuple(std::forward<Callbacks>(callbacks)...);
    const auto t0 = std::chrono::steady_clock::now();
    TuneResult result = detail::measure_continual_control(initial, data, base, options, engines);
    const detail::ContinualCandidate<T, CandidateEngine> evaluate(initial, data, space, base, options, engines,
                                                                  result.accuracy_floor);
    nlohmann::json header{{"kind", "tune"},
                          {"format_version", 2},
                          {"method", to_string(options.method)},
                          {"objective", result.objective},
                          {"space", space},
                          {"max_accuracy_drop", options.max_accuracy_drop},
                          {"sleep_engine", rng::fingerprint(engines.sleep)},
                          {"max_spikes", options.max_spikes},
                          {"initial", options.initial},
                          {"layer_sizes", initial.layer_sizes()},
                          {"validation_samples", data.validation.size()},
                          {"continual", detail::continual_identity(data, base, engines)},
                          {"control_accuracy", result.control_accuracy},
                          {"control_value", tune_value_json(result.control_value)}};
    if (options.method == TuneMethod::genetic) header["genetic"] = detail::genetic_json(options.genetic);
    const std::size_t n_genes = space.genes(space.base.simulated_layers(initial.num_layers()));
    detail::run_search(workers, evaluate, header, n_genes, options, result, engine, callback_tuple);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

/// Searches sleep parameters for a continual-learning run on this process's threads.
template <class T, class CandidateEngine, class Engine, class... Callbacks>
inline TuneResult tune_continual(const DenseNetwork<T>& initial, const ContinualTuneData<T>& data,
                                 const SearchSpace& space, const ContinualOptions& base, const TuneOptions& options,
                                 const ContinualEngines<CandidateEngine>& engines, Engine& engine,
                                 Callbacks&&... callbacks)
{
    return tune_continual_on(LocalWorkers{}, initial, data, space, base, options, engines, engine,
                             std::forward<Callbacks>(callbacks)...);
}

}  // namespace sleepnet
