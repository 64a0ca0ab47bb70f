#pragma once
// Sleep parameter search: a genetic algorithm (as the paper's authors used) and a
// random-search baseline over a SearchSpace, maximising an objective (tune/objective.hpp)
// on a validation split, subject to a clean-accuracy floor relative to the control.
//
//   sleepnet::TuneData<float> data{train_x, val_x, val_y};
//   sleepnet::TuneOptions opts;               // genetic, budget 100, accuracy drop <= 0.03
//   opts.log_path = "tune.jsonl";             // resumable JSON-lines log
//   auto result = sleepnet::tune_sleep(control, data, sleepnet::SearchSpace{},
//                                      sleepnet::FgsmObjective{}, opts, engine);
//   sleepnet::SleepParams best = result.best_params();   // sleep(net, train_x, best, ...)
//
// Contract
// - Every candidate sleeps its own copy of the same control weights, with a fresh engine
//   seeded with options.sleep_seed (common random numbers: candidates differ only by their
//   parameters, and `sleep --params best.json --seed <sleep_seed>` reproduces the winner).
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
//   last line (interrupted write) is dropped.
// - Callbacks: on_progress(const TuneProgress&) after each candidate; true stops early
//   (candidates already running finish and are logged).
// - Refit (options.refit set; snn/refit.hpp): every candidate, after sleeping, has its
//   layers above refit->frozen_layers refitted on data.refit_x / refit_y with a fresh
//   engine seeded with refit->seed; accuracy and objective are measured after that.
//   `sleep --params best.json` with the same refit object reproduces it (refit trains
//   through OpenBLAS, whose last bits depend on OPENBLAS_NUM_THREADS: use the same; the
//   search runs one refit at a time for that reason). The control is measured as it is
//   (not refitted).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <cstdio>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../attacks/common.hpp"
#include "../core/callbacks.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../nn/dense_network.hpp"
#include "../nn/train.hpp"
#include "../snn/normalize.hpp"
#include "../snn/refit.hpp"
#include "../snn/sleep.hpp"
#include "space.hpp"

namespace sleepnet {

enum class TuneMethod { genetic, random };

inline std::string to_string(TuneMethod m) { return m == TuneMethod::genetic ? "genetic" : "random"; }

inline TuneMethod tune_method_from_string(const std::string& s)
{
    if (s == "genetic" || s == "ga") return TuneMethod::genetic;
    if (s == "random") return TuneMethod::random;
    throw invalid_argument("unknown search method '" + s + "' (use genetic or random)");
}

struct GeneticOptions {
    std::size_t population = 16;
    std::size_t elite = 2;              ///< best candidates copied unchanged into the next generation
    std::size_t tournament = 3;         ///< tournament size of parent selection
    double crossover = 0.9;             ///< probability that a child mixes two parents (uniform crossover)
    double mutation_rate = 0.25;        ///< per-gene probability of a Gaussian mutation
    double mutation_sigma = 0.15;       ///< its standard deviation in gene units (genes live in [0, 1])

    void validate() const
    {
        if (population < 2) throw invalid_argument("genetic search: population must be >= 2");
        if (elite >= population) throw invalid_argument("genetic search: elite must be < population");
        if (tournament < 1) throw invalid_argument("genetic search: tournament must be >= 1");
        if (!(crossover >= 0.0 && crossover <= 1.0)) throw invalid_argument("genetic search: crossover must be in [0, 1]");
        if (!(mutation_rate >= 0.0 && mutation_rate <= 1.0))
            throw invalid_argument("genetic search: mutation_rate must be in [0, 1]");
        if (!(mutation_sigma >= 0.0) || !std::isfinite(mutation_sigma))
            throw invalid_argument("genetic search: mutation_sigma must be finite and >= 0");
    }
};

struct TuneOptions {
    TuneMethod method = TuneMethod::genetic;
    std::size_t budget = 100;           ///< candidates evaluated in total (the control is not counted)
    GeneticOptions genetic;
    double max_accuracy_drop = 0.03;    ///< feasible: accuracy >= control accuracy - this
    std::uint64_t sleep_seed = 1;       ///< seed of every candidate's spike engine
    unsigned threads = 2;               ///< candidates evaluated at once
    std::string log_path;               ///< JSON-lines log ("" = none)
    bool resume = true;                 ///< continue from an existing log at log_path
    std::vector<std::vector<double>> initial;  ///< genomes placed first in the initial population (e.g. encoded presets)
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

/// What the search sleeps and measures on.
template <class T>
struct TuneData {
    matrix<T> sleep_x;     ///< input of sleep and of its normalization (the training images)
    matrix<T> val_x;       ///< validation inputs (never the test set)
    label_vector val_y;
    matrix<T> refit_x;     ///< labelled training rows for TuneOptions::refit (disjoint from val_x)
    label_vector refit_y;
};

struct TuneCandidate {
    std::size_t index = 0;         ///< 0-based evaluation order
    std::size_t generation = 0;    ///< GA generation (random search: 0)
    std::vector<double> genes;
    SleepParams params;            ///< alpha empty (relative to normalization)
    double accuracy = 0.0;         ///< validation accuracy after sleep
    double value = std::numeric_limits<double>::quiet_NaN();  ///< objective (feasible candidates only)
    bool feasible = false;
    std::vector<std::uint64_t> spikes;  ///< per simulated layer
    double seconds = 0.0;
    std::string error;             ///< why the candidate failed (non-finite weights), else empty
    bool from_log = false;         ///< taken from a resumed log, not evaluated in this run
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
    std::size_t resumed = 0;   ///< candidates taken from the log
    double seconds = 0.0;      ///< wall time of this run (without the resumed part)
    bool stopped = false;      ///< a callback stopped the search

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

/// Objective values in the log: numbers, "inf" / "-inf" (a median over inputs that mostly
/// resist is +inf, and must rank as such on resume), null for NaN.
inline nlohmann::json tune_value_json(double v)
{
    if (std::isnan(v)) return nullptr;
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}

inline nlohmann::json to_json(const TuneCandidate& c)
{
    nlohmann::json j;
    j["kind"] = "candidate";
    j["index"] = c.index;
    j["generation"] = c.generation;
    j["genes"] = c.genes;
    j["params"] = to_json(c.params);
    j["accuracy"] = c.accuracy;
    j["value"] = tune_value_json(c.value);
    j["feasible"] = c.feasible;
    j["spikes"] = c.spikes;
    j["seconds"] = c.seconds;
    if (!c.error.empty()) j["error"] = c.error;
    return j;
}

namespace detail {

inline double tune_json_double(const nlohmann::json& v)
{
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
        const auto s = v.get<std::string>();
        if (s == "inf") return std::numeric_limits<double>::infinity();
        if (s == "-inf") return -std::numeric_limits<double>::infinity();
        if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    }
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    throw format_error("tune log: expected a number, got " + v.dump());
}

inline TuneCandidate tune_candidate_from_json(const nlohmann::json& j, const std::string& where)
{
    try {
        TuneCandidate c;
        c.index = j.at("index").get<std::size_t>();
        c.generation = j.at("generation").get<std::size_t>();
        c.genes = j.at("genes").get<std::vector<double>>();
        c.params = sleep_params_from_json(j.at("params"));
        c.accuracy = j.at("accuracy").get<double>();
        c.value = tune_json_double(j.at("value"));
        c.feasible = j.at("feasible").get<bool>();
        c.spikes = j.at("spikes").get<std::vector<std::uint64_t>>();
        c.seconds = j.at("seconds").get<double>();
        if (j.contains("error")) c.error = j.at("error").get<std::string>();
        c.from_log = true;
        return c;
    } catch (const nlohmann::json::exception& e) {
        throw format_error(where + ": malformed candidate line (" + e.what() + ")");
    }
}

struct TuneLog {
    nlohmann::json header;
    std::vector<TuneCandidate> candidates;
};

/// Reads a log; a last line without its newline (torn write) is dropped.
inline TuneLog read_tune_log(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("tune: cannot open log '" + path + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    TuneLog log;
    std::size_t pos = 0, line_no = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) break;  // torn last line
        const std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        if (line.empty()) continue;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            throw format_error(path + ": line " + std::to_string(line_no) + " is not JSON (" + e.what() + ")");
        }
        const std::string where = path + ": line " + std::to_string(line_no);
        if (!j.is_object() || !j.contains("kind")) throw format_error(where + ": no \"kind\"");
        if (j["kind"] == "tune") {
            if (line_no != 1) throw format_error(where + ": search description must be the first line");
            log.header = j;
        } else if (j["kind"] == "candidate") {
            if (log.header.is_null()) throw format_error(where + ": candidate before the search description");
            log.candidates.push_back(tune_candidate_from_json(j, where));
            if (log.candidates.back().index != log.candidates.size() - 1)
                throw format_error(where + ": candidate index " + std::to_string(log.candidates.back().index) +
                                   ", expected " + std::to_string(log.candidates.size() - 1));
        } else {
            throw format_error(where + ": unknown kind " + j["kind"].dump());
        }
    }
    if (log.header.is_null()) throw format_error(path + ": no search description line");
    return log;
}

/// Uniform crossover and Gaussian mutation, genes clamped to [0, 1].
template <class Engine>
inline std::vector<double> ga_child(const std::vector<double>& a, const std::vector<double>& b,
                                    const GeneticOptions& o, Engine& engine)
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

template <class Engine>
inline std::vector<double> random_genome(std::size_t n, Engine& engine)
{
    std::vector<double> g(n);
    for (auto& v : g) v = rng::uniform01(engine);
    return g;
}

}  // namespace detail

/// Runs the search; see the header comment for the contract.
template <class T, class Objective, class Engine, class... Callbacks>
inline TuneResult tune_sleep(const DenseNetwork<T>& control, const TuneData<T>& data, const SearchSpace& space,
                             const Objective& objective, const TuneOptions& options, Engine& engine,
                             Callbacks&&... callbacks)
{
    options.validate();
    detail::check_sleep_network(control);
    const std::size_t sim = space.base.simulated_layers(control.num_layers());
    space.validate(sim);
    control.check_input(data.sleep_x, "tune_sleep (sleep_x)");
    control.check_input(data.val_x, "tune_sleep (val_x)");
    if (data.val_x.shape()[0] == 0) throw invalid_argument("tune_sleep: empty validation set");
    if (data.val_y.size() != data.val_x.shape()[0])
        throw invalid_argument("tune_sleep: val_y has " + std::to_string(data.val_y.size()) + " labels for " +
                               std::to_string(data.val_x.shape()[0]) + " validation inputs");
    if (data.sleep_x.shape()[0] == 0) throw invalid_argument("tune_sleep: empty sleep input");
    if (options.refit) {
        control.check_input(data.refit_x, "tune_sleep (refit_x)");
        if (data.refit_x.shape()[0] == 0) throw invalid_argument("tune_sleep: refit needs refit_x and refit_y (empty)");
        if (data.refit_y.size() != data.refit_x.shape()[0])
            throw invalid_argument("tune_sleep: refit_y has " + std::to_string(data.refit_y.size()) + " labels for " +
                                   std::to_string(data.refit_x.shape()[0]) + " refit inputs");
        options.refit->validate(control.num_layers());
        if (options.refit->samples > data.refit_x.shape()[0])
            throw invalid_argument("tune_sleep: refit samples " + std::to_string(options.refit->samples) +
                                   " but refit_x has " + std::to_string(data.refit_x.shape()[0]) + " rows");
    }
    const std::size_t n_genes = space.genes(sim);
    for (const auto& g : options.initial)
        if (g.size() != n_genes)
            throw invalid_argument("tune: an initial genome has " + std::to_string(g.size()) + " genes, expected " +
                                   std::to_string(n_genes));

    auto callback_tuple = std::forward_as_tuple(std::forward<Callbacks>(callbacks)...);
    const auto t0 = std::chrono::steady_clock::now();

    TuneResult result;
    result.objective = objective.name();
    {
        DenseNetwork<T> c = control;
        c.set_inference_threads(options.threads);
        result.control_accuracy = accuracy(c, data.val_x, data.val_y);
        result.control_value = objective(c, data.val_x, data.val_y);
    }
    result.accuracy_floor = result.control_accuracy - options.max_accuracy_drop;

    // normalization factors of every chain the space may pick, computed once
    std::map<NormalizationChain, std::vector<double>> factors;
    for (auto chain : space.chains()) {
        if (factors.count(chain)) continue;
        NormalizationOptions no;
        no.chain = chain;
        no.percentile = space.base.percentile;
        factors[chain] = normalization_factors(control, data.sleep_x, no);
    }

    // The search description: a resumed log must have been written by the same search.
    nlohmann::json header;
    header["kind"] = "tune";
    header["format_version"] = 1;
    header["method"] = to_string(options.method);
    header["objective"] = objective.name();
    header["space"] = to_json(space);
    header["max_accuracy_drop"] = options.max_accuracy_drop;
    header["sleep_seed"] = options.sleep_seed;
    header["max_spikes"] = options.max_spikes;
    if (options.refit) {
        header["refit"] = to_json(*options.refit);
        header["refit_samples_given"] = data.refit_x.shape()[0];
    }
    if (options.method == TuneMethod::genetic) {
        const auto& g = options.genetic;
        header["genetic"] = {{"population", g.population}, {"elite", g.elite}, {"tournament", g.tournament},
                             {"crossover", g.crossover}, {"mutation_rate", g.mutation_rate},
                             {"mutation_sigma", g.mutation_sigma}};
    }
    header["initial"] = options.initial;
    header["layer_sizes"] = control.layer_sizes();
    header["validation_samples"] = data.val_x.shape()[0];
    header["control_accuracy"] = result.control_accuracy;
    header["control_value"] = tune_value_json(result.control_value);

    std::vector<TuneCandidate> logged;
    std::ofstream log;
    if (!options.log_path.empty()) {
        bool have = false;
        if (options.resume) {
            std::ifstream probe(options.log_path);
            have = static_cast<bool>(probe);
        }
        if (have) {
            auto old = detail::read_tune_log(options.log_path);
            for (const char* key : {"method", "objective", "space", "max_accuracy_drop", "sleep_seed", "max_spikes", "genetic",
                                    "initial", "layer_sizes", "validation_samples", "refit", "refit_samples_given"}) {
                const bool a = old.header.contains(key), b = header.contains(key);
                if (a != b || (a && old.header[key] != header[key]))
                    throw invalid_argument("tune: log '" + options.log_path + "' was written by a different search ('" +
                                           key + "' differs); remove it or choose another log");
            }
            logged = std::move(old.candidates);
            // rewrite without a torn tail, then append
            std::ofstream rewrite(options.log_path + ".tmp", std::ios::binary | std::ios::trunc);
            rewrite << old.header.dump() << '\n';
            for (const auto& c : logged) rewrite << to_json(c).dump() << '\n';
            rewrite.close();
            if (!rewrite || std::rename((options.log_path + ".tmp").c_str(), options.log_path.c_str()) != 0)
                throw io_error("tune: cannot rewrite log '" + options.log_path + "'");
            log.open(options.log_path, std::ios::binary | std::ios::app);
        } else {
            log.open(options.log_path, std::ios::binary | std::ios::trunc);
            if (log) log << header.dump() << '\n' << std::flush;
        }
        if (!log) throw io_error("tune: cannot write log '" + options.log_path + "'");
    }

    std::mutex refit_mutex;
    auto evaluate = [&](TuneCandidate& c) {
        const auto s0 = std::chrono::steady_clock::now();
        c.params = space.decode(c.genes, sim);
        SleepParams run = c.params;
        run.alpha.clear();
        const auto& f = factors.at(run.normalization);
        for (std::size_t l = 0; l < run.thresholds.size(); ++l) run.alpha.push_back(f[l] * run.alpha_scale);
        DenseNetwork<T> net = control;
        net.set_inference_threads(1);
        default_engine e(options.sleep_seed);
        struct Guard {
            std::uint64_t limit;
            std::size_t tripped_at = 0;
            bool on_step(const SleepProgress& p)
            {
                std::uint64_t total = 0;
                for (auto s : p.spikes) total += s;
                if (limit > 0 && total > limit) tripped_at = p.step;
                return tripped_at > 0;
            }
        } guard{options.max_spikes};
        try {
            const SleepReport rep = sleep(net, data.sleep_x, run, e, guard);
            c.spikes = rep.spikes;
            if (guard.tripped_at > 0) {
                c.error = "runaway activity: more than " + std::to_string(options.max_spikes) + " spikes by step " +
                          std::to_string(guard.tripped_at) + " of " + std::to_string(run.steps);
                c.feasible = false;
                c.accuracy = 0.0;
                c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
                return;
            }
            if (options.refit) {
                // one refit at a time: training goes through OpenBLAS, whose last bits depend
                // on how many of its threads a product gets; alone, a refit gets what it
                // gets in `sleep --params` (same OPENBLAS_NUM_THREADS), so the winner reproduces
                std::lock_guard<std::mutex> lock(refit_mutex);
                default_engine re(options.refit->seed);
                refit(net, data.refit_x, data.refit_y, *options.refit, re);
            }
            c.accuracy = accuracy(net, data.val_x, data.val_y);
            c.feasible = c.accuracy >= result.accuracy_floor;
            if (c.feasible) c.value = objective(net, data.val_x, data.val_y);
        } catch (const numeric_error& err) {
            c.error = err.what();
            c.feasible = false;
            c.accuracy = 0.0;
        }
        c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    };

    bool stop = false;
    std::size_t best = 0;
    std::map<std::vector<double>, TuneCandidate> known;  // same genome, same seed: same result

    // Evaluates a batch of candidates (indices continue result.history) on the worker
    // threads; log lines are written in index order as soon as all earlier ones are done.
    auto run_batch = [&](std::vector<TuneCandidate>& batch) {
        std::vector<char> done(batch.size(), 0);
        std::vector<std::size_t> todo;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto& c = batch[i];
            const std::size_t idx = c.index, gen = c.generation;
            if (idx < logged.size()) {
                if (logged[idx].genes != c.genes)
                    throw invalid_argument("tune: log '" + options.log_path + "' candidate " + std::to_string(idx) +
                                           " has other genes than this search draws (different seed or initial genomes?)");
                c = logged[idx];
                done[i] = 1;
                ++result.resumed;
            } else if (auto it = known.find(c.genes); it != known.end()) {
                c = it->second;
                c.index = idx;
                c.generation = gen;
                c.from_log = false;
                done[i] = 2;  // copied: logged below, not evaluated
            } else {
                todo.push_back(i);
            }
        }
        std::mutex mutex;
        std::size_t written = 0;
        auto flush_log = [&] {  // under mutex
            while (written < batch.size() && done[written]) {
                const auto& c = batch[written];
                if (log.is_open() && !c.from_log) {
                    log << to_json(c).dump() << '\n' << std::flush;
                    if (!log) throw io_error("tune: writing log '" + options.log_path + "' failed");
                }
                ++written;
            }
        };
        {
            std::lock_guard<std::mutex> lock(mutex);
            flush_log();
        }
        std::atomic<std::size_t> next{0};
        std::atomic<bool> halt{false};
        std::exception_ptr failure;
        auto worker = [&] {
            while (!halt.load()) {
                const std::size_t k = next.fetch_add(1);
                if (k >= todo.size()) return;
                try {
                    evaluate(batch[todo[k]]);
                    std::lock_guard<std::mutex> lock(mutex);
                    done[todo[k]] = 1;
                    flush_log();
                } catch (...) {
                    std::lock_guard<std::mutex> lock(mutex);
                    if (!failure) failure = std::current_exception();
                    halt = true;
                    return;
                }
            }
        };
        const unsigned nthreads = static_cast<unsigned>(std::min<std::size_t>(options.threads, todo.size()));
        std::vector<std::thread> pool;
        for (unsigned t = 1; t < nthreads; ++t) pool.emplace_back(worker);
        if (nthreads > 0) worker();
        for (auto& t : pool) t.join();
        if (failure) std::rethrow_exception(failure);
        for (std::size_t i = 0; i < batch.size() && !stop; ++i) {
            const auto& c = batch[i];
            known.emplace(c.genes, c);
            result.history.push_back(c);
            if (result.history.size() == 1 || better(result.history.back(), result.history[best]))
                best = result.history.size() - 1;
            TuneProgress p{result.history.size(), options.budget, &result.history.back(), &result.history[best]};
            if (detail::call_on_progress(callback_tuple, p)) stop = true;
        }
    };

    auto fresh_genome = [&](std::size_t k) {
        return k < options.initial.size() ? options.initial[k] : detail::random_genome(n_genes, engine);
    };

    if (options.method == TuneMethod::random) {
        const std::size_t chunk = std::max<std::size_t>(options.threads * 4, 8);
        while (!stop && result.history.size() < options.budget) {
            std::vector<TuneCandidate> batch;
            const std::size_t n = std::min(chunk, options.budget - result.history.size());
            for (std::size_t i = 0; i < n; ++i) {
                TuneCandidate c;
                c.index = result.history.size() + i;
                c.genes = fresh_genome(c.index);
                batch.push_back(std::move(c));
            }
            run_batch(batch);
        }
    } else {
        const auto& go = options.genetic;
        std::vector<TuneCandidate> population;
        std::size_t generation = 0;
        while (!stop && result.history.size() < options.budget) {
            const std::size_t n = std::min(go.population, options.budget - result.history.size());
            std::vector<std::vector<double>> genomes;
            if (generation == 0) {
                for (std::size_t i = 0; i < n; ++i) genomes.push_back(fresh_genome(i));
            } else {
                std::vector<std::size_t> order(population.size());
                for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
                std::stable_sort(order.begin(), order.end(),
                                 [&](std::size_t a, std::size_t b) { return better(population[a], population[b]); });
                for (std::size_t i = 0; i < go.elite && i < order.size() && genomes.size() < n; ++i)
                    genomes.push_back(population[order[i]].genes);
                auto pick = [&] {
                    auto w = static_cast<std::size_t>(rng::below(engine, population.size()));
                    for (std::size_t t = 1; t < go.tournament; ++t) {
                        const auto o = static_cast<std::size_t>(rng::below(engine, population.size()));
                        if (better(population[o], population[w])) w = o;
                    }
                    return w;
                };
                while (genomes.size() < n) {
                    const auto a = pick();
                    const auto b = pick();
                    genomes.push_back(detail::ga_child(population[a].genes, population[b].genes, go, engine));
                }
            }
            std::vector<TuneCandidate> batch;
            for (std::size_t i = 0; i < genomes.size(); ++i) {
                TuneCandidate c;
                c.index = result.history.size() + i;
                c.generation = generation;
                c.genes = std::move(genomes[i]);
                batch.push_back(std::move(c));
            }
            const std::size_t before = result.history.size();
            run_batch(batch);
            population.assign(result.history.begin() + static_cast<std::ptrdiff_t>(before), result.history.end());
            ++generation;
        }
    }

    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result.stopped = stop && result.history.size() < options.budget;
    return result;
}

}  // namespace sleepnet
