// reproduce: the paper's experiments in one command (Tadros et al., ICLR 2020, Table 1 and
// Figs. 1-4): trains the control network, the defensively distilled network, fine-tuned
// networks and the slept network, attacks and distorts each, prints Table 1 and writes
// results.json, CSV files, gnuplot data/scripts and PNG plots.
//
//   reproduce --dataset patches --quick --out out/repro-patches
//   reproduce --dataset mnist --data data/mnist --quick --out out/repro-mnist
//   reproduce --dataset mnist --data data/mnist --out out/repro-mnist-full [--seed 1] [--sleep-params FILE]
//   reproduce --dataset patches --seeds 3 --out out/repro-patches-3       (mean +- sd over 3 controls)
//   reproduce ... --seeds 3 --shard 0/3 (1/3, 2/3), then ... --seeds 3 --merge (job arrays)
//
// Table 1 also has two strong attacks (APGD L-inf minimal eps, FMN L2 minimal norm) and an
// adversarially trained column, the reference for what robustness looks like.
//
// Every random draw comes from an engine seeded from --seed (stage k uses seed + k, listed
// in results.json under "seeds"; control and sleep use the seed itself). See
// docs/reproduce.md for what each stage does and what --quick reduces. The stages live in
// reproduce_*.hpp, one header each: plan, setup, train, sleep, table, curves, figures;
// several seed runs, shards and their merge: seeds, aggregate, aggregate_text, merge.
#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#ifdef SLEEPNET_WITH_MPI
#include <mpi.h>
#endif

#include "common.hpp"
#include "openblas_env.hpp"
#include "strict_cli.hpp"
#include "reproduce_curves.hpp"
#include "reproduce_figures.hpp"
#include "reproduce_merge.hpp"
#include "reproduce_plan.hpp"
#include "reproduce_seeds.hpp"
#include "reproduce_setup.hpp"
#include "reproduce_sleep.hpp"
#include "reproduce_table.hpp"
#include "reproduce_train.hpp"

namespace {

/// The cores there are (at least 1, at most 8).
unsigned default_workers() { return std::max(1u, std::min(8u, std::thread::hardware_concurrency())); }

struct Args {
    std::string dataset, out_dir, data_dir, params_file, fgsm_loss = "network", tune_objective = "pgd", shard;
    std::string apgd_search = "warm";
    bool quick = false, no_plots = false, merge = false, reference_schedule = false;
    unsigned workers = default_workers();
    std::uint64_t seed = 1;
    std::size_t seeds = 1;
    long tune_budget = -1;
};

void add_options(CLI::App& app, Args& a)
{
    app.add_option("--dataset", a.dataset, "patches | mnist | fashion | features")
        ->required()
        ->check(CLI::IsMember({"patches", "mnist", "fashion", "features", "synthetic-features"}));
    app.add_flag("--quick", a.quick, "smaller run (see docs/reproduce.md; what it reduces is printed)");
    app.add_option("--out", a.out_dir, "output directory")->required();
    app.add_option("--data", a.data_dir, "data directory (mnist, features; fashion: default Debian's)");
    app.add_option("--seed", a.seed, "base seed: stage k uses seed + k");
    app.add_option("--sleep-params", a.params_file,
                   "sleep parameters (JSON); default examples/params/<dataset>.json if present, else the preset");
    app.add_option("--fgsm-loss", a.fgsm_loss, "FGSM gradient: network (the authors' MSE, default) | ce");
    app.add_option("--tune-budget", a.tune_budget,
                   "sleep parameter search candidates on a validation split before sleeping "
                   "(default: 200 for patches, 0 = off for the others; see docs/reproduce.md)");
    app.add_option("--tune-objective", a.tune_objective,
                   "the search's objective: pgd (median minimal APGD L-inf eps, default) | fgsm (median minimal FGSM "
                   "eps, the paper's)");
    app.add_option("--apgd-search", a.apgd_search,
                   "Table 1's APGD minimal-eps search: warm (default: tests near the closest adversarial found and "
                   "starts there, fewer passes) | bisection (every run from x, the tables before issue 15)")
        ->check(CLI::IsMember({"warm", "bisection"}));
    app.add_flag("--no-plots", a.no_plots, "write data and .gp scripts but do not run gnuplot");
    app.add_option("--seeds", a.seeds,
                   "independently trained controls: seed run i uses base seed --seed + 100 i and writes "
                   "OUT/seed-<its seed>/; OUT gets every cell as mean +- sd (default 1: a single run in OUT)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
    app.add_option("--shard", a.shard, "i/N: run only the seed runs whose index % N == i, no aggregate (job arrays)");
    app.add_flag("--merge", a.merge, "run nothing: aggregate the existing OUT/seed-* directories of --seeds N");
    app.add_option("--workers", a.workers,
                   "threads for the independent pieces of a stage (Table 1's cells, each network's curves, the "
                   "attack images of fine-tuning); the outputs do not depend on it (default: the cores, at most 8)")
        ->check(CLI::Range(1u, 64u));
    app.add_flag("--reference-schedule", a.reference_schedule,
                 "run the stages as before issue 15 (pieces one after the other, small attack chunks, the brute-force "
                 "FGSM curve): the same outputs, slower (for bench/reproduce_stages and the tests)");
}

std::string command_line(int argc, char** argv)
{
    std::string c;
    for (int i = 0; i < argc; ++i) c += (i ? " " : "") + std::string(argv[i]);
    return c;
}

void announce(const repro::Setup& s)
{
    std::fprintf(stderr, "reproduce: %s%s, %zu training and %zu test inputs (%zu evaluated), seed %llu\n",
                 s.plan.dataset.c_str(), s.plan.quick ? " (quick)" : "", s.data.train.size(), s.data.test.size(),
                 s.ex.shape()[0], static_cast<unsigned long long>(s.plan.seed));
    for (const auto& r : s.plan.reductions) std::fprintf(stderr, "reproduce: quick mode: %s\n", r.c_str());
}

/// Trains, fine-tunes and sleeps every network of Table 1.
void make_networks(const repro::Setup& s, repro::Networks& nets, repro::StageTimes& times, const Args& a)
{
    times.time("control", [&] { repro::train_control(s, nets); });
    times.time("distillation", [&] { repro::train_distilled(s, nets); });
    repro::train_finetuned(s, nets, times);
    times.time("sleep", [&] { repro::sleep_control(s, nets, a.params_file); });
    times.time("adversarial_training", [&] { repro::train_adversarial(s, nets); });
}

sleepnet::AttackLoss fgsm_loss(const Args& a)
{
    if (a.fgsm_loss != "network" && a.fgsm_loss != "ce")
        throw sleepnet::invalid_argument("--fgsm-loss must be network or ce, got '" + a.fgsm_loss + "'");
    return a.fgsm_loss == "ce" ? sleepnet::AttackLoss::cross_entropy : sleepnet::AttackLoss::network;
}

repro::Plan plan_of(const Args& a, std::uint64_t seed)
{
    repro::Plan p = repro::make_plan(a.dataset, a.quick, seed, a.tune_budget, a.tune_objective);
    p.apgd_search = a.apgd_search;
    repro::apgd_search(p);  // refuses an unknown search before any work
    return p;
}

/// One seed run: every stage with base seed `seed`, everything written to `out_dir`.
int run(const Args& a, std::uint64_t seed, const std::string& out_dir, const std::string& command)
{
    examples::check_outputs({{"--out", out_dir, true}}, {{"--sleep-params", a.params_file}});
    const auto t_start = repro::Clock::now();
    const auto loss = fgsm_loss(a);
    std::filesystem::create_directories(out_dir);
    repro::StageTimes times;
    repro::Setup s = times.time("data", [&] { return repro::load_setup(plan_of(a, seed), a.data_dir, out_dir); });
    s.attack_loss = loss;
    s.workers = a.reference_schedule ? 1 : a.workers;
    s.reference_schedule = a.reference_schedule;
    announce(s);
    nlohmann::json J = {{"program", "reproduce"},
                        {"command", command},
                        {"seeds", repro::stage_seeds(s.plan.seed)},
                        {"plan", repro::to_json(s.plan)},
                        {"data", repro::to_json(s)},
                        {"environment", {{"OPENBLAS_THREAD_TIMEOUT", examples::openblas_thread_timeout()}}}};
    repro::Networks nets(s.data.test);
    make_networks(s, nets, times, a);
    auto scores = times.time("attacks", [&] { return repro::attack_networks(s, nets); });
    J["table1"] = repro::table1_json(nets, scores);
    J["checks"] = repro::checks_json(nets, scores);
    J["table1_notes"] = repro::table1_notes(s);
    repro::Curves curves = repro::curve_axes(s.plan);
    J["curves"] = times.time("curves", [&] { return repro::curves_stage(s, nets, curves); });
    J["networks"] = repro::networks_json(s, nets);
    if (s.patches()) J["patches_weights"] = repro::patches_weights(s, nets);
    const std::string table = repro::table1_text(s, nets, scores);
    examples::write_text(out_dir + "/table1.txt", table);
    examples::write_text(out_dir + "/table1.csv", repro::table1_csv(nets, scores));
    J["plots"] = times.time("plots", [&] { return repro::plots_stage(s, nets, curves, a.no_plots); });
    auto seconds = times.json();
    seconds["total"] = repro::since(t_start);
    J["seconds"] = seconds;
    examples::write_json(out_dir + "/results.json", J);
    std::printf("%s", table.c_str());
    std::printf("wrote %s/results.json, table1.csv, curves (*.csv, *.dat), %zu plot script(s)%s; total %.1f s\n",
                out_dir.c_str(), J["plots"]["scripts"].size(), J["plots"]["gnuplot"].get<bool>() ? " and PNGs" : "",
                repro::since(t_start));
    return 0;
}

/// --seeds N, --shard, --merge: the seed runs of this shard (all without --shard), then,
/// unless sharded, the aggregate of all of them in OUT.
int run_seeds(const Args& a, const std::string& command)
{
    examples::check_outputs({{"--out", a.out_dir, true}}, {{"--sleep-params", a.params_file}});
    if (a.merge && !a.shard.empty())
        throw sleepnet::invalid_argument("--merge and --shard exclude each other: merge once every shard has run");
    const auto shard = repro::parse_shard(a.shard.empty() ? "0/1" : a.shard);
    repro::MergeInput m;
    m.plan = plan_of(a, a.seed);
    m.config = {repro::to_json(m.plan), repro::table1_notes(fgsm_loss(a)),
                repro::find_sleep_params(a.dataset, a.params_file).source};
    if (!a.merge) {
        const auto mine = repro::shard_indices(a.seeds, shard);
        if (mine.empty())
            std::fprintf(stderr, "reproduce: shard %s has no seed run of %zu\n", a.shard.c_str(), a.seeds);
        for (std::size_t i : mine) {
            const std::uint64_t seed = repro::seed_of(a.seed, i);
            std::fprintf(stderr, "reproduce: seed run %zu of %zu (seed %llu)\n", i, a.seeds,
                         static_cast<unsigned long long>(seed));
            run(a, seed, a.out_dir + "/" + repro::seed_dir_name(seed), command);
        }
        if (!a.shard.empty()) return 0;
    }
    m.out_dir = a.out_dir;
    m.command = command;
    m.seeds = a.seeds;
    m.no_plots = a.no_plots;
    return repro::merge_seed_runs(m);
}

#ifdef SLEEPNET_WITH_MPI
/// reproduce_mpi: rank r of R runs shard r/R of the seed runs, then rank 0 merges them once
/// every rank has finished (a rank's error ends the job without a merge). The same output
/// as the serial --seeds N.
int run_ranks(Args a, const std::string& command)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int rc = examples::guarded("reproduce", [&] {
        if (!a.shard.empty() || a.merge)
            throw sleepnet::invalid_argument("reproduce_mpi assigns the shards itself: no --shard or --merge");
        Args mine = a;
        mine.shard = std::to_string(rank) + "/" + std::to_string(size);
        return run_seeds(mine, command);
    });
    int worst = 0;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (worst != 0 || rank != 0) return worst;
    a.merge = true;
    return examples::guarded("reproduce", [&] { return run_seeds(a, command); });
}
#endif

}  // namespace

int main(int argc, char** argv)
{
    examples::quiet_openblas_threads(argv);
    CLI::App app{"Reproduce the paper's Table 1 and Figs. 1-4 (control, distillation, fine-tuning, sleep), "
                 "with strong attacks and adversarial training beside them"};
    Args args;
    add_options(app, args);
    examples::strict_numbers(app);
#ifdef SLEEPNET_WITH_MPI
    MPI_Init(&argc, &argv);
    int rc = 0;
    try {
        app.parse(argc, argv);
        rc = run_ranks(args, command_line(argc, argv));
    } catch (const CLI::ParseError& e) {
        int rank = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        rc = rank == 0 ? app.exit(e) : e.get_exit_code();
    }
    MPI_Finalize();
    return rc;
#else
    CLI11_PARSE(app, argc, argv);
    return examples::guarded("reproduce", [&] {
        const std::string command = command_line(argc, argv);
        if (args.seeds == 1 && args.shard.empty() && !args.merge) return run(args, args.seed, args.out_dir, command);
        return run_seeds(args, command);
    });
#endif
}
