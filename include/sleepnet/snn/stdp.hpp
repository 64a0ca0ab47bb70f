#pragma once
// STDP rules applied during sleep. When post-synaptic neuron i spikes, every incoming
// weight W[i, j] changes: potentiate(w) if pre-synaptic neuron j spiked in the same step,
// depress(w) otherwise.
//
// A rule is any type with
//   double potentiate(double w) const;  double depress(double w) const;
// and optionally
//   double inert_above() const;   // for w > this, potentiate(w) == depress(w) == w exactly
// which lets the event-driven kernel skip weights the rule cannot change. Updates are
// computed in double and rounded to the network's precision.

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"

namespace sleepnet {

/// The rule of the authors' released code (sleepnn_old.m):
///   w += inc * g(w)   (pre spiked)      w -= dec * g(w)   (pre silent)
///   g(w) = 2 * (1 - 1 / (1 + exp(-w / sigma))),  sigma = 0.001
/// g is about 2 for w < -5 sigma and vanishes for w > 10 sigma, so mostly weak and negative
/// weights move. Evaluated literally in double, g is exactly 0 once exp(-w / sigma) < 2^-53
/// (w > 36.74 sigma); inert_above() reports that bound (with margin), so skipping those
/// weights is exact, not an approximation.
struct AuthorsStdp {
    double inc = 0.063997;
    double dec = 0.069220;
    double sigma = 0.001;

    double g(double w) const
    {
        if (w > inert_above()) {
            return 0.0;
        }
        return 2.0 * (1.0 - 1.0 / (1.0 + std::exp(-w / sigma)));
    }
    double potentiate(double w) const { return w + inc * g(w); }
    double depress(double w) const { return w - dec * g(w); }
    double inert_above() const { return 36.8 * sigma; }

    void validate() const
    {
        if (!(inc >= 0.0) || !std::isfinite(inc)) throw invalid_argument("STDP inc must be finite and >= 0");
        if (!(dec >= 0.0) || !std::isfinite(dec)) throw invalid_argument("STDP dec must be finite and >= 0");
        if (!(sigma > 0.0) || !std::isfinite(sigma)) throw invalid_argument("STDP sigma must be finite and > 0");
    }
};

/// The rule as the paper's Algorithm 1 states it: w += inc (pre spiked), w -= dec (silent).
struct PaperStdp {
    double inc = 0.001;
    double dec = 0.0001;

    double potentiate(double w) const { return w + inc; }
    double depress(double w) const { return w - dec; }

    void validate() const
    {
        if (!(inc >= 0.0) || !std::isfinite(inc)) throw invalid_argument("STDP inc must be finite and >= 0");
        if (!(dec >= 0.0) || !std::isfinite(dec)) throw invalid_argument("STDP dec must be finite and >= 0");
    }
};

/// No plasticity: sleep becomes a pure spiking simulation (used for spiking inference).
struct NoPlasticity {
    double potentiate(double w) const { return w; }
    double depress(double w) const { return w; }
    double inert_above() const { return -std::numeric_limits<double>::infinity(); }
};

namespace detail {

template <class Rule, class = void>
struct has_inert_above : std::false_type {
};
template <class Rule>
struct has_inert_above<Rule, std::void_t<decltype(std::declval<const Rule&>().inert_above())>> : std::true_type {
};

/// The weight above which a rule changes nothing (+inf when the rule does not say).
template <class Rule>
inline double inert_bound(const Rule& rule)
{
    if constexpr (has_inert_above<Rule>::value) {
        return rule.inert_above();
    } else {
        return std::numeric_limits<double>::infinity();
    }
}

template <class Rule, class = void>
struct has_validate : std::false_type {
};
template <class Rule>
struct has_validate<Rule, std::void_t<decltype(std::declval<const Rule&>().validate())>> : std::true_type {
};

template <class Rule>
inline void validate_rule(const Rule& rule)
{
    if constexpr (has_validate<Rule>::value) {
        rule.validate();
    }
}

}  // namespace detail
}  // namespace sleepnet
