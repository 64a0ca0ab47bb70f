#pragma once
// The buffers of DenseNetwork's passes, for code that runs the passes itself (training,
// attacks, sleep, analyses): the mode of a pass, the state a forward pass keeps for the
// backward pass, where weight gradients go, and the scratch of the deterministic passes.
// Users who only predict or take gradients through DenseNetwork's inference functions
// never need these.

#include <array>
#include <cstddef>
#include <vector>

#include "../core/tensor.hpp"

namespace sleepnet {

/// Whether a pass runs in training mode (dropout sampled) or test mode (deterministic).
enum class Mode { test, train };

/// Buffers of one forward pass, kept for the backward pass. Reuse one across batches to
/// avoid allocations; DenseNetwork resizes it as needed.
template <class T>
struct ForwardState {
    const matrix<T>* input = nullptr;
    std::vector<matrix<T>> z;      ///< pre-activations per layer
    std::vector<matrix<T>> a;      ///< activations per layer (dropout applied)
    std::vector<matrix<T>> mask;   ///< training-mode dropout multipliers of hidden layers
    std::vector<matrix<T>> delta;  ///< scratch for the backward pass
    Mode mode = Mode::test;

    std::size_t batch_size() const { return input == nullptr ? 0 : input->shape()[0]; }
    const matrix<T>& logits() const { return z.back(); }
    const matrix<T>& output() const { return a.back(); }
};

/// Where backward() puts weight gradients: G_l = alpha * dLoss/dW_l + beta * G_l.
/// With alpha = learning rate and beta = momentum, G is the authors' SGD velocity.
template <class T>
struct GradientSink {
    std::vector<matrix<T>>* weights = nullptr;
    std::vector<vector<T>>* biases = nullptr;  ///< required when the network has biases
    T alpha = T(1);
    T beta = T(0);
    /// Layers below this one get no gradient (their G_l is left as it is), and without an
    /// input gradient back-propagation stops there: frozen layers cost nothing.
    std::size_t first_layer = 0;
};

/// A row-major matrix whose storage only grows: scratch for repeated passes with varying
/// batch sizes (once large enough, a pass allocates nothing and touches no fresh pages).
/// Elements are unspecified after resize().
template <class T>
class ScratchMatrix {
public:
    void resize(std::size_t rows, std::size_t cols)
    {
        if (rows * cols > buf_.size()) {
            buf_.clear();
            buf_.resize(rows * cols);
        }
        shape_ = {rows, cols};
    }
    const std::array<std::size_t, 2>& shape() const { return shape_; }
    std::size_t size() const { return shape_[0] * shape_[1]; }
    T* data() { return buf_.data(); }
    const T* data() const { return buf_.data(); }
    T& operator()(std::size_t i, std::size_t j) { return buf_[i * shape_[1] + j]; }
    const T& operator()(std::size_t i, std::size_t j) const { return buf_[i * shape_[1] + j]; }

private:
    std::vector<T> buf_;
    std::array<std::size_t, 2> shape_{{0, 0}};
};

/// Buffers of a deterministic test-mode pass (DenseNetwork::exact_forward): activations
/// are kept feature-major, (units x samples). Reusing one state across passes avoids
/// reallocations.
template <class T>
struct ExactState {
    std::size_t n = 0;
    ScratchMatrix<T> xt;               ///< input, transposed
    std::vector<ScratchMatrix<T>> zt;  ///< pre-activations per layer (units x n)
    std::vector<ScratchMatrix<T>> at;  ///< activations per layer (units x n)
    std::vector<ScratchMatrix<T>> dt;  ///< scratch for the backward pass
};

namespace detail {

template <class T>
inline void resize_if_needed(matrix<T>& m, std::size_t rows, std::size_t cols)
{
    if (m.shape()[0] != rows || m.shape()[1] != cols) {
        m.resize({rows, cols});
    }
}

template <class T>
inline void resize_if_needed(ScratchMatrix<T>& m, std::size_t rows, std::size_t cols)
{
    m.resize(rows, cols);
}

/// Rows per chunk in whole-data-set passes: bounds memory, keeps gemm efficient.
constexpr std::size_t inference_chunk = 1024;

}  // namespace detail

}  // namespace sleepnet
