// continual: class-incremental learning with sleep between tasks (Sleep Replay
// Consolidation, Tadros et al., Nature Communications 2022) against its baselines, over
// several trials; see docs/continual.md.
//
//   continual --dataset mnist --data data/mnist --out out/continual [--trials 5] [--seed 1]
//             [--methods sequential sleep rehearsal rehearsal+sleep joint] [--per-task 5000]
//             [--classes-per-task 2] [--shuffle-classes] [--rehearsal 0.0075] [--epochs 2]
//             [--dropout 0.25] [--hidden 1200 1200] [--params FILE] [--first-steps 15000]
//             [--more-steps 5000] [--sleep-every 1] [--keep-layers L...] [--per-class-mean]
//             [--train-count N] [--test-count N] [--no-plots] [--rehearsal-rule per-task|release]
//             [--params-steps] [--tune BUDGET [--tune-for sleep|rehearsal+sleep] [--tune-method genetic|random]
//              [--tune-log FILE] [--restart] [--tune-out FILE] [--validation 10000] [--population 16]
//              [--max-drop 0.03] [--max-spikes 500000] [--threads 1] [--inc-range LO HI ...] [--initial FILE...]]
//
// --tune BUDGET first searches sleep parameters on a validation split carved from the
// training images (continual_tune.hpp), writes the winner to --tune-out (default
// OUT/tuned_params.json; `continual --params FILE --params-steps` uses it later), then runs
// the trials with it.
//
// Trial t draws its initial network (uniform +-0.01, the release's) from rng::stream(seed, t, 0),
// the training, sleep and buffer engines from rng::stream(seed, t, 1 | 2 | 3) and, with
// --shuffle-classes, the class order from rng::stream(seed, t, 4); every method of a trial
// starts from the same network and copies the same engines. Writes OUT/results.json,
// summary.csv, after_task.csv, after_task.dat, matrix_<method>.dat and the plots
// after_task.png and matrices.png (gnuplot), and prints the table.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>

#include <sleepnet/continual/continual.hpp>
#include <sleepnet/core/json.hpp>
#include <sleepnet/data/load.hpp>
#include <sleepnet/snn/sleep_json.hpp>

#include "common.hpp"
#include "continual_output.hpp"
#include "continual_tune.hpp"
#include "strict_cli.hpp"

namespace {

struct Args {
    std::string dataset = "mnist", data_dir, out_dir, params_file, command, rehearsal_rule = "per-task";
    std::vector<std::string> methods{"sequential", "sleep", "rehearsal", "rehearsal+sleep", "joint"};
    std::size_t trials = 5, per_task = 5000, classes_per_task = 2, epochs = 2, batch = 100;
    std::size_t first_steps = 15000, more_steps = 5000, sleep_every = 1, test_count = 0, train_count = 0;
    std::vector<std::size_t> hidden{1200, 1200}, keep_layers;
    std::uint64_t seed = 1;
    double rehearsal = 0.0075, dropout = 0.25, lr = 0.1, momentum = 0.5;
    bool shuffle_classes = false, per_class_mean = false, no_plots = false, params_steps = false;
    cont::TuneFlags tune;
};

void add_options(CLI::App& app, Args& a)
{
    const auto positive = examples::positive_count();  // the other counts: strict_numbers in main
    app.add_option("--dataset", a.dataset, "mnist | fashion")->required()->check(CLI::IsMember({"mnist", "fashion"}));
    app.add_option("--data", a.data_dir, "data directory (fashion: empty = the Debian package's)");
    app.add_option("--out", a.out_dir, "output directory")->required();
    app.add_option("--methods", a.methods, "sequential | sleep | rehearsal | rehearsal+sleep | joint (default: all)");
    app.add_option("--trials", a.trials, "trials (each: a new initial network and engines)")->check(positive);
    app.add_option("--seed", a.seed, "base seed of every engine");
    app.add_option("--per-task", a.per_task, "training images per task (the first in data set order)")->check(positive);
    app.add_option("--classes-per-task", a.classes_per_task, "classes per task")->check(positive);
    app.add_flag("--shuffle-classes", a.shuffle_classes, "random class order per trial (else 0, 1, 2, ...)");
    app.add_option("--rehearsal", a.rehearsal, "rehearsal buffer: fraction of each earlier task's images")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--rehearsal-rule", a.rehearsal_rule,
                   "per-task: that fraction of each earlier task's images (default) | release: round(fraction x "
                   "all images of the earlier classes, -2) drawn from all of them (the release's)");
    app.add_option("--epochs", a.epochs, "epochs per task")->check(positive);
    app.add_option("--batch", a.batch, "batch size")->check(positive);
    app.add_option("--lr", a.lr, "learning rate")
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
                char* end = nullptr;
                const double x = std::strtod(v.c_str(), &end);
                if (end != v.c_str() && *end == 0 && x > 0) return "";
                return "must be > 0, got '" + v + "'";
            },
            "POSITIVE"));
    app.add_option("--momentum", a.momentum, "momentum")->check(CLI::Range(0.0, 1.0));
    app.add_option("--dropout", a.dropout, "hidden dropout probability")->check(CLI::Range(0.0, 0.99));
    app.add_option("--hidden", a.hidden, "hidden layer sizes")->check(positive);
    app.add_option("--params", a.params_file,
                   "sleep parameters as JSON (default: the release's, preset mnist-src; for fashion its Fashion set)");
    app.add_flag("--params-steps", a.params_steps,
                 "the first sleep lasts the parameters' steps, later ones grow in the --more-steps / "
                 "--first-steps proportion (as --tune's search; for its output file)");
    app.add_option("--first-steps", a.first_steps, "sleep steps after the first task")->check(positive);
    app.add_option("--more-steps", a.more_steps, "sleep steps added per later task");
    app.add_option("--sleep-every", a.sleep_every, "sleep after every k-th task (and the last)")->check(positive);
    app.add_option("--keep-layers", a.keep_layers, "weight layers (0-based) restored after each sleep");
    app.add_flag("--per-class-mean", a.per_class_mean,
                 "sleep input: each step a random seen class's mean image (the release: the mean of all)");
    app.add_option("--train-count", a.train_count,
                   "training images used, the first in data set order (0 = all; the sleep normalizes on them)");
    app.add_option("--test-count", a.test_count, "test images used, the first in data set order (0 = all)");
    app.add_flag("--no-plots", a.no_plots, "do not run gnuplot (the data and scripts are still written)");
    cont::add_tune_options(app, a.tune);
}

/// The release's Fashion-MNIST sleep parameters (FashionMNIST/run_class_task_summary.m:
/// x = [181.047258 0.041001 0.003344 40.446884 27.596929 33.109393 31.592987]).
sleepnet::SleepParams fashion_src_params()
{
    auto p = sleepnet::sleep_preset("mnist-src");
    p.rate = 181.047258;
    p.inc = 0.041001;
    p.dec = 0.003344;
    p.thresholds = {40.446884, 27.596929, 33.109393};
    p.alpha_scale = 31.592987;
    p.provenance = "Sleep Replay Consolidation release (tmtadros/SleepReplayConsolidation, "
                   "FashionMNIST/run_class_task_summary.m)";
    return p;
}

std::vector<sleepnet::ContinualMethod> parse_methods(const std::vector<std::string>& names)
{
    std::vector<sleepnet::ContinualMethod> out;
    std::set<std::string> seen;
    for (const auto& n : names) {
        if (!seen.insert(n).second) throw sleepnet::invalid_argument("--methods names '" + n + "' twice");
        out.push_back(sleepnet::enum_from_string<sleepnet::ContinualMethod>(n));
    }
    if (out.empty()) throw sleepnet::invalid_argument("--methods: give at least one method");
    return out;
}

/// The sleep parameters the methods start from: --params, else the release's for the data set.
sleepnet::SleepParams start_params(const Args& a)
{
    if (!a.params_file.empty()) return sleepnet::load_sleep_params(a.params_file);
    if (a.dataset == "fashion") return fashion_src_params();
    return sleepnet::sleep_preset("mnist-src");
}

/// The options of one method (the release's recipe with the command line's overrides).
sleepnet::ContinualOptions method_options(const Args& a, sleepnet::ContinualMethod m, const sleepnet::SleepParams& p)
{
    sleepnet::ContinualOptions o;
    o.method = m;
    o.sgd.learning_rate = a.lr;
    o.sgd.momentum = a.momentum;
    o.sgd.batch_size = a.batch;
    o.sgd.epochs = a.epochs;
    o.rehearsal_fraction = a.rehearsal;
    o.rehearsal_rule = sleepnet::enum_from_string<sleepnet::RehearsalRule>(a.rehearsal_rule);
    o.sleep.first_steps = a.first_steps;
    o.sleep.more_steps = a.more_steps;
    if (a.params_steps) o.sleep = o.sleep.scaled_to(p.steps);
    o.sleep.params = p;
    o.sleep.every = a.sleep_every;
    o.sleep.keep_layers = a.keep_layers;
    o.sleep.mask.per_class = a.per_class_mean;
    return o;
}

std::vector<std::size_t> layer_sizes(const Args& a, std::size_t inputs, std::size_t classes)
{
    std::vector<std::size_t> sizes{inputs};
    sizes.insert(sizes.end(), a.hidden.begin(), a.hidden.end());
    sizes.push_back(classes);
    return sizes;
}

/// Prints a line before every phase's training, sleep and evaluation.
struct PhaseLog {
    std::size_t trial = 0, trials = 0;
    std::string method;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

    bool on_progress(const sleepnet::ContinualProgress& p) const
    {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "continual: trial %zu/%zu %-15s phase %zu/%zu %-8s (%.0f s)\n", trial + 1, trials,
                     method.c_str(), p.task + 1, p.tasks, p.stage.c_str(), s);
        return false;
    }
};

/// The data the trials share: the training set and the (possibly cut) test set.
template <class T>
struct Data {
    sleepnet::Dataset<T> train, test;
};

/// The first `count` rows of `d` (0 or more than it has: all).
template <class T>
sleepnet::Dataset<T> first_rows(sleepnet::Dataset<T> d, std::size_t count)
{
    if (count == 0 || count >= d.size()) return d;
    std::vector<std::size_t> rows(count);
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    return d.subset(rows);
}

template <class T>
Data<T> load(const Args& a)
{
    auto splits = sleepnet::load_dataset<T>(a.dataset, a.data_dir, a.seed);
    return {first_rows(std::move(splits.train), a.train_count), first_rows(std::move(splits.test), a.test_count)};
}

/// The initial network of trial t (uniform +-0.01, the release's) from rng::stream(seed, t, 0).
template <class T>
sleepnet::DenseNetwork<T> initial_network(const Args& a, const sleepnet::Dataset<T>& train, std::uint64_t t)
{
    sleepnet::NetworkOptions no;
    no.dropout = a.dropout;
    sleepnet::DenseNetwork<T> initial(layer_sizes(a, train.dim(), train.classes), no);
    auto init_engine = sleepnet::rng::stream(a.seed, t, 0);
    initial.initialize(sleepnet::Init::uniform(0.01), init_engine);
    return initial;
}

/// One trial: the splits, the shared initial network, every method from it with parameters p.
template <class T>
nlohmann::json run_trial(const Args& a, const Data<T>& d, const std::vector<sleepnet::ContinualMethod>& methods,
                         const sleepnet::SleepParams& p, std::size_t t, std::vector<cont::MethodRuns>& runs)
{
    namespace rng = sleepnet::rng;
    auto order_engine = rng::stream(a.seed, t, 4);
    const sleepnet::ClassTaskOptions co{a.classes_per_task, a.shuffle_classes, a.per_task};
    const auto train_tasks = sleepnet::class_tasks(d.train.y, d.train.classes, co, order_engine);
    const auto test_tasks = sleepnet::class_tasks(d.test.y, train_tasks.classes);
    const auto initial = initial_network(a, d.train, t);
    const sleepnet::ContinualEngines<> engines{rng::stream(a.seed, t, 1), rng::stream(a.seed, t, 2),
                                               rng::stream(a.seed, t, 3)};
    nlohmann::json j{{"trial", t}, {"classes", train_tasks.classes}};
    for (std::size_t k = 0; k < methods.size(); ++k) {
        auto net = initial;
        PhaseLog log{t, a.trials, sleepnet::to_string(methods[k])};
        const auto report = sleepnet::continual_learning(net, d.train, d.test, train_tasks, test_tasks,
                                                         method_options(a, methods[k], p), engines, log);
        std::fprintf(stderr, "continual: trial %zu/%zu %s: average accuracy %.4f, total %.4f (%.0f s)\n", t + 1,
                     a.trials, log.method.c_str(), report.average.back(), report.total_accuracy.back(), report.seconds);
        j["methods"][log.method] = cont::report_json(report);
        runs[k].reports.push_back(report);
    }
    return j;
}

nlohmann::json options_json(const Args& a, const sleepnet::ContinualOptions& o)
{
    return {{"dataset", a.dataset},
            {"trials", a.trials},
            {"seed", a.seed},
            {"methods", a.methods},
            {"per_task", a.per_task},
            {"classes_per_task", a.classes_per_task},
            {"shuffle_classes", a.shuffle_classes},
            {"rehearsal_fraction", a.rehearsal},
            {"rehearsal_rule", a.rehearsal_rule},
            {"sgd", {{"epochs", a.epochs}, {"batch", a.batch}, {"lr", a.lr}, {"momentum", a.momentum}}},
            {"dropout", a.dropout},
            {"hidden", a.hidden},
            {"sleep_params", o.sleep.params},
            {"params_steps", a.params_steps},
            {"first_steps", o.sleep.first_steps},
            {"more_steps", o.sleep.more_steps},
            {"sleep_every", a.sleep_every},
            {"keep_layers", a.keep_layers},
            {"per_class_mean", a.per_class_mean},
            {"train_count", a.train_count},
            {"test_count", a.test_count}};
}

/// A candidate's objective value (4 decimals), or why it is infeasible.
std::string candidate_value(const sleepnet::TuneCandidate& c)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", c.value);
    if (c.feasible) return buf;
    return "infeasible (" + (c.error.empty() ? std::string("validation accuracy below the floor") : c.error) + ")";
}

/// The winner's file for `continual --params FILE --params-steps`, with how it was found.
nlohmann::json tuned_params_json(const Args& a, const sleepnet::TuneResult& r, const std::string& flags,
                                 std::size_t validation_rows)
{
    const auto& best = r.best();
    nlohmann::json j = best.params;
    char prov[2048];
    std::snprintf(prov, sizeof prov,
                  "continual --tune %zu --tune-for %s --tune-method %s --population %zu --seed %llu%s on %s "
                  "(%zu validation images, the last of the training set; use with --params-steps): validation "
                  "A_T %s vs %s with the starting parameters and %.4f without sleep",
                  a.tune.budget, a.tune.tune_for.c_str(), a.tune.method.c_str(), a.tune.population,
                  static_cast<unsigned long long>(a.seed), flags.c_str(), a.dataset.c_str(), validation_rows,
                  candidate_value(best).c_str(), candidate_value(r.history.front()).c_str(), r.control_value);
    j["provenance"] = prov;
    return j;
}

/// --tune: the search on the validation split; writes the winner and returns it (with its
/// summary in `summary`).
template <class T>
sleepnet::SleepParams tune(const Args& a, const Data<T>& d, const sleepnet::SleepParams& start, nlohmann::json& summary)
{
    auto order_engine = sleepnet::rng::stream(a.seed, cont::tune_trial, 4);
    const sleepnet::ClassTaskOptions co{a.classes_per_task, a.shuffle_classes, a.per_task};
    const auto data = cont::tune_data(d.train, a.tune.validation, co, order_engine);
    const auto initial = initial_network(a, data.train, cont::tune_trial);
    const auto base = method_options(a, sleepnet::enum_from_string<sleepnet::ContinualMethod>(a.tune.tune_for), start);
    if (!a.tune.log_file.empty())
        std::filesystem::create_directories(std::filesystem::absolute(a.tune.log_file).parent_path());
    std::string flags;
    const auto r = cont::search(a.tune, initial, data, base, a.seed, flags);
    const std::string out = a.tune.out_file.empty() ? a.out_dir + "/tuned_params.json" : a.tune.out_file;
    std::filesystem::create_directories(std::filesystem::absolute(out).parent_path());
    examples::write_json(out, tuned_params_json(a, r, flags, data.validation.size()));
    summary = cont::tune_summary_json(r, a.tune, data.train.size(), data.validation.size());
    summary["params_file"] = out;
    std::printf("tune: %zu candidates (%zu from the log) in %.1f s; validation A_T: no sleep %.4f, starting "
                "parameters %s, best (candidate %zu) %s\nparameters written to %s (use: --params %s --params-steps)\n",
                r.history.size(), r.resumed, r.seconds, r.control_value, candidate_value(r.history.front()).c_str(),
                r.best().index, candidate_value(r.best()).c_str(), out.c_str(), out.c_str());
    return r.best_params();
}

template <class T>
int run(Args a)
{
    examples::check_outputs(
        {{"--out", a.out_dir, true}, {"--tune-log", a.tune.log_file}, {"--tune-out", a.tune.out_file}},
        {{"--params", a.params_file}});
    const auto methods = parse_methods(a.methods);
    auto params = start_params(a);
    method_options(a, methods.front(), params).validate(a.hidden.size() + 1);  // before the data are loaded
    if (a.tune.budget > 0) cont::check_tune_flags(a.tune);
    const auto d = load<T>(a);
    nlohmann::json j{{"program", "continual"}, {"command", a.command}};
    if (a.tune.budget > 0) {
        params = tune(a, d, params, j["tune"]);
        a.params_steps = true;  // the winner's steps gene is the first sleep's length
    }
    j["options"] = options_json(a, method_options(a, methods.front(), params));
    std::fprintf(stderr, "continual: %s, %zu training / %zu test images, %zu trials of %zu methods\n",
                 d.train.name.c_str(), d.train.size(), d.test.size(), a.trials, methods.size());
    std::vector<cont::MethodRuns> runs;
    for (auto m : methods) runs.push_back(cont::MethodRuns{m, {}});
    std::size_t tasks = 0;
    for (std::size_t t = 0; t < a.trials; ++t) {
        j["trials"].push_back(run_trial(a, d, methods, params, t, runs));
        tasks = j["trials"].back()["classes"].size();
    }
    for (const auto& m : runs) j["summary"][m.name()] = cont::method_summary_json(m, tasks);
    std::filesystem::create_directories(a.out_dir);
    cont::write_summary_csv(a.out_dir, runs);
    cont::write_after_task(a.out_dir, runs, tasks);
    cont::write_matrices(a.out_dir, runs);
    const std::string title = d.train.name + ": " + std::to_string(tasks) + " class tasks, " +
                              std::to_string(a.trials) + " trials (mean +- sd)";
    j["plots"] = cont::write_plots(a.out_dir, runs, tasks, title, a.no_plots);
    examples::write_json(a.out_dir + "/results.json", j);
    cont::print_table(runs);
    std::printf("results written to %s\n", a.out_dir.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"Class-incremental learning with sleep (SRC) and its baselines over several trials"};
    Args args;
    add_options(app, args);
    examples::strict_numbers(app);
    CLI11_PARSE(app, argc, argv);
    for (int i = 0; i < argc; ++i) args.command += (i ? " " : "") + std::string(argv[i]);
    return examples::guarded("continual", [&] { return run<float>(args); });
}
