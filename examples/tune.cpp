// tune: searches sleep parameters for a trained model (genetic algorithm or random
// search), measuring the objective on a validation part of the TRAINING data, never on
// the test set; writes the best parameters for `sleep --params`.
//
//   tune --model out/control --dataset mnist --data data/mnist --budget 200 --out params.json --log tune.jsonl
//   sleep --model out/control --out out/slept --params params.json --dataset mnist --data data/mnist --seed 1
//
// Validation: the last --validation training images (default 2,000; all of them for tiny
// sets such as Patches, where there is nothing to hold out). The objective runs
// on the first --objective-count of them (default 500). Objective (default pgd): APGD
// robust accuracy at --pgd-eps (0.1), or the median minimal APGD eps (--pgd-minimal);
// --objective fgsm is the paper's single-step score, which rewards gradient masking
// (docs/robustness.md). Sleep input and its normalization:
// the whole training set, exactly as the sleep example uses it, so `sleep --params OUT
// --seed <sleep-seed>` reproduces the winner. An interrupted search continues from --log.
// --refit: every candidate's layers above the slept ones are refitted (snn/refit.hpp) on
// the training rows before the validation split before it is measured; the output file
// carries that refit, so `sleep --params OUT` does the same.
//
// tune_mpi (built with -DSLEEPNET_MPI=ON) is this program over MPI ranks:
//   mpirun -np 4 tune_mpi --model out/control ... --log tune.jsonl
// every rank runs the search, candidates are evaluated across the ranks
// (tune/mpi_workers.hpp), rank 0 writes the log, the output and the report; the result
// is the serial program's for any number of ranks (docs/tune.md).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sleepnet/data/load.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/snn/sleep_json.hpp>
#ifdef SLEEPNET_WITH_MPI
#include <sleepnet/tune/mpi_workers.hpp>
#endif
#include <sleepnet/tune/objective.hpp>
#include <sleepnet/tune/search.hpp>

#include "common.hpp"
#include "strict_cli.hpp"
#include "tune_space.hpp"

namespace {

struct Args {
    std::string model_dir, dataset = "mnist", data_dir, out_file, log_file, method = "genetic", objective = "pgd";
    std::string fgsm_search = "bisection", fgsm_loss = "network";
    std::size_t budget = 100, validation = 2000, objective_count = 500, population = 16, pgd_steps = 100;
    double pgd_eps = 0.1;
    bool pgd_minimal = false;
    std::uint64_t seed = 1, sleep_seed = 1, max_spikes = 500000;
    double max_drop = 0.03;
    unsigned threads = 2;
    bool restart = false;
    examples::RefitFlags refit;
    std::size_t refit_samples = 0;
    examples::SpaceFlags space;  ///< --rule, the ranges, the varied choices, --initial (tune_space.hpp)
};

void add_options(CLI::App& app, Args& a)
{
    app.add_option("--model", a.model_dir, "trained model directory")->required();
    app.add_option("--dataset", a.dataset, "mnist | fashion | patches | features | synthetic-features")->required();
    app.add_option("--data", a.data_dir, "data directory");
    app.add_option("--out", a.out_file, "where to write the best parameters (JSON for sleep --params)")->required();
    app.add_option("--log", a.log_file, "JSON-lines log of every candidate; an existing one is continued");
    app.add_flag("--restart", a.restart, "start afresh, overwriting an existing --log");
    app.add_option("--budget", a.budget, "candidates to evaluate");
    app.add_option("--method", a.method, "genetic | random");
    app.add_option("--population", a.population, "GA population size");
    app.add_option("--objective", a.objective,
                   "pgd (APGD robust accuracy at --pgd-eps, or median minimal eps with --pgd-minimal; "
                   "the default) | fgsm (median minimal eps; rewards gradient masking) | deepfool "
                   "(median distance) | noise (accuracy at std 0.5, 0.7)");
    app.add_option("--pgd-eps", a.pgd_eps, "pgd objective: the L-inf budget of the robust accuracy");
    app.add_flag("--pgd-minimal", a.pgd_minimal,
                 "pgd objective: median minimal eps (bisection, ~10x the cost) instead");
    app.add_option("--pgd-steps", a.pgd_steps, "pgd objective: APGD steps per loss (CE, margin)");
    app.add_option("--rule", a.space.rule, "STDP rule of every candidate: authors (code) | paper (text)");
    app.add_option("--fgsm-search", a.fgsm_search, "bisection (fast) | grid (Foolbox parity)");
    app.add_option("--fgsm-loss", a.fgsm_loss, "network (the training loss, the paper's) | ce (softmax cross-entropy)");
    app.add_option("--validation", a.validation, "validation images: the last N of the training set");
    app.add_option("--objective-count", a.objective_count, "validation images the objective runs on");
    app.add_option("--max-drop", a.max_drop, "feasible: validation accuracy >= control - this");
    app.add_option("--max-spikes", a.max_spikes, "runaway guard: stop a candidate after this many spikes (0 = none)");
    app.add_option("--seed", a.seed, "seed of the search (candidates drawn)");
    app.add_option("--sleep-seed", a.sleep_seed, "seed of every candidate's input spikes (pass it to sleep --seed)");
    app.add_option("--threads", a.threads, "candidates evaluated at once");
    examples::add_space_options(app, a.space);
    examples::add_refit_flags(app, a.refit,
                              {"refit every candidate's layers above the slept ones on the training rows before the "
                               "validation split, then measure it (snn/refit.hpp; the output file carries the refit)",
                               "", true});
    app.add_option("--refit-samples", a.refit_samples,
                   "refit: the first N training rows (default: all before the validation split; implies --refit)");
}

/// The validation images the objective runs on: the first --objective-count of the split.
std::size_t objective_images(const Args& a) { return std::min(a.objective_count, a.validation); }

/// Sleep input (the whole training set) and the validation split (its last --validation rows).
template <class T>
sleepnet::TuneData<T> tune_data(const Args& a, const sleepnet::Dataset<T>& train)
{
    const std::size_t n = train.size();
    if (a.validation == 0 || a.validation > n)
        throw sleepnet::invalid_argument("--validation must be in [1, " + std::to_string(n) + "], got " +
                                         std::to_string(a.validation));
    const std::size_t first = n - a.validation, m = objective_images(a);
    sleepnet::TuneData<T> td;
    td.sleep_x = train.x;
    td.val_x = xt::view(train.x, xt::range(first, first + m), xt::all());
    td.val_y = xt::view(train.y, xt::range(first, first + m));
    return td;
}

sleepnet::TuneOptions tune_options(const Args& a)
{
    sleepnet::TuneOptions opts;
    opts.method = sleepnet::tune_method_from_string(a.method);
    opts.budget = a.budget;
    opts.genetic.population = a.population;
    opts.max_accuracy_drop = a.max_drop;
    opts.max_spikes = a.max_spikes;
    opts.threads = a.threads;
    opts.log_path = a.log_file;
    opts.resume = !a.restart;
    return opts;
}

/// The refit of every candidate (--refit, its overrides, --refit-samples) on the training
/// rows before the validation split; none without those flags.
std::optional<sleepnet::RefitPlan> refit_plan(const Args& a, std::size_t train_rows)
{
    if (!a.refit.requested() && a.refit_samples == 0) return std::nullopt;
    auto plan = *examples::refit_plan(a.refit, sleepnet::RefitPlan{});
    sleepnet::RefitOptions& ro = plan.options;
    const std::size_t available = train_rows - a.validation;
    if (a.refit_samples > available)
        throw sleepnet::invalid_argument("--refit-samples " + std::to_string(a.refit_samples) + " exceeds the " +
                                         std::to_string(available) + " training rows before the validation split");
    ro.samples = a.refit_samples > 0 ? a.refit_samples : available;
    if (ro.samples == 0)
        throw sleepnet::invalid_argument("--refit: no training rows are left before the validation split");
    ro.validate();
    return plan;
}

/// The refit's flags for the provenance.
std::string refit_provenance(const sleepnet::RefitOptions& ro)
{
    char buf[160];
    std::snprintf(buf, sizeof buf, " --refit-epochs %zu --refit-frozen %zu --refit-lr %g --refit-samples %zu",
                  ro.sgd.epochs, ro.sgd.frozen_layers, ro.sgd.learning_rate, ro.samples);
    return buf;
}

sleepnet::PgdObjective pgd_objective(const Args& a, std::string& flags)
{
    sleepnet::PgdObjective o;
    o.epsilon = a.pgd_eps;
    o.options.steps = a.pgd_steps;
    if (a.pgd_minimal) o.mode = sleepnet::PgdObjective::Mode::minimal_epsilon;
    char buf[64];
    std::snprintf(buf, sizeof buf, " --pgd-eps %g", a.pgd_eps);
    flags += a.pgd_minimal ? std::string(" --pgd-minimal") : std::string(buf);
    if (a.pgd_steps != 100) flags += " --pgd-steps " + std::to_string(a.pgd_steps);
    return o;
}

sleepnet::FgsmObjective fgsm_objective(const Args& a, std::string& flags)
{
    sleepnet::FgsmObjective o;
    if (a.fgsm_search == "grid")
        o.options.search = sleepnet::FgsmSearch::grid;
    else if (a.fgsm_search != "bisection")
        throw sleepnet::invalid_argument("--fgsm-search must be bisection or grid, got '" + a.fgsm_search + "'");
    if (a.fgsm_search == "grid") flags += " --fgsm-search grid";
    if (a.fgsm_loss == "ce") {
        o.options.loss = sleepnet::AttackLoss::cross_entropy;
        flags += " --fgsm-loss ce";
    } else if (a.fgsm_loss != "network") {
        throw sleepnet::invalid_argument("--fgsm-loss must be network or ce, got '" + a.fgsm_loss + "'");
    }
    return o;
}

/// search(objective) with the objective named by --objective; its flags go to `flags`.
template <class Search>
sleepnet::TuneResult with_objective(const Args& a, std::string& flags, Search&& search)
{
    if (a.objective == "pgd") return search(pgd_objective(a, flags));
    if (a.objective == "fgsm") return search(fgsm_objective(a, flags));
    if (a.objective == "deepfool") return search(sleepnet::DeepFoolObjective{});
    if (a.objective == "noise") return search(sleepnet::NoiseObjective{});
    throw sleepnet::invalid_argument("unknown --objective '" + a.objective + "' (pgd, fgsm, deepfool or noise)");
}

void print_result(const sleepnet::TuneResult& r, std::size_t m)
{
    const auto& best = r.best();
    std::printf("tune: %zu candidates (%zu from the log) in %.1f s; objective %s on %zu validation images\n",
                r.history.size(), r.resumed, r.seconds, r.objective.c_str(), m);
    std::printf("control: validation accuracy %.4f, objective %.6g (floor %.4f)\n", r.control_accuracy, r.control_value,
                r.accuracy_floor);
    std::printf("best: candidate %zu (generation %zu), %s, validation accuracy %.4f, objective %.6g\n", best.index,
                best.generation, best.feasible ? "feasible" : "INFEASIBLE", best.accuracy, best.value);
}

/// The best parameters for `sleep --params`, with the provenance (the search's `flags`) and the refit.
nlohmann::json best_params_json(const Args& a, const sleepnet::TuneResult& r, const std::string& flags,
                                const std::optional<sleepnet::RefitPlan>& refit)
{
    const auto& best = r.best();
    nlohmann::json j = best.params;
    char prov[2048];
    std::snprintf(prov, sizeof prov,
                  "tune --method %s --objective %s --budget %zu --seed %llu --sleep-seed %llu%s on %s "
                  "(%zu validation images from the training set): validation accuracy %.4f vs control "
                  "%.4f, objective %.6g vs control %.6g",
                  a.method.c_str(), a.objective.c_str(), a.budget, static_cast<unsigned long long>(a.seed),
                  static_cast<unsigned long long>(a.sleep_seed), flags.c_str(), a.model_dir.c_str(),
                  objective_images(a), best.accuracy, r.control_accuracy, best.value, r.control_value);
    j["provenance"] = prov;
    if (refit) j["refit"] = nlohmann::json(*refit);
    return j;
}

#ifdef SLEEPNET_WITH_MPI
using Workers = sleepnet::MpiWorkers;  // MPI_COMM_WORLD
#else
using Workers = sleepnet::LocalWorkers;
#endif

/// Loads the model and data in precision T, searches, prints the result, writes the best parameters.
template <class T>
int tune_model(const Args& a)
{
    const auto control = sleepnet::load_model<T>(a.model_dir);
    const auto data = sleepnet::load_dataset<T>(a.dataset, a.data_dir, a.seed);
    auto td = tune_data(a, data.train);
    auto opts = tune_options(a);
    const auto refit = refit_plan(a, data.train.size());
    if (refit) {
        opts.refit = refit->options;
        td.refit_x = xt::view(data.train.x, xt::range(0, refit->options.samples), xt::all());
        td.refit_y = xt::view(data.train.y, xt::range(0, refit->options.samples));
    }
    // every candidate sleeps with a copy of default_engine(--sleep-seed), refits with one of
    // default_engine(the refit's seed, 1: recorded in the output file)
    const sleepnet::CandidateEngines<> engines{sleepnet::default_engine(a.sleep_seed),
                                               sleepnet::default_engine(refit ? refit->seed : 1)};
    std::string flags;  // for the provenance
    const auto space = examples::search_space(a.space, control.num_layers(), flags);
    opts.initial = examples::initial_genomes(a.space, space, control.num_layers(), flags);
    sleepnet::default_engine engine(a.seed);
    const Workers workers;
    auto bar = examples::progress_bar("tune");
    const auto r = with_objective(a, flags, [&](const auto& objective) {
        if (!workers.root())
            return sleepnet::tune_sleep_on(workers, control, td, space, objective, opts, engines, engine);
        return sleepnet::tune_sleep_on(workers, control, td, space, objective, opts, engines, engine, bar);
    });
    if (!workers.root()) return r.best().feasible ? 0 : 2;
    print_result(r, objective_images(a));
    if (refit) flags += refit_provenance(refit->options);
    examples::write_json(a.out_file, best_params_json(a, r, flags, refit));
    std::printf("parameters written to %s (use: sleep --params %s --seed %llu)\n", a.out_file.c_str(),
                a.out_file.c_str(), static_cast<unsigned long long>(a.sleep_seed));
    return r.best().feasible ? 0 : 2;
}

int run(const Args& a)
{
    examples::check_outputs({{"--out", a.out_file}, {"--log", a.log_file}});
    const auto info = sleepnet::read_model_info(a.model_dir);
    return examples::with_precision(info.dtype, [&](auto zero) { return tune_model<decltype(zero)>(a); });
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"Search sleep parameters for a trained network (objective on a validation split)"};
    Args args;
    add_options(app, args);
    examples::strict_numbers(app);
#ifdef SLEEPNET_WITH_MPI
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = rank == 0 ? app.exit(e) : e.get_exit_code();
        MPI_Finalize();
        return rc;
    }
    const int rc = examples::guarded("tune", [&] { return run(args); });
    if (rc == 1) MPI_Abort(MPI_COMM_WORLD, 1);  // the other ranks may wait in a collective
    MPI_Finalize();
    return rc;
#else
    CLI11_PARSE(app, argc, argv);
    return examples::guarded("tune", [&] { return run(args); });
#endif
}
