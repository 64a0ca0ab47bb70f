#pragma once
// Sleep parameter search: a genetic algorithm (as the paper's authors used) and a
// random-search baseline over a SearchSpace, maximising an objective (tune/objective.hpp)
// on a validation split, subject to a clean-accuracy floor relative to the control.
//
//   sleepnet::TuneData<float> data{train_x, val_x, val_y};
//   sleepnet::TuneOptions opts;               // genetic, budget 100, accuracy drop <= 0.03
//   opts.log_path = "tune.jsonl";             // resumable JSON-lines log
//   sleepnet::CandidateEngines<> engines{sleepnet::default_engine(1), sleepnet::default_engine(1)};
//   auto result = sleepnet::tune_sleep(control, data, sleepnet::SearchSpace{},
//                                      sleepnet::FgsmObjective{}, opts, engines, engine);
//   sleepnet::SleepParams best = result.best_params();   // sleep(net, train_x, best, ...)
//
// Contract
// - Every candidate sleeps its own copy of the same control weights, with a copy of the
//   caller's engine prototype engines.sleep (common random numbers: candidates differ only
//   by their parameters; with default_engine(S) as the prototype, `sleep --params best.json
//   --seed S` reproduces the winner). The options hold no seeds.
// - The normalization factors are computed once on data.sleep_x (once per chain the space
//   may pick), as sleep() would, and candidates get alpha = factor * alpha_scale; best_params() leaves alpha empty, so the
//   result stays relative to the network's normalization.
// - Candidates are drawn from the caller's engine in a fixed order before they are
//   evaluated; evaluation uses options.threads worker threads (one inference thread per
//   candidate), so results do not depend on the thread count.
// - Feasible: validation accuracy >= control accuracy - max_accuracy_drop. Ranking:
//   feasible before infeasible; feasible by objective value (then accuracy); infeasible by
//   accuracy. A candidate whose sleep produces non-finite weights is infeasible.
// - Log: the first line describes the search, then one line per evaluated candidate,
//   flushed as it is written. With options.resume, an existing log is read back: the
//   search regenerates its candidates from the caller's engine (which must be seeded as
//   before) and takes the logged evaluations instead of recomputing them; a log written
//   by a different search (other space, objective, options or seed) is an error. A torn
//   last line (interrupted write) is dropped. The engines' seeds are not known here, so
//   the header records a fingerprint of each prototype (rng::fingerprint: the first four
//   64-bit draws of a copy, hex) as "sleep_engine" and, with a refit, "refit_engine"; a
//   resumed search whose prototypes give other draws is refused ("'sleep_engine'
//   differs"). That is header format_version 2; a version 1 log (it recorded "sleep_seed"
//   and the refit's "seed") is refused by a message naming both versions.
// - Callbacks: on_progress(const TuneProgress&) after each candidate; true stops early
//   (candidates already running finish and are logged).
// - Refit (options.refit set; snn/refit.hpp): every candidate, after sleeping, has its
//   layers above refit->sgd.frozen_layers refitted on data.refit_x / refit_y with a copy of
//   the prototype engines.refit; accuracy and objective are measured after that.
//   `sleep --params best.json` with the same refit object (its "seed" that of the
//   prototype) reproduces it (refit trains through OpenBLAS, whose last bits depend on
//   OPENBLAS_NUM_THREADS: use the same; the search runs one refit at a time for that
//   reason). The control is measured as it is (not refitted).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../attacks/common.hpp"
#include "../callbacks/spike_budget.hpp"
#include "../core/callbacks.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../detail/parallel.hpp"
#include "../nn/dense_network.hpp"
#include "../nn/train.hpp"
#include "../snn/normalize.hpp"
#include "../snn/refit.hpp"
#include "../snn/refit_json.hpp"
#include "../snn/sleep.hpp"
#include "space.hpp"
#include "space_json.hpp"
#include "tune_log.hpp"
#include "workers.hpp"

namespace sleepnet {

enum class TuneMethod { genetic, random };

template <>
struct EnumNames<TuneMethod> {
    static constexpr const char* kind = "search method";
    static constexpr EnumName<TuneMethod> table[] = {
        {TuneMethod::genetic, "genetic"}, {TuneMethod::random, "random"}, {TuneMethod::genetic, "ga"}};
};

/// "genetic" (or "ga") | "random".
inline TuneMethod tune_method_from_string(const std::string& s) { return enum_from_string<TuneMethod>(s); }

struct GeneticOptions {
    std::size_t population = 16;
    std::size_t elite = 2;         ///< best candidates copied unchanged into the next generation
    std::size_t tournament = 3;    ///< tournament size of parent selection
    double crossover = 0.9;        ///< probability that a child mixes two parents (uniform crossover)
    double mutation_rate = 0.25;   ///< per-gene probability of a Gaussian mutation
    double mutation_sigma = 0.15;  ///< its standard deviation in gene units (genes live in [0, 1])

    void validate() const
    {
        if (population < 2) throw invalid_argument("genetic search: population must be >= 2");
        if (elite >= population) throw invalid_argument("genetic search: elite must be < population");
        if (tournament < 1) throw invalid_argument("genetic search: tournament must be >= 1");
        if (!(crossover >= 0.0 && crossover <= 1.0))
            throw invalid_argument("genetic search: crossover must be in [0, 1]");
        if (!(mutation_rate >= 0.0 && mutation_rate <= 1.0))
            throw invalid_argument("genetic search: mutation_rate must be in [0, 1]");
        if (!(mutation_sigma >= 0.0) || !std::isfinite(mutation_sigma))
            throw invalid_argument("genetic search: mutation_sigma must be finite and >= 0");
    }
};

struct TuneOptions {
    TuneMethod method = TuneMethod::genetic;
    std::size_t budget = 100;  ///< candidates evaluated in total (the control is not counted)
    GeneticOptions genetic;
    double max_accuracy_drop = 0.03;  ///< feasible: accuracy >= control accuracy - this
    unsigned threads = 2;             ///< candidates evaluated at once
    std::string log_path;             ///< JSON-lines log ("" = none)
    bool resume = true;               ///< continue from an existing log at log_path
    /// Genomes placed first in the initial population (e.g. encoded presets).
    std::vector<std::vector<double>> initial;
    /// Runaway guard: a candidate whose spikes (all layers) exceed this is stopped and
    /// counted infeasible. Sleep's cost grows with the spikes, and activity this high
    /// rewrites the weights wholesale; 0 = no limit.
    std::uint64_t max_spikes = 500000;
    /// Refit every candidate after sleep before measuring it (needs TuneData::refit_x/y).
    std::optional<RefitOptions> refit;

    void validate() const
    {
        if (budget == 0) throw invalid_argument("tune: budget must be > 0");
        if (refit) refit->validate();
        if (threads == 0) throw invalid_argument("tune: threads must be > 0");
        if (!(max_accuracy_drop >= 0.0) || !std::isfinite(max_accuracy_drop))
            throw invalid_argument("tune: max_accuracy_drop must be finite and >= 0");
        if (method == TuneMethod::genetic) genetic.validate();
    }
};

/// The engines of tune_sleep's candidates, passed as prototypes: every candidate's sleep
/// draws from a copy of `sleep`, its refit (TuneOptions::refit set) from a copy of `refit`,
/// so all candidates meet the same random numbers (common random numbers) and a winner
/// reproduces with an engine equal to the prototype. The search never advances them.
template <class Engine = default_engine>
struct CandidateEngines {
    Engine sleep;
    Engine refit;
};

/// What the search sleeps and measures on.
template <class T>
struct TuneData {
    matrix<T> sleep_x;  ///< input of sleep and of its normalization (the training images)
    matrix<T> val_x;    ///< validation inputs (never the test set)
    label_vector val_y;
    matrix<T> refit_x;  ///< labelled training rows for TuneOptions::refit (disjoint from val_x)
    label_vector refit_y;
};

/// a ranks above b.
inline bool better(const TuneCandidate& a, const TuneCandidate& b)
{
    if (a.feasible != b.feasible) return a.feasible;
    if (a.feasible) {
        const bool an = std::isnan(a.value), bn = std::isnan(b.value);
        if (an != bn) return bn;
        if (!an && a.value != b.value) return a.value > b.value;
    }
    return a.accuracy > b.accuracy;
}

struct TuneProgress {
    std::size_t evaluated = 0;  ///< candidates done (including those read from the log)
    std::size_t budget = 0;
    const TuneCandidate* last = nullptr;
    const TuneCandidate* best = nullptr;
};

struct TuneResult {
    double control_accuracy = 0.0;
    double control_value = 0.0;
    double accuracy_floor = 0.0;
    std::string objective;
    std::vector<TuneCandidate> history;
    std::size_t resumed = 0;  ///< candidates taken from the log
    double seconds = 0.0;     ///< wall time of this run (without the resumed part)
    bool stopped = false;     ///< a callback stopped the search

    /// Index into history of the best candidate; throws when nothing was evaluated.
    std::size_t best_index() const
    {
        if (history.empty()) throw invalid_argument("tune: no candidate was evaluated");
        std::size_t b = 0;
        for (std::size_t i = 1; i < history.size(); ++i)
            if (better(history[i], history[b])) b = i;
        return b;
    }
    const TuneCandidate& best() const { return history[best_index()]; }
    SleepParams best_params() const { return best().params; }
};

namespace detail {

/// Uniform crossover and Gaussian mutation, genes clamped to [0, 1].
template <class Engine>
inline std::vector<double> ga_child(const std::vector<double>& a, const std::vector<double>& b, const GeneticOptions& o,
                                    Engine& engine)
{
    std::vector<double> c = a;
    const bool cross = rng::uniform01(engine) < o.crossover;
    for (std::size_t i = 0; i < c.size(); ++i) {
        if (cross && rng::uniform01(engine) < 0.5) c[i] = b[i];
        if (rng::uniform01(engine) < o.mutation_rate) {
            c[i] += o.mutation_sigma * rng::normal(engine);
        }
        c[i] = std::min(1.0, std::max(0.0, c[i]));
    }
    return c;
}

/// A genome of n uniform genes in [0, 1).
template <class Engine>
inline std::vector<double> random_genome(std::size_t n, Engine& engine)
{
    std::vector<double> g(n);
    for (auto& v : g) v = rng::uniform01(engine);
    return g;
}

// ---- input checks, the control, the log's description ----

/// Checks refit_x / refit_y and the refit options against the control (options.refit set).
template <class T>
inline void check_tune_refit_data(const DenseNetwork<T>& control, const TuneData<T>& data, const RefitOptions& refit)
{
    control.check_input(data.refit_x, "tune_sleep (refit_x)");
    if (data.refit_x.shape()[0] == 0) throw invalid_argument("tune_sleep: refit needs refit_x and refit_y (empty)");
    if (data.refit_y.size() != data.refit_x.shape()[0])
        throw invalid_argument("tune_sleep: refit_y has " + std::to_string(data.refit_y.size()) + " labels for " +
                               std::to_string(data.refit_x.shape()[0]) + " refit inputs");
    refit.validate(control.num_layers());
    if (refit.samples > data.refit_x.shape()[0])
        throw invalid_argument("tune_sleep: refit samples " + std::to_string(refit.samples) + " but refit_x has " +
                               std::to_string(data.refit_x.shape()[0]) + " rows");
}

/// Checks everything tune_sleep is given (options, network, space, data, initial genomes).
template <class T>
inline void check_tune_inputs(const DenseNetwork<T>& control, const TuneData<T>& data, const SearchSpace& space,
                              const TuneOptions& options)
{
    options.validate();
    check_sleep_network(control);
    const std::size_t sim = space.base.simulated_layers(control.num_layers());
    space.validate(sim);
    control.check_input(data.sleep_x, "tune_sleep (sleep_x)");
    control.check_input(data.val_x, "tune_sleep (val_x)");
    if (data.val_x.shape()[0] == 0) throw invalid_argument("tune_sleep: empty validation set");
    if (data.val_y.size() != data.val_x.shape()[0])
        throw invalid_argument("tune_sleep: val_y has " + std::to_string(data.val_y.size()) + " labels for " +
                               std::to_string(data.val_x.shape()[0]) + " validation inputs");
    if (data.sleep_x.shape()[0] == 0) throw invalid_argument("tune_sleep: empty sleep input");
    if (options.refit) check_tune_refit_data(control, data, *options.refit);
    const std::size_t n_genes = space.genes(sim);
    for (const auto& g : options.initial)
        if (g.size() != n_genes)
            throw invalid_argument("tune: an initial genome has " + std::to_string(g.size()) + " genes, expected " +
                                   std::to_string(n_genes));
}

/// The control as it is: its validation accuracy and objective value, and the accuracy floor.
template <class T, class Objective>
inline TuneResult measure_control(const DenseNetwork<T>& control, const TuneData<T>& data, const Objective& objective,
                                  const TuneOptions& options)
{
    TuneResult result;
    result.objective = objective.name();
    DenseNetwork<T> c = control;
    c.set_inference_threads(options.threads);
    result.control_accuracy = sleepnet::accuracy(c, data.val_x, data.val_y);
    result.control_value = objective(c, data.val_x, data.val_y);
    result.accuracy_floor = result.control_accuracy - options.max_accuracy_drop;
    return result;
}

/// The GA's settings as the log header records them.
inline nlohmann::json genetic_json(const GeneticOptions& g)
{
    return {{"population", g.population},       {"elite", g.elite},
            {"tournament", g.tournament},       {"crossover", g.crossover},
            {"mutation_rate", g.mutation_rate}, {"mutation_sigma", g.mutation_sigma}};
}

/// The log's first line: the search (tune_search_keys; the engines as fingerprints) and
/// the control's measurements.
template <class T, class CandidateEngine>
inline nlohmann::json tune_log_header(const DenseNetwork<T>& control, const TuneData<T>& data, const SearchSpace& space,
                                      const TuneOptions& options, const CandidateEngines<CandidateEngine>& engines,
                                      const TuneResult& result)
{
    nlohmann::json header;
    header["kind"] = "tune";
    header["format_version"] = 2;
    header["method"] = to_string(options.method);
    header["objective"] = result.objective;
    header["space"] = space;
    header["max_accuracy_drop"] = options.max_accuracy_drop;
    header["sleep_engine"] = rng::fingerprint(engines.sleep);
    header["max_spikes"] = options.max_spikes;
    if (options.refit) {
        header["refit"] = *options.refit;
        header["refit_engine"] = rng::fingerprint(engines.refit);
        header["refit_samples_given"] = data.refit_x.shape()[0];
    }
    if (options.method == TuneMethod::genetic) header["genetic"] = genetic_json(options.genetic);
    header["initial"] = options.initial;
    header["layer_sizes"] = control.layer_sizes();
    header["validation_samples"] = data.val_x.shape()[0];
    header["control_accuracy"] = result.control_accuracy;
    header["control_value"] = tune_value_json(result.control_value);
    return header;
}

/// The header keys a resumed log must share with the search (checked in this order).
inline std::vector<std::string> tune_search_keys()
{
    return {"method",
            "objective",
            "space",
            "max_accuracy_drop",
            "sleep_engine",
            "max_spikes",
            "genetic",
            "initial",
            "layer_sizes",
            "validation_samples",
            "refit",
            "refit_engine",
            "refit_samples_given",
            "continual"};
}

// ---- one candidate ----

/// Normalization factors of every chain the space may pick, computed once on x.
template <class T>
inline std::map<NormalizationChain, std::vector<double>>
tune_normalization_factors(const DenseNetwork<T>& control, const matrix<T>& x, const SearchSpace& space)
{
    std::map<NormalizationChain, std::vector<double>> factors;
    for (auto chain : space.chains()) {
        if (factors.count(chain)) continue;
        NormalizationOptions no;
        no.chain = chain;
        no.percentile = space.base.percentile;
        factors[chain] = sleepnet::normalization_factors(control, x, no);
    }
    return factors;
}

/// Runs measure(), which fills candidate c, and times it into c.seconds; non-finite
/// weights (numeric_error) make c infeasible with the error recorded. What every
/// evaluator (this header's, continual/tune.hpp's) wraps its work in.
template <class Measure>
inline void measure_candidate(TuneCandidate& c, Measure&& measure)
{
    const auto s0 = std::chrono::steady_clock::now();
    try {
        measure();
    } catch (const numeric_error& err) {  // non-finite weights
        c.error = err.what();
        c.feasible = false;
        c.accuracy = 0.0;
    }
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
}

/// Evaluates candidates (sleep a copy of the control, refit, accuracy, objective); thread-safe.
template <class T, class Objective, class CandidateEngine>
class CandidateEvaluator {
public:
    /// Computes the normalization factors of the space's chains on data.sleep_x.
    CandidateEvaluator(const DenseNetwork<T>& control, const TuneData<T>& data, const SearchSpace& space,
                       const Objective& objective, const TuneOptions& options,
                       const CandidateEngines<CandidateEngine>& engines, double accuracy_floor)
        : control_(control), data_(data), space_(space), objective_(objective), options_(options), engines_(engines),
          floor_(accuracy_floor), sim_(space.base.simulated_layers(control.num_layers())),
          factors_(tune_normalization_factors(control, data.sleep_x, space))
    {
    }

    /// Fills c's params, spikes, accuracy, feasibility, value, error and seconds from c.genes.
    void operator()(TuneCandidate& c) const
    {
        measure_candidate(c, [&] {
            c.params = space_.decode(c.genes, sim_);
            const SleepParams run = with_alpha(c.params);
            DenseNetwork<T> net = control_;
            net.set_inference_threads(1);
            sleep_and_measure(net, run, c);
        });
    }

private:
    /// p with the alpha sleep runs with: the chain's normalization factor times alpha_scale, per layer.
    SleepParams with_alpha(const SleepParams& p) const
    {
        SleepParams run = p;
        run.alpha.clear();
        const auto& f = factors_.at(run.normalization);
        for (std::size_t l = 0; l < run.thresholds.size(); ++l) run.alpha.push_back(f[l] * run.alpha_scale);
        return run;
    }

    /// Sleeps net (stopped by the spike guard), refits it, measures it into c.
    void sleep_and_measure(DenseNetwork<T>& net, const SleepParams& run, TuneCandidate& c) const
    {
        CandidateEngine e = engines_.sleep;  // a copy: every candidate meets the same draws
        SpikeBudget budget{options_.max_spikes};
        const SleepReport rep = sleepnet::sleep(net, data_.sleep_x, run, e, budget);
        c.spikes = rep.spikes;
        if (budget.exceeded()) {
            c.error = "runaway activity: more than " + std::to_string(options_.max_spikes) + " spikes by step " +
                      std::to_string(budget.stopped_at) + " of " + std::to_string(run.steps);
            c.feasible = false;
            c.accuracy = 0.0;
            return;
        }
        if (options_.refit) refit_alone(net);
        c.accuracy = sleepnet::accuracy(net, data_.val_x, data_.val_y);
        c.feasible = c.accuracy >= floor_;
        if (c.feasible) c.value = objective_(net, data_.val_x, data_.val_y);
    }

    /// Refits net with a copy of the refit prototype, one refit at a time.
    void refit_alone(DenseNetwork<T>& net) const
    {
        // one refit at a time: training goes through OpenBLAS, whose last bits depend
        // on how many of its threads a product gets; alone, a refit gets what it
        // gets in `sleep --params` (same OPENBLAS_NUM_THREADS), so the winner reproduces
        std::lock_guard<std::mutex> lock(refit_mutex_);
        CandidateEngine re = engines_.refit;
        sleepnet::refit(net, data_.refit_x, data_.refit_y, *options_.refit, re);
    }

    const DenseNetwork<T>& control_;
    const TuneData<T>& data_;
    const SearchSpace& space_;
    const Objective& objective_;
    const TuneOptions& options_;
    const CandidateEngines<CandidateEngine>& engines_;
    double floor_;
    std::size_t sim_;
    std::map<NormalizationChain, std::vector<double>> factors_;
    mutable std::mutex refit_mutex_;
};

// ---- batches of candidates ----

/// Runs a search's batches: reuse or evaluate each candidate (here or on the other
/// workers, tune/workers.hpp), log it, record it, report it to the callbacks.
template <class Evaluator, class CallbackTuple, class Workers>
class TuneRunner {
public:
    /// Records into result.history; evaluate must be callable from options.threads threads.
    TuneRunner(TuneResult& result, TuneLog& log, const Evaluator& evaluate, const TuneOptions& options,
               CallbackTuple& callbacks, const Workers& workers)
        : result_(result), log_(log), evaluate_(evaluate), options_(options), callbacks_(callbacks), workers_(workers)
    {
    }

    std::size_t evaluated() const { return result_.history.size(); }                      ///< candidates recorded
    std::size_t remaining() const { return options_.budget - result_.history.size(); }    ///< budget left
    bool stopped() const { return stop_; }                                                ///< a callback stopped
    bool finished() const { return stop_ || result_.history.size() >= options_.budget; }  ///< stopped or budget spent

    /// Runs a batch (indices continue the history); returns the candidates it recorded.
    std::vector<TuneCandidate> run(std::vector<TuneCandidate> batch)
    {
        std::vector<char> done(batch.size(), 0);
        const std::vector<std::size_t> todo = reuse(batch, done);
        evaluate_in_order(batch, done, todo);
        const std::size_t before = result_.history.size();
        record(batch);
        return {result_.history.begin() + static_cast<std::ptrdiff_t>(before), result_.history.end()};
    }

private:
    /// Fills candidates from the log or an equal earlier genome (marked done); returns the rest.
    std::vector<std::size_t> reuse(std::vector<TuneCandidate>& batch, std::vector<char>& done)
    {
        std::vector<std::size_t> todo;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto& c = batch[i];
            if (log_.take_logged(c)) {
                done[i] = 1;
                ++result_.resumed;
            } else if (auto it = known_.find(c.genes); it != known_.end()) {  // same genome, same seed: same result
                const std::size_t idx = c.index, gen = c.generation;
                c = it->second;
                c.index = idx;
                c.generation = gen;
                c.from_log = false;
                done[i] = 1;  // copied: logged below, not evaluated
            } else {
                todo.push_back(i);
            }
        }
        return todo;
    }

    /// Evaluates this worker's share of batch[todo[k]] on its threads, logging candidates in
    /// index order as they complete, then takes the other workers' results.
    void evaluate_in_order(std::vector<TuneCandidate>& batch, std::vector<char>& done,
                           const std::vector<std::size_t>& todo)
    {
        std::mutex mutex;
        std::size_t written = 0;
        auto flush_log = [&] {  // under mutex
            for (; written < batch.size() && done[written]; ++written)
                if (!batch[written].from_log) log_.append(batch[written]);
        };
        {
            std::lock_guard<std::mutex> lock(mutex);
            flush_log();
        }
        // candidates handed out one at a time (their costs differ); the first exception
        // stops the hand-out and is rethrown after the other workers heard of it
        const std::vector<std::size_t> mine = workers_.mine(todo);
        std::exception_ptr failure;
        std::string error;
        try {
            parallel_for(
                mine.size(), options_.threads,
                [&](std::size_t begin, std::size_t end) {
                    for (std::size_t k = begin; k < end; ++k) {
                        evaluate_(batch[mine[k]]);
                        std::lock_guard<std::mutex> lock(mutex);
                        done[mine[k]] = 1;
                        flush_log();
                    }
                },
                Schedule::queue);
        } catch (const std::exception& e) {
            failure = std::current_exception();
            error = e.what();
        }
        const std::string other = workers_.exchange(batch, todo, error);
        if (failure) std::rethrow_exception(failure);
        if (!other.empty()) throw sleepnet::error(other);
        std::lock_guard<std::mutex> lock(mutex);
        for (std::size_t i : todo) done[i] = 1;
        flush_log();
    }

    /// Appends the batch to the history in order, reporting each candidate, until a callback stops.
    void record(const std::vector<TuneCandidate>& batch)
    {
        auto& history = result_.history;
        for (std::size_t i = 0; i < batch.size() && !stop_; ++i) {
            known_.emplace(batch[i].genes, batch[i]);
            history.push_back(batch[i]);
            if (history.size() == 1 || better(history.back(), history[best_])) best_ = history.size() - 1;
            TuneProgress p{history.size(), options_.budget, &history.back(), &history[best_]};
            if (call_on_progress(callbacks_, p)) stop_ = true;
        }
        stop_ = workers_.any(stop_);  // every worker runs the same batches
    }

    TuneResult& result_;
    TuneLog& log_;
    const Evaluator& evaluate_;
    const TuneOptions& options_;
    CallbackTuple& callbacks_;
    const Workers& workers_;
    std::size_t best_ = 0;  ///< index of the best candidate in the history
    bool stop_ = false;
    std::map<std::vector<double>, TuneCandidate> known_;
};

// ---- the two searches ----

/// Candidates for genomes, indexed from `first`, all of one generation.
inline std::vector<TuneCandidate> make_batch(std::vector<std::vector<double>> genomes, std::size_t first,
                                             std::size_t generation)
{
    std::vector<TuneCandidate> batch;
    for (std::size_t i = 0; i < genomes.size(); ++i) {
        TuneCandidate c;
        c.index = first + i;
        c.generation = generation;
        c.genes = std::move(genomes[i]);
        batch.push_back(std::move(c));
    }
    return batch;
}

/// The genomes of candidates first .. first+n-1 drawn afresh: options.initial, then random.
template <class Engine>
inline std::vector<std::vector<double>> fresh_genomes(std::size_t first, std::size_t n, std::size_t n_genes,
                                                      const TuneOptions& options, Engine& engine)
{
    std::vector<std::vector<double>> genomes;
    for (std::size_t k = first; k < first + n; ++k)
        genomes.push_back(k < options.initial.size() ? options.initial[k] : random_genome(n_genes, engine));
    return genomes;
}

/// Tournament selection: the best of `size` members of population drawn uniformly (its index).
template <class Engine>
inline std::size_t tournament_pick(const std::vector<TuneCandidate>& population, std::size_t size, Engine& engine)
{
    auto w = static_cast<std::size_t>(rng::below(engine, population.size()));
    for (std::size_t t = 1; t < size; ++t) {
        const auto o = static_cast<std::size_t>(rng::below(engine, population.size()));
        if (better(population[o], population[w])) w = o;
    }
    return w;
}

/// The next generation's n genomes: the elite of population unchanged, then children of tournament picks.
template <class Engine>
inline std::vector<std::vector<double>> next_generation(const std::vector<TuneCandidate>& population, std::size_t n,
                                                        const GeneticOptions& go, Engine& engine)
{
    std::vector<std::size_t> order(population.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return better(population[a], population[b]); });
    std::vector<std::vector<double>> genomes;
    for (std::size_t i = 0; i < go.elite && i < order.size() && genomes.size() < n; ++i)
        genomes.push_back(population[order[i]].genes);
    while (genomes.size() < n) {
        const auto a = tournament_pick(population, go.tournament, engine);
        const auto b = tournament_pick(population, go.tournament, engine);
        genomes.push_back(ga_child(population[a].genes, population[b].genes, go, engine));
    }
    return genomes;
}

/// Random search: chunks of fresh genomes until the budget is spent or a callback stops.
template <class Runner, class Engine>
inline void random_search(Runner& runner, std::size_t n_genes, const TuneOptions& options, Engine& engine)
{
    const std::size_t chunk = std::max<std::size_t>(options.threads * 4, 8);
    while (!runner.finished()) {
        const std::size_t first = runner.evaluated();
        const std::size_t n = std::min(chunk, runner.remaining());
        runner.run(make_batch(fresh_genomes(first, n, n_genes, options, engine), first, 0));
    }
}

/// Genetic search: a fresh first generation, then each bred from the last, until budget or callback stop.
template <class Runner, class Engine>
inline void genetic_search(Runner& runner, std::size_t n_genes, const TuneOptions& options, Engine& engine)
{
    const auto& go = options.genetic;
    std::vector<TuneCandidate> population;
    for (std::size_t generation = 0; !runner.finished(); ++generation) {
        const std::size_t first = runner.evaluated();
        const std::size_t n = std::min(go.population, runner.remaining());
        auto genomes = generation == 0 ? fresh_genomes(first, n, n_genes, options, engine)
                                       : next_generation(population, n, go, engine);
        population = runner.run(make_batch(std::move(genomes), first, generation));
    }
}

}  // namespace detail

namespace detail {

/// The search's log on every worker: the root opens (or resumes) the file and shares what
/// it read back; the others keep a copy that writes nothing. An error on the root (a log
/// of another search) is raised on every worker.
template <class Workers>
inline TuneLog open_shared_log(const Workers& workers, const TuneOptions& options, const nlohmann::json& header)
{
    if (!workers.root()) {
        const nlohmann::json shared = nlohmann::json::parse(workers.share(""));
        if (shared.contains("error"))
            throw sleepnet::error("tune: the root worker could not open the log: " +
                                  shared["error"].get<std::string>());
        std::vector<TuneCandidate> logged;
        for (const auto& c : shared.at("logged")) logged.push_back(tune_candidate_from_json(c, "shared log"));
        return TuneLog(std::move(logged));
    }
    try {
        TuneLog log(options.log_path, options.resume, header, tune_search_keys());
        nlohmann::json shared{{"logged", nlohmann::json::array()}};
        for (const auto& c : log.logged()) shared["logged"].push_back(c);
        workers.share(shared.dump());
        return log;
    } catch (const std::exception& e) {
        workers.share(nlohmann::json{{"error", e.what()}}.dump());
        throw;
    }
}

/// The search proper, for any evaluator (a callable filling a TuneCandidate's params,
/// accuracy, feasibility, value, spikes, error and seconds from its genes; callable from
/// options.threads threads): opens the log with `header` (the keys of tune_search_keys
/// identify the search), draws, evaluates, logs and records candidates into `result`.
template <class Workers, class Evaluator, class Engine, class CallbackTuple>
inline void run_search(const Workers& workers, const Evaluator& evaluate, const nlohmann::json& header,
                       std::size_t n_genes, const TuneOptions& options, TuneResult& result, Engine& engine,
                       CallbackTuple& callbacks)
{
    TuneLog log = open_shared_log(workers, options, header);
    TuneRunner runner(result, log, evaluate, options, callbacks, workers);
    if (options.method == TuneMethod::random)
        random_search(runner, n_genes, options, engine);
    else
        genetic_search(runner, n_genes, options, engine);
    result.stopped = runner.stopped() && result.history.size() < options.budget;
}

}  // namespace detail

/// tune_sleep with the candidates evaluated by `workers` (tune/workers.hpp: LocalWorkers,
/// or MpiWorkers of tune/mpi_workers.hpp for a search over MPI ranks). Every worker calls
/// it with the same arguments (engines seeded alike); the root writes the log, and the
/// history is the same as tune_sleep's for any number of workers. Callbacks that stop the
/// search may be given on any worker (all stop at the same batch).
template <class Workers, class T, class Objective, class CandidateEngine, class Engine, class... Callbacks>
inline TuneResult tune_sleep_on(const Workers& workers, const DenseNetwork<T>& control, const TuneData<T>& data,
                                const SearchSpace& space, const Objective& objective, const TuneOptions& options,
                                const CandidateEngines<CandidateEngine>& engines, Engine& engine,
                                Callbacks&&... callbacks)
{
    detail::check_tune_inputs(control, data, space, options);
    const std::size_t n_genes = space.genes(space.base.simulated_layers(control.num_layers()));
    auto callback_tuple = std::forward_as_tuple(std::forward<Callbacks>(callbacks)...);
    const auto t0 = std::chrono::steady_clock::now();

    TuneResult result = detail::measure_control(control, data, objective, options);
    const detail::CandidateEvaluator<T, Objective, CandidateEngine> evaluate(control, data, space, objective, options,
                                                                             engines, result.accuracy_floor);
    const auto header = detail::tune_log_header(control, data, space, options, engines, result);
    detail::run_search(workers, evaluate, header, n_genes, options, result, engine, callback_tuple);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

/// Runs the search; see the header comment for the contract. `engines`: the prototypes
/// every candidate's sleep and refit copy; `engine`: draws the candidates.
template <class T, class Objective, class CandidateEngine, class Engine, class... Callbacks>
inline TuneResult tune_sleep(const DenseNetwork<T>& control, const TuneData<T>& data, const SearchSpace& space,
                             const Objective& objective, const TuneOptions& options,
                             const CandidateEngines<CandidateEngine>& engines, Engine& engine, Callbacks&&... callbacks)
{
    return tune_sleep_on(LocalWorkers{}, control, data, space, objective, options, engines, engine,
                         std::forward<Callbacks>(callbacks)...);
}

}  // namespace sleepnet
