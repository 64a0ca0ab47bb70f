#pragma once
// EarlyStopping: a ready-made training callback (on_end_epoch). After every epoch it
// measures the network with a function the caller gives (validation accuracy, a
// validation loss, ...), keeps the best value, the epoch it was reached at and (by
// default) a copy of the weights and biases of that epoch, and stops training once the
// measure has not improved by more than min_delta for `patience` epochs in a row.
//
//   auto val_acc = [&](const sleepnet::DenseNetwork<float>& n) { return sleepnet::accuracy(n, val); };
//   sleepnet::EarlyStopping<float> stop(net, val_acc, {sleepnet::Goal::maximize, 3});
//   sleepnet::train(net, train_x, train_y, loss, sgd, engine, stop);
//   stop.restore_best();  // the weights of best_epoch(), not those of the last epoch
//
// Training leaves the weights of the last epoch it ran (up to `patience` epochs past the
// best); restore_best() is the caller's explicit choice, as is evaluating the test set
// only after it. A NaN measurement never counts as an improvement.

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../nn/dense_network.hpp"
#include "../nn/train.hpp"

namespace sleepnet {

/// Whether a smaller or a larger measurement is better.
enum class Goal { minimize, maximize };

struct EarlyStoppingOptions {
    Goal goal = Goal::maximize;
    std::size_t patience = 5;       ///< epochs without improvement before it stops, >= 1
    double min_delta = 0.0;         ///< an improvement must beat the best by more than this, finite >= 0
    bool keep_best_weights = true;  ///< copy the weights at each new best (for restore_best)

    void validate() const
    {
        check::positive("EarlyStopping", "patience", patience);
        check::finite_nonnegative("EarlyStopping", "min_delta", min_delta);
    }
};

template <class T>
class EarlyStopping {
public:
    using Measure = std::function<double(const DenseNetwork<T>&)>;

    /// Watches `net` (kept by reference: the network being trained) with `measure`.
    EarlyStopping(DenseNetwork<T>& net, Measure measure, EarlyStoppingOptions options = {})
        : net_(&net), measure_(std::move(measure)), options_(options)
    {
        options_.validate();
        if (!measure_) throw invalid_argument("EarlyStopping: measure is empty");
    }

    /// Measures the network; returns true (stop) after `patience` epochs without improvement.
    bool on_end_epoch(const TrainInfo& info)
    {
        const double value = measure_(*net_);
        history_.push_back(value);
        if (improves(value)) {
            best_value_ = value;
            best_epoch_ = info.epoch + 1;
            since_best_ = 0;
            if (options_.keep_best_weights) {
                weights_ = net_->all_weights();
                biases_ = net_->all_biases();
            }
        } else {
            ++since_best_;
        }
        if (since_best_ >= options_.patience) stopped_epoch_ = info.epoch + 1;
        return stopped();
    }

    /// Puts the weights and biases of best_epoch() back into the network.
    void restore_best()
    {
        if (!options_.keep_best_weights)
            throw invalid_argument("EarlyStopping: restore_best needs keep_best_weights = true");
        if (best_epoch_ == 0) throw invalid_argument("EarlyStopping: restore_best before any epoch was measured");
        net_->all_weights() = weights_;
        net_->all_biases() = biases_;
    }

    bool stopped() const { return stopped_epoch_ > 0; }
    std::size_t stopped_epoch() const { return stopped_epoch_; }  ///< epoch it stopped after, 1-based (0 = never)
    std::size_t best_epoch() const { return best_epoch_; }        ///< 1-based (0 = nothing measured yet)
    double best_value() const { return best_value_; }
    const std::vector<double>& history() const { return history_; }  ///< one measurement per epoch

private:
    bool improves(double value) const
    {
        if (std::isnan(value)) return false;
        if (best_epoch_ == 0) return true;
        return options_.goal == Goal::maximize ? value > best_value_ + options_.min_delta
                                               : value < best_value_ - options_.min_delta;
    }

    DenseNetwork<T>* net_;
    Measure measure_;
    EarlyStoppingOptions options_;
    std::vector<typename DenseNetwork<T>::matrix_type> weights_;
    std::vector<typename DenseNetwork<T>::vector_type> biases_;
    std::vector<double> history_;
    double best_value_ = std::nan("");
    std::size_t best_epoch_ = 0, since_best_ = 0, stopped_epoch_ = 0;
};

}  // namespace sleepnet
