#pragma once
// Sound certification of FGSM grid points as "not adversarial", so that the Foolbox grid
// (fgsm() with FgsmSearch::grid) only evaluates the network near a decision change.
//
// Along the FGSM ray x(t) = clip(x0 + t g, lo, hi) every pixel is monotone and piecewise
// linear in t: x_j(t) = x0_j + g_j min(t, tau_j), tau_j its saturation time. For an
// interval t in [a, b] (a "segment" of the grid) FgsmCertifier::bound() encloses the
// logits the network computes *in floating point* at every point of the segment in a
// zonotope with one shared generator (t) and an independent box per unit:
//     z = c + d * e + rho,   e in [-1, 1],   |rho| <= r   (elementwise),
// with t = m + h e. Layer by layer:
//   input      pixels that do not saturate inside the segment are exactly affine in t;
//              a pixel saturating inside is relaxed by its chord (box = chord error);
//   W z        c and d go through W, the box through |W|;
//   ReLU       stable units pass (identity or 0); an unstable unit (l < 0 < u) gets the
//              optimal zonotope relaxation relu(z) in lambda z + [0, 2 mu],
//              lambda = u / (u - l), 2 mu = max(-lambda l, (1 - lambda) u) (valid for any
//              lambda in [0, 1], so rounding of lambda is harmless);
//   dropout    test-time scale s (scale_at_test) multiplies c, d and r.
// The segment is certified when for every class k != y the lower bound of
// z_y - z_k over the zonotope is > 0: then every point of the segment has z_y > z_k for
// all k, which predict() (argmax, first index on ties) turns into y whatever the tie rule.
// Here y is the segment's label: its sample's label unless the segment names another
// class (the accuracy curve certifies stretches held by a wrong class this way).
//
// Why the bound holds for the float path (DenseNetwork::logits through exact_gemm), with
// u = unit roundoff of T (2^-24 for float) and gamma_n = n u / (1 - n u):
//   - the candidate is fl(clip(x0 + fl(float(eps) * g))): it differs from the real ray
//     point clip(x0 + eps g) by at most delta_j <= 5 u (|x0_j| + |g_j| b) (the cast of
//     eps, the product and the sum each round once; clip is 1-Lipschitz); this box is
//     added to the input;
//   - exact_gemm sums n products in a fixed order with one accumulator (FMA or not), so
//     |fl(W a) - W a| <= gamma_n |W| |a| elementwise; the zonotope of a layer's input
//     contains the float activations, so |a| <= |c| + |d| + r and the box of the output
//     grows by gamma_n |W| (|c| + |d| + r);
//   - a bias add rounds once (u |z|), ReLU is exact, the test-time scale rounds once
//     (u |s a|): both are added to the box (2u for the latter, with room to spare);
//   - the bound itself is computed partly in T: W1 x0, W1 g, |W1| |x0|, |W1| |g| once per
//     sample, and the center, slope and box products of the later layers (exact_gemm);
//     everything elementwise in double. Each
//     T product's rounding (gamma_n times the same |W| |v| sums) is added to the box like
//     the network's, the box products (nonnegative terms, inputs rounded up) are scaled
//     by 1 + 2 gamma_n. Double rounding (the layer-1 column updates and the elementwise
//     steps; a double sum of n terms errs by at most (n + 2) 2^-53 |W| |v|, about 1.4e-13
//     |W| |v| for n = 1200) is covered by 1e-9 added to gamma_n, a relative 1e-12
//     of |c| + |d| + r added to the box after each elementwise step and to the ReLU
//     bounds before lambda is formed, and a relative 1e-12 taken off each margin bound:
//     >= 1000 times what double rounding can amount to at these sizes. The exact terms
//     are in the code, next to each step.
// So if bound() says "certified", no grid point (nor any other epsilon, e.g. of the
// 20-step refinement) inside [a, b] is adversarial for DenseNetwork::predict, and the
// result of the certified grid search is the brute-force one exactly. The bound values
// of a segment depend on its sample and on that sample's earlier segments (through the
// folded sums below), not on the other samples, the batch or the thread count.
//
// Cost: layer 1 needs no product per segment: c1 = W1 x0 + m W1 g (products per sample,
// computed once), plus the pixels saturated before the segment, plus a column update per
// pixel saturating inside it. The saturated pixels are folded, once per sample, into four
// sums (A = sum W1 col g, At = sum W1 col g tau and their absolute versions): their
// contribution to a segment at (m, h) is then -m A + At (center) and -h A (slope), so a
// segment costs a few passes over the layer's units however many pixels saturated. Later
// segments of a sample that start before an already folded pixel (the scan never does
// this, a caller may) fall back to one column update per pixel. The later layers are
// three product columns per segment (center, slope and box, in T), batched over all
// segments of a round.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"
#include "../detail/exact_gemm.hpp"
#include "../detail/parallel.hpp"
#include "../nn/dense_network.hpp"
#include "common.hpp"

namespace sleepnet {
namespace detail {

template <class T>
class FgsmCertifier {
public:
    static constexpr std::size_t sample_label = static_cast<std::size_t>(-1);
    struct Segment {
        std::size_t sample;                ///< row of x
        double a, b;                       ///< epsilon interval, 0 <= a <= b
        std::size_t label = sample_label;  ///< the class to certify: y of the sample, or any other
    };
    struct Bound {
        double lower;     ///< lower bound of min_k (z_label - z_k) over the segment; certified when > 0
        double crossing;  ///< epsilon where the linearized margin reaches 0 (+inf if it does not)
    };

    /// Whether the certifier can be used: the bounds and the range must be exact in T (so
    /// the float clip and the double model agree) and the hidden activations ReLU or linear.
    static bool applicable(const DenseNetwork<T>& net, const Bounds& bounds)
    {
        const T lo = static_cast<T>(bounds.lo), hi = static_cast<T>(bounds.hi);
        const T range = static_cast<T>(bounds.hi - bounds.lo);
        if (static_cast<double>(lo) != bounds.lo || static_cast<double>(hi) != bounds.hi) return false;
        if (static_cast<double>(range) != bounds.hi - bounds.lo) return false;
        return net.options().hidden == Activation::relu || net.options().hidden == Activation::linear;
    }

    /// x: inputs, g: FGSM directions (same shape), y: labels. Precomputes W1 x0 and W1 g
    /// for the rows in `samples` (memory: 2 * 8 * hidden1 bytes per sample).
    FgsmCertifier(const DenseNetwork<T>& net, const matrix<T>& x, const matrix<T>& g, const label_vector& y,
                  const std::vector<std::size_t>& samples, const Bounds& bounds, double max_epsilon, unsigned threads)
        : FgsmCertifier(net, x, g, y, bounds, max_epsilon, threads)
    {
        prepare(samples);
    }

    /// Without samples: call prepare() before bound(). One certifier can serve several
    /// chunks of samples in turn (its buffers are reused).
    FgsmCertifier(const DenseNetwork<T>& net, const matrix<T>& x, const matrix<T>& g, const label_vector& y,
                  const Bounds& bounds, double max_epsilon, unsigned threads)
        : net_(net), x_(x), g_(g), y_(y), threads_(std::max(1u, threads)), max_epsilon_(max_epsilon)
    {
        const std::size_t layers = net.num_layers();
        sizes_ = net.layer_sizes();
        lo_ = static_cast<double>(static_cast<T>(bounds.lo));
        hi_ = static_cast<double>(static_cast<T>(bounds.hi));
        const double u = std::numeric_limits<T>::epsilon() / 2.0;
        u_ = u;
        relu_ = net.options().hidden == Activation::relu;
        bias_ = net.has_bias();
        for (std::size_t l = 0; l < layers; ++l) {
            const auto& w = net.weights(l);
            const std::size_t out = sizes_[l + 1], in = sizes_[l];
            if (l == 0) {
                // layer 1 is used column by column: keep it transposed (in x out), in double
                w1t_.resize(in * out);
                w1t_abs_.resize(in * out);
                for (std::size_t o = 0; o < out; ++o)
                    for (std::size_t i = 0; i < in; ++i) {
                        const double v = static_cast<double>(w.data()[o * in + i]);
                        w1t_[i * out + o] = v;
                        w1t_abs_[i * out + o] = std::abs(v);
                    }
            } else {
                // later layers: W^T and |W|^T (in x out), the right operands of the products
                std::vector<T> wt(w.size()), wa(w.size());
                for (std::size_t o = 0; o < out; ++o)
                    for (std::size_t i = 0; i < in; ++i) {
                        wt[i * out + o] = w.data()[o * in + i];
                        wa[i * out + o] = std::abs(w.data()[o * in + i]);
                    }
                wt_.push_back(std::move(wt));
                wt_abs_.push_back(std::move(wa));
            }
            if (bias_) {
                std::vector<double> b(out);
                for (std::size_t o = 0; o < out; ++o) b[o] = static_cast<double>(net.bias(l)(o));
                b_.push_back(std::move(b));
            }
            const bool hidden = l + 1 < layers;
            scale_.push_back(hidden && net.options().dropout > 0.0 ? static_cast<double>(net.test_scale()) : 1.0);
        }

        // W1^T and |W1|^T in T (inputs x hidden1), the right operands of prepare()'s products
        const T* w1 = net.weights(0).data();
        const std::size_t d0 = sizes_[0], h1 = sizes_[1];
        w1tf_.resize(d0 * h1);
        w1tf_abs_.resize(d0 * h1);
        for (std::size_t o = 0; o < h1; ++o)
            for (std::size_t i = 0; i < d0; ++i) {
                w1tf_[i * h1 + o] = w1[o * d0 + i];
                w1tf_abs_[i * h1 + o] = std::abs(w1[o * d0 + i]);
            }
        slot_.assign(x.shape()[0], static_cast<std::size_t>(-1));
    }

    /// Precomputes W1 x0 and W1 g (and their absolute versions) for the rows in `samples`
    /// (memory: 4 * 8 * hidden1 bytes per sample); only these rows can be bounded then.
    void prepare(const std::vector<std::size_t>& samples)
    {
        const matrix<T>& x = x_;
        const matrix<T>& g = g_;
        const double max_epsilon = max_epsilon_;
        // per sample: W1 x0, W1 g_moving, and the pixels that saturate (sorted by time)
        const std::size_t d = sizes_[0], n1 = sizes_[1];
        std::fill(slot_.begin(), slot_.end(), static_cast<std::size_t>(-1));
        for (std::size_t s = 0; s < samples.size(); ++s) slot_[samples[s]] = s;
        samples_ = samples;
        const std::size_t ns = samples.size();
        p_.resize(ns * n1);
        q_.resize(ns * n1);
        kinks_.resize(ns);
        for (auto& k : kinks_) k.clear();
        folded_.assign(ns, 0);
        fold_below_.assign(ns, std::numeric_limits<double>::infinity());
        for (auto* v : {&fa_, &fat_}) grow(*v, ns * n1);  // zeroed by fold()
        // the inputs as rows (2 ns x d): x0 of every sample, then its moving g
        std::vector<T>& xin = xin_;
        xin.resize(2 * ns * d);
        for (std::size_t s = 0; s < ns; ++s) {
            const T* x0 = x.data() + samples[s] * d;
            const T* gr = g.data() + samples[s] * d;
            T* xr = xin.data() + s * d;
            T* gm = xin.data() + (ns + s) * d;
            for (std::size_t j = 0; j < d; ++j) {
                const double xv = static_cast<double>(x0[j]), gv = static_cast<double>(gr[j]);
                xr[j] = x0[j];
                const bool moving = (gv > 0.0 && xv < hi_) || (gv < 0.0 && xv > lo_);
                gm[j] = moving ? gr[j] : T(0);
                if (moving) {
                    const double tau = gv > 0.0 ? (hi_ - xv) / gv : (xv - lo_) / -gv;
                    if (tau < max_epsilon) kinks_[s].push_back({tau, static_cast<std::uint32_t>(j)});
                }
            }
            std::sort(kinks_[s].begin(), kinks_[s].end());
        }
        // W1 x0, W1 g, |W1| |x0| and |W1| |g| in T (detail::exact_gemm against W1^T and
        // |W1|^T). The rounding of the first two is at most gamma_d times the last two
        // (covered in layer1()); the last two are sums of nonnegative terms, scaled up by
        // 1 + 2 gamma_d to be upper bounds.
        std::vector<T>& pq = pq_;
        pq.resize(2 * ns * n1);
        const double grow = 1.0 + 2.0 * gamma(d) + 1e-12;
        auto product = [&](const T* wt, std::vector<double>& p, std::vector<double>& q, double scale) {
            exact_gemm(2 * ns, n1, d, xin.data(), d, false, wt, n1, pq.data(), n1, threads_);
            for (std::size_t k = 0; k < ns * n1; ++k) {
                p[k] = static_cast<double>(pq[k]) * scale;
                q[k] = static_cast<double>(pq[ns * n1 + k]) * scale;
            }
        };
        pa_.resize(ns * n1);
        qa_.resize(ns * n1);
        product(w1tf_.data(), p_, q_, 1.0);
        for (auto& v : xin) v = std::abs(v);
        product(w1tf_abs_.data(), pa_, qa_, grow);
    }

    /// Bounds for every segment (one Bound per segment, in order).
    void bound(const std::vector<Segment>& segs, std::vector<Bound>& out)
    {
        const std::size_t ns = segs.size();
        out.resize(ns);
        if (ns == 0) return;
        const std::size_t layers = sizes_.size() - 1;
        std::size_t n = sizes_[1];
        // cd: 2 ns x n (centers, then slopes), r: ns x n
        grow(cd_, 2 * ns * n);
        grow(r_, ns * n);
        grow(m_, ns);
        grow(h_, ns);
        fold_saturated(segs);
        run_parallel(ns, [&](std::size_t begin, std::size_t end) {
            for (std::size_t k = begin; k < end; ++k) layer1(segs[k], k, ns);
        });
        for (std::size_t l = 1; l < layers; ++l) {
            propagate(l, ns, n, sizes_[l + 1]);
            n = sizes_[l + 1];
        }
        margins(segs, n, out);
    }

private:
    /// Folds the pixels saturated before all of a sample's segments into its sums (each
    /// pixel once per sample: the scan moves forward along the ray).
    void fold_saturated(const std::vector<Segment>& segs)
    {
        const std::size_t ns = segs.size();
        std::vector<std::size_t>& touched = touched_;
        touched.clear();
        for (std::size_t k = 0; k < ns; ++k) {
            const std::size_t s = slot_[segs[k].sample];
            double m, h;
            segment_mh(segs[k], m, h);
            if (fold_below_[s] == std::numeric_limits<double>::infinity()) touched.push_back(s);
            fold_below_[s] = std::min(fold_below_[s], m - h);
        }
        run_parallel(touched.size(), [&](std::size_t begin, std::size_t end) {
            for (std::size_t i = begin; i < end; ++i) fold(touched[i], fold_below_[touched[i]]);
        });
        for (std::size_t s : touched) fold_below_[s] = std::numeric_limits<double>::infinity();
    }

    /// Layer l's boxes of all ns segments from the previous layer's (width in) to width o.
    void propagate(std::size_t l, std::size_t ns, std::size_t in, std::size_t o)
    {
        // The three products (center, slope, box) run in T (detail::exact_gemm, one row
        // per segment, against W^T). The center and slope products err by at most
        // gamma_{in+2} |W| (|c| + |d|) (rounding c and d to T included), the network's
        // own product by gamma_{in} |W| |a| with |a| <= |c| + |d| + r. The box input
        // v = r + (gamma_{in} + 1e-9)(|c| + |d| + r) + gamma_{in+2} (|c| + |d|) covers all
        // of them; v is rounded up to T and the box product (nonnegative terms) is scaled
        // by 1 + 2 gamma_{in} + 1e-12.
        const double gm = gamma(in) + 1e-9, gs = gamma(in + 2);
        grow(gin_, 2 * ns * in);
        grow(gv_, ns * in);
        run_parallel(ns, [&](std::size_t begin, std::size_t end) {
            for (std::size_t k = begin; k < end; ++k) {
                const double* c = cd_.data() + k * in;
                const double* dd = cd_.data() + (ns + k) * in;
                const double* r = r_.data() + k * in;
                T* v = gv_.data() + k * in;
                T* cs = gin_.data() + k * in;
                T* ds = gin_.data() + (ns + k) * in;
                for (std::size_t i = 0; i < in; ++i) {
                    const double cd = std::abs(c[i]) + std::abs(dd[i]);
                    v[i] = round_up(r[i] + gm * (cd + r[i]) + gs * cd);
                    cs[i] = static_cast<T>(c[i]);
                    ds[i] = static_cast<T>(dd[i]);
                }
            }
        });
        grow(cd_, 2 * ns * o);
        grow(r_, ns * o);
        grow(gout_, 2 * ns * o);
        grow(grout_, ns * o);
        exact_gemm(2 * ns, o, in, gin_.data(), in, false, wt_[l - 1].data(), o, gout_.data(), o, threads_);
        exact_gemm(ns, o, in, gv_.data(), in, false, wt_abs_[l - 1].data(), o, grout_.data(), o, threads_);
        const double grow_box = 1.0 + 2.0 * gamma(in) + 1e-12;
        run_parallel(ns, [&](std::size_t begin, std::size_t end) {
            for (std::size_t k = begin; k < end; ++k) {
                double* c = cd_.data() + k * o;
                double* dd = cd_.data() + (ns + k) * o;
                double* r = r_.data() + k * o;
                const T* co = gout_.data() + k * o;
                const T* dout = gout_.data() + (ns + k) * o;
                const T* ro = grout_.data() + k * o;
                for (std::size_t j = 0; j < o; ++j) {
                    c[j] = static_cast<double>(co[j]);
                    dd[j] = static_cast<double>(dout[j]);
                    r[j] = static_cast<double>(ro[j]) * grow_box;
                }
                finish_layer(l, c, dd, r, o);
            }
        });
    }

    /// Lower margin bound and crossing epsilon of every segment from the output boxes (width n).
    void margins(const std::vector<Segment>& segs, std::size_t n, std::vector<Bound>& out)
    {
        const std::size_t ns = segs.size();
        for (std::size_t k = 0; k < ns; ++k) {
            const double* c = cd_.data() + k * n;
            const double* dd = cd_.data() + (ns + k) * n;
            const double* r = r_.data() + k * n;
            const std::size_t y = segs[k].label == sample_label ? y_(segs[k].sample) : segs[k].label;
            if (y >= n)
                throw invalid_argument("FgsmCertifier: segment label " + std::to_string(y) +
                                       " >= " + std::to_string(n) + " classes");
            double lower = std::numeric_limits<double>::infinity();
            double eps_star = std::numeric_limits<double>::infinity();
            for (std::size_t j = 0; j < n; ++j) {
                if (j == y) continue;
                const double cc = c[y] - c[j], dv = dd[y] - dd[j];
                const double slack =
                    1e-12 * (std::abs(c[y]) + std::abs(c[j]) + std::abs(dd[y]) + std::abs(dd[j]) + r[y] + r[j]);
                lower = std::min(lower, cc - std::abs(dv) - r[y] - r[j] - slack);
                if (dv < 0.0)
                    eps_star = std::min(eps_star, cc / -dv);
                else if (cc <= 0.0)
                    eps_star = -1.0;
            }
            out[k].lower = lower;
            out[k].crossing = std::isinf(eps_star) ? eps_star : m_[k] + h_[k] * eps_star;
        }
    }

    struct Kink {
        double tau;
        std::uint32_t pixel;
        bool operator<(const Kink& o) const { return tau < o.tau || (tau == o.tau && pixel < o.pixel); }
    };

    const DenseNetwork<T>& net_;
    const matrix<T>& x_;
    const matrix<T>& g_;
    const label_vector& y_;
    unsigned threads_;
    double max_epsilon_;
    std::vector<std::size_t> sizes_;
    std::vector<T> w1tf_, w1tf_abs_, xin_, pq_;
    double lo_ = 0, hi_ = 1, u_ = 0;
    bool relu_ = true, bias_ = false;
    std::vector<double> w1t_, w1t_abs_;
    std::vector<std::vector<T>> wt_, wt_abs_;

    std::vector<std::vector<double>> b_;
    std::vector<T> gin_, gv_, gout_, grout_;
    std::vector<double> scale_;
    std::vector<std::size_t> slot_;
    std::vector<double> p_, q_, pa_, qa_;
    std::vector<std::vector<Kink>> kinks_;
    std::vector<double> cd_, r_, m_, h_;
    // per prepared sample: kinks folded so far and their sums (see fold())
    std::vector<std::size_t> folded_, samples_, touched_;
    std::vector<double> fold_below_, fa_, fat_;

    // buffers only grow (no zero-filling of megabytes every round)
    template <class V>
    static void grow(std::vector<V>& v, std::size_t n)
    {
        if (v.size() < n) v.resize(n);
    }

    static T round_up(double v)
    {
        T t = static_cast<T>(v);
        if (static_cast<double>(t) < v) {
            if constexpr (std::is_same<T, float>::value) {
                if (t >= T(0) && t < std::numeric_limits<T>::max()) {
                    // the next float up: its bit pattern plus one (t >= 0, finite)
                    std::uint32_t bits;
                    std::memcpy(&bits, &t, sizeof bits);
                    ++bits;
                    std::memcpy(&t, &bits, sizeof bits);
                    return t;
                }
            }
            t = std::nextafter(t, std::numeric_limits<T>::infinity());
        }
        return t;
    }

    double gamma(std::size_t n) const
    {
        const double nu = static_cast<double>(n) * u_;
        return nu / (1.0 - nu);
    }

    // f(begin, end) over [0, count) in detail::parallel_for's contiguous chunks, on at
    // most one thread per 8 items
    template <class F>
    void run_parallel(std::size_t count, F&& f) const
    {
        parallel_for(count, static_cast<unsigned>(std::min<std::size_t>(threads_, count / 8 + 1)), f);
    }

    // midpoint and half-width of a segment's epsilon interval (the half-width rounded up)
    static void segment_mh(const Segment& sg, double& m, double& h)
    {
        m = 0.5 * (sg.a + sg.b);
        h = std::max(sg.b - m, m - sg.a) * (1.0 + 4.0 * std::numeric_limits<double>::epsilon());
    }

    static double gamma_double(std::size_t n)
    {
        const double nu = static_cast<double>(n) * std::numeric_limits<double>::epsilon();
        return nu / (1.0 - nu);
    }

    // adds the sample's pixels saturating at tau <= below (in time order) to its sums
    void fold(std::size_t s, double below)
    {
        const std::size_t n1 = sizes_[1];
        const std::vector<Kink>& kinks = kinks_[s];
        std::size_t& nf = folded_[s];
        if (nf == kinks.size() || kinks[nf].tau > below) return;
        double* fa = fa_.data() + s * n1;
        double* fat = fat_.data() + s * n1;
        const T* gr = g_.data() + samples_[s] * sizes_[0];
        if (nf == 0) {
            std::fill(fa, fa + n1, 0.0);
            std::fill(fat, fat + n1, 0.0);
        }
        for (; nf < kinks.size() && kinks[nf].tau <= below; ++nf) {
            const Kink& kn = kinks[nf];
            const double gv = static_cast<double>(gr[kn.pixel]);
            const double gt = gv * kn.tau;
            const double* col = w1t_.data() + static_cast<std::size_t>(kn.pixel) * n1;
            for (std::size_t o = 0; o < n1; ++o) {
                fa[o] += col[o] * gv;
                fat[o] += col[o] * gt;
            }
        }
    }

    // the first layer of segment k: c, d, r of z1, then bias and activation
    void layer1(const Segment& sg, std::size_t k, std::size_t ns)
    {
        const std::size_t n1 = sizes_[1];
        const std::size_t s = slot_[sg.sample];
        double m, h;
        segment_mh(sg, m, h);
        m_[k] = m;
        h_[k] = h;
        const double t_lo = m - h, t_hi = m + h;
        double* c = cd_.data() + k * n1;
        double* d = cd_.data() + (ns + k) * n1;
        double* r = r_.data() + k * n1;
        const double* p = p_.data() + s * n1;
        const double* q = q_.data() + s * n1;
        // box: the network's rounding of W1 x (gamma_d |W1| |x|), the rounding of p and q
        // (gamma_d |W1| |x0|, gamma_d |W1| |g|), the input rounding delta_j <= 5u (|x0_j| +
        // |g_j| t), double rounding (1e-9): with |x_j| <= |x0_j| + |g_j| t_hi, all of it is
        // at most (2 gamma_d + 5u + 1e-9) (|W1| |x0| + t_hi |W1| |g|)
        const double* pa = pa_.data() + s * n1;
        const double* qa = qa_.data() + s * n1;
        const double k1 = (2.0 * gamma(sizes_[0] + 2) + 5.0 * u_ + 1e-9) * (1.0 + 1e-9);
        const double th = std::abs(m) + h;
        for (std::size_t o = 0; o < n1; ++o) {
            c[o] = p[o] + m * q[o];
            d[o] = h * q[o];
            r[o] = k1 * (pa[o] + th * qa[o]);
        }
        const T* gr = g_.data() + sg.sample * sizes_[0];
        const double ud = std::numeric_limits<double>::epsilon();
        // the folded pixels (all saturated before t_lo): the sum over them of the per-pixel
        // terms below (dc = -g (m - tau), dd = -g h) is -m A + At and -h A, with
        // A = sum col g, At = sum col g tau. Their box covers the per-pixel one
        // (4 ud |g| (|m| + h + tau) |col|) and the rounding of the sums (F terms each, then
        // three operations: 2 gamma_{F+4}), both relative to B (|m| + h) + Bt with
        // B = sum |col| |g|, Bt = sum |col| |g| tau. As tau <= t_lo <= |m| + h and the
        // folded pixels are moving ones, B (|m| + h) + Bt <= 2 (|m| + h) qa.
        const std::size_t nf = folded_[s];
        const bool use_folded = nf == 0 || kinks_[s][nf - 1].tau <= t_lo;
        if (use_folded && nf > 0) {
            const double* fa = fa_.data() + s * n1;
            const double* fat = fat_.data() + s * n1;
            const double kf = (4.0 * ud + 2.0 * gamma_double(nf + 4) + 1e-12) * (1.0 + 1e-9);
            const double mh2 = 2.0 * (std::abs(m) + h);
            for (std::size_t o = 0; o < n1; ++o) {
                c[o] += fat[o] - m * fa[o];
                d[o] -= h * fa[o];
                r[o] += kf * mh2 * qa[o];
            }
        }
        const std::size_t first = use_folded ? nf : 0;
        for (std::size_t i = first; i < kinks_[s].size(); ++i) {
            const Kink& kn = kinks_[s][i];
            if (kn.tau >= t_hi) break;
            const double gv = static_cast<double>(gr[kn.pixel]);
            // pixel = x0 + g t - g (t - tau)+ ; the reference (x0 + g t) is in p + m q
            double dc, dd, dr;
            if (kn.tau <= t_lo) {
                dc = -gv * (m - kn.tau);
                dd = -gv * h;
                dr = 4.0 * ud * std::abs(gv) * (std::abs(m) + h + kn.tau);
            } else {
                // (t - tau)+ on [t_lo, t_hi] between the chord k (t - t_lo) and the chord minus k (tau - t_lo)
                const double slope = (t_hi - kn.tau) / (t_hi - t_lo);
                const double w = slope * (kn.tau - t_lo);
                dc = -gv * (slope * (m - t_lo) - 0.5 * w);
                dd = -gv * slope * h;
                dr = std::abs(gv) * (0.5 * w + 8.0 * ud * (std::abs(m) + h + kn.tau));
            }
            const double* col = w1t_.data() + static_cast<std::size_t>(kn.pixel) * n1;
            const double* cola = w1t_abs_.data() + static_cast<std::size_t>(kn.pixel) * n1;
            for (std::size_t o = 0; o < n1; ++o) {
                c[o] += col[o] * dc;
                d[o] += col[o] * dd;
                r[o] += cola[o] * dr;
            }
        }
        finish_layer(0, c, d, r, n1);
    }

    // bias, activation (for hidden layers) and test-time scale of layer l, in place
    void finish_layer(std::size_t l, double* c, double* d, double* r, std::size_t n) const
    {
        const std::size_t layers = sizes_.size() - 1;
        if (bias_) {
            const double* b = b_[l].data();
            for (std::size_t i = 0; i < n; ++i) {
                c[i] += b[i];
                r[i] += (u_ + 1e-12) * (std::abs(c[i]) + std::abs(d[i]) + r[i]);
            }
        }
        if (l + 1 == layers) return;  // logits: no activation
        const double s = scale_[l];
        for (std::size_t i = 0; i < n; ++i) {
            double ci = c[i], di = d[i], ri = r[i];
            if (relu_) {
                const double pad = 1e-12 * (std::abs(ci) + std::abs(di) + ri);
                const double lo = ci - std::abs(di) - ri - pad;
                const double up = ci + std::abs(di) + ri + pad;
                if (lo >= 0.0) {
                    // identity
                } else if (up <= 0.0) {
                    ci = di = ri = 0.0;
                } else {
                    const double lam = up / (up - lo);
                    const double mu = 0.5 * std::max(-lam * lo, (1.0 - lam) * up);
                    ci = lam * ci + mu;
                    di = lam * di;
                    ri = lam * ri + mu;
                }
            }
            if (s != 1.0) {
                ci *= s;
                di *= s;
                ri *= s;
                ri += 2.0 * u_ * (std::abs(ci) + std::abs(di) + ri);
            }
            ri += 1e-12 * (std::abs(ci) + std::abs(di) + ri);
            c[i] = ci;
            d[i] = di;
            r[i] = ri;
        }
    }
};

}  // namespace detail
}  // namespace sleepnet
