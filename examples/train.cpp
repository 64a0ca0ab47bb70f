// train: trains a control network with the authors' recipe (paper Table 2) or your own
// settings and writes a model directory.
//
//   train --dataset mnist --data data/mnist --epochs 2 --seed 1 --out out/control [--json out/train.json]
//   train ... --adversarial pgd|fgsm-rs [--adv-eps 0.1] [--adv-steps 10]   adversarial training
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include <sleepnet/data/load.hpp>
#include <sleepnet/defenses/adversarial.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>

#include "common.hpp"

int main(int argc, char** argv)
{
    CLI::App app{"Train a dense ReLU network (defaults: the authors' recipe for the chosen data set)"};
    std::string dataset = "mnist", data_dir, out_dir, json_file, dtype = "float32", loss_name = "mse";
    std::string output_act = "relu", init_name = "uniform", dropout_mode = "scale_at_test", adversarial;
    sleepnet::AdversarialTrainingOptions adv;
    std::vector<std::size_t> hidden;
    bool hidden_given = false;
    std::size_t epochs = 0, batch = 100;
    std::uint64_t seed = 1;
    double lr = 0.1, momentum = 0.5, dropout = -1.0, temperature = 1.0, init_scale = 0.01, weight_decay = 0.0;
    bool bias = false;
    app.add_option("--dataset", dataset, "mnist | fashion | patches | features | synthetic-features")->required();
    app.add_option("--data", data_dir, "data directory (see scripts/fetch-data.sh)");
    app.add_option("--out", out_dir, "model directory to write")->required();
    app.add_option("--json", json_file, "write a JSON summary here");
    app.add_option("--seed", seed, "seed of the engine that draws initial weights, shuffles and dropout");
    app.add_option("--epochs", epochs, "epochs (default: paper Table 2 for the data set)");
    auto* hidden_opt = app.add_option("--hidden", hidden, "hidden layer sizes, e.g. --hidden 1200 1200");
    app.add_option("--lr", lr, "learning rate");
    app.add_option("--momentum", momentum, "momentum (authors' form v = m v + lr g)");
    app.add_option("--batch", batch, "batch size");
    app.add_option("--dropout", dropout, "hidden dropout probability (default: paper Table 2)");
    app.add_option("--dropout-mode", dropout_mode, "scale_at_test (authors) | inverted");
    app.add_option("--loss", loss_name, "mse (authors) | ce (softmax cross-entropy)");
    app.add_option("--temperature", temperature, "softmax temperature for --loss ce");
    app.add_option("--output", output_act, "output activation: relu (authors) | linear");
    app.add_flag("--bias", bias, "use biases (authors: none)");
    app.add_option("--init", init_name, "uniform (authors, +-init-scale) | he | glorot");
    app.add_option("--init-scale", init_scale, "half-width of the uniform initialisation");
    app.add_option("--weight-decay", weight_decay, "L2 weight decay");
    app.add_option("--dtype", dtype, "float32 | float64");
    app.add_option("--adversarial", adversarial, "adversarial training (the reference defense): pgd (Madry) | fgsm-rs (Wong)");
    app.add_option("--adv-eps", adv.epsilon, "adversarial training: L-inf budget");
    app.add_option("--adv-steps", adv.steps, "adversarial training: PGD steps per batch");
    CLI11_PARSE(app, argc, argv);
    hidden_given = hidden_opt->count() > 0;

    return examples::guarded("train", [&] {
        return examples::with_precision(dtype, [&](auto zero) {
            using T = decltype(zero);
            const auto defaults = examples::defaults_for(dataset);
            const auto data = sleepnet::load_dataset<T>(dataset, data_dir, seed);
            std::vector<std::size_t> sizes{data.train.dim()};
            for (auto h : hidden_given ? hidden : defaults.hidden) sizes.push_back(h);
            sizes.push_back(data.train.classes);
            sleepnet::NetworkOptions opt;
            opt.output = sleepnet::activation_from_string(output_act);
            opt.bias = bias;
            opt.dropout = dropout >= 0.0 ? dropout : defaults.dropout;
            opt.dropout_mode = sleepnet::dropout_mode_from_string(dropout_mode);
            sleepnet::SgdOptions sgd;
            sgd.learning_rate = lr;
            sgd.momentum = momentum;
            sgd.batch_size = batch;
            sgd.epochs = epochs > 0 ? epochs : defaults.epochs;
            sgd.weight_decay = weight_decay;

            sleepnet::default_engine engine(seed);
            sleepnet::DenseNetwork<T> net(sizes, opt);
            sleepnet::Init init = init_name == "he"       ? sleepnet::Init::he()
                                  : init_name == "glorot" ? sleepnet::Init::glorot()
                                  : init_name == "uniform"
                                      ? sleepnet::Init::uniform(init_scale)
                                      : throw sleepnet::invalid_argument("unknown --init '" + init_name + "'");
            net.initialize(init, engine);

            std::ostringstream arch;
            for (std::size_t i = 0; i < sizes.size(); ++i) arch << (i ? "-" : "") << sizes[i];
            std::cerr << "train: " << data.train.name << " (" << data.train.size() << " train, " << data.test.size()
                      << " test), network " << arch.str() << ", " << sgd.epochs << " epochs, lr " << lr
                      << ", momentum " << momentum << ", batch " << batch << ", dropout " << opt.dropout
                      << ", loss " << loss_name << "\n";
            examples::TrainProgress progress;
            sleepnet::TrainReport report;
            if (!adversarial.empty()) {
                adv.method = sleepnet::adversarial_training_method_from_string(adversarial);
                adv.validate();
            }
            auto fit = [&](const auto& loss) {
                if (adversarial.empty()) return sleepnet::train(net, data.train, loss, sgd, engine, progress);
                return sleepnet::adversarial_train(net, data.train, loss, sgd, adv, engine, progress);
            };
            if (loss_name == "mse") {
                report = fit(sleepnet::MseLoss{});
            } else if (loss_name == "ce") {
                report = fit(sleepnet::SoftmaxCrossEntropy{temperature});
            } else {
                throw sleepnet::invalid_argument("unknown --loss '" + loss_name + "' (expected mse or ce)");
            }
            const double train_acc = sleepnet::accuracy(net, data.train);
            const double test_acc = sleepnet::accuracy(net, data.test);
            sleepnet::save_model(net, out_dir);
            std::printf("train accuracy %.4f\ntest accuracy %.4f\ntraining time %.1f s\nmodel written to %s\n",
                        train_acc, test_acc, report.seconds, out_dir.c_str());
            if (!json_file.empty()) {
                nlohmann::json j;
                j["program"] = "train";
                j["dataset"] = data.train.name;
                j["layer_sizes"] = sizes;
                j["epochs"] = report.epochs_completed;
                j["learning_rate"] = lr;
                j["momentum"] = momentum;
                j["batch_size"] = batch;
                j["dropout"] = opt.dropout;
                j["loss"] = loss_name;
                j["seed"] = seed;
                j["dtype"] = dtype;
                if (!adversarial.empty()) j["adversarial"] = sleepnet::to_json(adv);
                j["final_epoch_loss"] = report.final_epoch_loss;
                j["train_accuracy"] = train_acc;
                j["test_accuracy"] = test_acc;
                j["seconds"] = report.seconds;
                j["model"] = out_dir;
                examples::write_json(json_file, j);
            }
            return 0;
        });
    });
}
