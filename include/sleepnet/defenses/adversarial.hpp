#pragma once
// Adversarial training, the reference defense robustness results are compared with.
//
//   PGD-AT (Madry et al. 2018): every batch is replaced by the end point of an L-inf PGD
//     attack on the current weights (random start in the ball, `steps` sign steps), and
//     one SGD step is taken on it;
//   FGSM-RS (Wong et al. 2020, "Fast is better than free"): the same with ONE sign step of
//     1.25 eps from a uniform random start, projected back onto the ball.
//
//   sleepnet::AdversarialTrainingOptions adv;               // PGD-AT, eps 0.1, 10 steps
//   auto report = sleepnet::adversarial_train(net, data.train, sleepnet::MseLoss{},
//                                             sleepnet::SgdOptions{}, adv, engine);
//
// The training attack (training_adversarials) differs from the evaluation attack pgd()
// of attacks/pgd.hpp on purpose: it attacks EVERY row (misclassified ones too), never
// stops early at the first misclassified iterate, and returns the last iterate (Madry's
// loss-maximising point). Its gradients come from the deterministic test-mode passes
// (exact_forward / exact_backward: no dropout sampled, test-time dropout scaling
// applied), on the logits with options.attack_loss (cross-entropy or margin). Each step:
//   x' <- P(x' + alpha sign(grad)),  P = projection onto {|x' - x|_inf <= r} n [lo, hi]
// with r = epsilon (hi - lo) and alpha = step_size (hi - lo): step_size is ABSOLUTE, in
// units of the input range (unlike PgdOptions::step_size, a fraction of eps).
//
// The SGD step on the crafted rows is exactly train()'s: a training-mode forward pass
// (dropout as the network is configured), `loss` against the one-hot labels, Sgd::step.
// With clean_fraction f > 0 the clean rows join the batch and the loss is
// (1 - f) L(adversarial) + f L(clean). Epochs, shuffling, batches, callbacks
// (on_begin_epoch, on_batch, on_end_epoch with TrainInfo; true stops) and the report are
// as in train().
//
// Randomness: only the caller's engine. adversarial_train draws one 64-bit seed first,
// then shuffles and dropout masks as train() does; the random start of data row i in
// epoch e comes from rng::stream(seed, i, e + 1), so it does not depend on the batch.
// Same seed, same machine, same thread count -> identical weights.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/enum_names.hpp"
#include "../attacks/common.hpp"
#include "../attacks/logit_losses.hpp"
#include "../attacks/pgd.hpp"
#include "../core/callbacks.hpp"
#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../data/dataset.hpp"
#include "../nn/dense_network.hpp"
#include "../nn/sgd.hpp"
#include "../nn/train.hpp"

namespace sleepnet {

enum class AdversarialTrainingMethod {
    pgd,      ///< Madry et al. 2018: `steps` PGD steps from a random start
    fgsm_rs,  ///< Wong et al. 2020: one FGSM step of 1.25 eps from a random start
};

template <>
struct EnumNames<AdversarialTrainingMethod> {
    static constexpr const char* kind = "adversarial training method";
    static constexpr EnumName<AdversarialTrainingMethod> table[] = {{AdversarialTrainingMethod::pgd, "pgd"},
                                                                    {AdversarialTrainingMethod::fgsm_rs, "fgsm-rs"}};
};

/// "pgd" | "fgsm-rs" (the names to_string gives).
inline AdversarialTrainingMethod adversarial_training_method_from_string(const std::string& s)
{
    return enum_from_string<AdversarialTrainingMethod>(s);
}

struct AdversarialTrainingOptions {
    AdversarialTrainingMethod method = AdversarialTrainingMethod::pgd;
    double epsilon = 0.1;         ///< L-inf budget, units of the input range
    std::size_t steps = 10;       ///< pgd: attack steps per batch (fgsm_rs: always 1, this is ignored)
    double step_size = 0.0;       ///< absolute, units of the input range; 0 = 2.5 eps / steps (pgd), 1.25 eps (fgsm_rs)
    double clean_fraction = 0.0;  ///< weight of the clean rows in each batch's loss (0 = adversarial only, Madry)
    LogitLoss attack_loss = LogitLoss::cross_entropy;  ///< cross_entropy or margin, on the logits
    Bounds bounds;                                     ///< valid input range (the data must lie in it)
    bool random_start = true;                          ///< start uniformly in the ball (false: at x; both methods)

    /// Throws invalid_argument naming the field and its value.
    void validate() const
    {
        const std::string who = "AdversarialTrainingOptions";
        auto fail = [&](const std::string& m) { throw invalid_argument(who + ": " + m); };
        check::finite_positive(who, "epsilon", epsilon, "(use train() for clean training)");
        if (method == AdversarialTrainingMethod::pgd && steps == 0) fail("steps must be > 0 with method pgd, got 0");
        if (!(step_size >= 0.0) || !std::isfinite(step_size))
            fail("step_size must be finite and >= 0 (0 = default), got " + std::to_string(step_size));
        check::in_range(who, "clean_fraction", clean_fraction, 0.0, 1.0, check::Interval::closed_open,
                        "(1 is clean training: use train())");
        if (attack_loss != LogitLoss::cross_entropy && attack_loss != LogitLoss::margin)
            fail("attack_loss must be ce or margin, got " + to_string(attack_loss));
        if (!(bounds.hi > bounds.lo) || !std::isfinite(bounds.lo) || !std::isfinite(bounds.hi))
            fail("bounds must satisfy lo < hi (finite), got [" + std::to_string(bounds.lo) + ", " +
                 std::to_string(bounds.hi) + "]");
    }

    /// Attack steps actually taken per batch.
    std::size_t attack_steps() const { return method == AdversarialTrainingMethod::fgsm_rs ? 1 : steps; }

    /// The step size actually used (units of the input range).
    double effective_step_size() const
    {
        if (step_size > 0.0) return step_size;
        return method == AdversarialTrainingMethod::fgsm_rs ? 1.25 * epsilon
                                                            : 2.5 * epsilon / static_cast<double>(steps);
    }
};

namespace detail {

/// Buffers of the training attack, reused across batches.
template <class T>
using TrainingAttackScratch = LogitPass<T>;

/// The training attack on n rows at x0 (row-major, n x d): adv <- the last iterate. Row r
/// starts from rng::stream(base, ids[r], round) when options.random_start.
template <class T>
inline void craft_training_adversarials(const DenseNetwork<T>& net, const T* x0, std::size_t n,
                                        const std::size_t* labels, const std::size_t* ids, std::uint64_t base,
                                        std::uint64_t round, const AdversarialTrainingOptions& o, matrix<T>& adv,
                                        TrainingAttackScratch<T>& w)
{
    const std::size_t d = net.input_size();
    const double range = o.bounds.hi - o.bounds.lo;
    const T radius = static_cast<T>(o.epsilon * range);
    const double alpha = o.effective_step_size() * range;
    resize_if_needed(adv, n, d);
    for (std::size_t r = 0; r < n; ++r) {
        T* v = adv.data() + r * d;
        if (o.random_start) {
            default_engine e = rng::stream(base, ids[r], round);
            pgd_random_start(v, x0 + r * d, d, radius, Norm::linf, o.bounds, e);
        } else {
            std::copy(x0 + r * d, x0 + (r + 1) * d, v);
        }
    }
    for (std::size_t step = 0; step < o.attack_steps(); ++step) {
        logit_pass(
            net, adv.data(), n, o.attack_loss, [&](std::size_t r) { return labels[r]; },
            [](std::size_t) { return std::size_t{0}; }, true, w);
        for (std::size_t r = 0; r < n; ++r) {
            T* v = adv.data() + r * d;
            pgd_ascend(v, w.dx.data() + r * d, d, alpha, Norm::linf);
            pgd_project(v, x0 + r * d, d, radius, Norm::linf, o.bounds);
        }
    }
}

template <class T>
inline void adversarial_check(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                              const AdversarialTrainingOptions& o, const char* who)
{
    o.validate();
    check_attack_inputs(net, x, y, o.bounds, who);
    if (net.output_size() < 2) {
        throw invalid_argument(std::string(who) + ": the network has " + std::to_string(net.output_size()) +
                               " output; the attack losses need at least 2 classes");
    }
}

/// rows [begin, end) of src into dst at row `at` (dst already sized).
template <class T>
inline void copy_rows(const matrix<T>& src, std::size_t begin, std::size_t end, matrix<T>& dst, std::size_t at)
{
    const std::size_t cols = src.shape()[1];
    std::copy(src.data() + begin * cols, src.data() + end * cols, dst.data() + at * cols);
}

/// State of an adversarial training run: the optimizer, the one-hot targets and the
/// buffers of one batch.
template <class T>
class AdversarialTrainer {
public:
    AdversarialTrainer(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, const SgdOptions& sgd,
                       const AdversarialTrainingOptions& o, std::uint64_t base)
        : x_(x), y_(y), options_(o), base_(base), sgd_(net, sgd), targets_(one_hot<T>(y, net.output_size()))
    {
    }

    /// Crafts the adversarials of rows order[begin, end) with the current weights, then
    /// takes one SGD step on them (and the clean rows, when clean_fraction > 0). Returns
    /// the batch loss.
    template <class Loss, class Engine>
    double step(DenseNetwork<T>& net, const Loss& loss, const std::vector<std::size_t>& order, std::size_t begin,
                std::size_t end, std::size_t epoch, Engine& engine)
    {
        gather_rows(x_, order, begin, end, xb_);
        gather_rows(targets_, order, begin, end, yb_);
        labels_.resize(end - begin);
        for (std::size_t i = begin; i < end; ++i) labels_[i - begin] = y_(order[i]);
        craft_training_adversarials(net, xb_.data(), end - begin, labels_.data(), order.data() + begin, base_,
                                    epoch + 1, options_, adv_, scratch_);
        const double value =
            options_.clean_fraction > 0.0 ? mixed_pass(net, loss, engine) : plain_pass(net, loss, engine);
        if (std::isfinite(value)) sgd_.step(net, st_, dz_);
        return value;
    }

private:
    const matrix<T>& x_;
    const label_vector& y_;
    AdversarialTrainingOptions options_;
    std::uint64_t base_;
    Sgd<T> sgd_;
    matrix<T> targets_;
    matrix<T> xb_, yb_, adv_, mixed_, dz_;
    matrix<T> half_z_, half_a_, half_dz_;
    std::vector<std::size_t> labels_;
    ForwardState<T> st_;
    TrainingAttackScratch<T> scratch_;

    template <class Loss, class Engine>
    double plain_pass(DenseNetwork<T>& net, const Loss& loss, Engine& engine)
    {
        net.forward(adv_, st_, Mode::train, &engine);
        return static_cast<double>(loss(st_.logits(), st_.output(), yb_, net.options().output, &dz_));
    }

    /// One training-mode pass over [adversarial; clean] rows; loss and dz weighted
    /// (1 - f) and f per half (each half's loss is its own batch mean).
    template <class Loss, class Engine>
    double mixed_pass(DenseNetwork<T>& net, const Loss& loss, Engine& engine)
    {
        const std::size_t n = xb_.shape()[0], d = xb_.shape()[1], c = net.output_size();
        resize_if_needed(mixed_, 2 * n, d);
        copy_rows(adv_, 0, n, mixed_, 0);
        copy_rows(xb_, 0, n, mixed_, n);
        net.forward(mixed_, st_, Mode::train, &engine);
        resize_if_needed(dz_, 2 * n, c);
        resize_if_needed(half_z_, n, c);
        resize_if_needed(half_a_, n, c);
        double value = 0.0;
        for (std::size_t h = 0; h < 2; ++h) {
            const double weight = h == 0 ? 1.0 - options_.clean_fraction : options_.clean_fraction;
            copy_rows(st_.logits(), h * n, (h + 1) * n, half_z_, 0);
            copy_rows(st_.output(), h * n, (h + 1) * n, half_a_, 0);
            value += weight * static_cast<double>(loss(half_z_, half_a_, yb_, net.options().output, &half_dz_));
            const T wt = static_cast<T>(weight);
            T* out = dz_.data() + h * n * c;
            for (std::size_t k = 0; k < n * c; ++k) out[k] = wt * half_dz_.data()[k];
        }
        return value;
    }
};

}  // namespace detail

/// The training attack alone, on every row of x (labels y, inputs inside options.bounds):
/// the adversarial rows (N x D) adversarial_train would train on with the network as it
/// is. Draws one 64-bit seed from `engine`; row i starts from rng::stream(seed, i, 0).
template <class T, class Engine>
inline matrix<T> training_adversarials(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                       const AdversarialTrainingOptions& options, Engine& engine)
{
    detail::adversarial_check(net, x, y, options, "training_adversarials");
    const std::uint64_t base = rng::bits64(engine);
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    matrix<T> out = matrix<T>::from_shape({n, d});
    std::vector<std::size_t> ids(n), labels(n);
    std::iota(ids.begin(), ids.end(), std::size_t{0});
    for (std::size_t i = 0; i < n; ++i) labels[i] = y(i);
    detail::TrainingAttackScratch<T> w;
    matrix<T> block;
    for (std::size_t start = 0; start < n; start += detail::inference_chunk) {
        const std::size_t stop = std::min(n, start + detail::inference_chunk);
        detail::craft_training_adversarials(net, x.data() + start * d, stop - start, labels.data() + start,
                                            ids.data() + start, base, 0, options, block, w);
        detail::copy_rows(block, 0, stop - start, out, start);
    }
    return out;
}

/// Adversarial training of `net` in place on (x, y): per batch, the training attack on
/// the current weights, then one SGD step with `loss` on the crafted rows (one-hot
/// targets of y; classes = net.output_size()). Epochs, shuffling, batches, callbacks and
/// the report as in train().
template <class T, class Loss, class Engine, class... Callbacks>
inline TrainReport adversarial_train(DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, const Loss& loss,
                                     const SgdOptions& sgd, const AdversarialTrainingOptions& adv, Engine& engine,
                                     Callbacks&&... callbacks)
{
    sgd.validate();
    detail::adversarial_check(net, x, y, adv, "adversarial_train");
    const std::size_t n = x.shape()[0];
    if (n == 0) throw invalid_argument("adversarial_train: no training samples");
    detail::AdversarialTrainer<T> trainer(net, x, y, sgd, adv, rng::bits64(engine));
    return detail::run_epochs(
        n, sgd, engine, "adversarial_train",
        [&](const std::vector<std::size_t>& order, std::size_t begin, std::size_t end, std::size_t epoch) {
            return trainer.step(net, loss, order, begin, end, epoch, engine);
        },
        std::forward<Callbacks>(callbacks)...);
}

/// adversarial_train on a labelled data set; data.classes must equal net.output_size().
template <class T, class Loss, class Engine, class... Callbacks>
inline TrainReport adversarial_train(DenseNetwork<T>& net, const Dataset<T>& data, const Loss& loss,
                                     const SgdOptions& sgd, const AdversarialTrainingOptions& adv, Engine& engine,
                                     Callbacks&&... callbacks)
{
    if (data.classes != net.output_size()) {
        throw invalid_argument("adversarial_train: data set '" + data.name + "' has " + std::to_string(data.classes) +
                               " classes, the network has " + std::to_string(net.output_size()) + " outputs");
    }
    return adversarial_train(net, data.x, data.y, loss, sgd, adv, engine, std::forward<Callbacks>(callbacks)...);
}

}  // namespace sleepnet
