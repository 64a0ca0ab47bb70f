#pragma once
// Refit after sleep: train the layers above the ones sleep changed, with those frozen.
//
// Not in the paper; an addition of this library. On MNIST the sleep settings that give the
// most robustness rewrite the first layer (in the authors' rule: inhibition from pixels
// that were silent while a neuron fired) and cost clean accuracy, largely because the
// layers above still read the first layer's output as they did before sleep. Refitting
// trains only those upper layers on labelled training data, briefly, with the slept
// layers frozen: the features sleep made stay exactly as sleep left them, the read-out is
// re-learnt. (Refitting every layer instead undoes most of sleep's robustness; see
// docs/sleep.md.)
//
//   sleepnet::sleep(net, data.train.x, params, engine);
//   sleepnet::refit(net, data.train.x, data.train.y, sleepnet::RefitOptions{}, engine);
//
// A sleep parameter file may carry a "refit" object (a RefitPlan: the options and the seed
// of refit's engine, flat keys; to_json / refit_plan_from_json in refit_json.hpp); `sleep --params` then
// refits after sleeping, and tune can evaluate every candidate after its refit.
// Randomness: only the caller's engine (train()'s shuffles and dropout masks); the options
// hold no seed, the examples seed that engine with the file's RefitPlan::seed.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <string>
#include <utility>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../data/dataset.hpp"
#include "../nn/dense_network.hpp"
#include "../nn/loss.hpp"
#include "../nn/sgd.hpp"
#include "../nn/train.hpp"

namespace sleepnet {

enum class RefitLoss { mse, ce };

template <>
struct EnumNames<RefitLoss> {
    static constexpr const char* kind = "loss";
    static constexpr EnumName<RefitLoss> table[] = {{RefitLoss::mse, "mse"}, {RefitLoss::ce, "ce"}};
};

/// refit's training settings: the paper's fine-tuning rate 0.05, momentum 0.5, batches of
/// 100, 2 epochs, the first weight layer (the one sleep rewrites most) frozen.
inline SgdOptions refit_sgd_defaults()
{
    SgdOptions s;
    s.learning_rate = 0.05;
    s.momentum = 0.5;
    s.batch_size = 100;
    s.epochs = 2;
    s.frozen_layers = 1;
    return s;
}

struct RefitOptions {
    SgdOptions sgd = refit_sgd_defaults();  ///< the training (frozen_layers: kept as sleep left them)
    std::size_t samples = 0;                ///< train on the first `samples` rows given (0 = all)
    RefitLoss loss = RefitLoss::mse;        ///< mse: the authors' training loss; ce: softmax cross-entropy
    double temperature = 1.0;               ///< for loss ce

    /// Throws invalid_argument naming the first bad value.
    void validate() const
    {
        check::positive("refit options", "epochs", sgd.epochs);
        check::finite_positive("refit options", "temperature", temperature);
        try {
            sgd.validate();
        } catch (const invalid_argument& e) {
            throw invalid_argument(std::string("refit options: ") + e.what());
        }
    }

    /// The same, and frozen_layers must leave a layer of a `weight_layers`-layer network to
    /// train (what refit() checks; callers check it before sleeping).
    void validate(std::size_t weight_layers) const
    {
        validate();
        if (sgd.frozen_layers >= weight_layers)
            throw invalid_argument("refit options: frozen_layers " + std::to_string(sgd.frozen_layers) +
                                   " leaves no layer of the " + std::to_string(weight_layers) +
                                   "-layer network to train");
    }
};

/// What a parameter file records of a refit: the options and the seed its author gave
/// refit's engine (the file's "refit" object, flat keys). refit() itself takes an engine.
struct RefitPlan {
    RefitOptions options;
    std::uint64_t seed = 1;
};

/// Trains layers frozen_layers.. of `net` on the first `samples` rows of (x, y) (one-hot
/// targets, labels < net.output_size()) with the options' SGD and loss; the frozen layers
/// are not touched. Callbacks as for train().
template <class T, class Engine, class... Callbacks>
inline TrainReport refit(DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, const RefitOptions& o,
                         Engine& engine, Callbacks&&... callbacks)
{
    o.validate(net.num_layers());
    net.check_input(x, "refit");
    const std::size_t n_all = x.shape()[0];
    if (y.size() != n_all)
        throw invalid_argument("refit: " + std::to_string(n_all) + " inputs but " + std::to_string(y.size()) +
                               " labels");
    if (o.samples > n_all)
        throw invalid_argument("refit: samples " + std::to_string(o.samples) + " but only " + std::to_string(n_all) +
                               " training rows given");
    const std::size_t n = o.samples == 0 ? n_all : o.samples;
    if (n == 0) throw invalid_argument("refit: no training rows");
    const label_vector yn = xt::view(y, xt::range(0, n));
    matrix<T> targets;
    try {
        targets = one_hot<T>(yn, net.output_size());  // checks every label against the outputs
    } catch (const invalid_argument& e) {
        throw invalid_argument(std::string("refit: ") + e.what());
    }
    auto run = [&](const matrix<T>& xs) {
        if (o.loss == RefitLoss::mse)
            return train(net, xs, targets, MseLoss{}, o.sgd, engine, std::forward<Callbacks>(callbacks)...);
        SoftmaxCrossEntropy ce;
        ce.temperature = o.temperature;
        return train(net, xs, targets, ce, o.sgd, engine, std::forward<Callbacks>(callbacks)...);
    };
    if (n == n_all) return run(x);
    const matrix<T> xs = xt::view(x, xt::range(0, n), xt::all());
    return run(xs);
}

}  // namespace sleepnet
