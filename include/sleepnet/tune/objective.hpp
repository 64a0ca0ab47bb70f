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
#include <cstdio>
#include <string>
#include <vector>

#include "../attacks/deepfool.hpp"
#include "../attacks/fgsm.hpp"
#include "../attacks/pgd.hpp"
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

/// Robustness under APGD, the robustness objective to use (single-step FGSM rewards gradient
/// masking: docs/robustness.md). Mode robust_accuracy (default): robust accuracy at
/// `epsilon` over the validation inputs; mode minimal_epsilon: median minimal eps by
/// bisection (about 10x the cost). Attack settings in `options` (APGD, L-inf, CE then
/// margin, 100 steps); random starts (restarts > 1) draw from an engine seeded with `seed`
/// at each call, so every candidate meets the same attack.
struct PgdObjective {
    enum class Mode { robust_accuracy, minimal_epsilon };
    Mode mode = Mode::robust_accuracy;
    double epsilon = 0.1;
    PgdOptions options;
    MinimalEpsilonSearch search;
    std::uint64_t seed = 1;

    /// Names every setting, so that a log written with other attack settings is not
    /// resumed as if it were this objective's.
    std::string name() const
    {
        char buf[160];
        if (mode == Mode::robust_accuracy)
            std::snprintf(buf, sizeof buf, "%s_%s_robust_accuracy_eps%g", to_string(options.method).c_str(),
                          to_string(options.norm).c_str(), epsilon);
        else
            std::snprintf(buf, sizeof buf, "%s_%s_median_minimal_eps_max%g_tol%g", to_string(options.method).c_str(),
                          to_string(options.norm).c_str(), search.max_epsilon, search.tolerance);
        std::string n = buf;
        for (LogitLoss l : options.losses) n += "_" + to_string(l);
        n += "_steps" + std::to_string(options.steps) + "_restarts" + std::to_string(options.restarts);
        if (options.random_start) n += "_random_start";
        if (options.restarts > 1 || options.random_start) n += "_seed" + std::to_string(seed);
        return n;
    }

    template <class T>
    double operator()(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y) const
    {
        default_engine engine(seed);
        if (mode == Mode::minimal_epsilon) return pgd_minimal(net, x, y, options, search, engine).median_epsilon();
        return pgd(net, x, y, epsilon, options, engine).robust_accuracy();
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
