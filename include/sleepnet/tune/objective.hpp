#pragma once
// Objectives of the sleep parameter search. An objective is any type with
//
//   std::string name() const;
//   double operator()(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y) const;
//
// returning a value to MAXIMISE on the validation inputs (x, y). The search measures clean
// accuracy itself (for the accuracy floor) and calls the objective only for candidates
// that pass it. Objectives must be deterministic for a given network and inputs (seeded
// ones carry their seed), and must not depend on thread count: the search evaluates
// candidates on several threads with one inference thread each.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../attacks/deepfool.hpp"
#include "../attacks/fgsm.hpp"
#include "../core/rng.hpp"
#include "../distort/noise.hpp"
#include "../nn/train.hpp"

namespace sleepnet {

/// Median minimal FGSM epsilon (the paper's FGSM score; failures count as +inf). The
/// default search is bisection (about 7x faster than the grid, within a grid step of it on
/// MNIST); set options.search = FgsmSearch::grid for Foolbox parity, and options.loss =
/// AttackLoss::cross_entropy to attack softmax cross-entropy instead of the network's loss.
struct FgsmObjective {
    FgsmOptions options = [] {
        FgsmOptions o;
        o.search = FgsmSearch::bisection;
        return o;
    }();

    /// Names the search and the loss when they are not the defaults, so that a log written
    /// with other FGSM settings is not resumed as if it were this objective's.
    std::string name() const
    {
        std::string n = "fgsm_median_epsilon";
        if (options.search == FgsmSearch::grid) n += "_grid";
        if (options.loss == AttackLoss::cross_entropy) n += "_cross_entropy";
        return n;
    }

    template <class T>
    double operator()(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y) const
    {
        return fgsm(net, x, y, options).median_epsilon();
    }
};

/// Median DeepFool distance (mean squared distance per input).
struct DeepFoolObjective {
    DeepFoolOptions options;

    std::string name() const { return "deepfool_median_distance"; }

    template <class T>
    double operator()(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y) const
    {
        return deepfool(net, x, y, options).median_distance();
    }
};

/// Mean accuracy under Gaussian noise over the given standard deviations (the same noise
/// for every candidate: drawn from an engine seeded with `seed` at each call).
struct NoiseObjective {
    std::vector<double> std_devs{0.5, 0.7};
    std::uint64_t seed = 1;

    std::string name() const { return "noise_accuracy"; }

    template <class T>
    double operator()(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y) const
    {
        if (std_devs.empty()) throw invalid_argument("NoiseObjective: no noise levels");
        double sum = 0.0;
        default_engine engine(seed);
        for (double s : std_devs) {
            const matrix<T> noisy = gaussian_noise(x, s, NoiseLevel::std_dev, engine);
            sum += accuracy(net, noisy, y);
        }
        return sum / static_cast<double>(std_devs.size());
    }
};

}  // namespace sleepnet
