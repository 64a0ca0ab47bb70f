// evaluate: test accuracy of a model directory, optionally the per-sample predictions.
//
//   evaluate --model out/control --dataset mnist --data data/mnist [--predictions p.npy] [--json FILE]
// Computes in the precision the weights are stored in.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include <sleepnet/data/load.hpp>
#include <sleepnet/data/npy.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>

#include "common.hpp"
#include "strict_cli.hpp"

int main(int argc, char** argv)
{
    CLI::App app{"Evaluate a model directory on a data set's test split"};
    std::string model_dir, dataset = "mnist", data_dir, predictions_file, json_file;
    std::uint64_t seed = 1;
    app.add_option("--model", model_dir, "model directory")->required();
    app.add_option("--dataset", dataset, "mnist | fashion | patches | features | synthetic-features")->required();
    app.add_option("--data", data_dir, "data directory");
    app.add_option("--predictions", predictions_file, "write predicted labels (int64 .npy) here");
    app.add_option("--json", json_file, "write a JSON summary here");
    app.add_option("--seed", seed, "seed for generated data sets");
    examples::strict_numbers(app);
    CLI11_PARSE(app, argc, argv);

    return examples::guarded("evaluate", [&] {
        examples::check_outputs({{"--predictions", predictions_file}, {"--json", json_file}});
        const auto info = sleepnet::read_model_info(model_dir);
        return examples::with_precision(info.dtype, [&](auto zero) {
            using T = decltype(zero);
            const auto net = sleepnet::load_model<T>(model_dir);
            const auto data = sleepnet::load_dataset<T>(dataset, data_dir, seed);
            const auto pred = net.predict(data.test.x);
            std::size_t correct = 0;
            for (std::size_t i = 0; i < pred.size(); ++i) correct += pred(i) == data.test.y(i) ? 1 : 0;
            const double acc = static_cast<double>(correct) / static_cast<double>(pred.size());
            std::printf("test accuracy %.4f (%zu / %zu, %s)\n", acc, correct, pred.size(), info.dtype.c_str());
            nlohmann::json j;
            j["program"] = "evaluate";
            j["model"] = model_dir;
            j["dataset"] = data.test.name;
            j["dtype"] = info.dtype;
            j["test_samples"] = pred.size();
            j["correct"] = correct;
            j["test_accuracy"] = acc;
            examples::save_with_json(json_file, j, "", [&] {
                if (predictions_file.empty()) return;
                examples::make_parent_directories(predictions_file);
                sleepnet::npy::save(predictions_file, xt::xtensor<std::int64_t, 1>(xt::cast<std::int64_t>(pred)));
            });
            return 0;
        });
    });
}
