#pragma once
// Combining attacks: the per-input worst case over several attacks (as AutoAttack reports
// it), robust accuracy read off minimal-budget results, and the transfer attack.
//
//   auto a = sleepnet::pgd_minimal(net, x, y, o, search, engine);
//   auto f = sleepnet::fmn(net, x, y);
//   auto w = sleepnet::worst_case({a, f});                  // per input: the smallest budget found
//   auto curve = sleepnet::robust_accuracy_curve(w, {0.05, 0.1, 0.2});
//
//   auto t = sleepnet::transfer_attack(control, defended, x, y, 0.1, o, engine);
//
// Transfer (Carlini et al. 2019, Croce & Hein 2020): adversarials crafted on a surrogate
// network (for example the undefended control) are evaluated on the defended one. The
// crafting runs every step of every run (no stop at the first adversarial) and keeps each
// run's loss-maximising point; an input counts as broken when the defended network
// misclassifies any of them. A transfer attack that beats the white-box attack on the
// defended network means that network's gradients are masked.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"
#include "pgd.hpp"

namespace sleepnet {

/// Per-input worst case over results of attacks on the same inputs and network: broken
/// when any attack broke it; epsilon = the smallest budget any attack reported (minimal-
/// budget attacks; NaN when none reports one); the adversarial and prediction of the attack
/// with that budget (else of the first that broke the input); iterations summed.
template <class T>
inline AttackResult<T> worst_case(const std::vector<AttackResult<T>>& results)
{
    if (results.empty()) throw invalid_argument("worst_case: no attack results");
    const auto& first = results.front();
    AttackResult<T> out = first;
    out.attack = "worst-case(";
    const std::size_t n = first.samples.size(), d = n == 0 ? 0 : first.adversarial.shape()[1];
    for (const auto& r : results) {
        if (r.samples.size() != n || r.adversarial.shape() != first.adversarial.shape())
            throw invalid_argument("worst_case: result '" + r.attack + "' has " + std::to_string(r.samples.size()) +
                                   " inputs, '" + first.attack + "' " + std::to_string(n));
        out.attack += (&r == &first ? "" : ", ") + r.attack;
    }
    out.attack += ")";
    auto budget = [](const AttackSample& s) {
        return s.success && !std::isnan(s.epsilon) ? s.epsilon : std::numeric_limits<double>::infinity();
    };
    for (std::size_t i = 0; i < n; ++i) {
        AttackSample& o = out.samples[i];
        for (std::size_t k = 1; k < results.size(); ++k) {
            const AttackSample& s = results[k].samples[i];
            if (s.label != o.label || s.attempted != o.attempted)
                throw invalid_argument("worst_case: input " + std::to_string(i) + " differs between '" + first.attack +
                                       "' and '" + results[k].attack + "' (not the same inputs and network)");
            o.iterations += s.iterations;
            const bool better = s.success && (!o.success || budget(s) < budget(o));
            if (!better) continue;
            const std::size_t iters = o.iterations;
            o = s;
            o.iterations = iters;
            const T* src = results[k].adversarial.data() + i * d;
            std::copy(src, src + d, out.adversarial.data() + i * d);
        }
    }
    return out;
}

/// Robust accuracy at budget eps read off a minimal-budget result (pgd_minimal, FMN, FGSM,
/// worst_case of those): inputs correctly classified whose minimal budget exceeds eps,
/// over all inputs. (Bisection and grids resolve budgets to their tolerance.)
template <class T>
inline double robust_accuracy_at(const AttackResult<T>& r, double eps)
{
    if (r.samples.empty()) return 0.0;
    std::size_t robust = 0;
    for (const auto& s : r.samples) {
        if (!s.attempted) continue;
        if (s.success && std::isnan(s.epsilon))
            throw invalid_argument("robust_accuracy_at: '" + r.attack +
                                   "' reports no budget per input (not a "
                                   "minimal-budget attack)");
        robust += !(s.success && s.epsilon <= eps);
    }
    return static_cast<double>(robust) / static_cast<double>(r.samples.size());
}

/// robust_accuracy_at for every budget of `eps`.
template <class T>
inline std::vector<double> robust_accuracy_curve(const AttackResult<T>& r, const std::vector<double>& eps)
{
    std::vector<double> out;
    for (double e : eps) out.push_back(robust_accuracy_at(r, e));
    return out;
}

namespace detail {

/// The loss-maximising point of one full run (no early stop) of `loss` on the surrogate,
/// for every row of x (the row itself where the ball is a point).
template <class T>
inline matrix<T> pgd_craft(const DenseNetwork<T>& surrogate, const matrix<T>& x, const label_vector& y,
                           const PgdJob& job, const PgdOptions& o, LogitLoss loss,
                           const std::vector<std::size_t>& target, std::uint64_t run)
{
    const std::size_t d = x.shape()[1];
    matrix<T> out = x;
    PgdState<T> s;
    for (std::size_t b = 0; b < job.rows.size(); b += o.batch) {
        const std::size_t n = std::min(o.batch, job.rows.size() - b);
        pgd_init_block(s, x, y, job.rows.data() + b, n, target, job, o, o.random_start, run);
        pgd_run(surrogate, o, loss, s, false);
        for (std::size_t slot = 0; slot < n; ++slot)
            std::copy(s.x_best.data() + slot * d, s.x_best.data() + (slot + 1) * d,
                      out.data() + job.rows[b + slot] * d);
    }
    return out;
}

}  // namespace detail

/// Transfer attack at budget eps: for each loss of options.losses (targeted_dlr: against
/// the surrogate's top other class), one full run on `surrogate`; success = `target`
/// misclassifies one of the crafted points. Inputs `target` misclassifies are skipped.
/// Restarts beyond the first and random_start draw from the engine, as in pgd().
template <class T, class Engine>
inline AttackResult<T> transfer_attack(const DenseNetwork<T>& surrogate, const DenseNetwork<T>& target,
                                       const matrix<T>& x, const label_vector& y, double epsilon,
                                       const PgdOptions& options, Engine& engine)
{
    detail::pgd_check(target, x, y, options, "transfer_attack");
    options.validate(surrogate.output_size());
    if (surrogate.input_size() != target.input_size() || surrogate.output_size() != target.output_size())
        throw invalid_argument("transfer_attack: the surrogate maps " + std::to_string(surrogate.input_size()) +
                               " -> " + std::to_string(surrogate.output_size()) + ", the target " +
                               std::to_string(target.input_size()) + " -> " + std::to_string(target.output_size()));
    check::finite_nonnegative("transfer_attack", "epsilon", epsilon);
    AttackResult<T> result = detail::start_result(target, x, y, "transfer-" + to_string(options.method));
    const detail::PgdJob job = detail::pgd_job(surrogate, x, y, result, epsilon, options, engine);
    const std::size_t d = x.shape()[1];
    std::uint64_t run = 0;
    for (LogitLoss loss : options.losses) {
        std::vector<std::size_t> tgt;
        if (loss == LogitLoss::targeted_dlr) {
            for (const auto& r : job.ranked) tgt.push_back(r.front());
        }
        for (std::size_t r = 0; r < options.restarts; ++r, ++run) {
            PgdOptions o = options;
            o.random_start = options.random_start || r > 0;
            const matrix<T> crafted = detail::pgd_craft(surrogate, x, y, job, o, loss, tgt, run);
            const label_vector p = target.predict(crafted);
            for (std::size_t row : job.rows) {
                auto& s = result.samples[row];
                ++s.iterations;
                if (s.success || p(row) == y(row)) continue;
                s.success = true;
                std::copy(crafted.data() + row * d, crafted.data() + (row + 1) * d,
                          result.adversarial.data() + row * d);
            }
        }
    }
    detail::verify_result(target, x, result, options.bounds);
    return result;
}

}  // namespace sleepnet
