#pragma once
// Event-driven integrate-and-fire simulation over weights someone else owns.
//
// Per step, for every simulated layer l in order (no delay between layers):
//   v_l = decay * v_l + alpha_l * W_l s_{l-1}        (no floor: v may go negative)
//   s_l = v_l >= threshold_l
//   STDP on the incoming weights of every neuron that spiked (see stdp.hpp)
//   v_l = 0 where s_l                               (reset to zero, no refractory period)
//
// The cost of a step follows the spikes: W_l s_{l-1} adds one contiguous column per input
// spike (a transposed copy of W_l is kept for that and updated with it), and STDP touches
// only the rows of neurons that spiked, skipping the weights the rule cannot change. The
// arithmetic is that of the plain loop in snn/reference.hpp, so both give bit-identical
// weights and spikes.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../detail/transpose.hpp"
#include "stdp.hpp"

namespace sleepnet {

/// A weight matrix owned elsewhere: row-major (out x in), W[i * in + j] connects input j
/// to neuron i (the DenseNetwork layout).
template <class T>
struct WeightView {
    T* data = nullptr;
    std::size_t out = 0;
    std::size_t in = 0;
};

/// Per-layer constants of the simulated layers.
struct IfLayerParams {
    double alpha = 1.0;      ///< input scale
    double threshold = 1.0;  ///< firing threshold (> 0)
};

template <class T>
class IfNetwork {
public:
    IfNetwork(std::vector<WeightView<T>> layers, std::vector<IfLayerParams> params, double decay)
        : layers_(std::move(layers)), params_(std::move(params)), decay_(static_cast<T>(decay))
    {
        if (layers_.empty()) {
            throw invalid_argument("IfNetwork: no layers to simulate");
        }
        if (params_.size() != layers_.size()) {
            throw invalid_argument("IfNetwork: " + std::to_string(params_.size()) + " layer parameters for " +
                                   std::to_string(layers_.size()) + " layers");
        }
        check::in_range("IfNetwork", "decay", decay, 0.0, 1.0, check::Interval::open_closed);
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            const auto& w = layers_[l];
            if (w.data == nullptr || w.out == 0 || w.in == 0) {
                throw invalid_argument("IfNetwork: layer " + std::to_string(l + 1) + " has no weights");
            }
            if (l > 0 && w.in != layers_[l - 1].out) {
                throw invalid_argument("IfNetwork: layer " + std::to_string(l + 1) + " takes " + std::to_string(w.in) +
                                       " inputs but layer " + std::to_string(l) + " has " +
                                       std::to_string(layers_[l - 1].out) + " neurons");
            }
            const auto& p = params_[l];
            check::finite_positive("IfNetwork", "threshold of layer " + std::to_string(l + 1), p.threshold);
            if (!std::isfinite(p.alpha)) {
                throw invalid_argument("IfNetwork: alpha of layer " + std::to_string(l + 1) + " is not finite");
            }
        }
        const std::size_t L = layers_.size();
        v_.resize(L);
        acc_.resize(L);
        wt_.resize(L);
        spikes_.resize(L);
        spike_count_.assign(L, 0);
        ever_.resize(L);
        for (std::size_t l = 0; l < L; ++l) {
            const auto& w = layers_[l];
            v_[l].assign(w.out, T(0));
            acc_[l].assign(w.out, T(0));
            ever_[l].assign(w.out, 0);
            wt_[l].resize(w.out * w.in);
            detail::transpose(w.data, w.out, w.in, wt_[l].data());
        }
        pre_mask_.assign(
            std::max_element(layers_.begin(), layers_.end(), [](const auto& a, const auto& b) { return a.in < b.in; })
                ->in,
            0);
    }

    std::size_t num_layers() const { return layers_.size(); }
    std::size_t input_size() const { return layers_.front().in; }

    /// Sets every membrane potential to zero (spike counters are kept).
    void reset_potentials()
    {
        for (auto& v : v_) std::fill(v.begin(), v.end(), T(0));
    }

    /// One time step driven by the ascending input spike indices `input`. With `plastic`
    /// false the weights are left alone (spiking inference).
    template <class Rule>
    void step(const std::vector<std::uint32_t>& input, const Rule& rule, bool plastic = true)
    {
        const double inert = detail::inert_bound(rule);
        const std::vector<std::uint32_t>* pre = &input;
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            const auto& w = layers_[l];
            const std::size_t out = w.out;
            T* v = v_[l].data();
            const T alpha = static_cast<T>(params_[l].alpha);
            const T threshold = static_cast<T>(params_[l].threshold);
            std::vector<std::uint32_t>& fired = spikes_[l];
            fired.clear();
            if (!pre->empty()) {
                T* acc = acc_[l].data();
                std::fill(acc, acc + out, T(0));
                accumulate_columns(wt_[l].data(), out, *pre, acc);
                const T decay = decay_;
                int any = 0;
                for (std::size_t i = 0; i < out; ++i) {
                    const T vi = decay * v[i] + alpha * acc[i];
                    v[i] = vi;
                    any |= vi >= threshold ? 1 : 0;
                }
                if (any != 0) {
                    for (std::size_t i = 0; i < out; ++i) {
                        if (v[i] >= threshold) {
                            fired.push_back(static_cast<std::uint32_t>(i));
                        }
                    }
                }
            } else {
                // no input: potentials only decay, and with threshold > 0 nothing can fire
                // (a neuron at or above threshold would have fired and been reset)
                for (std::size_t i = 0; i < out; ++i) {
                    v[i] = decay_ * v[i];
                }
            }
            if (!fired.empty()) {
                spike_count_[l] += fired.size();
                if (plastic && inert != -INFINITY) {
                    apply_stdp(l, *pre, fired, rule, inert);
                }
                for (std::uint32_t i : fired) {
                    v[i] = T(0);
                    ever_[l][i] = 1;
                }
            }
            pre = &fired;
        }
    }

    /// Neurons of layer l that spiked in the last step (ascending).
    const std::vector<std::uint32_t>& spikes(std::size_t l) const { return spikes_.at(l); }
    /// Spikes of layer l since construction.
    std::uint64_t spike_count(std::size_t l) const { return spike_count_.at(l); }
    /// Neurons of layer l that spiked at least once since construction.
    std::size_t neurons_ever_spiked(std::size_t l) const
    {
        return static_cast<std::size_t>(std::count(ever_.at(l).begin(), ever_.at(l).end(), 1));
    }
    const std::vector<T>& potentials(std::size_t l) const { return v_.at(l); }

private:
    std::vector<WeightView<T>> layers_;
    std::vector<IfLayerParams> params_;
    T decay_;
    std::vector<std::vector<T>> v_, acc_, wt_;
    std::vector<std::vector<std::uint32_t>> spikes_;
    std::vector<std::uint64_t> spike_count_;
    std::vector<std::vector<std::uint8_t>> ever_;
    std::vector<std::uint8_t> pre_mask_;

    // acc[i] += col_j[i] for the listed columns, in list order for every i (the reference
    // loop's order of additions); four columns per pass over acc.
    static void accumulate_columns(const T* wt, std::size_t out, const std::vector<std::uint32_t>& cols,
                                   T* __restrict acc)
    {
        const std::size_t n = cols.size();
        std::size_t k = 0;
        for (; k + 4 <= n; k += 4) {
            const T* __restrict c0 = wt + static_cast<std::size_t>(cols[k]) * out;
            const T* __restrict c1 = wt + static_cast<std::size_t>(cols[k + 1]) * out;
            const T* __restrict c2 = wt + static_cast<std::size_t>(cols[k + 2]) * out;
            const T* __restrict c3 = wt + static_cast<std::size_t>(cols[k + 3]) * out;
            for (std::size_t i = 0; i < out; ++i) {
                T a = acc[i];
                a += c0[i];
                a += c1[i];
                a += c2[i];
                a += c3[i];
                acc[i] = a;
            }
        }
        for (; k < n; ++k) {
            const T* __restrict c = wt + static_cast<std::size_t>(cols[k]) * out;
            for (std::size_t i = 0; i < out; ++i) {
                acc[i] += c[i];
            }
        }
    }

    template <class Rule>
    void apply_stdp(std::size_t l, const std::vector<std::uint32_t>& pre, const std::vector<std::uint32_t>& fired,
                    const Rule& rule, double inert)
    {
        const auto& w = layers_[l];
        const std::size_t in = w.in;
        const std::size_t out = w.out;
        std::uint8_t* mask = pre_mask_.data();
        for (std::uint32_t j : pre) mask[j] = 1;
        T* wt = wt_[l].data();
        for (std::uint32_t i : fired) {
            T* row = w.data + static_cast<std::size_t>(i) * in;
            for (std::size_t j = 0; j < in; ++j) {
                const T old = row[j];
                if (static_cast<double>(old) > inert) {
                    continue;
                }
                const T updated = static_cast<T>(mask[j] ? rule.potentiate(static_cast<double>(old))
                                                         : rule.depress(static_cast<double>(old)));
                if (std::memcmp(&updated, &old, sizeof(T)) != 0) {  // bitwise: keeps the sign of zero
                    row[j] = updated;
                    wt[j * out + i] = updated;
                }
            }
        }
        for (std::uint32_t j : pre) mask[j] = 0;
    }
};

}  // namespace sleepnet
