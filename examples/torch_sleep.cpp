// torch_sleep: sleep a LibTorch model in place (the LibTorch sibling of embed_sleep).
//
// Trains a torch::nn::Sequential of bias-free Linear + ReLU layers with torch::optim::SGD,
// then hands the Linear weights' own storage (weight.data_ptr<float>(), out x in, row
// major) to sleepnet::sleep_views (sleep_weights with a SleepParams' source and rule),
// which changes them in place: the module keeps its tensors, forward() sees the slept
// weights. The normalization (alpha_l) is the library's sleep_alpha on a DenseNetwork
// copy of the trained weights, exactly what sleepnet::sleep computes; the same copy is
// then slept by sleepnet::sleep with the same parameters and seed, and its weights must
// equal the in-place torch weights bit for bit.
//
//   torch_sleep [--dataset patches|mnist|fashion] [--data DIR] [--hidden H] [--epochs E]
//               [--preset NAME | --params FILE] [--steps N] [--seed S] [--json FILE]
//
// Built with -DSLEEPNET_TORCH=ON (Debian libtorch-dev).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <torch/torch.h>

#include <CLI/CLI.hpp>

#include <sleepnet/data/load.hpp>
#include <sleepnet/nn/train.hpp>
#include <sleepnet/snn/sleep.hpp>
#include <sleepnet/snn/sleep_json.hpp>

#include "common.hpp"
#include "strict_cli.hpp"

namespace {

struct Args {
    std::string dataset = "patches", data_dir, preset, params_file, json_file;
    std::size_t hidden = 64, epochs = 0, batch = 0, steps = 0;
    double lr = 0.05, momentum = 0.9;
    std::uint64_t seed = 1;
};

void add_options(CLI::App& app, Args& a)
{
    app.add_option("--dataset", a.dataset, "patches (no files needed) | mnist | fashion");
    app.add_option("--data", a.data_dir, "data directory (mnist, fashion)");
    app.add_option("--hidden", a.hidden, "units of each of the two hidden layers");
    app.add_option("--epochs", a.epochs, "training epochs (default: 200 on patches, 2 otherwise)");
    app.add_option("--batch", a.batch, "minibatch size (default: 4 on patches, 100 otherwise)");
    app.add_option("--lr", a.lr, "SGD learning rate");
    app.add_option("--momentum", a.momentum, "SGD momentum");
    app.add_option("--preset", a.preset, "sleep preset: mnist-fgsm | mnist-deepfool | patches | cub200 | mnist-src");
    app.add_option("--params", a.params_file, "sleep parameters as JSON (see docs/sleep.md)");
    app.add_option("--steps", a.steps, "override the number of sleep steps");
    app.add_option("--seed", a.seed, "seed of torch's initialisation and shuffling, and of the sleep engine");
    app.add_option("--json", a.json_file, "write the results here");
}

/// --preset or --params; without either: on patches the "patches" preset with all three
/// thresholds of paper Table 3 (one per Linear layer), otherwise mnist-fgsm.
sleepnet::SleepParams sleep_params(const Args& a)
{
    if (!a.preset.empty() && !a.params_file.empty())
        throw sleepnet::invalid_argument("give either --preset or --params, not both");
    sleepnet::SleepParams p;
    if (!a.params_file.empty()) {
        p = sleepnet::load_sleep_params(a.params_file);
    } else if (!a.preset.empty()) {
        p = sleepnet::sleep_preset(a.preset);
    } else if (a.dataset == "patches") {
        p = sleepnet::sleep_preset("patches");
        p.thresholds = {1.0450, 0.7150, 0.3850};
        p.provenance = "paper Table 3 (Patches), its three thresholds for the three Linear layers";
    } else {
        p = sleepnet::sleep_preset("mnist-fgsm");
    }
    if (a.steps > 0) p.steps = a.steps;
    return p;
}

torch::Tensor inputs_tensor(const sleepnet::matrix<float>& x)
{
    const auto n = static_cast<std::int64_t>(x.shape(0)), d = static_cast<std::int64_t>(x.shape(1));
    return torch::from_blob(const_cast<float*>(x.data()), {n, d}, torch::kFloat32).clone();
}

torch::Tensor labels_tensor(const sleepnet::label_vector& y)
{
    std::vector<std::int64_t> v(y.begin(), y.end());
    return torch::tensor(v, torch::kInt64);
}

torch::nn::Sequential make_model(std::int64_t in, std::int64_t hidden, std::int64_t out)
{
    using torch::nn::Linear;
    using torch::nn::LinearOptions;
    return torch::nn::Sequential(Linear(LinearOptions(in, hidden).bias(false)), torch::nn::ReLU(),
                                 Linear(LinearOptions(hidden, hidden).bias(false)), torch::nn::ReLU(),
                                 Linear(LinearOptions(hidden, out).bias(false)));
}

/// Minibatch SGD with momentum on the cross-entropy of the logits, shuffled every epoch.
void train(torch::nn::Sequential& model, const torch::Tensor& x, const torch::Tensor& y, const Args& a)
{
    const bool patches = a.dataset == "patches";
    const std::size_t epochs = a.epochs > 0 ? a.epochs : (patches ? 200 : 2);
    const std::int64_t batch = static_cast<std::int64_t>(a.batch > 0 ? a.batch : (patches ? 4 : 100));
    torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(a.lr).momentum(a.momentum));
    const std::int64_t n = x.size(0);
    model->train();
    for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
        const auto order = torch::randperm(n, torch::kInt64);
        double loss_sum = 0.0;
        std::int64_t batches = 0;
        for (std::int64_t start = 0; start < n; start += batch) {
            const auto idx = order.slice(0, start, std::min(n, start + batch));
            sgd.zero_grad();
            auto loss =
                torch::nn::functional::cross_entropy(model->forward(x.index_select(0, idx)), y.index_select(0, idx));
            loss.backward();
            sgd.step();
            loss_sum += loss.item<double>();
            ++batches;
        }
        if (epoch + 1 == epochs || (epoch + 1) % 50 == 0)
            std::printf("torch: epoch %zu/%zu, mean loss %.4f\n", epoch + 1, epochs, loss_sum / batches);
    }
}

torch::Tensor logits(torch::nn::Sequential& model, const torch::Tensor& x)
{
    torch::NoGradGuard no_grad;
    model->eval();
    return model->forward(x);
}

double accuracy(const torch::Tensor& logits, const torch::Tensor& y)
{
    return logits.argmax(1).eq(y).sum().item<double>() / static_cast<double>(y.size(0));
}

/// The weight tensors of the model's Linear layers, in order.
std::vector<torch::Tensor> linear_weights(torch::nn::Sequential& model)
{
    std::vector<torch::Tensor> weights;
    for (const auto& m : model->modules(/*include_self=*/false)) {
        if (auto* linear = m->as<torch::nn::Linear>()) weights.push_back(linear->weight);
    }
    return weights;
}

/// Views of the first `count` weight tensors' own storage: each must be a contiguous
/// float32 CPU matrix (out x in), else invalid_argument naming the layer.
std::vector<sleepnet::WeightView<float>> weight_views(std::vector<torch::Tensor>& weights, std::size_t count)
{
    std::vector<sleepnet::WeightView<float>> views;
    for (std::size_t l = 0; l < count; ++l) {
        const auto& w = weights[l];
        const std::string layer = "Linear layer " + std::to_string(l + 1) + " weight: ";
        if (w.dim() != 2) throw sleepnet::invalid_argument(layer + "not a matrix");
        if (!w.is_contiguous()) throw sleepnet::invalid_argument(layer + "not contiguous");
        if (w.scalar_type() != torch::kFloat32) throw sleepnet::invalid_argument(layer + "not float32");
        if (!w.device().is_cpu()) throw sleepnet::invalid_argument(layer + "not on the CPU");
        views.push_back(
            {w.data_ptr<float>(), static_cast<std::size_t>(w.size(0)), static_cast<std::size_t>(w.size(1))});
    }
    return views;
}

/// A DenseNetwork (ReLU hidden, linear output, no biases) holding copies of the weights.
sleepnet::DenseNetwork<float> to_dense(std::vector<torch::Tensor>& weights)
{
    std::vector<std::size_t> sizes{static_cast<std::size_t>(weights.front().size(1))};
    for (const auto& w : weights) sizes.push_back(static_cast<std::size_t>(w.size(0)));
    sleepnet::NetworkOptions options;
    options.output = sleepnet::Activation::linear;
    sleepnet::DenseNetwork<float> net(sizes, options);
    const auto views = weight_views(weights, weights.size());
    for (std::size_t l = 0; l < views.size(); ++l)
        std::copy(views[l].data, views[l].data + views[l].out * views[l].in, net.weights(l).data());
    return net;
}

/// sleepnet::sleep_views (what sleepnet::sleep runs for a DenseNetwork: the spike source
/// and STDP rule `p` names) on the torch tensors' own storage, under torch::NoGradGuard.
sleepnet::SleepReport sleep_in_place(std::vector<torch::Tensor>& weights, const sleepnet::matrix<float>& x,
                                     const sleepnet::SleepParams& p, const std::vector<double>& alpha,
                                     std::uint64_t seed)
{
    torch::NoGradGuard no_grad;
    const auto views = weight_views(weights, alpha.size());
    sleepnet::default_engine engine(seed);
    auto progress = examples::progress_bar("sleep");
    const sleepnet::PoissonOptions po{p.rate, p.dt, p.rate_factor};
    if (p.input == sleepnet::SleepInput::mean) {
        sleepnet::PoissonMean source(x, po);
        return sleepnet::sleep_views(views, source, p, alpha, engine, progress);
    }
    sleepnet::PoissonSequence<float> source(x, po);
    return sleepnet::sleep_views(views, source, p, alpha, engine, progress);
}

/// What the run found, for the printout and the JSON file.
struct Outcome {
    sleepnet::SleepReport report;
    std::vector<std::size_t> sizes;
    double before = 0.0, after = 0.0, dense_after = 0.0;
    double max_abs_dlogit = 0.0;       ///< largest change of forward()'s output on the test set
    std::size_t pointers_moved = 0;    ///< weight tensors whose data_ptr changed
    std::vector<std::size_t> changed;  ///< weights that differ after sleep, per layer
    std::vector<double> max_abs_dw;    ///< per layer
    std::size_t dense_mismatches = 0;  ///< entries differing from the DenseNetwork path
    std::size_t weights_total = 0, changed_total = 0;
};

/// Compares the torch weights with their copies from before sleep and with the DenseNetwork path.
void compare(std::vector<torch::Tensor>& weights, const std::vector<torch::Tensor>& before,
             const sleepnet::DenseNetwork<float>& dense, Outcome& o)
{
    for (std::size_t l = 0; l < weights.size(); ++l) {
        const float* w = weights[l].data_ptr<float>();
        const float* b = before[l].data_ptr<float>();
        const float* d = dense.weights(l).data();
        const auto n = static_cast<std::size_t>(weights[l].numel());
        std::size_t changed = 0;
        double max_dw = 0.0;
        for (std::size_t k = 0; k < n; ++k) {
            changed += w[k] != b[k] ? 1 : 0;
            max_dw = std::max(max_dw, std::abs(static_cast<double>(w[k]) - static_cast<double>(b[k])));
            o.dense_mismatches += std::memcmp(&w[k], &d[k], sizeof(float)) != 0 ? 1 : 0;
        }
        o.changed.push_back(changed);
        o.max_abs_dw.push_back(max_dw);
        o.changed_total += changed;
        o.weights_total += n;
    }
}

void print_outcome(const Outcome& o)
{
    std::printf("sleep: %zu steps in %.3f s, %llu input spikes\n", o.report.steps, o.report.seconds,
                static_cast<unsigned long long>(o.report.input_spikes));
    for (std::size_t l = 0; l < o.changed.size(); ++l) {
        std::printf("  Linear %zu (%zu x %zu): %zu weights changed in place, max |dW| %.6g\n", l + 1, o.sizes[l + 1],
                    o.sizes[l], o.changed[l], o.max_abs_dw[l]);
    }
    std::printf("data_ptr of every weight tensor unchanged: %s\n", o.pointers_moved == 0 ? "yes" : "NO");
    std::printf("forward() on the test set: max |change of a logit| %.6g, accuracy before sleep %.4f, after %.4f\n",
                o.max_abs_dlogit, o.before, o.after);
    std::printf("DenseNetwork path (sleepnet::sleep, same params and seed): %s (%zu of %zu weights differ), "
                "test accuracy %.4f\n",
                o.dense_mismatches == 0 ? "bit-identical" : "DIFFERENT", o.dense_mismatches, o.weights_total,
                o.dense_after);
}

nlohmann::json outcome_json(const Args& a, const sleepnet::SleepParams& p, const Outcome& o)
{
    nlohmann::json j;
    j["program"] = "torch_sleep";
    j["dataset"] = a.dataset;
    j["seed"] = a.seed;
    j["layer_sizes"] = o.sizes;
    j["params"] = p;
    j["report"] = o.report;
    j["test_accuracy_before"] = o.before;
    j["test_accuracy_after"] = o.after;
    j["dense_test_accuracy_after"] = o.dense_after;
    j["forward_max_abs_change"] = o.max_abs_dlogit;
    j["pointers_unchanged"] = o.pointers_moved == 0;
    j["pointers_moved"] = o.pointers_moved;
    j["weights_changed"] = o.changed_total > 0;
    j["weights_changed_count"] = o.changed_total;
    j["weights_changed_per_layer"] = o.changed;
    j["max_abs_dw"] = o.max_abs_dw;
    j["identical_to_dense_network"] = o.dense_mismatches == 0;
    j["dense_network_mismatches"] = o.dense_mismatches;
    return j;
}

int run(const Args& a)
{
    examples::check_outputs({{"--json", a.json_file}}, {{"--params", a.params_file}});
    torch::set_num_threads(1);
    const auto p = sleep_params(a);
    const auto data = sleepnet::load_dataset<float>(a.dataset, a.data_dir, a.seed);
    const auto train_x = inputs_tensor(data.train.x), test_x = inputs_tensor(data.test.x);
    const auto train_y = labels_tensor(data.train.y), test_y = labels_tensor(data.test.y);
    torch::manual_seed(a.seed);
    auto model =
        make_model(train_x.size(1), static_cast<std::int64_t>(a.hidden), static_cast<std::int64_t>(data.train.classes));
    train(model, train_x, train_y, a);
    Outcome o;
    const auto logits_before = logits(model, test_x);
    o.before = accuracy(logits_before, test_y);

    auto weights = linear_weights(model);
    std::vector<const void*> pointers;
    std::vector<torch::Tensor> before;
    for (auto& w : weights) {
        pointers.push_back(w.data_ptr());
        before.push_back(w.detach().clone());
    }
    auto dense = to_dense(weights);
    o.sizes = dense.layer_sizes();
    if (a.params_file.empty())
        p.validate(dense.num_layers());
    else
        sleepnet::validate_sleep_params_file(p, a.params_file, dense.num_layers());  // errors name the file
    const auto alpha = sleepnet::sleep_alpha(dense, data.train.x, p);                // what sleepnet::sleep uses
    o.report = sleep_in_place(weights, data.train.x, p, alpha, a.seed);
    const auto logits_after = logits(model, test_x);
    o.after = accuracy(logits_after, test_y);
    o.max_abs_dlogit = (logits_after - logits_before).abs().max().item<double>();
    for (std::size_t l = 0; l < weights.size(); ++l) o.pointers_moved += weights[l].data_ptr() != pointers[l] ? 1 : 0;

    sleepnet::default_engine engine(a.seed);
    sleepnet::sleep(dense, data.train.x, p, engine);
    o.dense_after = sleepnet::accuracy(dense, data.test);
    compare(weights, before, dense, o);
    print_outcome(o);
    if (!a.json_file.empty()) examples::write_json(a.json_file, outcome_json(a, p, o));
    return o.pointers_moved == 0 && o.dense_mismatches == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"Train a torch::nn::Sequential with LibTorch and sleep its weights in place"};
    Args args;
    add_options(app, args);
    examples::strict_numbers(app);
    CLI11_PARSE(app, argc, argv);
    return examples::guarded("torch_sleep", [&] { return run(args); });
}
