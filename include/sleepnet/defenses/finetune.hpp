#pragma once
// Fine-tuning (adversarial retraining), the paper's second baseline defense.
//
// From a trained network: train further with a reduced learning rate (0.05, momentum and
// batch as the authors' SGD: 0.5, 100) for a few epochs (2) over the training set in which
// some rows (the first 5,000 by default) are replaced by images made by a generator
// (perturbed, adversarial, noisy or blurred versions of those rows). Replaced rows keep
// their labels.
//
//   auto gen = sleepnet::fgsm_random_step_generator(control);     // or attack / noise / blur
//   auto tuned = sleepnet::finetune(control, data.train, sleepnet::MseLoss{}, gen,
//                                   sleepnet::FinetuneOptions{}, engine);
//
// A generator is any callable
//     matrix<T> gen(const matrix<T>& x_subset, const label_vector& y_subset, Engine& engine)
// returning one image per row of x_subset (same shape). It is called ONCE, before the
// first epoch, with the rows to replace in the order of FinetuneOptions::rows (or 0, 1,
// ... replace-1); the mixture is then used for every epoch. Generators that look at a
// network (FGSM, attacks) hold a reference to it: pass the network as it is before fine-
// tuning (finetune() never modifies the caller's network).
//
// Randomness: only the caller's engine: first the generator's draws, then train()'s
// (shuffles, dropout masks). Same seed, same result.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../attacks/common.hpp"
#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../data/dataset.hpp"
#include "../distort/blur.hpp"
#include "../distort/noise.hpp"
#include "../nn/dense_network.hpp"
#include "../nn/sgd.hpp"
#include "../nn/train.hpp"

namespace sleepnet {

/// The paper's fine-tuning SGD: lr 0.05, momentum 0.5, batch 100, 2 epochs.
inline SgdOptions finetune_sgd_options()
{
    SgdOptions s;
    s.learning_rate = 0.05;
    return s;
}

struct FinetuneOptions {
    SgdOptions sgd = finetune_sgd_options();
    /// Replace the first `replace` rows (clamped to the training set size). Ignored when
    /// `rows` is not empty.
    std::size_t replace = 5000;
    /// Explicit rows to replace (distinct, each < N), in the order the generator sees them.
    std::vector<std::size_t> rows;
};

struct FinetuneReport {
    std::vector<std::size_t> rows;  ///< the replaced rows, in generator order
    TrainReport train;
};

template <class T>
struct FinetuneResult {
    DenseNetwork<T> network;
    FinetuneReport report;
};

namespace detail {

inline std::vector<std::size_t> finetune_rows(const FinetuneOptions& o, std::size_t n, const char* who)
{
    if (o.rows.empty()) {
        std::vector<std::size_t> r(std::min(o.replace, n));
        for (std::size_t i = 0; i < r.size(); ++i) r[i] = i;
        return r;
    }
    std::vector<bool> seen(n, false);
    for (std::size_t k = 0; k < o.rows.size(); ++k) {
        const std::size_t r = o.rows[k];
        if (r >= n) {
            throw invalid_argument(std::string(who) + ": rows[" + std::to_string(k) + "] = " + std::to_string(r) +
                                   " is out of range (training set has " + std::to_string(n) + " rows)");
        }
        if (seen[r]) {
            throw invalid_argument(std::string(who) + ": rows[" + std::to_string(k) + "] = " + std::to_string(r) +
                                   " is repeated");
        }
        seen[r] = true;
    }
    return o.rows;
}

}  // namespace detail

/// The fine-tuning inputs: x with the chosen rows replaced by generator images (the rows
/// used are written to `rows_out` when not null). Labels are not touched (the caller's y
/// goes with the result). Throws invalid_argument on shape mismatches, bad rows or a
/// generator result of the wrong shape, numeric_error on non-finite generated values.
template <class T, class Generator, class Engine>
inline matrix<T> finetune_inputs(const matrix<T>& x, const label_vector& y, Generator&& generator,
                                 const FinetuneOptions& options, Engine& engine,
                                 std::vector<std::size_t>* rows_out = nullptr)
{
    const std::size_t n = x.shape()[0];
    const std::size_t d = x.shape()[1];
    if (n == 0) {
        throw invalid_argument("finetune: no training samples (x has 0 rows)");
    }
    if (y.size() != n) {
        throw invalid_argument("finetune: x has " + std::to_string(n) + " rows but y has " + std::to_string(y.size()) +
                               " labels");
    }
    const std::vector<std::size_t> rows = detail::finetune_rows(options, n, "finetune");
    matrix<T> out = x;
    if (!rows.empty()) {
        matrix<T> xs = matrix<T>::from_shape({rows.size(), d});
        label_vector ys = label_vector::from_shape({rows.size()});
        for (std::size_t k = 0; k < rows.size(); ++k) {
            std::copy(x.data() + rows[k] * d, x.data() + (rows[k] + 1) * d, xs.data() + k * d);
            ys(k) = y(rows[k]);
        }
        const matrix<T> gen =
            generator(static_cast<const matrix<T>&>(xs), static_cast<const label_vector&>(ys), engine);
        if (gen.dimension() != 2 || gen.shape()[0] != rows.size() || gen.shape()[1] != d) {
            throw invalid_argument("finetune: the generator returned shape " + detail::shape_string(gen) +
                                   ", expected (" + std::to_string(rows.size()) + ", " + std::to_string(d) + ")");
        }
        for (std::size_t k = 0; k < gen.size(); ++k) {
            if (!std::isfinite(static_cast<double>(gen.data()[k]))) {
                throw numeric_error("finetune: the generator returned a non-finite value in row " +
                                    std::to_string(k / d) + ", column " + std::to_string(k % d));
            }
        }
        for (std::size_t k = 0; k < rows.size(); ++k) {
            std::copy(gen.data() + k * d, gen.data() + (k + 1) * d, out.data() + rows[k] * d);
        }
    }
    if (rows_out != nullptr) *rows_out = rows;
    return out;
}

/// Fine-tunes `net` in place on (x with generated rows, one-hot y) with `loss` (the
/// network's training loss; the authors: MseLoss). Classes = net.output_size().
/// Callbacks as in train().
template <class T, class Loss, class Generator, class Engine, class... Callbacks>
inline FinetuneReport finetune_in_place(DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                        const Loss& loss, Generator&& generator, const FinetuneOptions& options,
                                        Engine& engine, Callbacks&&... callbacks)
{
    options.sgd.validate();
    net.check_input(x, "finetune");
    if (y.size() != x.shape()[0]) {
        throw invalid_argument("finetune: x has " + std::to_string(x.shape()[0]) + " rows but y has " +
                               std::to_string(y.size()) + " labels");
    }
    for (std::size_t i = 0; i < y.size(); ++i) {
        if (y(i) >= net.output_size()) {
            throw invalid_argument("finetune: label y(" + std::to_string(i) + ") = " + std::to_string(y(i)) +
                                   " is not below the network's " + std::to_string(net.output_size()) + " outputs");
        }
    }
    FinetuneReport report;
    const matrix<T> mixed = finetune_inputs(x, y, std::forward<Generator>(generator), options, engine, &report.rows);
    report.train = train(net, mixed, one_hot<T>(y, net.output_size()), loss, options.sgd, engine,
                         std::forward<Callbacks>(callbacks)...);
    return report;
}

template <class T, class Loss, class Generator, class Engine, class... Callbacks>
inline FinetuneReport finetune_in_place(DenseNetwork<T>& net, const Dataset<T>& data, const Loss& loss,
                                        Generator&& generator, const FinetuneOptions& options, Engine& engine,
                                        Callbacks&&... callbacks)
{
    if (data.classes != net.output_size()) {
        throw invalid_argument("finetune: data set '" + data.name + "' has " + std::to_string(data.classes) +
                               " classes, the network has " + std::to_string(net.output_size()) + " outputs");
    }
    return finetune_in_place(net, data.x, data.y, loss, std::forward<Generator>(generator), options, engine,
                             std::forward<Callbacks>(callbacks)...);
}

/// Fine-tunes a copy of `net`; the caller's network is not modified.
template <class T, class Loss, class Generator, class Engine, class... Callbacks>
inline FinetuneResult<T> finetune(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                  const Loss& loss, Generator&& generator, const FinetuneOptions& options,
                                  Engine& engine, Callbacks&&... callbacks)
{
    DenseNetwork<T> copy = net;
    FinetuneReport r = finetune_in_place(copy, x, y, loss, std::forward<Generator>(generator), options, engine,
                                         std::forward<Callbacks>(callbacks)...);
    return {std::move(copy), std::move(r)};
}

template <class T, class Loss, class Generator, class Engine, class... Callbacks>
inline FinetuneResult<T> finetune(const DenseNetwork<T>& net, const Dataset<T>& data, const Loss& loss,
                                  Generator&& generator, const FinetuneOptions& options, Engine& engine,
                                  Callbacks&&... callbacks)
{
    DenseNetwork<T> copy = net;
    FinetuneReport r = finetune_in_place(copy, data, loss, std::forward<Generator>(generator), options, engine,
                                         std::forward<Callbacks>(callbacks)...);
    return {std::move(copy), std::move(r)};
}

// ---------------------------------------------------------------------------------------
// Ready-made generators

/// FGSM with a random step (the authors' fine-tuning images):
///   x' = clip(x + eps * sign(d loss(x, y) / dx), lo, hi),  eps ~ U[0, max_epsilon)
/// with eps drawn per PIXEL (the authors' code: one draw per pixel, so the step is a random
/// mask of sizes, not one epsilon per image) or, with per_pixel = false, once per image.
/// The gradient is taken in test mode on the network given to the generator, with the
/// attack loss (default: the authors' MSE delta, as their FGSM). sign(0) = 0.
/// Draw order: per_pixel: one uniform per element, row-major; per image: one per row.
struct FgsmRandomStepOptions {
    double max_epsilon = 0.1;
    bool per_pixel = true;
    AttackLoss loss = AttackLoss::network;
    Bounds bounds;

    void validate() const
    {
        check::finite_nonnegative("FgsmRandomStepOptions", "max_epsilon", max_epsilon);
        if (!(bounds.hi > bounds.lo) || !std::isfinite(bounds.lo) || !std::isfinite(bounds.hi)) {
            throw invalid_argument("FgsmRandomStepOptions: bounds must satisfy lo < hi, got [" +
                                   std::to_string(bounds.lo) + ", " + std::to_string(bounds.hi) + "]");
        }
    }
};

template <class T>
class FgsmRandomStepGenerator {
public:
    FgsmRandomStepGenerator(const DenseNetwork<T>& net, FgsmRandomStepOptions options) : net_(&net), options_(options)
    {
        options_.validate();
    }

    template <class Engine>
    matrix<T> operator()(const matrix<T>& x, const label_vector& y, Engine& engine) const
    {
        detail::check_attack_inputs(*net_, x, y, options_.bounds, "fgsm_random_step");
        const std::size_t n = x.shape()[0];
        const std::size_t d = x.shape()[1];
        matrix<T> out = matrix<T>::from_shape({n, d});
        if (n == 0) return out;
        const matrix<T> g = detail::loss_input_gradient(*net_, x, y, options_.loss);
        const double lo = options_.bounds.lo, hi = options_.bounds.hi;
        for (std::size_t i = 0; i < n; ++i) {
            double eps = options_.per_pixel ? 0.0 : rng::uniform<double>(engine, 0.0, options_.max_epsilon);
            for (std::size_t j = 0; j < d; ++j) {
                if (options_.per_pixel) eps = rng::uniform<double>(engine, 0.0, options_.max_epsilon);
                const double gv = static_cast<double>(g(i, j));
                const double s = gv > 0.0 ? 1.0 : (gv < 0.0 ? -1.0 : 0.0);
                const double v = static_cast<double>(x(i, j)) + eps * s;
                out(i, j) = static_cast<T>(std::min(hi, std::max(lo, v)));
            }
        }
        return out;
    }

    const FgsmRandomStepOptions& options() const { return options_; }

private:
    const DenseNetwork<T>* net_;  // not owned; must outlive the generator
    FgsmRandomStepOptions options_;
};

/// FGSM random-step images on `net` (kept by reference: it must outlive the generator).
template <class T>
inline FgsmRandomStepGenerator<T> fgsm_random_step_generator(const DenseNetwork<T>& net,
                                                             FgsmRandomStepOptions options = {})
{
    return FgsmRandomStepGenerator<T>(net, options);
}

/// Adversarial images from an attack: `attack` is called as attack(x, y, engine) when it
/// accepts an engine (e.g. the Boundary attack), else attack(x, y), and must return an
/// AttackResult<T> for those rows. Rows where the attack did not succeed (failed, or
/// skipped because x was already misclassified) get the clean image.
///
///   auto gen = sleepnet::attack_generator([&](const auto& x, const auto& y) { return sleepnet::deepfool(control, x, y); });
template <class Attack>
class AttackGenerator {
public:
    explicit AttackGenerator(Attack attack) : attack_(std::move(attack)) {}

    template <class T, class Engine>
    matrix<T> operator()(const matrix<T>& x, const label_vector& y, Engine& engine)
    {
        auto result = call(x, y, engine);
        const std::size_t n = x.shape()[0];
        const std::size_t d = x.shape()[1];
        if (result.adversarial.shape()[0] != n || result.adversarial.shape()[1] != d || result.samples.size() != n) {
            throw invalid_argument("attack_generator: the attack returned " + detail::shape_string(result.adversarial) +
                                   " adversarials and " + std::to_string(result.samples.size()) + " samples for " +
                                   std::to_string(n) + " inputs of " + std::to_string(d) + " values");
        }
        matrix<T> out = std::move(result.adversarial);
        for (std::size_t i = 0; i < n; ++i) {
            if (!result.samples[i].success) {
                std::copy(x.data() + i * d, x.data() + (i + 1) * d, out.data() + i * d);
            }
        }
        return out;
    }

private:
    Attack attack_;

    template <class T, class Engine>
    auto call(const matrix<T>& x, const label_vector& y, Engine& engine)
    {
        if constexpr (std::is_invocable<Attack&, const matrix<T>&, const label_vector&, Engine&>::value) {
            return attack_(x, y, engine);
        } else {
            return attack_(x, y);
        }
    }
};

template <class Attack>
inline AttackGenerator<std::decay_t<Attack>> attack_generator(Attack&& attack)
{
    return AttackGenerator<std::decay_t<Attack>>(std::forward<Attack>(attack));
}

/// Gaussian-noise images: gaussian_noise(x, level, kind, engine, lo, hi) (distort/noise.hpp).
struct GaussianNoiseGenerator {
    double level = 0.1;
    NoiseLevel kind = NoiseLevel::std_dev;
    double lo = 0.0;
    double hi = 1.0;

    template <class T, class Engine>
    matrix<T> operator()(const matrix<T>& x, const label_vector&, Engine& engine) const
    {
        return gaussian_noise(x, level, kind, engine, lo, hi);
    }
};

inline GaussianNoiseGenerator gaussian_noise_generator(double level, NoiseLevel kind = NoiseLevel::std_dev,
                                                       double lo = 0.0, double hi = 1.0)
{
    noise_sigma(level, kind, "gaussian_noise_generator", "level");  // validates now, not at fine-tuning time
    detail::distort_check_bounds("gaussian_noise_generator", lo, hi);
    return {level, kind, lo, hi};
}

/// Gaussian-blur images: gaussian_blur(x, rows, cols, sigma, border, lo, hi)
/// (distort/blur.hpp); draws nothing.
struct GaussianBlurGenerator {
    std::size_t rows = 28;
    std::size_t cols = 28;
    double sigma = 1.0;
    BorderMode border = BorderMode::reflect;
    double lo = 0.0;
    double hi = 1.0;

    template <class T, class Engine>
    matrix<T> operator()(const matrix<T>& x, const label_vector&, Engine&) const
    {
        return gaussian_blur(x, rows, cols, sigma, border, lo, hi);
    }
};

inline GaussianBlurGenerator gaussian_blur_generator(std::size_t rows, std::size_t cols, double sigma,
                                                     BorderMode border = BorderMode::reflect, double lo = 0.0,
                                                     double hi = 1.0)
{
    check_blur_sigma(sigma, "gaussian_blur_generator", "sigma");
    detail::distort_check_bounds("gaussian_blur_generator", lo, hi);
    if (rows == 0 || cols == 0) {
        throw invalid_argument("gaussian_blur_generator: rows and cols must be > 0, got " + std::to_string(rows) +
                               " x " + std::to_string(cols));
    }
    return {rows, cols, sigma, border, lo, hi};
}

}  // namespace sleepnet
