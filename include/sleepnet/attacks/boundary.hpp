#pragma once
// Boundary attack (Brendel, Rauber, Bethge 2017), following the reference implementation
// in Foolbox v1/v2 (BoundaryAttack with its default candidate generator and
// BlendedUniformNoiseAttack as the initialization).
//
//   sleepnet::default_engine engine(1);
//   auto r = sleepnet::boundary(net, x, y, sleepnet::BoundaryOptions{}, engine);
//
// Per correctly classified input x0 with label y ("adversarial" = argmax != y):
// 1. start: uniform noise images in [lo, hi] until one is adversarial (at most
//    init_tries); then blends (1 - e) x0 + e * noise for e = 1/blend_steps, 2/blend_steps,
//    ..., 1 (clipped), keeping the first adversarial one, i.e. the one closest to x0 along
//    the blend (Foolbox: linspace(0, 1, blend_steps + 1)[1:], first adversarial). No
//    adversarial noise image -> the input fails with 0 iterations.
// 2. steps 1, 2, ... (at most `iterations`; before each, stop when source_step <
//    convergence): with d = x0 - x_adv and rho = ||d||, each of `candidates` candidates is
//      eta ~ N(0, I); eta -= <eta, d/rho> d/rho; eta *= spherical_step * rho / ||eta||
//      s = clip(x0 + (eta - d) / sqrt(spherical_step^2 + 1))          (spherical candidate)
//      n = x0 - s; l = max(0, source_step * rho + ||n|| - rho) / ||n||  (corrects for the
//      deviation of s from the sphere after clipping)
//      c = clip(s + l * n)                                              (candidate)
//    so that ||x0 - c|| = (1 - source_step) rho unless clipping shortens it further.
//    On ordinary steps the candidates are checked in order and the first adversarial one
//    that is strictly closer to x0 becomes x_adv. Every `spherical_check_every`-th step
//    (Foolbox: 10) is a statistics step: all spherical candidates are checked and their
//    outcomes enter the spherical window; the candidates whose spherical candidate was
//    adversarial are checked, their outcomes enter the source window, and the first
//    adversarial (strictly closer) one is accepted. A candidate whose spherical candidate
//    is not adversarial is not considered on a statistics step (Foolbox).
//    (This is Foolbox with batch_size = max_directions and no batch-size tuning: the
//    windows receive the outcomes of all candidates of a statistics step.)
// 3. after every step (Foolbox update_step_sizes): when the spherical window (last
//    spherical_window = 100 outcomes) is full, a success rate > 0.5 multiplies both steps by
//    step_adaptation, < 0.2 divides both, and a change clears the window; the source window
//    (last source_window = 30 outcomes) likewise scales source_step alone.
// Foolbox's extra convergence confirmation (resetting the steps to 0.01 and requiring 100
// more converged steps) is not reproduced: the attack stops at the first step whose
// source_step is below `convergence`. AttackSample::iterations = steps taken.
//
// Numerics: candidates are computed in double and rounded to T before the network sees
// them; x_adv is always such a rounded, verified point, and distances are computed from it.
//
// Random numbers and reproducibility: before anything else the attack draws exactly one
// 64-bit value per input row from `engine` (rng::bits64, rows in order, attempted or not)
// and nothing more. Row i's draws come from std::mt19937_64 engines seeded from that value
// and the step number (step 0: initialization; step s: the candidates of step s), so
// - the same engine state gives the same result, on any machine (sleepnet's own
//   distributions);
// - results do not depend on batching: attacking rows [0, a) and then rows [a, n) with the
//   same engine gives exactly the result of attacking rows [0, n) at once;
// - candidates are drawn lazily in order, so evaluating them in chunks (which this
//   implementation does, to stop early) does not change which candidate is accepted.
// All inputs still running are advanced together: the candidates of a step (of every
// running input) are classified in one deterministic logits pass.
//
// Callbacks (core/callbacks.hpp): on_step(const BoundaryStep<T>&) is called for every
// running input after its starting point is found (step 0) and after each step; returning
// true stops that input (its best adversarial so far is kept).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/callbacks.hpp"
#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../detail/exact_gemm.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"

namespace sleepnet {

struct BoundaryOptions {
    std::size_t iterations = 1000;   ///< maximal number of steps per input
    std::size_t candidates = 25;     ///< candidates per step (Foolbox max_directions)
    double spherical_step = 0.01;    ///< initial spherical step, relative to the distance
    double source_step = 0.01;       ///< initial step towards the input, relative to the distance
    double step_adaptation = 1.5;    ///< factor by which steps grow or shrink
    double convergence = 1e-7;       ///< stop when source_step falls below this
    std::size_t init_tries = 1000;   ///< uniform noise images tried for a start
    std::size_t blend_steps = 1000;  ///< blends between input and noise image
    Bounds bounds;
    std::size_t spherical_check_every = 10;  ///< statistics step period (Foolbox: every 10th step)
    std::size_t spherical_window = 100;      ///< outcomes kept for the spherical success rate
    std::size_t source_window = 30;          ///< outcomes kept for the source-step success rate
};

/// What on_step callbacks see.
template <class T>
struct BoundaryStep {
    std::size_t sample = 0;       ///< row of the input matrix
    std::size_t step = 0;         ///< 0: starting point; then 1, 2, ...
    double distance = 0.0;        ///< mean squared distance of the current adversarial
    double spherical_step = 0.0;  ///< step sizes after this step's adaptation
    double source_step = 0.0;
    bool improved = false;     ///< a candidate was accepted in this step (true at step 0)
    const T* point = nullptr;  ///< the current adversarial (size values)
    std::size_t size = 0;
};

namespace detail {

/// Throws invalid_argument naming the first option of o that is out of range.
inline void check_boundary_options(const BoundaryOptions& o)
{
    check::at_least("boundary", "options.candidates", o.candidates, 1);
    check::at_least("boundary", "options.init_tries", o.init_tries, 1);
    check::at_least("boundary", "options.blend_steps", o.blend_steps, 1);
    check::at_least("boundary", "options.spherical_check_every", o.spherical_check_every, 1);
    check::at_least("boundary", "options.spherical_window", o.spherical_window, 1);
    check::at_least("boundary", "options.source_window", o.source_window, 1);
    check::finite_positive("boundary", "options.spherical_step", o.spherical_step);
    check::finite_positive("boundary", "options.source_step", o.source_step);
    if (!(o.source_step < 1.0)) {
        throw invalid_argument("boundary: options.source_step must be < 1, got " + std::to_string(o.source_step));
    }
    check::finite_positive("boundary", "options.convergence", o.convergence);
    if (!(o.step_adaptation > 1.0) || !std::isfinite(o.step_adaptation)) {
        throw invalid_argument("boundary: options.step_adaptation must be finite and > 1, got " +
                               std::to_string(o.step_adaptation));
    }
}

/// Inputs attacked together (bounds memory: a statistics step classifies
/// boundary_group * candidates points at once).
constexpr std::size_t boundary_group = 256;

/// The engine of row draws for one step (0 = initialization).
inline std::mt19937_64 boundary_engine(std::uint64_t row_seed, std::size_t step)
{
    return std::mt19937_64(rng::mix64(row_seed ^ rng::mix64(0x5bd1e995ull + static_cast<std::uint64_t>(step))));
}

/// Per-input state of the attack.
template <class T>
struct BoundaryState {
    std::size_t row = 0;
    std::uint64_t seed = 0;
    std::vector<T> noise;  ///< initialization: the adversarial noise image
    std::vector<T> cur;    ///< current adversarial
    double sq = 0.0;       ///< ||cur - x0||^2
    double spherical = 0.0;
    double source = 0.0;
    std::deque<bool> spherical_hits;
    std::deque<bool> source_hits;
    std::size_t steps = 0;
    bool stopped = false;
    // scratch of the current step
    std::mt19937_64 engine;
    std::vector<double> dir;  ///< x0 - cur
    double rho = 0.0;
    std::size_t generated = 0;
    bool improved = false;
};

/// Appends outcome v to window w, keeping its last cap outcomes.
inline void boundary_push(std::deque<bool>& w, bool v, std::size_t cap)
{
    w.push_back(v);
    while (w.size() > cap) w.pop_front();
}

/// Fraction of true outcomes in a non-empty window.
inline double boundary_rate(const std::deque<bool>& w)
{
    std::size_t k = 0;
    for (bool b : w) k += b ? 1 : 0;
    return static_cast<double>(k) / static_cast<double>(w.size());
}

/// Step-size adaptation from the full windows of s (Foolbox update_step_sizes).
template <class T>
inline void boundary_adapt(BoundaryState<T>& s, const BoundaryOptions& o)
{
    const bool full_s = s.spherical_hits.size() >= o.spherical_window;
    const bool full_c = s.source_hits.size() >= o.source_window;
    if (!full_s && !full_c) return;
    if (full_s) {
        const double p = boundary_rate(s.spherical_hits);
        if (p > 0.5) {
            s.spherical *= o.step_adaptation;
            s.source *= o.step_adaptation;
            s.spherical_hits.clear();
        } else if (p < 0.2) {
            s.spherical /= o.step_adaptation;
            s.source /= o.step_adaptation;
            s.spherical_hits.clear();
        }
    }
    if (full_c) {
        const double p = boundary_rate(s.source_hits);
        if (p > 0.5) {
            s.source *= o.step_adaptation;
            s.source_hits.clear();
        } else if (p < 0.2) {
            s.source /= o.step_adaptation;
            s.source_hits.clear();
        }
    }
}

/// One candidate (and its spherical candidate) of the current step of s, drawn from s.engine.
template <class T>
inline void boundary_candidate(BoundaryState<T>& s, const T* x0, std::size_t d, const Bounds& b,
                               std::vector<double>& eta, std::vector<double>& sph, T* spherical_out, T* candidate_out)
{
    eta.resize(d);
    sph.resize(d);
    const double rho = s.rho;
    for (std::size_t j = 0; j < d; ++j) eta[j] = rng::normal<double>(s.engine);
    // orthogonal to d
    double dot = 0.0;
    for (std::size_t j = 0; j < d; ++j) dot += eta[j] * s.dir[j];
    dot /= rho * rho;
    double en = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
        eta[j] -= dot * s.dir[j];
        en += eta[j] * eta[j];
    }
    en = std::sqrt(en);
    const double scale = en > 0.0 ? s.spherical * rho / en : 0.0;
    const double shrink = 1.0 / std::sqrt(s.spherical * s.spherical + 1.0);
    double nn = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
        const double x = static_cast<double>(x0[j]);
        const double v = std::min(b.hi, std::max(b.lo, x + shrink * (eta[j] * scale - s.dir[j])));
        sph[j] = v;
        nn += (x - v) * (x - v);
    }
    nn = std::sqrt(nn);
    double length = std::max(0.0, s.source * rho + nn - rho);
    length = nn > 0.0 ? length / nn : 0.0;
    for (std::size_t j = 0; j < d; ++j) {
        const double x = static_cast<double>(x0[j]);
        const double c = std::min(b.hi, std::max(b.lo, sph[j] + length * (x - sph[j])));
        if (spherical_out != nullptr) spherical_out[j] = static_cast<T>(sph[j]);
        candidate_out[j] = static_cast<T>(c);
    }
}

/// Resizes m to `rows` rows (of d values) rounded up to the column tile of the
/// deterministic kernel, zero-filling the extra rows. Per-sample results do not depend
/// on the batch, so the padding changes nothing but speed: exact_gemm vectorizes along
/// samples and falls back to a slow scalar loop for a ragged tail.
template <class T>
inline void boundary_batch(matrix<T>& m, std::size_t rows, std::size_t d)
{
    constexpr std::size_t tile = 2 * exact_vector_bytes / sizeof(T);
    const std::size_t padded = (rows + tile - 1) / tile * tile;
    if (m.shape()[0] != padded || m.shape()[1] != d) m.resize({padded, d});
    std::fill(m.data() + rows * d, m.data() + padded * d, T(0));
}

/// ||a - b||^2 over d values, in double.
template <class T>
inline double squared_distance(const T* a, const T* b, std::size_t d)
{
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
        const double v = static_cast<double>(a[j]) - static_cast<double>(b[j]);
        s += v * v;
    }
    return s;
}

/// What the steps of one boundary() call share: the problem, the result, per-input state, buffers.
template <class T>
struct BoundaryRun {
    const DenseNetwork<T>& net;
    const matrix<T>& x;
    const BoundaryOptions& o;
    AttackResult<T>& r;
    std::size_t d;
    double range;  ///< bounds.hi - bounds.lo
    double norm;   ///< d * range^2: mean squared distance = sq / norm
    std::vector<BoundaryState<T>> state;
    matrix<T> batch, spherical_batch;  ///< points classified together
    std::vector<double> eta, sph;      ///< scratch of boundary_candidate

    BoundaryRun(const DenseNetwork<T>& net_, const matrix<T>& x_, const BoundaryOptions& o_, AttackResult<T>& r_)
        : net(net_), x(x_), o(o_), r(r_), d(x_.shape()[1]), range(o_.bounds.hi - o_.bounds.lo),
          norm(static_cast<double>(d) * range * range), state(x_.shape()[0])
    {
    }
    const T* x0(std::size_t i) const { return x.data() + i * d; }
    std::size_t label(std::size_t i) const { return r.samples[i].label; }
    const T* row(std::size_t k) const { return batch.data() + k * d; }
};

/// Rounds over work: fill(i, k, dst) k = min(chunk, remaining(i)) rows, predict, scan(i, p, row, k) = again; chunk x2.
template <class T, class Remaining, class Fill, class Scan>
inline void boundary_rounds(BoundaryRun<T>& run, std::vector<std::size_t> work, std::size_t chunk, std::size_t cap,
                            Remaining&& remaining, Fill&& fill, Scan&& scan)
{
    std::vector<std::size_t> count;  // rows of each work entry in this round
    while (!work.empty()) {
        count.assign(work.size(), 0);
        std::size_t rows = 0;
        for (std::size_t w = 0; w < work.size(); ++w) rows += count[w] = std::min(chunk, remaining(work[w]));
        boundary_batch(run.batch, rows, run.d);
        std::size_t row = 0;
        for (std::size_t w = 0; w < work.size(); ++w) {
            fill(work[w], count[w], run.batch.data() + row * run.d);
            row += count[w];
        }
        const label_vector p = run.net.predict(run.batch);
        std::vector<std::size_t> next;
        row = 0;
        for (std::size_t w = 0; w < work.size(); ++w) {
            if (scan(work[w], p, row, count[w])) next.push_back(work[w]);
            row += count[w];
        }
        work.swap(next);
        chunk = std::min<std::size_t>(chunk * 2, cap);
    }
}

/// Offset of the first of the k predictions p(row), p(row + 1), ... that is not label (k if none).
inline std::size_t boundary_first_hit(const label_vector& p, std::size_t row, std::size_t k, std::size_t label)
{
    std::size_t t = 0;
    while (t < k && p(row + t) == label) ++t;
    return t;
}

/// Initialization 1: uniform noise images until one is adversarial; returns the inputs with one, sorted.
template <class T>
inline std::vector<std::size_t> boundary_start(BoundaryRun<T>& run, const std::vector<std::size_t>& pending)
{
    const std::size_t d = run.d;
    const double lo = run.o.bounds.lo;
    std::vector<std::size_t> tries(run.state.size(), 0);
    for (std::size_t i : pending) run.state[i].engine = boundary_engine(run.state[i].seed, 0);
    std::vector<std::size_t> ready;
    boundary_rounds(
        run, pending, 4, 64, [&](std::size_t i) { return run.o.init_tries - tries[i]; },
        [&](std::size_t i, std::size_t k, T* dst) {
            for (std::size_t j = 0; j < k * d; ++j) {
                dst[j] = static_cast<T>(lo + run.range * rng::uniform01<double>(run.state[i].engine));
            }
        },
        [&](std::size_t i, const label_vector& p, std::size_t row, std::size_t k) {
            const std::size_t t = boundary_first_hit(p, row, k, run.label(i));
            tries[i] += k;
            if (t == k) return tries[i] < run.o.init_tries;  // else: no adversarial start, the input fails
            run.state[i].noise.assign(run.row(row + t), run.row(row + t) + d);
            ready.push_back(i);
            return false;
        });
    std::sort(ready.begin(), ready.end());
    return ready;
}

/// Initialization 2: cur = the first adversarial blend (1 - e) x0 + e noise, e = 1/blend_steps, 2/blend_steps, ...
template <class T>
inline void boundary_blend(BoundaryRun<T>& run, const std::vector<std::size_t>& ready)
{
    const std::size_t d = run.d;
    const Bounds& bounds = run.o.bounds;
    const double steps = static_cast<double>(run.o.blend_steps);
    std::vector<std::size_t> done(run.state.size(), 0);  // blends tried
    boundary_rounds(
        run, ready, 16, 128, [&](std::size_t i) { return run.o.blend_steps - done[i]; },
        [&](std::size_t i, std::size_t k, T* dst) {
            const T* x0 = run.x0(i);
            const T* nz = run.state[i].noise.data();
            for (std::size_t t = 0; t < k; ++t, dst += d) {
                const double e = static_cast<double>(done[i] + t + 1) / steps;
                for (std::size_t j = 0; j < d; ++j) {
                    const double v = (1.0 - e) * static_cast<double>(x0[j]) + e * static_cast<double>(nz[j]);
                    dst[j] = static_cast<T>(std::min(bounds.hi, std::max(bounds.lo, v)));
                }
            }
        },
        [&](std::size_t i, const label_vector& p, std::size_t row, std::size_t k) {
            auto& s = run.state[i];
            const std::size_t t = boundary_first_hit(p, row, k, run.label(i));
            done[i] += k;
            if (t < k) {
                s.cur.assign(run.row(row + t), run.row(row + t) + d);
                return false;
            }
            if (done[i] < run.o.blend_steps) return true;
            // e = 1 is the noise image itself, adversarial: only reachable if rounding changed it,
            // keep the noise image
            s.cur = s.noise;
            return false;
        });
}

/// Calls on_step for input i after `step` (0: its start); true = the callbacks stop it.
template <class T, class Hooks>
inline bool boundary_report(const BoundaryRun<T>& run, Hooks& hooks, std::size_t i, std::size_t step, bool improved)
{
    const auto& s = run.state[i];
    BoundaryStep<T> info;
    info.sample = i;
    info.step = step;
    info.distance = s.sq / run.norm;
    info.spherical_step = s.spherical;
    info.source_step = s.source;
    info.improved = improved;
    info.point = s.cur.data();
    info.size = run.d;
    return call_on_step(hooks, info);
}

/// Step 0 of the inputs with a start (success, distance, step sizes, on_step); returns those still running.
template <class T, class Hooks>
inline std::vector<std::size_t> boundary_begin(BoundaryRun<T>& run, const std::vector<std::size_t>& ready, Hooks& hooks)
{
    std::vector<std::size_t> running;
    for (std::size_t i : ready) {
        auto& s = run.state[i];
        s.noise.clear();
        s.noise.shrink_to_fit();
        s.sq = squared_distance(s.cur.data(), run.x0(i), run.d);
        s.spherical = run.o.spherical_step;
        s.source = run.o.source_step;
        run.r.samples[i].success = true;
        if (!boundary_report(run, hooks, i, 0, true)) running.push_back(i);
    }
    return running;
}

/// Starts `step` of the running inputs (dir, rho, the step's engine); returns those not converged.
template <class T>
inline std::vector<std::size_t> boundary_prepare(BoundaryRun<T>& run, const std::vector<std::size_t>& running,
                                                 std::size_t step)
{
    std::vector<std::size_t> active;
    for (std::size_t i : running) {
        auto& s = run.state[i];
        if (s.source < run.o.convergence) continue;
        const T* x0 = run.x0(i);
        s.dir.resize(run.d);
        double rr = 0.0;
        for (std::size_t j = 0; j < run.d; ++j) {
            s.dir[j] = static_cast<double>(x0[j]) - static_cast<double>(s.cur[j]);
            rr += s.dir[j] * s.dir[j];
        }
        s.rho = std::sqrt(rr);
        if (!(s.rho > 0.0)) continue;
        s.engine = boundary_engine(s.seed, step);
        s.generated = 0;
        s.improved = false;
        active.push_back(i);
    }
    return active;
}

/// Accepts cand as input i's adversarial if adversarial, strictly closer, and the first such of the step.
template <class T>
inline void boundary_accept(BoundaryRun<T>& run, std::size_t i, const T* cand, bool adversarial)
{
    auto& s = run.state[i];
    if (!adversarial || s.improved) return;
    const double q = squared_distance(cand, run.x0(i), run.d);
    if (q < s.sq) {
        s.cur.assign(cand, cand + run.d);
        s.sq = q;
        s.improved = true;
    }
}

/// Ordinary step: candidates in order, in growing chunks, until the first accepted one.
template <class T>
inline void boundary_ordinary_step(BoundaryRun<T>& run, const std::vector<std::size_t>& running)
{
    const std::size_t k_all = run.o.candidates, d = run.d;
    boundary_rounds(
        run, running, std::min<std::size_t>(5, k_all), k_all,
        [&](std::size_t i) { return k_all - run.state[i].generated; },
        [&](std::size_t i, std::size_t k, T* dst) {
            auto& s = run.state[i];
            for (std::size_t t = 0; t < k; ++t) {
                boundary_candidate<T>(s, run.x0(i), d, run.o.bounds, run.eta, run.sph, nullptr, dst + t * d);
            }
            s.generated += k;
        },
        [&](std::size_t i, const label_vector& p, std::size_t row, std::size_t k) {
            for (std::size_t t = 0; t < k; ++t) boundary_accept(run, i, run.row(row + t), p(row + t) != run.label(i));
            return !run.state[i].improved && run.state[i].generated < k_all;
        });
}

/// Classifies the chosen rows of run.batch into the source windows; accepts the first closer adversarial.
template <class T>
inline void boundary_source_check(BoundaryRun<T>& run, const std::vector<std::size_t>& running,
                                  const std::vector<std::size_t>& chosen)
{
    const std::size_t d = run.d;
    matrix<T> sub;
    boundary_batch(sub, chosen.size(), d);
    for (std::size_t c = 0; c < chosen.size(); ++c) {
        std::copy(run.row(chosen[c]), run.row(chosen[c]) + d, sub.data() + c * d);
    }
    const label_vector pc = run.net.predict(sub);
    for (std::size_t c = 0; c < chosen.size(); ++c) {
        const std::size_t i = running[chosen[c] / run.o.candidates];
        const bool adv = pc(c) != run.label(i);
        boundary_push(run.state[i].source_hits, adv, run.o.source_window);
        boundary_accept(run, i, sub.data() + c * d, adv);
    }
}

/// Statistics step: all spherical candidates enter the windows; candidates of adversarial ones are checked.
template <class T>
inline void boundary_statistics_step(BoundaryRun<T>& run, const std::vector<std::size_t>& running)
{
    const std::size_t k_all = run.o.candidates, d = run.d, m = running.size();
    boundary_batch(run.spherical_batch, m * k_all, d);
    boundary_batch(run.batch, m * k_all, d);
    for (std::size_t w = 0; w < m; ++w) {
        auto& s = run.state[running[w]];
        for (std::size_t t = 0; t < k_all; ++t) {
            const std::size_t row = w * k_all + t;
            boundary_candidate(s, run.x0(running[w]), d, run.o.bounds, run.eta, run.sph,
                               run.spherical_batch.data() + row * d, run.batch.data() + row * d);
        }
        s.generated = k_all;
    }
    const label_vector ps = run.net.predict(run.spherical_batch);
    std::vector<std::size_t> chosen;  // rows of batch whose spherical candidate was adversarial
    for (std::size_t w = 0; w < m; ++w) {
        for (std::size_t t = 0; t < k_all; ++t) {
            const std::size_t row = w * k_all + t;
            const bool adv = ps(row) != run.label(running[w]);
            boundary_push(run.state[running[w]].spherical_hits, adv, run.o.spherical_window);
            if (adv) chosen.push_back(row);
        }
    }
    if (!chosen.empty()) boundary_source_check(run, running, chosen);
}

/// Step `step` >= 1 of the running inputs: candidates, step sizes, on_step; returns those still running.
template <class T, class Hooks>
inline std::vector<std::size_t> boundary_step(BoundaryRun<T>& run, const std::vector<std::size_t>& running,
                                              std::size_t step, Hooks& hooks)
{
    const std::vector<std::size_t> active = boundary_prepare(run, running, step);
    if (active.empty()) return active;
    if (step % run.o.spherical_check_every == 0) {
        boundary_statistics_step(run, active);
    } else {
        boundary_ordinary_step(run, active);
    }
    std::vector<std::size_t> next;
    for (std::size_t i : active) {
        auto& s = run.state[i];
        boundary_adapt(s, run.o);
        ++s.steps;
        run.r.samples[i].iterations = s.steps;
        if (!boundary_report(run, hooks, i, step, s.improved)) next.push_back(i);
    }
    return next;
}

/// Attacks the inputs `pending` together and writes their adversarials into the result.
template <class T, class Hooks>
inline void boundary_attack_group(BoundaryRun<T>& run, const std::vector<std::size_t>& pending, Hooks& hooks)
{
    const std::vector<std::size_t> ready = boundary_start(run, pending);
    boundary_blend(run, ready);
    std::vector<std::size_t> running = boundary_begin(run, ready, hooks);
    for (std::size_t step = 1; step <= run.o.iterations && !running.empty(); ++step) {
        running = boundary_step(run, running, step, hooks);
    }
    for (std::size_t i : ready) {
        auto& s = run.state[i];
        std::copy(s.cur.begin(), s.cur.end(), run.r.adversarial.data() + i * run.d);
        s.cur = std::vector<T>();
        s.dir = std::vector<double>();
    }
}

}  // namespace detail

/// Boundary attack on every row of x (N x D) with labels y; see the top of this header.
/// Throws invalid_argument for bad shapes, labels, bounds, inputs outside the bounds, or
/// options out of range (naming the option).
template <class T, class Engine, class... Callbacks>
AttackResult<T> boundary(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                         const BoundaryOptions& options, Engine& engine, Callbacks&&... callbacks)
{
    detail::check_boundary_options(options);
    detail::check_attack_inputs(net, x, y, options.bounds, "boundary");
    AttackResult<T> r = detail::start_result(net, x, y, "boundary");
    auto hooks = std::forward_as_tuple(callbacks...);
    detail::BoundaryRun<T> run(net, x, options, r);
    std::vector<std::size_t> attempted;
    for (std::size_t i = 0; i < run.state.size(); ++i) {
        run.state[i].row = i;
        run.state[i].seed = rng::bits64(engine);  // one draw per row, attempted or not
        if (r.samples[i].attempted) attempted.push_back(i);
    }
    // Inputs are attacked in groups (memory stays bounded for large N); every input's
    // result is independent of its group, so the grouping changes nothing else.
    for (std::size_t g0 = 0; g0 < attempted.size(); g0 += detail::boundary_group) {
        const std::size_t g1 = std::min(attempted.size(), g0 + detail::boundary_group);
        const std::vector<std::size_t> pending(attempted.begin() + static_cast<std::ptrdiff_t>(g0),
                                               attempted.begin() + static_cast<std::ptrdiff_t>(g1));
        detail::boundary_attack_group(run, pending, hooks);
    }
    detail::verify_result(net, x, r, options.bounds);
    return r;
}

}  // namespace sleepnet
