#pragma once
// Spiking inference: classify with the converted network's output spike counts (the
// check of Diehl et al. 2015 that an ANN-to-SNN conversion preserves the function).
//
// Each input is shown alone for `steps` steps as Poisson spikes (P = rate_factor * dt *
// rate * x); layers are integrate-and-fire neurons with threshold 1, scale alpha_l =
// factor_l (textbook chain by default) and no plasticity; the prediction is the output
// neuron with most spikes (ties: the higher membrane potential, then the first index).
// As steps grow, the spike-count prediction approaches the ANN's.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "integrate_fire.hpp"
#include "normalize.hpp"
#include "spike_source.hpp"
#include "stdp.hpp"

namespace sleepnet {

struct SpikingInferenceOptions {
    std::size_t steps = 200;
    PoissonOptions input{500.0, 0.001, 1.0};  ///< P(spike) = 0.5 x per step
    double threshold = 1.0;
    double decay = 1.0;  ///< 1 = pure integrate-and-fire (Diehl)
};

/// Spike-count predictions of `net` on inputs x (N x inputs) with per-layer scales
/// `alpha` (e.g. normalization_factors(net, training_x, {NormalizationChain::textbook})).
template <class T, class Engine>
inline label_vector spiking_predict(const DenseNetwork<T>& net, const matrix<T>& x, const std::vector<double>& alpha,
                                    const SpikingInferenceOptions& options, Engine& engine)
{
    net.check_input(x, "spiking_predict");
    if (net.has_bias()) {
        throw invalid_argument("spiking_predict: networks with biases are not converted (the paper's assumption)");
    }
    if (alpha.size() != net.num_layers()) {
        throw invalid_argument("spiking_predict: " + std::to_string(alpha.size()) + " alpha values for " +
                               std::to_string(net.num_layers()) + " layers");
    }
    check::positive("spiking_predict", "steps", options.steps);
    // The simulation never writes the weights when plasticity is off, so views of the const
    // network are safe.
    std::vector<WeightView<T>> views;
    std::vector<IfLayerParams> params;
    for (std::size_t l = 0; l < net.num_layers(); ++l) {
        views.push_back({const_cast<T*>(net.weights(l).data()), net.layer_sizes()[l + 1], net.layer_sizes()[l]});
        params.push_back({alpha[l], options.threshold});
    }
    IfNetwork<T> snn(views, params, options.decay);
    const std::size_t n = x.shape()[0];
    const std::size_t classes = net.output_size();
    const std::size_t last = net.num_layers() - 1;
    label_vector out = label_vector::from_shape({n});
    std::vector<std::uint32_t> input;
    std::vector<std::uint64_t> counts(classes);
    for (std::size_t s = 0; s < n; ++s) {
        PoissonSequence<T> source(x.data() + s * x.shape()[1], 1, x.shape()[1], options.input);
        snn.reset_potentials();
        std::fill(counts.begin(), counts.end(), 0);
        for (std::size_t t = 0; t < options.steps; ++t) {
            source.spikes(t, input, engine);
            snn.step(input, NoPlasticity{}, false);
            for (auto k : snn.spikes(last)) ++counts[k];
        }
        const auto& v = snn.potentials(last);
        std::size_t best = 0;
        for (std::size_t k = 1; k < classes; ++k) {
            if (counts[k] > counts[best] || (counts[k] == counts[best] && v[k] > v[best])) best = k;
        }
        out(s) = best;
    }
    return out;
}

}  // namespace sleepnet
