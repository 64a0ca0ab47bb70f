// sleep: runs the sleep phase on a trained model directory and writes the slept model.
//
//   sleep --model out/control --out out/slept --preset mnist-fgsm --dataset mnist --data data/mnist --seed 1
//   sleep --model IN --out OUT --params params.json --dataset NAME --data DIR [--raster FILE.npy] [--json FILE]
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

#include <sleepnet/data/load.hpp>
#include <sleepnet/data/npy.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>
#include <sleepnet/snn/refit.hpp>
#include <sleepnet/snn/sleep.hpp>

#include "common.hpp"

namespace {

struct SleepProgressBar {
    examples::Progress bar{"sleep"};
    void on_step(const sleepnet::SleepProgress& s)
    {
        if (s.step == 1) bar.restart("sleep");
        bar.update(s.step, s.steps);
    }
};

sleepnet::SleepParams read_params(const std::string& preset, const std::string& file)
{
    if (!preset.empty() && !file.empty()) {
        throw sleepnet::invalid_argument("give either --preset or --params, not both");
    }
    if (!file.empty()) return sleepnet::load_sleep_params(file);
    return sleepnet::sleep_preset(preset.empty() ? "mnist-fgsm" : preset);
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"Sleep a trained network (Tadros et al. 2020) and write the slept model"};
    std::string model_dir, out_dir, preset, params_file, dataset = "mnist", data_dir, raster_file, json_file;
    std::uint64_t seed = 1;
    std::size_t steps = 0;
    bool refit_flag = false, no_refit = false;
    std::size_t refit_epochs = 0, refit_frozen = 0;
    double refit_lr = 0.0;
    app.add_option("--model", model_dir, "model directory to sleep")->required();
    app.add_option("--out", out_dir, "where to write the slept model")->required();
    app.add_option("--preset", preset, "mnist-fgsm | mnist-deepfool | patches | cub200");
    app.add_option("--params", params_file, "sleep parameters as JSON (see docs/sleep.md)");
    app.add_option("--dataset", dataset, "mnist | fashion | patches | features | synthetic-features")->required();
    app.add_option("--data", data_dir, "data directory");
    app.add_option("--raster", raster_file, "replay this (steps x inputs) bool/uint8 .npy instead of Poisson input");
    app.add_option("--steps", steps, "override the number of sleep steps");
    app.add_option("--seed", seed, "seed of the engine drawing the input spikes");
    app.add_option("--json", json_file, "write the report and accuracies here");
    app.add_flag("--refit", refit_flag, "refit the layers above the slept ones after sleep (defaults of docs/sleep.md)");
    app.add_flag("--no-refit", no_refit, "do not refit, even when the parameter file has a \"refit\" object");
    app.add_option("--refit-epochs", refit_epochs, "refit: epochs (implies --refit)");
    app.add_option("--refit-frozen", refit_frozen, "refit: leading layers kept frozen (implies --refit)");
    app.add_option("--refit-lr", refit_lr, "refit: learning rate (implies --refit)");
    CLI11_PARSE(app, argc, argv);

    return examples::guarded("sleep", [&] {
        auto params = read_params(preset, params_file);
        if (steps > 0) params.steps = steps;
        std::optional<sleepnet::RefitOptions> refit;
        if (!params_file.empty()) refit = sleepnet::load_refit_options(params_file);
        const bool refit_override = refit_epochs > 0 || refit_frozen > 0 || refit_lr > 0.0;
        if (no_refit && (refit_flag || refit_override))
            throw sleepnet::invalid_argument("--no-refit contradicts --refit / --refit-epochs / --refit-frozen / --refit-lr");
        if (no_refit) refit.reset();
        if ((refit_flag || refit_override) && !refit) refit = sleepnet::RefitOptions{};
        if (refit) {
            if (refit_epochs > 0) refit->epochs = refit_epochs;
            if (refit_frozen > 0) refit->frozen_layers = refit_frozen;
            if (refit_lr > 0.0) refit->learning_rate = refit_lr;
            refit->validate();
        }
        const auto info = sleepnet::read_model_info(model_dir);
        return examples::with_precision(info.dtype, [&](auto zero) {
            using T = decltype(zero);
            auto net = sleepnet::load_model<T>(model_dir);
            const auto data = sleepnet::load_dataset<T>(dataset, data_dir, seed);
            params.validate(net.num_layers());
            if (refit) refit->validate(net.num_layers());  // before sleeping, not after
            const double before = sleepnet::accuracy(net, data.test);
            sleepnet::default_engine engine(seed);
            SleepProgressBar progress;
            sleepnet::SleepReport report;
            if (!raster_file.empty()) {
                sleepnet::RasterReplay raster(sleepnet::npy::load<std::uint8_t, 2>(raster_file));
                report = sleepnet::sleep_with_source(net, raster, data.train.x, params, engine, progress);
            } else {
                report = sleepnet::sleep(net, data.train.x, params, engine, progress);
            }
            const double after_sleep = sleepnet::accuracy(net, data.test);
            sleepnet::TrainReport refit_report;
            if (refit) {
                sleepnet::default_engine refit_engine(refit->seed);
                refit_report = sleepnet::refit(net, data.train.x, data.train.y, *refit, refit_engine);
            }
            const double after = refit ? sleepnet::accuracy(net, data.test) : after_sleep;
            sleepnet::save_model(net, out_dir);

            std::printf("sleep: %zu steps in %.3f s, %llu input spikes\n", report.steps, report.seconds,
                        static_cast<unsigned long long>(report.input_spikes));
            for (std::size_t l = 0; l < report.spikes.size(); ++l) {
                std::printf("  layer %zu: alpha %.4g threshold %.4g, %llu spikes, %zu of %zu neurons spiked, "
                            "%zu of %zu weights changed\n",
                            l + 1, report.alpha[l], report.thresholds[l],
                            static_cast<unsigned long long>(report.spikes[l]), report.neurons_spiked[l],
                            report.neurons[l], report.weights_changed[l], report.weights[l]);
            }
            if (refit) {
                std::printf("refit: layers %zu-%zu on %zu training rows, %zu epochs, lr %g, loss %s, %.1f s\n",
                            refit->frozen_layers + 1, net.num_layers(),
                            refit->samples == 0 ? data.train.size() : refit->samples, refit->epochs,
                            refit->learning_rate, sleepnet::to_string(refit->loss).c_str(), refit_report.seconds);
                std::printf("test accuracy after sleep %.4f (before refit)\n", after_sleep);
            }
            std::printf("test accuracy before %.4f\ntest accuracy after %.4f\nslept model written to %s\n", before,
                        after, out_dir.c_str());
            if (!json_file.empty()) {
                nlohmann::json j;
                j["program"] = "sleep";
                j["model"] = model_dir;
                j["out"] = out_dir;
                j["dataset"] = data.test.name;
                j["seed"] = seed;
                j["params"] = sleepnet::to_json(params);
                j["report"] = sleepnet::to_json(report);
                j["test_accuracy_before"] = before;
                j["test_accuracy_after"] = after;
                if (refit) {
                    j["refit"] = sleepnet::to_json(*refit);
                    j["refit_seconds"] = refit_report.seconds;
                    j["test_accuracy_after_sleep"] = after_sleep;
                }
                examples::write_json(json_file, j);
            }
            return 0;
        });
    });
}
