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
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../detail/exact_gemm.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"

namespace sleepnet {

struct BoundaryOptions {
    std::size_t iterations = 1000;      ///< maximal number of steps per input
    std::size_t candidates = 25;        ///< candidates per step (Foolbox max_directions)
    double spherical_step = 0.01;       ///< initial spherical step, relative to the distance
    double source_step = 0.01;          ///< initial step towards the input, relative to the distance
    double step_adaptation = 1.5;       ///< factor by which steps grow or shrink
    double convergence = 1e-7;          ///< stop when source_step falls below this
    std::size_t init_tries = 1000;      ///< uniform noise images tried for a start
    std::size_t blend_steps = 1000;     ///< blends between input and noise image
    Bounds bounds;
    std::size_t spherical_check_every = 10;  ///< statistics step period (Foolbox: every 10th step)
    std::size_t spherical_window = 100;      ///< outcomes kept for the spherical success rate
    std::size_t source_window = 30;          ///< outcomes kept for the source-step success rate
};

/// What on_step callbacks see.
template <class T>
struct BoundaryStep {
    std::size_t sample = 0;        ///< row of the input matrix
    std::size_t step = 0;          ///< 0: starting point; then 1, 2, ...
    double distance = 0.0;         ///< mean squared distance of the current adversarial
    double spherical_step = 0.0;   ///< step sizes after this step's adaptation
    double source_step = 0.0;
    bool improved = false;         ///< a candidate was accepted in this step (true at step 0)
    const T* point = nullptr;      ///< the current adversarial (size values)
    std::size_t size = 0;
};

namespace detail {

inline void check_boundary_options(const BoundaryOptions& o)
{
    auto positive = [](double v, const char* name) {
        if (!(v > 0.0) || !std::isfinite(v)) {
            throw invalid_argument(std::string("boundary: options.") + name + " must be finite and > 0, got " +
                                   std::to_string(v));
        }
    };
    auto at_least_one = [](std::size_t v, const char* name) {
        if (v == 0) {
            throw invalid_argument(std::string("boundary: options.") + name + " must be >= 1, got 0");
        }
    };
    at_least_one(o.candidates, "candidates");
    at_least_one(o.init_tries, "init_tries");
    at_least_one(o.blend_steps, "blend_steps");
    at_least_one(o.spherical_check_every, "spherical_check_every");
    at_least_one(o.spherical_window, "spherical_window");
    at_least_one(o.source_window, "source_window");
    positive(o.spherical_step, "spherical_step");
    positive(o.source_step, "source_step");
    if (!(o.source_step < 1.0)) {
        throw invalid_argument("boundary: options.source_step must be < 1, got " + std::to_string(o.source_step));
    }
    positive(o.convergence, "convergence");
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
    std::vector<T> noise;        ///< initialization: the adversarial noise image
    std::vector<T> cur;          ///< current adversarial
    double sq = 0.0;             ///< ||cur - x0||^2
    double spherical = 0.0;
    double source = 0.0;
    std::deque<bool> spherical_hits;
    std::deque<bool> source_hits;
    std::size_t steps = 0;
    bool stopped = false;
    // scratch of the current step
    std::mt19937_64 engine;
    std::vector<double> dir;     ///< x0 - cur
    double rho = 0.0;
    std::size_t generated = 0;
    bool improved = false;
};

inline void boundary_push(std::deque<bool>& w, bool v, std::size_t cap)
{
    w.push_back(v);
    while (w.size() > cap) w.pop_front();
}

inline double boundary_rate(const std::deque<bool>& w)
{
    std::size_t k = 0;
    for (bool b : w) k += b ? 1 : 0;
    return static_cast<double>(k) / static_cast<double>(w.size());
}

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

}  // namespace detail

/// Boundary attack on every row of x (N x D) with labels y; see the top of this header.
/// Throws invalid_argument for bad shapes, labels, bounds, inputs outside the bounds, or
/// options out of range (naming the option).
template <class T, class Engine, class... Callbacks>
AttackResult<T> boundary(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                         const BoundaryOptions& options, Engine& engine, Callbacks&&... callbacks)
{
    detail::check_boundary_options(options);
    const Bounds& bounds = options.bounds;
    detail::check_attack_inputs(net, x, y, bounds, "boundary");
    AttackResult<T> r = detail::start_result(net, x, y, "boundary");
    auto hooks = std::forward_as_tuple(callbacks...);
    const std::size_t n = x.shape()[0];
    const std::size_t d = x.shape()[1];
    const double range = bounds.hi - bounds.lo;
    const double norm = static_cast<double>(d) * range * range;

    std::vector<detail::BoundaryState<T>> state(n);
    for (std::size_t i = 0; i < n; ++i) {
        state[i].row = i;
        state[i].seed = rng::bits64(engine);
    }
    std::vector<std::size_t> attempted;
    for (std::size_t i = 0; i < n; ++i) {
        if (r.samples[i].attempted) attempted.push_back(i);
    }
    auto x0_of = [&](std::size_t i) { return x.data() + i * d; };
    auto label_of = [&](std::size_t i) { return r.samples[i].label; };

    matrix<T> batch;

    // Inputs are attacked in groups (memory stays bounded for large N); every input's
    // result is independent of its group, so the grouping changes nothing else.
    for (std::size_t g0 = 0; g0 < attempted.size(); g0 += detail::boundary_group) {
        const std::size_t g1 = std::min(attempted.size(), g0 + detail::boundary_group);
        const std::vector<std::size_t> pending(attempted.begin() + static_cast<std::ptrdiff_t>(g0),
                                               attempted.begin() + static_cast<std::ptrdiff_t>(g1));
        // ---- initialization 1: uniform noise images ----
        std::vector<std::size_t> tries(n, 0);
        for (std::size_t i : pending) state[i].engine = detail::boundary_engine(state[i].seed, 0);
        std::vector<std::size_t> ready;  // inputs with an adversarial noise image
        {
            std::size_t chunk = 4;
            std::vector<std::size_t> work = pending;
            while (!work.empty()) {
                std::size_t rows = 0;
                for (std::size_t i : work) rows += std::min(chunk, options.init_tries - tries[i]);
                detail::boundary_batch(batch, rows, d);
                std::size_t row = 0;
                for (std::size_t w = 0; w < work.size(); ++w) {
                    const std::size_t i = work[w];
                    const std::size_t k = std::min(chunk, options.init_tries - tries[i]);
                    for (std::size_t t = 0; t < k; ++t, ++row) {
                        T* dst = batch.data() + row * d;
                        for (std::size_t j = 0; j < d; ++j) {
                            dst[j] = static_cast<T>(bounds.lo + range * rng::uniform01<double>(state[i].engine));
                        }
                    }
                }
                const label_vector p = net.predict(batch);
                std::vector<std::size_t> next;
                row = 0;
                for (std::size_t w = 0; w < work.size(); ++w) {
                    const std::size_t i = work[w];
                    const std::size_t k = std::min(chunk, options.init_tries - tries[i]);
                    bool found = false;
                    for (std::size_t t = 0; t < k; ++t, ++row) {
                        ++tries[i];
                        if (p(row) != label_of(i)) {
                            const T* src = batch.data() + row * d;
                            state[i].noise.assign(src, src + d);
                            found = true;
                            row += k - t;
                            break;
                        }
                    }
                    if (found) {
                        ready.push_back(i);
                    } else if (tries[i] < options.init_tries) {
                        next.push_back(i);
                    }
                    // else: no adversarial start, the input fails
                }
                work.swap(next);
                chunk = std::min<std::size_t>(chunk * 2, 64);
            }
        }
        std::sort(ready.begin(), ready.end());

        // ---- initialization 2: blend towards x0, first adversarial blend ----
        {
            std::vector<std::size_t> done(n, 0);  // blends tried
            std::size_t chunk = 16;
            std::vector<std::size_t> work = ready;
            const double steps = static_cast<double>(options.blend_steps);
            while (!work.empty()) {
                std::size_t rows = 0;
                for (std::size_t i : work) rows += std::min(chunk, options.blend_steps - done[i]);
                detail::boundary_batch(batch, rows, d);
                std::size_t row = 0;
                for (std::size_t i : work) {
                    const std::size_t k = std::min(chunk, options.blend_steps - done[i]);
                    const T* x0 = x0_of(i);
                    const T* nz = state[i].noise.data();
                    for (std::size_t t = 0; t < k; ++t, ++row) {
                        const double e = static_cast<double>(done[i] + t + 1) / steps;
                        T* dst = batch.data() + row * d;
                        for (std::size_t j = 0; j < d; ++j) {
                            const double v = (1.0 - e) * static_cast<double>(x0[j]) + e * static_cast<double>(nz[j]);
                            dst[j] = static_cast<T>(std::min(bounds.hi, std::max(bounds.lo, v)));
                        }
                    }
                }
                const label_vector p = net.predict(batch);
                std::vector<std::size_t> next;
                row = 0;
                for (std::size_t i : work) {
                    const std::size_t k = std::min(chunk, options.blend_steps - done[i]);
                    bool found = false;
                    for (std::size_t t = 0; t < k; ++t, ++row) {
                        if (p(row) != label_of(i)) {
                            const T* src = batch.data() + row * d;
                            state[i].cur.assign(src, src + d);
                            found = true;
                            row += k - t;
                            break;
                        }
                    }
                    done[i] += k;
                    if (!found) {
                        if (done[i] < options.blend_steps) {
                            next.push_back(i);
                        } else {
                            // e = 1 is the noise image itself, adversarial: only reachable if
                            // rounding changed it, keep the noise image
                            state[i].cur = state[i].noise;
                        }
                    }
                }
                work.swap(next);
                chunk = std::min<std::size_t>(chunk * 2, 128);
            }
        }

        std::vector<std::size_t> running;
        for (std::size_t i : ready) {
            auto& s = state[i];
            s.noise.clear();
            s.noise.shrink_to_fit();
            s.sq = detail::squared_distance(s.cur.data(), x0_of(i), d);
            s.spherical = options.spherical_step;
            s.source = options.source_step;
            r.samples[i].success = true;
            BoundaryStep<T> info;
            info.sample = i;
            info.step = 0;
            info.distance = s.sq / norm;
            info.spherical_step = s.spherical;
            info.source_step = s.source;
            info.improved = true;
            info.point = s.cur.data();
            info.size = d;
            if (detail::call_on_step(hooks, info)) continue;
            running.push_back(i);
        }

        // ---- steps ----
        const std::size_t k_all = options.candidates;
        std::vector<double> eta, sph;
        matrix<T> spherical_batch;
        for (std::size_t step = 1; step <= options.iterations && !running.empty(); ++step) {
            // convergence, then prepare the step
            std::vector<std::size_t> active;
            for (std::size_t i : running) {
                auto& s = state[i];
                if (s.source < options.convergence) continue;
                const T* x0 = x0_of(i);
                s.dir.resize(d);
                double rr = 0.0;
                for (std::size_t j = 0; j < d; ++j) {
                    s.dir[j] = static_cast<double>(x0[j]) - static_cast<double>(s.cur[j]);
                    rr += s.dir[j] * s.dir[j];
                }
                s.rho = std::sqrt(rr);
                if (!(s.rho > 0.0)) continue;
                s.engine = detail::boundary_engine(s.seed, step);
                s.generated = 0;
                s.improved = false;
                active.push_back(i);
            }
            running = active;
            if (running.empty()) break;

            auto accept_first = [&](std::size_t i, const T* cand, bool adversarial) {
                auto& s = state[i];
                if (!adversarial || s.improved) return;
                const double q = detail::squared_distance(cand, x0_of(i), d);
                if (q < s.sq) {
                    s.cur.assign(cand, cand + d);
                    s.sq = q;
                    s.improved = true;
                }
            };

            const bool statistics = step % options.spherical_check_every == 0;
            if (statistics) {
                const std::size_t m = running.size();
                detail::boundary_batch(spherical_batch, m * k_all, d);
                detail::boundary_batch(batch, m * k_all, d);
                for (std::size_t w = 0; w < m; ++w) {
                    auto& s = state[running[w]];
                    for (std::size_t t = 0; t < k_all; ++t) {
                        const std::size_t row = w * k_all + t;
                        detail::boundary_candidate(s, x0_of(running[w]), d, bounds, eta, sph,
                                                   spherical_batch.data() + row * d, batch.data() + row * d);
                    }
                    s.generated = k_all;
                }
                const label_vector ps = net.predict(spherical_batch);
                std::vector<std::size_t> chosen;  // rows of batch whose spherical candidate was adversarial
                for (std::size_t w = 0; w < m; ++w) {
                    auto& s = state[running[w]];
                    for (std::size_t t = 0; t < k_all; ++t) {
                        const std::size_t row = w * k_all + t;
                        const bool adv = ps(row) != label_of(running[w]);
                        detail::boundary_push(s.spherical_hits, adv, options.spherical_window);
                        if (adv) chosen.push_back(row);
                    }
                }
                if (!chosen.empty()) {
                    matrix<T> sub;
                    detail::boundary_batch(sub, chosen.size(), d);
                    for (std::size_t c = 0; c < chosen.size(); ++c) {
                        std::copy(batch.data() + chosen[c] * d, batch.data() + (chosen[c] + 1) * d, sub.data() + c * d);
                    }
                    const label_vector pc = net.predict(sub);
                    for (std::size_t c = 0; c < chosen.size(); ++c) {
                        const std::size_t i = running[chosen[c] / k_all];
                        const bool adv = pc(c) != label_of(i);
                        detail::boundary_push(state[i].source_hits, adv, options.source_window);
                        accept_first(i, sub.data() + c * d, adv);
                    }
                }
            } else {
                // ordinary step: candidates in order, in chunks, until the first accepted one
                std::vector<std::size_t> work = running;
                std::vector<std::size_t> count;  // rows of each work entry in this chunk
                std::size_t chunk = std::min<std::size_t>(5, k_all);
                while (!work.empty()) {
                    count.assign(work.size(), 0);
                    std::size_t rows = 0;
                    for (std::size_t w = 0; w < work.size(); ++w) {
                        count[w] = std::min(chunk, k_all - state[work[w]].generated);
                        rows += count[w];
                    }
                    detail::boundary_batch(batch, rows, d);
                    std::size_t row = 0;
                    for (std::size_t w = 0; w < work.size(); ++w) {
                        auto& s = state[work[w]];
                        for (std::size_t t = 0; t < count[w]; ++t, ++row) {
                            detail::boundary_candidate<T>(s, x0_of(work[w]), d, bounds, eta, sph, nullptr,
                                                          batch.data() + row * d);
                        }
                        s.generated += count[w];
                    }
                    const label_vector p = net.predict(batch);
                    std::vector<std::size_t> next;
                    row = 0;
                    for (std::size_t w = 0; w < work.size(); ++w) {
                        const std::size_t i = work[w];
                        for (std::size_t t = 0; t < count[w]; ++t, ++row) {
                            accept_first(i, batch.data() + row * d, p(row) != label_of(i));
                        }
                        if (!state[i].improved && state[i].generated < k_all) next.push_back(i);
                    }
                    work.swap(next);
                    chunk = std::min<std::size_t>(chunk * 2, k_all);
                }
            }

            // adaptation, bookkeeping, callbacks
            std::vector<std::size_t> next;
            for (std::size_t i : running) {
                auto& s = state[i];
                detail::boundary_adapt(s, options);
                ++s.steps;
                r.samples[i].iterations = s.steps;
                BoundaryStep<T> info;
                info.sample = i;
                info.step = step;
                info.distance = s.sq / norm;
                info.spherical_step = s.spherical;
                info.source_step = s.source;
                info.improved = s.improved;
                info.point = s.cur.data();
                info.size = d;
                if (detail::call_on_step(hooks, info)) continue;
                next.push_back(i);
            }
            running.swap(next);
        }

        for (std::size_t i : ready) {
            auto& s = state[i];
            std::copy(s.cur.begin(), s.cur.end(), r.adversarial.data() + i * d);
            s.cur = std::vector<T>();
            s.dir = std::vector<double>();
        }
    }
    detail::verify_result(net, x, r, bounds);
    return r;
}

}  // namespace sleepnet
