#pragma once
// Stochastic gradient descent with momentum in the authors' form (DeepLearnToolbox):
//   v = momentum * v + lr * (dL/dW + weight_decay * W);   W -= v
// The velocity update is fused into the gradient gemm (GradientSink with alpha = lr,
// beta = momentum), so a step costs one extra pass over the weights.

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../detail/blas.hpp"
#include "dense_network.hpp"

namespace sleepnet {

struct SgdOptions {
    double learning_rate = 0.1;  ///< authors: 0.1
    double momentum = 0.5;       ///< authors: 0.5
    std::size_t batch_size = 100;
    std::size_t epochs = 2;
    double weight_decay = 0.0;  ///< L2 penalty coefficient (authors: 0)
    bool shuffle = true;        ///< reshuffle every epoch with the caller's engine
    /// The first `frozen_layers` weight layers (and their biases) are not trained; must
    /// be below the network's layer count (checked when the optimizer is made).
    std::size_t frozen_layers = 0;

    void validate() const
    {
        auto bad = [](const std::string& what, double v) {
            throw invalid_argument("SgdOptions: " + what + " out of range: " + std::to_string(v));
        };
        if (!(learning_rate > 0.0) || !std::isfinite(learning_rate)) bad("learning_rate (must be > 0)", learning_rate);
        if (!(momentum >= 0.0 && momentum < 1.0)) bad("momentum (must be in [0, 1))", momentum);
        if (batch_size == 0) bad("batch_size (must be > 0)", 0.0);
        if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay)) bad("weight_decay (must be >= 0)", weight_decay);
    }
};

/// The optimizer state (velocities) for one network.
template <class T>
class Sgd {
public:
    explicit Sgd(const DenseNetwork<T>& net, SgdOptions options = {}) : options_(options)
    {
        options_.validate();
        if (options_.frozen_layers >= net.num_layers()) {
            throw invalid_argument("SgdOptions: frozen_layers " + std::to_string(options_.frozen_layers) +
                                   " leaves no layer of the " + std::to_string(net.num_layers()) +
                                   "-layer network to train");
        }
        for (std::size_t l = 0; l < net.num_layers(); ++l) {
            velocity_.emplace_back(matrix<T>::from_shape(net.weights(l).shape()));
            velocity_.back().fill(T(0));
            if (net.has_bias()) {
                bias_velocity_.emplace_back(vector<T>::from_shape({net.layer_sizes()[l + 1]}));
                bias_velocity_.back().fill(T(0));
            }
        }
    }

    const SgdOptions& options() const { return options_; }
    void set_learning_rate(double lr)
    {
        options_.learning_rate = lr;
        options_.validate();
    }

    /// Back-propagates dz_out through the batch held in `st` and applies one update.
    void step(DenseNetwork<T>& net, ForwardState<T>& st, const matrix<T>& dz_out)
    {
        GradientSink<T> sink;
        sink.weights = &velocity_;
        sink.biases = net.has_bias() ? &bias_velocity_ : nullptr;
        sink.alpha = static_cast<T>(options_.learning_rate);
        sink.beta = static_cast<T>(options_.momentum);
        sink.first_layer = options_.frozen_layers;
        net.backward(st, dz_out, &sink, nullptr);
        const T decay = static_cast<T>(options_.learning_rate * options_.weight_decay);
        for (std::size_t l = options_.frozen_layers; l < net.num_layers(); ++l) {
            matrix<T>& w = net.weights(l);
            if (decay != T(0)) {
                detail::axpy(w.size(), decay, w.data(), velocity_[l].data());
            }
            detail::axpy(w.size(), T(-1), velocity_[l].data(), w.data());
            if (net.has_bias()) {
                detail::axpy(bias_velocity_[l].size(), T(-1), bias_velocity_[l].data(), net.bias(l).data());
            }
        }
    }

    std::vector<matrix<T>>& velocity() { return velocity_; }

private:
    SgdOptions options_;
    std::vector<matrix<T>> velocity_;
    std::vector<vector<T>> bias_velocity_;
};

}  // namespace sleepnet
