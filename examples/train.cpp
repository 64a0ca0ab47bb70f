// train: trains a control network with the authors' recipe (paper Table 2) or your own
// settings and writes a model directory.
//
//   train --dataset mnist --data data/mnist --epochs 2 --seed 1 --out out/control [--json out/train.json]
//   train ... --adversarial pgd|fgsm-rs [--adv-eps 0.1] [--adv-steps 10]   adversarial training
//   train ... --early-stop 3 [--validation 10000] [--early-stop-delta 0.001]   early stopping
//
// With --early-stop P the last --validation training rows are held out; after every epoch
// the accuracy on them is measured, training stops once it has not improved for P epochs,
// and the weights of the best epoch are the ones written.
#include <iostream>
#include <numeric>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>

#include <sleepnet/callbacks/early_stopping.hpp>
#include <sleepnet/data/load.hpp>
#include <sleepnet/defenses/adversarial.hpp>
#include <sleepnet/defenses/adversarial_json.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>

#include "common.hpp"
#include "openblas_env.hpp"
#include "strict_cli.hpp"

namespace {

struct Args {
    std::string dataset = "mnist", data_dir, out_dir, json_file, dtype = "float32", loss_name = "mse";
    std::string output_act = "relu", init_name = "uniform", dropout_mode = "scale_at_test", adversarial;
    sleepnet::AdversarialTrainingOptions adv;
    std::vector<std::size_t> hidden;
    bool hidden_given = false;  ///< --hidden was given (set after parsing)
    std::size_t epochs = 0, batch = 100, early_stop = 0, validation = 0;
    double early_stop_delta = 0.0;
    std::uint64_t seed = 1;
    double lr = 0.1, momentum = 0.5, dropout = -1.0, temperature = 1.0, init_scale = 0.01, weight_decay = 0.0;
    bool bias = false;
};

void add_options(CLI::App& app, Args& a)
{
    app.add_option("--dataset", a.dataset, "mnist | fashion | patches | features | synthetic-features")->required();
    app.add_option("--data", a.data_dir, "data directory (see scripts/fetch-data.sh)");
    app.add_option("--out", a.out_dir, "model directory to write")->required();
    app.add_option("--json", a.json_file, "write a JSON summary here");
    app.add_option("--seed", a.seed, "seed of the engine that draws initial weights, shuffles and dropout");
    app.add_option("--epochs", a.epochs, "epochs (default: paper Table 2 for the data set)");
    app.add_option("--hidden", a.hidden, "hidden layer sizes, e.g. --hidden 1200 1200")
        ->check(examples::positive_count());
    app.add_option("--lr", a.lr, "learning rate");
    app.add_option("--momentum", a.momentum, "momentum (authors' form v = m v + lr g)");
    app.add_option("--batch", a.batch, "batch size")->check(examples::positive_count());
    app.add_option("--dropout", a.dropout, "hidden dropout probability (default: paper Table 2)");
    app.add_option("--dropout-mode", a.dropout_mode, "scale_at_test (authors) | inverted");
    app.add_option("--loss", a.loss_name, "mse (authors) | ce (softmax cross-entropy)");
    app.add_option("--temperature", a.temperature, "softmax temperature for --loss ce");
    app.add_option("--output", a.output_act, "output activation: relu (authors) | linear");
    app.add_flag("--bias", a.bias, "use biases (authors: none)");
    app.add_option("--init", a.init_name, "uniform (authors, +-init-scale) | he | glorot");
    app.add_option("--init-scale", a.init_scale, "half-width of the uniform initialisation");
    app.add_option("--weight-decay", a.weight_decay, "L2 weight decay");
    app.add_option("--dtype", a.dtype, "float32 | float64");
    app.add_option("--adversarial", a.adversarial,
                   "adversarial training (the reference defense): pgd (Madry) | fgsm-rs (Wong)");
    app.add_option("--adv-eps", a.adv.epsilon, "adversarial training: L-inf budget");
    app.add_option("--adv-steps", a.adv.steps, "adversarial training: PGD steps per batch");
    app.add_option("--early-stop", a.early_stop,
                   "stop once the accuracy on a held-out validation split has not improved for this many epochs and "
                   "keep the best epoch's weights (default 0: off, all rows trained on)");
    app.add_option("--validation", a.validation,
                   "--early-stop: hold out the last N training rows (default: a sixth of the training set)");
    app.add_option("--early-stop-delta", a.early_stop_delta,
                   "--early-stop: an improvement of the validation accuracy must exceed this (default 0)");
}

/// Input size, the hidden sizes (--hidden or the data set's default), classes.
template <class T>
std::vector<std::size_t> layer_sizes(const Args& a, const sleepnet::DataSplits<T>& data,
                                     const examples::DatasetDefaults& defaults)
{
    std::vector<std::size_t> sizes{data.train.dim()};
    for (auto h : a.hidden_given ? a.hidden : defaults.hidden) sizes.push_back(h);
    sizes.push_back(data.train.classes);
    return sizes;
}

sleepnet::NetworkOptions network_options(const Args& a, const examples::DatasetDefaults& defaults)
{
    sleepnet::NetworkOptions opt;
    opt.output = sleepnet::activation_from_string(a.output_act);
    opt.bias = a.bias;
    opt.dropout = a.dropout >= 0.0 ? a.dropout : defaults.dropout;
    opt.dropout_mode = sleepnet::dropout_mode_from_string(a.dropout_mode);
    return opt;
}

sleepnet::SgdOptions sgd_options(const Args& a, const examples::DatasetDefaults& defaults)
{
    sleepnet::SgdOptions sgd;
    sgd.learning_rate = a.lr;
    sgd.momentum = a.momentum;
    sgd.batch_size = a.batch;
    sgd.epochs = a.epochs > 0 ? a.epochs : defaults.epochs;
    sgd.weight_decay = a.weight_decay;
    return sgd;
}

sleepnet::Init initializer(const Args& a)
{
    if (a.init_name == "he") return sleepnet::Init::he();
    if (a.init_name == "glorot") return sleepnet::Init::glorot();
    if (a.init_name == "uniform") return sleepnet::Init::uniform(a.init_scale);
    throw sleepnet::invalid_argument("unknown --init '" + a.init_name + "'");
}

/// The options of --adversarial, validated; none for clean training.
std::optional<sleepnet::AdversarialTrainingOptions> adversarial_options(const Args& a)
{
    if (a.adversarial.empty()) return std::nullopt;
    auto adv = a.adv;
    adv.method = sleepnet::adversarial_training_method_from_string(a.adversarial);
    adv.validate();
    return adv;
}

/// The stderr line naming the data, network and recipe.
template <class T>
void announce(const Args& a, const sleepnet::DataSplits<T>& data, const std::vector<std::size_t>& sizes,
              const sleepnet::SgdOptions& sgd, double dropout)
{
    std::ostringstream arch;
    for (std::size_t i = 0; i < sizes.size(); ++i) arch << (i ? "-" : "") << sizes[i];
    std::cerr << "train: " << data.train.name << " (" << data.train.size() << " train, " << data.test.size()
              << " test), network " << arch.str() << ", " << sgd.epochs << " epochs, lr " << a.lr << ", momentum "
              << a.momentum << ", batch " << a.batch << ", dropout " << dropout << ", loss " << a.loss_name << "\n";
}

/// Trains with the loss named by --loss, adversarially when `adv` is set.
template <class T, class Engine, class... More>
sleepnet::TrainReport fit(sleepnet::DenseNetwork<T>& net, const sleepnet::Dataset<T>& train, const Args& a,
                          const sleepnet::SgdOptions& sgd,
                          const std::optional<sleepnet::AdversarialTrainingOptions>& adv, Engine& engine, More&... more)
{
    auto progress = examples::progress_bar("train");
    auto with_loss = [&](const auto& loss) {
        if (!adv) return sleepnet::train(net, train, loss, sgd, engine, progress, more...);
        return sleepnet::adversarial_train(net, train, loss, sgd, *adv, engine, progress, more...);
    };
    if (a.loss_name == "mse") return with_loss(sleepnet::MseLoss{});
    if (a.loss_name == "ce") return with_loss(sleepnet::SoftmaxCrossEntropy{a.temperature});
    throw sleepnet::invalid_argument("unknown --loss '" + a.loss_name + "' (expected mse or ce)");
}

struct Outcome {
    std::vector<std::size_t> sizes;
    double dropout = 0.0;
    std::optional<sleepnet::AdversarialTrainingOptions> adv;
    sleepnet::TrainReport report;
    double train_accuracy = 0.0, test_accuracy = 0.0;
    nlohmann::json early_stopping;  ///< null without --early-stop
};

/// --early-stop: trains on all but the last --validation rows of `train`, measuring the
/// accuracy on those after every epoch; leaves the best epoch's weights in `net`.
template <class T, class Engine>
void fit_early_stopped(sleepnet::DenseNetwork<T>& net, const sleepnet::Dataset<T>& train, const Args& a,
                       const sleepnet::SgdOptions& sgd, Engine& engine, Outcome& o)
{
    const std::size_t n = train.size(), nv = a.validation > 0 ? a.validation : n / 6;
    if (nv == 0 || nv >= n)
        throw sleepnet::invalid_argument("--validation must be in [1, " + std::to_string(n - 1) + "], got " +
                                         std::to_string(nv));
    std::vector<std::size_t> fit_rows(n - nv), val_rows(nv);
    std::iota(fit_rows.begin(), fit_rows.end(), std::size_t{0});
    std::iota(val_rows.begin(), val_rows.end(), n - nv);
    const auto fit_part = train.subset(fit_rows), val = train.subset(val_rows);
    sleepnet::EarlyStoppingOptions eo;
    eo.goal = sleepnet::Goal::maximize;
    eo.patience = a.early_stop;
    eo.min_delta = a.early_stop_delta;
    auto measure = [&](const sleepnet::DenseNetwork<T>& m) { return sleepnet::accuracy(m, val); };
    sleepnet::EarlyStopping<T> stop(net, measure, eo);
    o.report = fit(net, fit_part, a, sgd, o.adv, engine, stop);
    stop.restore_best();
    o.train_accuracy = sleepnet::accuracy(net, fit_part);
    o.early_stopping = {{"patience", a.early_stop},
                        {"min_delta", a.early_stop_delta},
                        {"validation_rows", nv},
                        {"best_epoch", stop.best_epoch()},
                        {"best_validation_accuracy", stop.best_value()},
                        {"stopped_after_epoch", stop.stopped_epoch()},
                        {"validation_accuracy", stop.history()}};
    std::fprintf(stderr, "train: early stopping: best validation accuracy %.4f at epoch %zu of %zu (weights kept)\n",
                 stop.best_value(), stop.best_epoch(), o.report.epochs_completed);
}

void print_outcome(const Args& a, const Outcome& o)
{
    std::printf("train accuracy %.4f\ntest accuracy %.4f\ntraining time %.1f s\nmodel written to %s\n",
                o.train_accuracy, o.test_accuracy, o.report.seconds, a.out_dir.c_str());
}

nlohmann::json outcome_json(const Args& a, const std::string& dataset, const Outcome& o)
{
    nlohmann::json j;
    j["program"] = "train";
    j["dataset"] = dataset;
    j["layer_sizes"] = o.sizes;
    j["epochs"] = o.report.epochs_completed;
    j["learning_rate"] = a.lr;
    j["momentum"] = a.momentum;
    j["batch_size"] = a.batch;
    j["dropout"] = o.dropout;
    j["loss"] = a.loss_name;
    j["seed"] = a.seed;
    j["dtype"] = a.dtype;
    if (o.adv) j["adversarial"] = *o.adv;
    if (!o.early_stopping.is_null()) j["early_stopping"] = o.early_stopping;
    j["final_epoch_loss"] = o.report.final_epoch_loss;
    j["train_accuracy"] = o.train_accuracy;
    j["test_accuracy"] = o.test_accuracy;
    j["seconds"] = o.report.seconds;
    j["model"] = a.out_dir;
    return j;
}

/// Builds and initialises the network, trains it, writes the model; in precision T.
template <class T>
int train_model(const Args& a)
{
    const auto defaults = examples::defaults_for(a.dataset);
    const auto data = sleepnet::load_dataset<T>(a.dataset, a.data_dir, a.seed);
    Outcome o;
    o.sizes = layer_sizes(a, data, defaults);
    const auto opt = network_options(a, defaults);
    o.dropout = opt.dropout;
    const auto sgd = sgd_options(a, defaults);
    sleepnet::default_engine engine(a.seed);
    sleepnet::DenseNetwork<T> net(o.sizes, opt);
    net.initialize(initializer(a), engine);
    announce(a, data, o.sizes, sgd, opt.dropout);
    o.adv = adversarial_options(a);
    if (a.early_stop == 0 && (a.validation > 0 || a.early_stop_delta != 0.0))
        throw sleepnet::invalid_argument("--validation and --early-stop-delta need --early-stop");
    if (a.early_stop > 0) {
        fit_early_stopped(net, data.train, a, sgd, engine, o);
    } else {
        o.report = fit(net, data.train, a, sgd, o.adv, engine);
        o.train_accuracy = sleepnet::accuracy(net, data.train);
    }
    o.test_accuracy = sleepnet::accuracy(net, data.test);
    examples::save_with_json(a.json_file, outcome_json(a, data.train.name, o), a.out_dir,
                             [&] { sleepnet::save_model(net, a.out_dir); });
    print_outcome(a, o);
    return 0;
}

int run(const Args& a)
{
    examples::check_outputs({{"--out", a.out_dir, true}, {"--json", a.json_file}});
    return examples::with_precision(a.dtype, [&](auto zero) { return train_model<decltype(zero)>(a); });
}

}  // namespace

int main(int argc, char** argv)
{
    examples::quiet_openblas_threads(argv);
    CLI::App app{"Train a dense ReLU network (defaults: the authors' recipe for the chosen data set)"};
    Args args;
    add_options(app, args);
    examples::strict_numbers(app);
    CLI11_PARSE(app, argc, argv);
    args.hidden_given = app.count("--hidden") > 0;
    return examples::guarded("train", [&] { return run(args); });
}
