// sleep: runs the sleep phase on a trained model directory and writes the slept model.
//
//   sleep --model out/control --out out/slept --preset mnist-fgsm --dataset mnist --data data/mnist --seed 1
//   sleep --model IN --out OUT --params params.json --dataset NAME --data DIR [--raster FILE.npy] [--json FILE]
//         [--max-spikes N]   stop sleep once all layers together spiked more than N times
//
// When the parameter file has a "refit" object (or with --refit), the layers above the
// slept ones are then refitted on the training set (snn/refit.hpp); --no-refit skips it.
// Prints the sleep report and test accuracy before and after. Computes in the precision
// the weights are stored in.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>

#include <sleepnet/callbacks/spike_budget.hpp>
#include <sleepnet/data/load.hpp>
#include <sleepnet/data/npy.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>
#include <sleepnet/snn/refit.hpp>
#include <sleepnet/snn/refit_json.hpp>
#include <sleepnet/snn/sleep.hpp>
#include <sleepnet/snn/sleep_json.hpp>

#include "common.hpp"
#include "strict_cli.hpp"

namespace {

struct Args {
    std::string model_dir, out_dir, preset, params_file, dataset = "mnist", data_dir, raster_file, json_file;
    std::uint64_t seed = 1;
    std::size_t steps = 0;
    std::uint64_t max_spikes = 0;
    examples::RefitFlags refit;
};

void add_options(CLI::App& app, Args& a)
{
    app.add_option("--model", a.model_dir, "model directory to sleep")->required();
    app.add_option("--out", a.out_dir, "where to write the slept model")->required();
    app.add_option("--preset", a.preset, "mnist-fgsm | mnist-deepfool | patches | cub200 | mnist-src");
    app.add_option("--params", a.params_file, "sleep parameters as JSON (see docs/sleep.md)");
    app.add_option("--dataset", a.dataset, "mnist | fashion | patches | features | synthetic-features")->required();
    app.add_option("--data", a.data_dir, "data directory");
    app.add_option("--raster", a.raster_file, "replay this (steps x inputs) bool/uint8 .npy instead of Poisson input");
    app.add_option("--steps", a.steps, "override the number of sleep steps");
    app.add_option("--seed", a.seed, "seed of the engine drawing the input spikes");
    app.add_option("--json", a.json_file, "write the report and accuracies here");
    app.add_option("--max-spikes", a.max_spikes,
                   "stop sleep after the first step at which the spikes of all layers exceed N (default 0: no limit)");
    examples::add_refit_flags(app, a.refit,
                              {"refit the layers above the slept ones after sleep (defaults of docs/sleep.md)",
                               "do not refit, even when the parameter file has a \"refit\" object", false});
}

sleepnet::SleepParams read_params(const std::string& preset, const std::string& file)
{
    if (!preset.empty() && !file.empty()) {
        throw sleepnet::invalid_argument("give either --preset or --params, not both");
    }
    if (!file.empty()) return sleepnet::load_sleep_params(file);
    return sleepnet::sleep_preset(preset.empty() ? "mnist-fgsm" : preset);
}

/// --preset or --params (default mnist-fgsm), with --steps applied.
sleepnet::SleepParams sleep_params(const Args& a)
{
    auto params = read_params(a.preset, a.params_file);
    if (a.steps > 0) params.steps = a.steps;
    return params;
}

/// The refit after sleep: the parameter file's "refit" object and the --refit* flags; none
/// without either or with --no-refit.
std::optional<sleepnet::RefitPlan> refit_plan(const Args& a)
{
    std::optional<sleepnet::RefitPlan> from_file;
    if (!a.params_file.empty()) from_file = sleepnet::load_refit_plan(a.params_file);
    auto refit = examples::refit_plan(a.refit, from_file);
    if (refit) refit->options.validate();
    return refit;
}

/// Sleeps `net` on Poisson input from the training set, or on the --raster replay.
template <class T>
sleepnet::SleepReport sleep_network(sleepnet::DenseNetwork<T>& net, const sleepnet::matrix<T>& train_x,
                                    const sleepnet::SleepParams& params, const Args& a)
{
    sleepnet::default_engine engine(a.seed);
    auto progress = examples::progress_bar("sleep");
    sleepnet::SpikeBudget budget{a.max_spikes};
    sleepnet::SleepReport report;
    if (!a.raster_file.empty()) {
        sleepnet::RasterReplay raster(sleepnet::npy::load<std::uint8_t, 2>(a.raster_file));
        report = sleepnet::sleep_with_source(net, raster, train_x, params, engine, progress, budget);
    } else {
        report = sleepnet::sleep(net, train_x, params, engine, progress, budget);
    }
    if (budget.exceeded())
        std::fprintf(stderr, "sleep: stopped after step %zu of %zu: %llu spikes > --max-spikes %llu\n",
                     budget.stopped_at, params.steps, static_cast<unsigned long long>(budget.spikes),
                     static_cast<unsigned long long>(a.max_spikes));
    return report;
}

/// What sleep (and refit) did, for the printout and the JSON file.
struct Outcome {
    sleepnet::SleepReport report;
    sleepnet::TrainReport refit_report;
    double before = 0.0, after_sleep = 0.0, after = 0.0;
    std::size_t layers = 0, train_rows = 0;
    std::string dataset;
};

void print_sleep_report(const sleepnet::SleepReport& report)
{
    std::printf("sleep: %zu steps in %.3f s, %llu input spikes\n", report.steps, report.seconds,
                static_cast<unsigned long long>(report.input_spikes));
    for (std::size_t l = 0; l < report.spikes.size(); ++l) {
        std::printf("  layer %zu: alpha %.4g threshold %.4g, %llu spikes, %zu of %zu neurons spiked, "
                    "%zu of %zu weights changed\n",
                    l + 1, report.alpha[l], report.thresholds[l], static_cast<unsigned long long>(report.spikes[l]),
                    report.neurons_spiked[l], report.neurons[l], report.weights_changed[l], report.weights[l]);
    }
}

void print_outcome(const Args& a, const Outcome& o, const std::optional<sleepnet::RefitPlan>& refit)
{
    print_sleep_report(o.report);
    if (refit) {
        const sleepnet::RefitOptions& ro = refit->options;
        std::printf("refit: layers %zu-%zu on %zu training rows, %zu epochs, lr %g, loss %s, %.1f s\n",
                    ro.sgd.frozen_layers + 1, o.layers, ro.samples == 0 ? o.train_rows : ro.samples, ro.sgd.epochs,
                    ro.sgd.learning_rate, sleepnet::to_string(ro.loss).c_str(), o.refit_report.seconds);
        std::printf("test accuracy after sleep %.4f (before refit)\n", o.after_sleep);
    }
    std::printf("test accuracy before %.4f\ntest accuracy after %.4f\nslept model written to %s\n", o.before, o.after,
                a.out_dir.c_str());
}

nlohmann::json outcome_json(const Args& a, const sleepnet::SleepParams& params,
                            const std::optional<sleepnet::RefitPlan>& refit, const Outcome& o)
{
    nlohmann::json j;
    j["program"] = "sleep";
    j["model"] = a.model_dir;
    j["out"] = a.out_dir;
    j["dataset"] = o.dataset;
    j["seed"] = a.seed;
    if (a.max_spikes > 0) j["max_spikes"] = a.max_spikes;
    j["params"] = params;
    j["report"] = o.report;
    j["test_accuracy_before"] = o.before;
    j["test_accuracy_after"] = o.after;
    if (refit) {
        j["refit"] = nlohmann::json(*refit);
        j["refit_seconds"] = o.refit_report.seconds;
        j["test_accuracy_after_sleep"] = o.after_sleep;
    }
    return j;
}

/// Loads the model and data in precision T, sleeps (and refits), writes the slept model.
template <class T>
int sleep_model(const Args& a, const sleepnet::SleepParams& params, const std::optional<sleepnet::RefitPlan>& refit)
{
    auto net = sleepnet::load_model<T>(a.model_dir);
    const auto data = sleepnet::load_dataset<T>(a.dataset, a.data_dir, a.seed);
    if (a.params_file.empty())
        params.validate(net.num_layers());
    else
        sleepnet::validate_sleep_params_file(params, a.params_file, net.num_layers());  // errors name the file
    if (refit) refit->options.validate(net.num_layers());                               // before sleeping, not after
    Outcome o;
    o.layers = net.num_layers();
    o.train_rows = data.train.size();
    o.dataset = data.test.name;
    o.before = sleepnet::accuracy(net, data.test);
    o.report = sleep_network(net, data.train.x, params, a);
    o.after_sleep = sleepnet::accuracy(net, data.test);
    if (refit) {
        sleepnet::default_engine refit_engine(refit->seed);
        o.refit_report = sleepnet::refit(net, data.train.x, data.train.y, refit->options, refit_engine);
    }
    o.after = refit ? sleepnet::accuracy(net, data.test) : o.after_sleep;
    examples::save_with_json(a.json_file, outcome_json(a, params, refit, o), a.out_dir,
                             [&] { sleepnet::save_model(net, a.out_dir); });
    print_outcome(a, o, refit);
    return 0;
}

int run(const Args& a)
{
    examples::check_outputs({{"--out", a.out_dir, true}, {"--json", a.json_file}},
                            {{"--params", a.params_file}, {"--raster", a.raster_file}});
    const auto params = sleep_params(a);
    const auto refit = refit_plan(a);
    const auto info = sleepnet::read_model_info(a.model_dir);
    return examples::with_precision(info.dtype,
                                    [&](auto zero) { return sleep_model<decltype(zero)>(a, params, refit); });
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"Sleep a trained network (Tadros et al. 2020) and write the slept model"};
    Args args;
    add_options(app, args);
    examples::strict_numbers(app);
    CLI11_PARSE(app, argc, argv);
    return examples::guarded("sleep", [&] { return run(args); });
}
