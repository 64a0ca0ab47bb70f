#pragma once
// The search space of the sleep parameter search: which SleepParams fields vary, over
// which ranges, and how a point of the unit cube (the genome the search works on) maps to
// parameters.
//
// A genome has one gene in [0, 1] per varied quantity, in this order:
//   rate, inc, dec, alpha_scale, steps, input mode, threshold_1 .. threshold_L
// (L = simulated layers). A range with lo == hi is fixed; its gene is ignored. Log-scale
// ranges map u to lo * (hi / lo)^u, linear ones to lo + u (hi - lo); steps are rounded to
// the nearest integer; the input mode is inputs[floor(u * inputs.size())].
//
// Optional genes, off by default (then the genome and the log header are what they were
// before these existed), appended after the thresholds in this order when on:
//   decay          when `decay` is set (a range inside (0, 1])
//   rule           when `rules` is not empty: rules[floor(u * rules.size())]
//   normalization  when `normalizations` is not empty: likewise
//   include_output when `vary_include_output`: u < 0.5 simulates the output layer, u >= 0.5
//                  leaves it out. The threshold genes then cover every weight layer (base
//                  must include the output layer); without the output layer the last one
//                  is ignored.
// Everything SleepParams holds but the space does not vary (rule, normalization, decay,
// dt, rate_factor, include_output) comes from `base`.
//
// Note: sleep's dynamics depend on each layer's alpha_l / threshold_l only (the membrane
// potential is linear in alpha and resets to 0), so the normalization chain and
// alpha_scale only move where the threshold ranges sit; decay, rule and include_output
// change what sleep does.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../snn/sleep.hpp"

namespace sleepnet {

/// A closed range [lo, hi], log-scale or linear.
struct ParamRange {
    double lo = 0.0;
    double hi = 0.0;
    bool log = true;

    bool fixed() const { return lo == hi; }

    double decode(double u) const
    {
        u = std::min(1.0, std::max(0.0, u));
        if (fixed()) return lo;
        return log ? lo * std::pow(hi / lo, u) : lo + u * (hi - lo);
    }

    /// The gene that decodes to v (clamped to the range).
    double encode(double v) const
    {
        if (fixed()) return 0.5;
        v = std::min(hi, std::max(lo, v));
        return log ? std::log(v / lo) / std::log(hi / lo) : (v - lo) / (hi - lo);
    }

    void validate(const std::string& name) const
    {
        if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
            throw invalid_argument("search space: range '" + name + "' must be finite with lo <= hi, got [" +
                                   std::to_string(lo) + ", " + std::to_string(hi) + "]");
        if (log && !(lo > 0.0))
            throw invalid_argument("search space: log-scale range '" + name + "' needs lo > 0, got " +
                                   std::to_string(lo));
    }
};

struct SearchSpace {
    SleepParams base;                    ///< fixed fields (rule, normalization, decay, ...)
    ParamRange rate{10.0, 490.0, true};  ///< Hz; rate_factor * dt * hi must stay <= 1
    ParamRange inc{1e-4, 0.1, true};
    ParamRange dec{1e-5, 0.1, true};
    ParamRange alpha_scale{0.3, 100.0, true};
    ParamRange steps{300.0, 30000.0, true};
    ParamRange threshold{0.3, 100.0, true};       ///< every layer's threshold unless per_layer_threshold is set
    std::vector<ParamRange> per_layer_threshold;  ///< optional: one range per simulated layer
    std::vector<SleepInput> inputs{SleepInput::sequence, SleepInput::mean};
    // optional genes (see the header comment); off by default
    std::optional<ParamRange> decay;                 ///< linear or log range inside (0, 1]
    std::vector<StdpRuleKind> rules;                 ///< STDP rules to choose from
    std::vector<NormalizationChain> normalizations;  ///< normalization chains to choose from
    bool vary_include_output = false;                ///< choose whether the output layer sleeps

    static constexpr std::size_t fixed_genes = 6;

    /// Optional genes switched on.
    std::size_t optional_genes() const
    {
        return (decay ? 1 : 0) + (rules.empty() ? 0 : 1) + (normalizations.empty() ? 0 : 1) +
               (vary_include_output ? 1 : 0);
    }

    /// Genome length; `simulated_layers` threshold genes (with vary_include_output: every
    /// weight layer).
    std::size_t genes(std::size_t simulated_layers) const { return fixed_genes + simulated_layers + optional_genes(); }

    /// Normalization chains candidates may use (base's when not varied).
    std::vector<NormalizationChain> chains() const
    {
        return normalizations.empty() ? std::vector<NormalizationChain>{base.normalization} : normalizations;
    }

    const ParamRange& threshold_range(std::size_t l) const
    {
        return per_layer_threshold.empty() ? threshold : per_layer_threshold[l];
    }

    /// Throws invalid_argument naming the first bad setting.
    void validate(std::size_t simulated_layers) const
    {
        rate.validate("rate");
        inc.validate("inc");
        dec.validate("dec");
        alpha_scale.validate("alpha_scale");
        steps.validate("steps");
        threshold.validate("threshold");
        check::positive("search space", "rate", rate.lo);
        if (base.rate_factor * base.dt * rate.hi > 1.0 + 1e-12)
            throw invalid_argument("search space: rate up to " + std::to_string(rate.hi) +
                                   " Hz gives a spike probability rate_factor * dt * rate = " +
                                   std::to_string(base.rate_factor * base.dt * rate.hi) + " > 1");
        if (inc.lo < 0.0 || dec.lo < 0.0) throw invalid_argument("search space: inc and dec must be >= 0");
        check::positive("search space", "alpha_scale", alpha_scale.lo);
        if (!(steps.lo >= 1.0)) throw invalid_argument("search space: steps must be >= 1");
        check::positive("search space", "thresholds", threshold.lo);
        if (!per_layer_threshold.empty() && per_layer_threshold.size() != simulated_layers)
            throw invalid_argument("search space: " + std::to_string(per_layer_threshold.size()) +
                                   " per-layer threshold ranges for " + std::to_string(simulated_layers) +
                                   " simulated layers");
        for (std::size_t l = 0; l < per_layer_threshold.size(); ++l) {
            per_layer_threshold[l].validate("threshold " + std::to_string(l + 1));
            check::positive("search space", "threshold " + std::to_string(l + 1), per_layer_threshold[l].lo);
        }
        if (inputs.empty()) throw invalid_argument("search space: no input mode to choose from");
        if (decay) {
            decay->validate("decay");
            if (!(decay->lo > 0.0) || decay->hi > 1.0)
                throw invalid_argument("search space: range 'decay' must lie in (0, 1], got [" +
                                       std::to_string(decay->lo) + ", " + std::to_string(decay->hi) + "]");
        }
        if (vary_include_output) {
            if (!base.include_output)
                throw invalid_argument("search space: vary_include_output needs base.include_output = true "
                                       "(threshold genes for every weight layer)");
            if (simulated_layers < 2)
                throw invalid_argument("search space: vary_include_output needs at least 2 weight layers");
        }
        for (auto c : normalizations)
            if (c == NormalizationChain::percentile && !(base.percentile > 0.0 && base.percentile <= 100.0))
                throw invalid_argument(
                    "search space: normalization 'percentile' needs base.percentile in (0, 100], got " +
                    std::to_string(base.percentile));
    }

    /// The parameters a genome stands for (alpha left empty: sleep normalizes).
    SleepParams decode(const std::vector<double>& g, std::size_t simulated_layers) const
    {
        if (g.size() != genes(simulated_layers))
            throw invalid_argument("search space: genome has " + std::to_string(g.size()) + " genes, expected " +
                                   std::to_string(genes(simulated_layers)));
        SleepParams p = base;
        p.alpha.clear();
        p.rate = rate.decode(g[0]);
        p.inc = inc.decode(g[1]);
        p.dec = dec.decode(g[2]);
        p.alpha_scale = alpha_scale.decode(g[3]);
        p.steps = static_cast<std::size_t>(std::llround(steps.decode(g[4])));
        const auto k =
            std::min(inputs.size() - 1, static_cast<std::size_t>(std::min(1.0, std::max(0.0, g[5])) * inputs.size()));
        p.input = inputs[k];
        p.thresholds.assign(simulated_layers, 0.0);
        for (std::size_t l = 0; l < simulated_layers; ++l)
            p.thresholds[l] = threshold_range(l).decode(g[fixed_genes + l]);
        std::size_t k2 = fixed_genes + simulated_layers;
        if (decay) p.decay = decay->decode(g[k2++]);
        if (!rules.empty()) p.rule = choose(rules, g[k2++]);
        if (!normalizations.empty()) p.normalization = choose(normalizations, g[k2++]);
        if (vary_include_output) {
            p.include_output = g[k2++] < 0.5;
            if (!p.include_output) p.thresholds.pop_back();
        }
        return p;
    }

    /// A genome for given parameters (values outside the ranges are clamped), e.g. to seed
    /// the search with a preset.
    std::vector<double> encode(const SleepParams& p) const
    {
        // without the output layer, its threshold gene still exists (and is ignored)
        const bool dropped = vary_include_output && !p.include_output;
        const std::size_t sim = p.thresholds.size() + (dropped ? 1 : 0);
        std::vector<double> g(genes(sim), 0.5);
        g[0] = rate.encode(p.rate);
        g[1] = inc.encode(p.inc);
        g[2] = dec.encode(p.dec);
        g[3] = alpha_scale.encode(p.alpha_scale);
        g[4] = steps.encode(static_cast<double>(p.steps));
        const auto it = std::find(inputs.begin(), inputs.end(), p.input);
        const std::size_t k = it == inputs.end() ? 0 : static_cast<std::size_t>(it - inputs.begin());
        g[5] = (static_cast<double>(k) + 0.5) / static_cast<double>(inputs.size());
        for (std::size_t l = 0; l < p.thresholds.size(); ++l)
            g[fixed_genes + l] = threshold_range(l).encode(p.thresholds[l]);
        std::size_t k2 = fixed_genes + sim;
        if (decay) g[k2++] = decay->encode(p.decay);
        if (!rules.empty()) g[k2++] = choice_gene(rules, p.rule);
        if (!normalizations.empty()) g[k2++] = choice_gene(normalizations, p.normalization);
        if (vary_include_output) g[k2++] = p.include_output ? 0.25 : 0.75;
        return g;
    }

private:
    template <class E>
    static E choose(const std::vector<E>& v, double u)
    {
        u = std::min(1.0, std::max(0.0, u));
        return v[std::min(v.size() - 1, static_cast<std::size_t>(u * static_cast<double>(v.size())))];
    }
    /// The middle of the gene interval that decodes to e (the first choice when e is absent).
    template <class E>
    static double choice_gene(const std::vector<E>& v, E e)
    {
        const auto it = std::find(v.begin(), v.end(), e);
        const std::size_t k = it == v.end() ? 0 : static_cast<std::size_t>(it - v.begin());
        return (static_cast<double>(k) + 0.5) / static_cast<double>(v.size());
    }
};

}  // namespace sleepnet
