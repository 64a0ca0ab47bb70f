#pragma once
// Minibatch training and evaluation of a DenseNetwork.
//
//   sleepnet::train(net, data.train, sleepnet::MseLoss{}, sleepnet::SgdOptions{}, engine, callbacks...);
//
// Callbacks are detected at compile time (core/callbacks.hpp); hooks: on_begin_epoch,
// on_batch, on_end_epoch, each taking `const TrainInfo&`; returning true stops training.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "../core/callbacks.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../data/dataset.hpp"
#include "dense_network.hpp"
#include "loss.hpp"
#include "sgd.hpp"

namespace sleepnet {

/// What callbacks see during training.
struct TrainInfo {
    std::size_t epoch = 0;  ///< 0-based
    std::size_t epochs = 0;
    std::size_t batch = 0;  ///< 0-based within the epoch
    std::size_t batches_per_epoch = 0;
    std::size_t samples_seen = 0;  ///< over the whole run
    double batch_loss = 0.0;
    double epoch_loss = 0.0;  ///< mean batch loss so far in this epoch
};

struct TrainReport {
    std::size_t epochs_completed = 0;
    std::size_t batches = 0;
    double final_epoch_loss = 0.0;
    bool stopped_early = false;
    double seconds = 0.0;
};

namespace detail {

template <class T>
inline void gather_rows(const matrix<T>& src, const std::vector<std::size_t>& order, std::size_t begin, std::size_t end,
                        matrix<T>& dst)
{
    const std::size_t cols = src.shape()[1];
    resize_if_needed(dst, end - begin, cols);
    for (std::size_t i = begin; i < end; ++i) {
        const T* s = src.data() + order[i] * cols;
        std::copy(s, s + cols, dst.data() + (i - begin) * cols);
    }
}

/// The epoch loop every trainer shares: per epoch, on_begin_epoch, a reshuffle of the
/// sample order with `engine` (options.shuffle), then batch(order, begin, end, epoch) ->
/// batch loss for each batch of options.batch_size (the last may be smaller; a batch must
/// not step on a non-finite loss), on_batch after each, on_end_epoch; a hook returning
/// true stops. A non-finite batch loss throws numeric_error naming `who`.
template <class Engine, class Batch, class... Callbacks>
inline TrainReport run_epochs(std::size_t n, const SgdOptions& options, Engine& engine, const char* who, Batch&& batch,
                              Callbacks&&... callbacks)
{
    auto hooks = std::forward_as_tuple(callbacks...);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    TrainReport report;
    TrainInfo info;
    info.epochs = options.epochs;
    info.batches_per_epoch = (n + options.batch_size - 1) / options.batch_size;
    for (std::size_t epoch = 0; epoch < options.epochs && !report.stopped_early; ++epoch) {
        info.epoch = epoch;
        info.batch = 0;
        info.epoch_loss = 0.0;
        if (call_on_begin_epoch(hooks, info)) {
            report.stopped_early = true;
            break;
        }
        if (options.shuffle) rng::shuffle(order.begin(), order.end(), engine);
        double loss_sum = 0.0;
        for (std::size_t b = 0; b < info.batches_per_epoch; ++b) {
            const std::size_t begin = b * options.batch_size, end = std::min(n, begin + options.batch_size);
            const double value = batch(order, begin, end, epoch);
            if (!std::isfinite(value)) {
                throw numeric_error(std::string(who) + ": loss became non-finite at epoch " +
                                    std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1) +
                                    " (learning rate too high?)");
            }
            loss_sum += value;
            ++report.batches;
            info.batch = b;
            info.samples_seen += end - begin;
            info.batch_loss = value;
            info.epoch_loss = loss_sum / static_cast<double>(b + 1);
            if (call_on_batch(hooks, info)) {
                report.stopped_early = true;
                break;
            }
        }
        report.final_epoch_loss = info.epoch_loss;
        if (!report.stopped_early) {
            ++report.epochs_completed;
            report.stopped_early = call_on_end_epoch(hooks, info);
        }
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

}  // namespace detail

/// Trains on inputs x (N x inputs) against targets (N x outputs; one-hot or soft labels).
/// Each epoch visits every sample once, in an order reshuffled with `engine` (when
/// options.shuffle), in batches of options.batch_size (the last one may be smaller).
template <class T, class Loss, class Engine, class... Callbacks>
inline TrainReport train(DenseNetwork<T>& net, const matrix<T>& x, const matrix<T>& targets, const Loss& loss,
                         const SgdOptions& options, Engine& engine, Callbacks&&... callbacks)
{
    options.validate();
    net.check_input(x, "train");
    const std::size_t n = x.shape()[0];
    if (n == 0) {
        throw invalid_argument("train: no training samples");
    }
    if (targets.shape()[0] != n || targets.shape()[1] != net.output_size()) {
        throw invalid_argument("train: targets have shape " + detail::shape_string(targets) + ", expected (" +
                               std::to_string(n) + ", " + std::to_string(net.output_size()) + ")");
    }
    Sgd<T> sgd(net, options);
    ForwardState<T> st;
    matrix<T> xb;
    matrix<T> yb;
    matrix<T> dz;
    return detail::run_epochs(
        n, options, engine, "train",
        [&](const std::vector<std::size_t>& order, std::size_t begin, std::size_t end, std::size_t) {
            detail::gather_rows(x, order, begin, end, xb);
            detail::gather_rows(targets, order, begin, end, yb);
            net.forward(xb, st, Mode::train, &engine);
            const double value = static_cast<double>(loss(st.logits(), st.output(), yb, net.options().output, &dz));
            if (std::isfinite(value)) sgd.step(net, st, dz);
            return value;
        },
        std::forward<Callbacks>(callbacks)...);
}

/// Trains on a labelled data set (one-hot targets).
template <class T, class Loss, class Engine, class... Callbacks>
inline TrainReport train(DenseNetwork<T>& net, const Dataset<T>& data, const Loss& loss, const SgdOptions& options,
                         Engine& engine, Callbacks&&... callbacks)
{
    if (data.classes != net.output_size()) {
        throw invalid_argument("train: data set '" + data.name + "' has " + std::to_string(data.classes) +
                               " classes, the network has " + std::to_string(net.output_size()) + " outputs");
    }
    return train(net, data.x, one_hot<T>(data.y, data.classes), loss, options, engine,
                 std::forward<Callbacks>(callbacks)...);
}

/// Fraction of rows whose prediction equals the label.
template <class T>
inline double accuracy(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y)
{
    if (x.shape()[0] != y.size()) {
        throw invalid_argument("accuracy: " + std::to_string(x.shape()[0]) + " inputs but " + std::to_string(y.size()) +
                               " labels");
    }
    if (y.size() == 0) {
        throw invalid_argument("accuracy: empty data set");
    }
    const label_vector p = net.predict(x);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        correct += p(i) == y(i) ? 1 : 0;
    }
    return static_cast<double>(correct) / static_cast<double>(y.size());
}

template <class T>
inline double accuracy(const DenseNetwork<T>& net, const Dataset<T>& data)
{
    return accuracy(net, data.x, data.y);
}

}  // namespace sleepnet
