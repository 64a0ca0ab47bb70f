#pragma once
// DenseNetwork: a fully connected feed-forward network, the object every other part of
// sleepnet works on (training, sleep, attacks, analyses).
//
// Conventions (the authors' MATLAB code, DeepLearnToolbox):
// - weights of layer l are an (out x in) matrix W_l; a batch is an (N x in) matrix with
//   one sample per row, so z_l = a_{l-1} W_l^T (+ b_l);
// - hidden layers use `hidden` activation (ReLU), the last layer `output` (ReLU in the
//   authors' code, linear for logits-style networks);
// - no biases unless asked for;
// - dropout acts on hidden activations only (see DropoutMode);
// - prediction = argmax of the last layer's pre-activation, first index on ties.
//
// What to call (the class is in three sections, in this order):
// - the model: construct from layer sizes and NetworkOptions, initialize, the weights and
//   biases (read, write in place, set_* with shape checks), validate;
// - inference, what users call: logits, outputs, predict, input_gradient, jacobian,
//   activations. Deterministic: a sample's results do not depend on its batch or on the
//   number of threads;
// - passes for algorithm code (training, attacks, sleep and analyses in this library, or a
//   user's own trainer): forward/backward on OpenBLAS with the buffers of nn/pass_state.hpp
//   (training mode, dropout, gradient sinks), and exact_forward/exact_backward, the
//   deterministic passes inference is built on, with the execution setting
//   inference_threads (not part of the model: never saved, results do not depend on it).
// Everything else is private.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../detail/blas.hpp"
#include "../detail/exact_gemm.hpp"
#include "../detail/transpose.hpp"
#include "activation.hpp"
#include "pass_state.hpp"

namespace sleepnet {

/// Everything that defines the function a DenseNetwork computes, besides its weights.
struct NetworkOptions {
    Activation hidden = Activation::relu;
    Activation output = Activation::relu;  ///< authors: ReLU output
    bool bias = false;                     ///< authors: no biases
    double dropout = 0.0;                  ///< probability of dropping a hidden unit in training
    DropoutMode dropout_mode = DropoutMode::scale_at_test;
};

/// Weight initialisation schemes.
struct Init {
    enum class Kind { uniform, he_uniform, glorot_uniform, zeros };
    Kind kind = Kind::uniform;
    double scale = 0.01;

    /// Uniform in [-a, a] (authors: a = 0.01).
    static Init uniform(double a = 0.01) { return {Kind::uniform, a}; }
    /// Uniform in +-sqrt(6 / fan_in).
    static Init he() { return {Kind::he_uniform, 0.0}; }
    /// Uniform in +-sqrt(6 / (fan_in + fan_out)).
    static Init glorot() { return {Kind::glorot_uniform, 0.0}; }
    static Init zeros() { return {Kind::zeros, 0.0}; }
};

template <class T = float>
class DenseNetwork {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                  "DenseNetwork supports float and double");

public:
    using value_type = T;
    using matrix_type = matrix<T>;
    using vector_type = vector<T>;

    // ---- the model ----

    /// layer_sizes = {inputs, hidden..., outputs}; weights start at zero (call initialize).
    explicit DenseNetwork(std::vector<std::size_t> layer_sizes, NetworkOptions options = {})
        : sizes_(std::move(layer_sizes)), options_(options)
    {
        if (sizes_.size() < 2) {
            throw invalid_argument("DenseNetwork: layer_sizes needs at least 2 entries (inputs and outputs), got " +
                                   std::to_string(sizes_.size()));
        }
        for (std::size_t i = 0; i < sizes_.size(); ++i) {
            if (sizes_[i] == 0) {
                throw invalid_argument("DenseNetwork: layer_sizes[" + std::to_string(i) + "] is 0");
            }
        }
        if (!(options_.dropout >= 0.0 && options_.dropout < 1.0)) {
            throw invalid_argument("DenseNetwork: dropout must be in [0, 1), got " + std::to_string(options_.dropout));
        }
        for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
            weights_.emplace_back(matrix_type::from_shape({sizes_[l + 1], sizes_[l]}));
            weights_.back().fill(T(0));
            if (options_.bias) {
                biases_.emplace_back(vector_type::from_shape({sizes_[l + 1]}));
                biases_.back().fill(T(0));
            }
        }
    }

    // ---- structure ----
    const std::vector<std::size_t>& layer_sizes() const { return sizes_; }
    const NetworkOptions& options() const { return options_; }
    std::size_t num_layers() const { return weights_.size(); }  ///< weight layers
    std::size_t input_size() const { return sizes_.front(); }
    std::size_t output_size() const { return sizes_.back(); }
    bool has_bias() const { return options_.bias; }

    /// Weights of layer l (0-based), shape (layer_sizes[l+1] x layer_sizes[l]). The shape
    /// must not be changed through this reference (set_weights checks it).
    matrix_type& weights(std::size_t l) { return weights_.at(l); }
    const matrix_type& weights(std::size_t l) const { return weights_.at(l); }
    std::vector<matrix_type>& all_weights() { return weights_; }
    const std::vector<matrix_type>& all_weights() const { return weights_; }

    vector_type& bias(std::size_t l)
    {
        require_bias("bias");
        return biases_.at(l);
    }
    const vector_type& bias(std::size_t l) const
    {
        require_bias("bias");
        return biases_.at(l);
    }
    std::vector<vector_type>& all_biases() { return biases_; }
    const std::vector<vector_type>& all_biases() const { return biases_; }

    template <class E>
    void set_weights(std::size_t l, const E& w)
    {
        check_layer(l, "set_weights");
        matrix_type value = w;
        if (value.shape()[0] != sizes_[l + 1] || value.shape()[1] != sizes_[l]) {
            throw invalid_argument("set_weights: layer " + std::to_string(l) + " expects shape (" +
                                   std::to_string(sizes_[l + 1]) + ", " + std::to_string(sizes_[l]) + "), got " +
                                   detail::shape_string(value));
        }
        weights_[l] = std::move(value);
    }

    template <class E>
    void set_bias(std::size_t l, const E& b)
    {
        require_bias("set_bias");
        check_layer(l, "set_bias");
        vector_type value = b;
        if (value.shape()[0] != sizes_[l + 1]) {
            throw invalid_argument("set_bias: layer " + std::to_string(l) + " expects " +
                                   std::to_string(sizes_[l + 1]) + " values, got " + detail::shape_string(value));
        }
        biases_[l] = std::move(value);
    }

    /// Throws if any weight or bias is non-finite or has the wrong shape.
    void validate() const
    {
        for (std::size_t l = 0; l < weights_.size(); ++l) {
            const auto& w = weights_[l];
            if (w.dimension() != 2 || w.shape()[0] != sizes_[l + 1] || w.shape()[1] != sizes_[l]) {
                throw invalid_argument("layer " + std::to_string(l + 1) + " weights have shape " +
                                       detail::shape_string(w) + ", expected (" + std::to_string(sizes_[l + 1]) + ", " +
                                       std::to_string(sizes_[l]) + ")");
            }
            if (!std::all_of(w.begin(), w.end(), [](T v) { return std::isfinite(v); })) {
                throw numeric_error("layer " + std::to_string(l + 1) + " weights contain non-finite values");
            }
            if (options_.bias) {
                const auto& b = biases_[l];
                if (b.shape()[0] != sizes_[l + 1]) {
                    throw invalid_argument("layer " + std::to_string(l + 1) + " bias has shape " +
                                           detail::shape_string(b));
                }
                if (!std::all_of(b.begin(), b.end(), [](T v) { return std::isfinite(v); })) {
                    throw numeric_error("layer " + std::to_string(l + 1) + " bias contains non-finite values");
                }
            }
        }
    }

    /// The factor hidden activations are multiplied by in test mode.
    T test_scale() const
    {
        return options_.dropout_mode == DropoutMode::scale_at_test ? static_cast<T>(1.0 - options_.dropout) : T(1);
    }

    template <class Engine>
    void initialize(const Init& init, Engine& engine)
    {
        for (std::size_t l = 0; l < weights_.size(); ++l) {
            const double fan_in = static_cast<double>(sizes_[l]);
            const double fan_out = static_cast<double>(sizes_[l + 1]);
            double a = 0.0;
            switch (init.kind) {
            case Init::Kind::uniform:
                a = init.scale;
                break;
            case Init::Kind::he_uniform:
                a = std::sqrt(6.0 / fan_in);
                break;
            case Init::Kind::glorot_uniform:
                a = std::sqrt(6.0 / (fan_in + fan_out));
                break;
            case Init::Kind::zeros:
                a = 0.0;
                break;
            }
            if (!(a >= 0.0) || !std::isfinite(a)) {
                throw invalid_argument("initialize: uniform scale must be finite and >= 0, got " + std::to_string(a));
            }
            for (auto& w : weights_[l]) {
                w = static_cast<T>(rng::uniform<double>(engine, -a, a));
            }
            if (options_.bias) {
                biases_[l].fill(T(0));
            }
        }
    }

    // ---- inference ----

    /// Pre-activations of the last layer (N x outputs).
    matrix_type logits(const matrix_type& x) const { return pass(x, true); }

    /// Network outputs after the output activation (N x outputs).
    matrix_type outputs(const matrix_type& x) const { return pass(x, false); }

    /// argmax of the last pre-activation per row, first index on ties.
    label_vector predict(const matrix_type& x) const
    {
        const matrix_type z = logits(x);
        const std::size_t n = z.shape()[0];
        const std::size_t c = z.shape()[1];
        label_vector out = label_vector::from_shape({n});
        for (std::size_t i = 0; i < n; ++i) {
            const T* row = z.data() + i * c;
            out(i) = static_cast<std::size_t>(std::max_element(row, row + c) - row);
        }
        return out;
    }

    /// Gradient of sum_k dz_out(n, k) * logit_k(x_n) with respect to x (N x inputs), in test
    /// mode: for a loss L, pass dz_out = dL/dlogits.
    matrix_type input_gradient(const matrix_type& x, const matrix_type& dz_out) const
    {
        ExactState<T> st;
        exact_forward(x, st);
        matrix_type dx;
        exact_backward(st, dz_out, dx);
        return dx;
    }

    /// Jacobian of the logits with respect to the inputs, test mode: (N x outputs x inputs).
    xt::xtensor<T, 3> jacobian(const matrix_type& x) const
    {
        check_input(x, "jacobian");
        const std::size_t n = x.shape()[0];
        const std::size_t c = output_size();
        const std::size_t d = input_size();
        xt::xtensor<T, 3> jac = xt::xtensor<T, 3>::from_shape({n, c, d});
        ExactState<T> st;
        exact_forward(x, st);
        matrix_type seed = matrix_type::from_shape({n, c});
        matrix_type dx;
        for (std::size_t k = 0; k < c; ++k) {
            seed.fill(T(0));
            for (std::size_t i = 0; i < n; ++i) {
                seed(i, k) = T(1);
            }
            exact_backward(st, seed, dx);
            for (std::size_t i = 0; i < n; ++i) {
                std::copy(dx.data() + i * d, dx.data() + (i + 1) * d, jac.data() + (i * c + k) * d);
            }
        }
        return jac;
    }

    /// Test-mode activations of every layer (after activation and test-time dropout
    /// scaling), for analyses and normalization. Element l has shape (N x layer_sizes[l+1]).
    std::vector<matrix_type> activations(const matrix_type& x) const
    {
        check_input(x, "activations");
        ExactState<T> st;
        exact_forward(x, st);
        std::vector<matrix_type> out;
        for (const auto& at : st.at) {
            matrix_type a = matrix_type::from_shape({st.n, at.shape()[0]});
            detail::transpose(at.data(), at.shape()[0], st.n, a.data());
            out.push_back(std::move(a));
        }
        return out;
    }

    // ---- passes for algorithm code: training passes on OpenBLAS (pass_state.hpp buffers) ----

    /// Forward pass of a batch x (N x inputs), keeping what backward() needs. In train mode
    /// dropout masks are drawn from `engine`; in test mode engine may be nullptr.
    template <class Engine = default_engine>
    void forward(const matrix_type& x, ForwardState<T>& st, Mode mode = Mode::test, Engine* engine = nullptr) const
    {
        check_input(x, "forward");
        if (mode == Mode::train && options_.dropout > 0.0 && engine == nullptr) {
            throw invalid_argument("forward: training mode with dropout needs an engine");
        }
        const std::size_t n = x.shape()[0];
        const std::size_t layers = weights_.size();
        st.input = &x;
        st.mode = mode;
        st.z.resize(layers);
        st.a.resize(layers);
        st.mask.resize(layers);
        for (std::size_t l = 0; l < layers; ++l) {
            const matrix_type& in = l == 0 ? x : st.a[l - 1];
            const std::size_t out = sizes_[l + 1];
            matrix_type& z = st.z[l];
            detail::resize_if_needed(z, n, out);
            detail::gemm(false, true, n, out, sizes_[l], T(1), in.data(), sizes_[l], weights_[l].data(), sizes_[l],
                         T(0), z.data(), out);
            if (options_.bias) {
                const T* b = biases_[l].data();
                T* zp = z.data();
                for (std::size_t i = 0; i < n; ++i) {
                    for (std::size_t j = 0; j < out; ++j) {
                        zp[i * out + j] += b[j];
                    }
                }
            }
            matrix_type& a = st.a[l];
            detail::resize_if_needed(a, n, out);
            const bool hidden = l + 1 < layers;
            const Activation act = hidden ? options_.hidden : options_.output;
            const T* zp = z.data();
            T* ap = a.data();
            const std::size_t count = n * out;
            if (act == Activation::relu) {
                for (std::size_t i = 0; i < count; ++i) {
                    ap[i] = zp[i] > T(0) ? zp[i] : T(0);
                }
            } else {
                std::copy(zp, zp + count, ap);
            }
            if (hidden && options_.dropout > 0.0) {
                if (mode == Mode::train) {
                    matrix_type& m = st.mask[l];
                    detail::resize_if_needed(m, n, out);
                    const T keep = options_.dropout_mode == DropoutMode::inverted
                                       ? static_cast<T>(1.0 / (1.0 - options_.dropout))
                                       : T(1);
                    const T p = static_cast<T>(options_.dropout);
                    T* mp = m.data();
                    for (std::size_t i = 0; i < count; ++i) {
                        mp[i] = rng::uniform01<T>(*engine) < p ? T(0) : keep;
                        ap[i] *= mp[i];
                    }
                } else {
                    const T s = test_scale();
                    if (s != T(1)) {
                        for (std::size_t i = 0; i < count; ++i) {
                            ap[i] *= s;
                        }
                    }
                }
            }
        }
    }

    /// Backward pass from dz_out = dLoss/d(last pre-activation) (N x outputs), for the batch
    /// of the last forward() into `st`. Weight (and bias) gradients go to `sink` (may be
    /// null), the input gradient dLoss/dx (N x inputs) to `dx` (may be null).
    void backward(ForwardState<T>& st, const matrix_type& dz_out, const GradientSink<T>* sink, matrix_type* dx) const
    {
        const std::size_t layers = weights_.size();
        const std::size_t n = st.batch_size();
        if (st.z.size() != layers || n == 0) {
            throw invalid_argument("backward: the forward state does not come from a forward pass of this network");
        }
        if (dz_out.shape()[0] != n || dz_out.shape()[1] != output_size()) {
            throw invalid_argument("backward: dz_out has shape " + detail::shape_string(dz_out) + ", expected (" +
                                   std::to_string(n) + ", " + std::to_string(output_size()) + ")");
        }
        if (sink != nullptr) {
            check_sink(*sink);
        }
        st.delta.resize(layers);
        // the lowest layer anything is needed for: no deeper than the sink's first layer
        // when no input gradient is asked for
        const std::size_t lowest = (sink != nullptr && dx == nullptr) ? sink->first_layer : 0;
        const matrix_type* dz = &dz_out;
        for (std::size_t li = layers; li-- > 0;) {
            const matrix_type& in = li == 0 ? *st.input : st.a[li - 1];
            const std::size_t in_size = sizes_[li];
            const std::size_t out = sizes_[li + 1];
            if (sink != nullptr && li >= sink->first_layer) {
                matrix_type& g = (*sink->weights)[li];
                detail::gemm(true, false, out, in_size, n, sink->alpha, dz->data(), out, in.data(), in_size, sink->beta,
                             g.data(), in_size);
                if (options_.bias) {
                    T* gb = (*sink->biases)[li].data();
                    const T* d = dz->data();
                    for (std::size_t j = 0; j < out; ++j) {
                        T s = T(0);
                        for (std::size_t i = 0; i < n; ++i) {
                            s += d[i * out + j];
                        }
                        gb[j] = sink->alpha * s + sink->beta * gb[j];
                    }
                }
            }
            if (li == 0) {
                if (dx != nullptr) {
                    detail::resize_if_needed(*dx, n, in_size);
                    detail::gemm(false, false, n, in_size, out, T(1), dz->data(), out, weights_[0].data(), in_size,
                                 T(0), dx->data(), in_size);
                }
                break;
            }
            if (li <= lowest) {
                break;
            }
            // d(loss)/d(a_{li-1}), then through the hidden activation and dropout of layer li-1.
            matrix_type& d = st.delta[li - 1];
            detail::resize_if_needed(d, n, in_size);
            detail::gemm(false, false, n, in_size, out, T(1), dz->data(), out, weights_[li].data(), in_size, T(0),
                         d.data(), in_size);
            apply_hidden_derivative(st, li - 1, d);
            dz = &d;
        }
    }

    // ---- passes for algorithm code: deterministic test-mode passes ----
    //
    // Predictions, outputs, input gradients and Jacobians go through exact_forward /
    // exact_backward, built on detail::exact_gemm: a sample's results are bit-identical
    // whatever the batch it is part of and the number of threads. (forward/backward above
    // use OpenBLAS, faster, for training.)

    /// Threads used by the deterministic passes (results do not depend on it).
    unsigned inference_threads() const { return threads_; }
    void set_inference_threads(unsigned t) { threads_ = std::max(1u, t); }

    void exact_forward(const matrix_type& x, ExactState<T>& st) const
    {
        check_input(x, "exact_forward");
        exact_forward(x.data(), x.shape()[0], st);
    }

    /// The same on n rows of input_size() values at x (row-major).
    void exact_forward(const T* x, std::size_t n, ExactState<T>& st) const
    {
        const std::size_t layers = weights_.size();
        st.n = n;
        detail::resize_if_needed(st.xt, input_size(), n);
        detail::transpose(x, n, input_size(), st.xt.data());
        st.zt.resize(layers);
        st.at.resize(layers);
        for (std::size_t l = 0; l < layers; ++l) {
            const std::size_t out = sizes_[l + 1];
            const std::size_t in = sizes_[l];
            const ScratchMatrix<T>& prev = l == 0 ? st.xt : st.at[l - 1];
            detail::resize_if_needed(st.zt[l], out, n);
            detail::exact_gemm(out, n, in, weights_[l].data(), in, false, prev.data(), n, st.zt[l].data(), n, threads_);
            T* z = st.zt[l].data();
            if (options_.bias) {
                for (std::size_t o = 0; o < out; ++o) {
                    const T b = biases_[l](o);
                    for (std::size_t i = 0; i < n; ++i) z[o * n + i] += b;
                }
            }
            detail::resize_if_needed(st.at[l], out, n);
            T* a = st.at[l].data();
            const bool hidden = l + 1 < layers;
            const bool relu = (hidden ? options_.hidden : options_.output) == Activation::relu;
            const T s = hidden && options_.dropout > 0.0 ? test_scale() : T(1);
            for (std::size_t i = 0; i < out * n; ++i) {
                const T v = relu ? (z[i] > T(0) ? z[i] : T(0)) : z[i];
                a[i] = s != T(1) ? v * s : v;
            }
        }
    }

    /// dx (N x inputs) = gradient of sum_k dz_out(n, k) * logit_k(x_n), for the batch of
    /// the last exact_forward into `st`.
    void exact_backward(ExactState<T>& st, const matrix_type& dz_out, matrix_type& dx) const
    {
        const std::size_t layers = weights_.size();
        const std::size_t n = st.n;
        if (st.zt.size() != layers || dz_out.shape()[0] != n || dz_out.shape()[1] != output_size()) {
            throw invalid_argument("exact_backward: dz_out has shape " + detail::shape_string(dz_out) + ", expected (" +
                                   std::to_string(n) + ", " + std::to_string(output_size()) + ")");
        }
        st.dt.resize(layers + 1);
        detail::resize_if_needed(st.dt[layers], output_size(), n);
        detail::transpose(dz_out.data(), n, output_size(), st.dt[layers].data());
        for (std::size_t l = layers; l-- > 0;) {
            const std::size_t out = sizes_[l + 1];
            const std::size_t in = sizes_[l];
            ScratchMatrix<T>& d = st.dt[l];
            detail::resize_if_needed(d, in, n);
            // d (in x n) = W_l^T (in x out) * dt[l+1] (out x n)
            detail::exact_gemm(in, n, out, weights_[l].data(), in, true, st.dt[l + 1].data(), n, d.data(), n, threads_);
            if (l > 0) {
                const T* z = st.zt[l - 1].data();
                const bool relu = options_.hidden == Activation::relu;
                const T s = options_.dropout > 0.0 ? test_scale() : T(1);
                T* dp = d.data();
                for (std::size_t i = 0; i < in * n; ++i) {
                    dp[i] = (!relu || z[i] > T(0)) ? dp[i] * s : T(0);
                }
            }
        }
        detail::resize_if_needed(dx, n, input_size());
        detail::transpose(st.dt[0].data(), input_size(), n, dx.data());
    }

    /// Throws invalid_argument unless x has input_size() columns (`where` names the caller).
    void check_input(const matrix_type& x, const char* where) const
    {
        if (x.shape()[1] != input_size()) {
            throw invalid_argument(std::string(where) + ": input has shape " + detail::shape_string(x) +
                                   ", the network expects " + std::to_string(input_size()) + " columns");
        }
    }

private:
    std::vector<std::size_t> sizes_;
    NetworkOptions options_;
    std::vector<matrix_type> weights_;
    std::vector<vector_type> biases_;
    unsigned threads_ = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));

    void require_bias(const char* where) const
    {
        if (!options_.bias) {
            throw invalid_argument(std::string(where) + ": this network has no biases (NetworkOptions::bias is false)");
        }
    }

    void check_layer(std::size_t l, const char* where) const
    {
        if (l >= weights_.size()) {
            throw invalid_argument(std::string(where) + ": layer " + std::to_string(l) + " out of range (network has " +
                                   std::to_string(weights_.size()) + " weight layers)");
        }
    }

    void check_sink(const GradientSink<T>& sink) const
    {
        if (sink.weights == nullptr || sink.weights->size() != weights_.size()) {
            throw invalid_argument("backward: gradient sink needs one weight matrix per layer");
        }
        if (sink.first_layer >= weights_.size()) {
            throw invalid_argument("backward: gradient sink's first_layer " + std::to_string(sink.first_layer) +
                                   " leaves no layer of the " + std::to_string(weights_.size()) + " to train");
        }
        for (std::size_t l = 0; l < weights_.size(); ++l) {
            matrix_type& g = (*sink.weights)[l];
            if (g.shape()[0] != sizes_[l + 1] || g.shape()[1] != sizes_[l]) {
                g = matrix_type::from_shape({sizes_[l + 1], sizes_[l]});
                g.fill(T(0));  // a fresh accumulator: beta * G must not blend in garbage
            }
        }
        if (options_.bias) {
            if (sink.biases == nullptr || sink.biases->size() != weights_.size()) {
                throw invalid_argument("backward: gradient sink needs one bias vector per layer");
            }
            for (std::size_t l = 0; l < weights_.size(); ++l) {
                if ((*sink.biases)[l].shape()[0] != sizes_[l + 1]) {
                    (*sink.biases)[l] = vector_type::from_shape({sizes_[l + 1]});
                    (*sink.biases)[l].fill(T(0));
                }
            }
        }
    }

    // d <- d * (derivative of hidden activation l, with its dropout factor)
    void apply_hidden_derivative(const ForwardState<T>& st, std::size_t l, matrix_type& d) const
    {
        const std::size_t count = d.size();
        T* dp = d.data();
        const T* zp = st.z[l].data();
        const bool relu = options_.hidden == Activation::relu;
        const bool dropout = options_.dropout > 0.0;
        if (dropout && st.mode == Mode::train) {
            const T* mp = st.mask[l].data();
            for (std::size_t i = 0; i < count; ++i) {
                dp[i] = (!relu || zp[i] > T(0)) ? dp[i] * mp[i] : T(0);
            }
        } else {
            const T s = dropout ? test_scale() : T(1);
            for (std::size_t i = 0; i < count; ++i) {
                dp[i] = (!relu || zp[i] > T(0)) ? dp[i] * s : T(0);
            }
        }
    }

    matrix_type pass(const matrix_type& x, bool pre_activation) const
    {
        check_input(x, pre_activation ? "logits" : "outputs");
        const std::size_t n = x.shape()[0];
        const std::size_t c = output_size();
        matrix_type result = matrix_type::from_shape({n, c});
        ExactState<T> st;
        matrix_type chunk;
        for (std::size_t start = 0; start < n; start += detail::inference_chunk) {
            const std::size_t stop = std::min(n, start + detail::inference_chunk);
            const matrix_type* in = &x;
            if (start != 0 || stop != n) {
                chunk = xt::view(x, xt::range(start, stop), xt::all());
                in = &chunk;
            }
            exact_forward(*in, st);
            const ScratchMatrix<T>& src = pre_activation ? st.zt.back() : st.at.back();
            detail::transpose(src.data(), c, stop - start, result.data() + start * c);
        }
        return result;
    }
};

}  // namespace sleepnet
