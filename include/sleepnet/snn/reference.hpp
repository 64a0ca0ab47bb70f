#pragma once
// The sleep loop written as plainly as possible: dense matrix-vector products every step,
// every weight of a spiking neuron passed to the rule. It is the readable specification
// of snn/integrate_fire.hpp (which must reproduce it bit for bit) and the baseline that
// bench/sleep measures against. Not meant for real use: it costs a full W s per layer
// per step.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "integrate_fire.hpp"

namespace sleepnet {
namespace reference {

struct SleepCounts {
    std::vector<std::uint64_t> spikes;
};

/// Runs `steps` steps of sleep on `layers` in place, drawing inputs from `source`.
template <class T, class Source, class Rule, class Engine>
inline SleepCounts sleep_loop(std::vector<WeightView<T>> layers, const std::vector<IfLayerParams>& params,
                              double decay_d, std::size_t steps, Source& source, const Rule& rule, Engine& engine)
{
    const std::size_t L = layers.size();
    const T decay = static_cast<T>(decay_d);
    std::vector<std::vector<T>> v(L);
    std::vector<std::vector<std::uint8_t>> s(L);
    for (std::size_t l = 0; l < L; ++l) {
        v[l].assign(layers[l].out, T(0));
        s[l].assign(layers[l].out, 0);
    }
    std::vector<std::uint8_t> s0(layers[0].in, 0);
    std::vector<std::uint32_t> active;
    SleepCounts counts;
    counts.spikes.assign(L, 0);
    for (std::size_t t = 0; t < steps; ++t) {
        source.spikes(t, active, engine);
        std::fill(s0.begin(), s0.end(), 0);
        for (auto j : active) s0[j] = 1;
        const std::vector<std::uint8_t>* pre = &s0;
        for (std::size_t l = 0; l < L; ++l) {
            const auto& w = layers[l];
            const T alpha = static_cast<T>(params[l].alpha);
            const T threshold = static_cast<T>(params[l].threshold);
            for (std::size_t i = 0; i < w.out; ++i) {
                T acc = T(0);
                for (std::size_t j = 0; j < w.in; ++j) {
                    acc += w.data[i * w.in + j] * static_cast<T>((*pre)[j]);
                }
                v[l][i] = decay * v[l][i] + alpha * acc;
                s[l][i] = v[l][i] >= threshold ? 1 : 0;
            }
            for (std::size_t i = 0; i < w.out; ++i) {
                if (!s[l][i]) continue;
                ++counts.spikes[l];
                for (std::size_t j = 0; j < w.in; ++j) {
                    T& x = w.data[i * w.in + j];
                    x = static_cast<T>((*pre)[j] ? rule.potentiate(static_cast<double>(x))
                                                 : rule.depress(static_cast<double>(x)));
                }
                v[l][i] = T(0);
            }
            pre = &s[l];
        }
    }
    return counts;
}

}  // namespace reference
}  // namespace sleepnet
