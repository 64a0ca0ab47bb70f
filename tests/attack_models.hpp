#pragma once
// Models with known adversarial distances, shared by the attack tests:
// - brightness model: logit k = mean of channel k (channels = first and second half),
//   minimal L-inf change margin / 2;
// - affine 2-class model f(x) = W x + b: minimal L-inf distance |f_0 - f_1| / ||w_0 - w_1||_1,
//   L2 distance |f_0 - f_1| / ||w_0 - w_1||_2 (while the optimum stays inside the bounds);
// - inputs in [0.35, 0.65], so small optimal perturbations are never clipped.
#include <cmath>
#include <cstdint>
#include <vector>

#include <sleepnet/attacks/common.hpp>
#include <sleepnet/core/rng.hpp>
#include <sleepnet/nn/dense_network.hpp>

namespace test_support {

inline sleepnet::DenseNetwork<double> brightness_model(std::size_t half)
{
    using namespace sleepnet;
    DenseNetwork<double> net({2 * half, 2}, NetworkOptions{Activation::relu, Activation::linear});
    matrix<double> w = matrix<double>::from_shape({2, 2 * half});
    w.fill(0.0);
    for (std::size_t j = 0; j < half; ++j) {
        w(0, j) = 1.0 / static_cast<double>(half);
        w(1, half + j) = 1.0 / static_cast<double>(half);
    }
    net.set_weights(0, w);
    return net;
}

/// Weights uniform in +-scale, biases +-0.05 scale.
inline sleepnet::DenseNetwork<double> affine_model(std::size_t d, std::uint64_t seed, double scale = 1.0)
{
    using namespace sleepnet;
    DenseNetwork<double> net({d, 2}, NetworkOptions{Activation::relu, Activation::linear, true});
    default_engine eng(seed);
    net.initialize(Init::uniform(scale), eng);
    net.set_bias(0, vector<double>{0.05 * scale, -0.05 * scale});
    return net;
}

inline sleepnet::matrix<double> mid_inputs(std::size_t n, std::size_t d, std::uint64_t seed)
{
    sleepnet::default_engine eng(seed);
    sleepnet::matrix<double> x = sleepnet::matrix<double>::from_shape({n, d});
    for (auto& v : x) v = sleepnet::rng::uniform<double>(eng, 0.35, 0.65);
    return x;
}

/// Minimal L-inf or L2 distance of input i (classified as `label`) to the boundary of an
/// affine 2-class model.
inline double affine_distance(const sleepnet::DenseNetwork<double>& net, const sleepnet::matrix<double>& x,
                              std::size_t i, std::size_t label, sleepnet::Norm norm)
{
    const auto& w = net.weights(0);
    const auto z = net.logits(x);
    const std::size_t u = 1 - label;
    double dual = 0.0;
    for (std::size_t j = 0; j < x.shape()[1]; ++j) {
        const double dw = w(label, j) - w(u, j);
        dual += norm == sleepnet::Norm::linf ? std::abs(dw) : dw * dw;
    }
    if (norm == sleepnet::Norm::l2) dual = std::sqrt(dual);
    return (z(i, label) - z(i, u)) / dual;
}

/// Brightness-model inputs: row i has channel 0 at c0[i] and channel 1 at c1[i].
inline sleepnet::matrix<double> brightness_inputs(const std::vector<double>& c0, const std::vector<double>& c1,
                                                  std::size_t half)
{
    sleepnet::matrix<double> x = sleepnet::matrix<double>::from_shape({c0.size(), 2 * half});
    for (std::size_t i = 0; i < c0.size(); ++i)
        for (std::size_t j = 0; j < 2 * half; ++j) x(i, j) = j < half ? c0[i] : c1[i];
    return x;
}

/// The invariants case: a 12-16-4 ReLU network (He init) and 30 inputs in [0, 1) drawn
/// from eng (seed 8), labelled by the network except every fifth, wrong on purpose; eng
/// is returned for further draws.
struct InvariantCase {
    sleepnet::default_engine eng;
    sleepnet::DenseNetwork<double> net;
    sleepnet::matrix<double> x;
    sleepnet::label_vector y;
};

inline InvariantCase invariant_case()
{
    using namespace sleepnet;
    InvariantCase c{default_engine(8), DenseNetwork<double>({12, 16, 4}), matrix<double>::from_shape({30, 12}), {}};
    c.net.initialize(Init::he(), c.eng);
    for (auto& v : c.x) v = rng::uniform01<double>(c.eng);
    c.y = c.net.predict(c.x);
    for (std::size_t i = 0; i < 30; i += 5) c.y(i) = (c.y(i) + 1) % 4;
    return c;
}

}  // namespace test_support
