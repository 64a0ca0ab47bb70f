#pragma once
// Square attack, L-inf (Andriushchenko, Croce, Flammarion & Hein 2020, "Square Attack: a
// query-efficient black-box adversarial attack via random search"), score-based.
//
// What it is for: it reads only the logits, never a gradient. If it breaks inputs that a
// gradient attack (FGSM, PGD) at the same budget does not, the gradients are masked
// (saturated, shattered or uninformative) and the gradient attack's robust accuracy
// overstates the robustness. It is the gradient-free member of AutoAttack.
//
// Semantics (fixed budget): robust accuracy at eps. The ball is
// ||x' - x||_inf <= eps * (hi - lo), intersected with the bounds (eps in units of the input
// range, as FGSM's). Per correctly classified input (the others are skipped):
//   init  every column of the image, per channel, gets x0 + s eps with a random sign s
//         (vertical stripes), clipped to the bounds; this is query 1;
//   step  k = 0, 1, ..., queries - 2: side s_k = round(sqrt(p_k h w)) clamped to
//         [1, min(h, w) - 1] (at least 1); a window of s_k x s_k pixels at a uniformly
//         random position (every position that fits) is set to x0 + s eps with one
//         random sign per channel, clipped; signs are redrawn while the clipped window
//         would equal the current one (the paper's code); the candidate is evaluated
//         (one query) and kept when the margin z_y - max_{k != y} z_k strictly decreases.
// The input stops at the first evaluated point whose argmax (first index on ties, as
// DenseNetwork::predict) differs from the label; that point is its adversarial.
// Schedule of p (AutoAttack's, rescaled to the budget): with t = floor(k / queries * 10000),
// p = p_init for t <= 10, halved past t = 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000.
// Differences from the reference code: the budget counts the initialisation (at most
// `queries` evaluations per input; AutoAttack's loop makes n_queries more after it), and
// window positions cover the last row and column (the reference draws in [0, h - s)).
//
// Image layout of a row: channel-last, element (row r, column c, channel ch) at
// (r * width + c) * channels + ch. height = width = 0 infers a square image from the row
// length (row length / channels must be a perfect square).
//
// Random draws come from one stream per input (rng::stream seeded by one draw of the
// caller's engine and the input's row), and candidates go through the deterministic
// forward pass, so an input's result does not depend on the batch or on the other inputs.
// Results are re-verified through DenseNetwork::predict. Per input: success, iterations
// (queries used; the budget on failure), epsilon (the L-inf norm of the adversarial in
// units of the range; +inf on failure).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"
#include "logit_losses.hpp"

namespace sleepnet {

struct SquareOptions {
    std::size_t queries = 5000;  ///< model evaluations per input (the initialisation counts as one)
    double p_init = 0.8;         ///< initial fraction of the pixels a window covers (AutoAttack's L-inf value)
    std::size_t height = 0;      ///< image rows (0 with width = 0: square image inferred from the row length)
    std::size_t width = 0;       ///< image columns
    std::size_t channels = 1;    ///< values per pixel, stored last (channel-last layout)
    Bounds bounds;
    std::size_t batch = 1024;  ///< inputs per block (memory bound only; results do not depend on it)

    void validate() const
    {
        const std::string who = "SquareOptions";
        auto fail = [&](const std::string& m) { throw invalid_argument(who + ": " + m); };
        check::positive(who, "queries", queries);
        check::in_range(who, "p_init", p_init, 0.0, 1.0, check::Interval::open_closed);
        check::positive(who, "channels", channels);
        check::positive(who, "batch", batch);
        if ((height == 0) != (width == 0))
            fail("height and width must both be set or both be 0, got height = " + std::to_string(height) +
                 ", width = " + std::to_string(width));
    }
};

namespace detail {

/// The image shape of a row.
struct SquareImage {
    std::size_t height = 0, width = 0, channels = 1;
};

/// The layout of rows of d values under options (validated): the given shape, or a square
/// image inferred from d.
inline SquareImage square_image(const SquareOptions& o, std::size_t d)
{
    SquareImage im{o.height, o.width, o.channels};
    if (o.height != 0) {
        if (o.height * o.width * o.channels != d)
            throw invalid_argument(
                "square_attack: SquareOptions height x width x channels = " + std::to_string(o.height) + " x " +
                std::to_string(o.width) + " x " + std::to_string(o.channels) + " does not match the " +
                std::to_string(d) + " inputs of the network");
        return im;
    }
    const std::size_t pixels = d / o.channels;
    auto side = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(pixels))));
    while (side * side > pixels) --side;
    while ((side + 1) * (side + 1) <= pixels) ++side;
    if (d % o.channels != 0 || side * side != pixels)
        throw invalid_argument("square_attack: rows of " + std::to_string(d) + " values with " +
                               std::to_string(o.channels) +
                               " channel(s) are not a square image; set SquareOptions height and width");
    im.height = im.width = side;
    return im;
}

/// p for square update k (0-based, after the initialisation) of a budget of `queries`:
/// AutoAttack's schedule for 10,000 queries, rescaled.
inline double square_p(double p_init, std::size_t k, std::size_t queries)
{
    const auto t = static_cast<std::size_t>(static_cast<double>(k) / static_cast<double>(queries) * 10000.0);
    static constexpr std::size_t edges[] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
    double p = p_init;
    for (std::size_t e : edges)
        if (t > e) p /= 2.0;
    return p;
}

/// Window side for fraction p: round(sqrt(p h w)) (half to even, as Python's round),
/// clamped to [1, min(h, w) - 1] (1 when the image is one pixel thin).
inline std::size_t square_side(double p, const SquareImage& im)
{
    const double r = std::nearbyint(std::sqrt(p * static_cast<double>(im.height * im.width)));
    const std::size_t cap = std::max<std::size_t>(std::min(im.height, im.width), 2) - 1;
    return std::min(cap, static_cast<std::size_t>(std::max(r, 1.0)));
}

/// The T nearest `target` from x0's side that stays within e of x0 and inside the bounds
/// (rounding to T must not leave the ball or the bounds; x0 itself always qualifies).
template <class T>
inline T square_value(T x0, double target, double e, const Bounds& b)
{
    T v = static_cast<T>(std::min(b.hi, std::max(b.lo, target)));
    auto outside = [&](T u) {
        const double du = static_cast<double>(u);
        return du > b.hi || du < b.lo || std::abs(du - static_cast<double>(x0)) > e;
    };
    while (outside(v)) v = std::nextafter(v, x0);
    return v;
}

/// Per-input state of one block, indexed by slot (position in the block).
template <class T>
struct SquareBlock {
    std::vector<std::size_t> rows;  ///< row of x
    std::vector<std::size_t> labels;
    matrix<T> up, down;          ///< x0 + e and x0 - e per element, inside ball and bounds
    matrix<T> best;              ///< current point
    std::vector<double> margin;  ///< its margin
    std::vector<default_engine> engines;
    std::vector<std::size_t> queries;  ///< evaluations so far
    std::vector<char> broken;          ///< an evaluated point was misclassified (it is `best`)
    std::vector<std::size_t> active;   ///< slots still attacked
};

/// Margins (z_y - max_{k != y} z_k, minus the margin loss) and misclassification flags of
/// `labels.size()` rows at `rows`, through logit_pass in chunks of inference_chunk.
template <class T>
inline void square_evaluate(const DenseNetwork<T>& net, const T* rows, const std::vector<std::size_t>& labels,
                            LogitPass<T>& w, std::vector<double>& margin, std::vector<char>& adversarial)
{
    const std::size_t count = labels.size(), d = net.input_size();
    margin.resize(count);
    adversarial.resize(count);
    for (std::size_t r0 = 0; r0 < count; r0 += inference_chunk) {
        const std::size_t n = std::min(count - r0, inference_chunk);
        logit_pass(
            net, rows + r0 * d, n, LogitLoss::margin, [&](std::size_t r) { return labels[r0 + r]; },
            [](std::size_t) { return std::size_t{0}; }, false, w);
        for (std::size_t r = 0; r < n; ++r) {
            adversarial[r0 + r] = w.adversarial[r];
            margin[r0 + r] = -w.value[r];
        }
    }
}

/// Calls f(j, ch) for every element j of the s x s window at (top, left), ch its channel.
template <class F>
inline void square_window(const SquareImage& im, std::size_t top, std::size_t left, std::size_t s, F&& f)
{
    for (std::size_t a = top; a < top + s; ++a) {
        const std::size_t j0 = (a * im.width + left) * im.channels;
        for (std::size_t q = 0; q < s * im.channels; ++q) f(j0 + q, q % im.channels);
    }
}

/// Sign redraws before a candidate equal to the current point is evaluated anyway (only
/// possible when eps is below the resolution of T around x0).
constexpr std::size_t square_redraws = 64;

/// Candidate of slot r for window side s: its current point with a random window set to
/// up/down by a random sign per channel (redrawn while the window would not change).
template <class T>
inline void square_candidate(SquareBlock<T>& b, std::size_t r, const SquareImage& im, std::size_t s,
                             std::vector<char>& positive, T* out)
{
    const std::size_t d = b.best.shape()[1];
    const T* cur = b.best.data() + r * d;
    const T* up = b.up.data() + r * d;
    const T* down = b.down.data() + r * d;
    default_engine& eng = b.engines[r];
    const std::size_t top = rng::below(eng, im.height - s + 1);
    const std::size_t left = rng::below(eng, im.width - s + 1);
    for (std::size_t attempt = 0; attempt < square_redraws; ++attempt) {
        for (auto& p : positive) p = static_cast<char>(rng::below(eng, 2));
        bool same = true;
        square_window(im, top, left, s, [&](std::size_t j, std::size_t ch) {
            same = same && (positive[ch] ? up[j] : down[j]) == cur[j];
        });
        if (!same) break;
    }
    std::copy(cur, cur + d, out);
    square_window(im, top, left, s, [&](std::size_t j, std::size_t ch) { out[j] = positive[ch] ? up[j] : down[j]; });
}

/// Sets up the block for the inputs `rows` (correctly classified): the up/down values,
/// the streams and the vertical-stripe starting points.
template <class T>
inline void square_init(SquareBlock<T>& b, const matrix<T>& x, const label_vector& y, double e, const Bounds& bounds,
                        const SquareImage& im, std::uint64_t base)
{
    const std::size_t m = b.rows.size(), d = x.shape()[1];
    detail::resize_if_needed(b.up, m, d);
    detail::resize_if_needed(b.down, m, d);
    detail::resize_if_needed(b.best, m, d);
    b.labels.resize(m);
    b.engines.clear();
    b.engines.reserve(m);
    std::vector<char> positive(im.width * im.channels);
    for (std::size_t r = 0; r < m; ++r) {
        const T* x0 = x.data() + b.rows[r] * d;
        T* up = b.up.data() + r * d;
        T* down = b.down.data() + r * d;
        for (std::size_t j = 0; j < d; ++j) {
            up[j] = square_value(x0[j], static_cast<double>(x0[j]) + e, e, bounds);
            down[j] = square_value(x0[j], static_cast<double>(x0[j]) - e, e, bounds);
        }
        b.labels[r] = y(b.rows[r]);
        b.engines.push_back(rng::stream(base, b.rows[r]));
        for (auto& p : positive) p = static_cast<char>(rng::below(b.engines[r], 2));
        T* cur = b.best.data() + r * d;
        for (std::size_t j = 0; j < d; ++j) {
            const std::size_t column_channel = j % (im.width * im.channels);
            cur[j] = positive[column_channel] ? up[j] : down[j];
        }
    }
    b.queries.assign(m, 1);
    b.broken.assign(m, 0);
}

/// One square step for every active slot: candidates, one batched evaluation, accept or
/// reject per slot; broken slots leave the active list.
template <class T>
inline void square_round(const DenseNetwork<T>& net, SquareBlock<T>& b, const SquareImage& im, std::size_t s,
                         matrix<T>& cand, LogitPass<T>& st)
{
    const std::size_t d = b.best.shape()[1], n = b.active.size();
    detail::resize_if_needed(cand, n, d);
    std::vector<char> positive(im.channels);
    std::vector<std::size_t> labels(n);
    for (std::size_t a = 0; a < n; ++a) {
        square_candidate(b, b.active[a], im, s, positive, cand.data() + a * d);
        labels[a] = b.labels[b.active[a]];
    }
    std::vector<double> margin;
    std::vector<char> adversarial;
    square_evaluate(net, cand.data(), labels, st, margin, adversarial);
    std::vector<std::size_t> still;
    for (std::size_t a = 0; a < n; ++a) {
        const std::size_t r = b.active[a];
        ++b.queries[r];
        if (adversarial[a] || margin[a] < b.margin[r]) {
            std::copy(cand.data() + a * d, cand.data() + (a + 1) * d, b.best.data() + r * d);
            b.margin[r] = margin[a];
        }
        if (adversarial[a])
            b.broken[r] = 1;
        else
            still.push_back(r);
    }
    b.active.swap(still);
}

/// The attack on the correctly classified inputs `rows` (one block), written into result.
template <class T>
inline void square_block(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y, double epsilon,
                         const SquareOptions& o, const SquareImage& im, std::uint64_t base,
                         std::vector<std::size_t> rows, AttackResult<T>& result)
{
    const std::size_t d = x.shape()[1];
    SquareBlock<T> b;
    b.rows = std::move(rows);
    square_init(b, x, y, epsilon * (o.bounds.hi - o.bounds.lo), o.bounds, im, base);
    LogitPass<T> st;
    std::vector<char> adversarial;
    square_evaluate(net, b.best.data(), b.labels, st, b.margin, adversarial);
    for (std::size_t r = 0; r < b.rows.size(); ++r) {
        if (adversarial[r])
            b.broken[r] = 1;
        else
            b.active.push_back(r);
    }
    matrix<T> cand;
    for (std::size_t k = 0; k + 1 < o.queries && !b.active.empty(); ++k)
        square_round(net, b, im, square_side(square_p(o.p_init, k, o.queries), im), cand, st);

    for (std::size_t r = 0; r < b.rows.size(); ++r) {
        AttackSample& s = result.samples[b.rows[r]];
        s.iterations = b.queries[r];
        s.success = b.broken[r] != 0;
        if (!s.success) {
            s.epsilon = std::numeric_limits<double>::infinity();
            continue;
        }
        const T* adv = b.best.data() + r * d;
        std::copy(adv, adv + d, result.adversarial.data() + b.rows[r] * d);
        s.epsilon = perturbation_norm(adv, x.data() + b.rows[r] * d, d, Norm::linf, o.bounds);
    }
}

}  // namespace detail

/// Square attack (L-inf) at budget epsilon (units of the input range): see the top of this
/// file. One draw of `engine` seeds every input's stream.
template <class T, class Engine>
inline AttackResult<T> square_attack(const DenseNetwork<T>& net, const matrix<T>& x, const label_vector& y,
                                     double epsilon, const SquareOptions& options, Engine& engine)
{
    options.validate();
    check::finite_positive("square_attack", "epsilon", epsilon);
    detail::check_attack_inputs(net, x, y, options.bounds, "square_attack");
    const detail::SquareImage image = detail::square_image(options, net.input_size());
    AttackResult<T> result = detail::start_result(net, x, y, "square");
    const std::uint64_t base = rng::bits64(engine);

    std::vector<std::size_t> todo;
    for (const AttackSample& s : result.samples)
        if (s.attempted) todo.push_back(s.index);
    for (std::size_t b0 = 0; b0 < todo.size(); b0 += options.batch) {
        const std::size_t b1 = std::min(todo.size(), b0 + options.batch);
        std::vector<std::size_t> rows(todo.begin() + static_cast<std::ptrdiff_t>(b0),
                                      todo.begin() + static_cast<std::ptrdiff_t>(b1));
        detail::square_block(net, x, y, epsilon, options, image, base, std::move(rows), result);
    }
    detail::verify_result(net, x, result, options.bounds);
    return result;
}

}  // namespace sleepnet
