#pragma once
// The search space flags the tune example and `continual --tune` share: the ranges
// (--inc-range ... --decay-range, LO HI, log scale but the decay's; LO == HI fixes the
// value), the varied choices (--rules, --normalizations, --vary-include-output) and
// --initial parameter files. Every function appends the flags it used to `flags` (for the
// provenance of the written parameter file).
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sleepnet/snn/sleep_json.hpp>
#include <sleepnet/tune/search.hpp>

namespace examples {

struct SpaceFlags {
    std::string rule = "authors";  ///< every candidate's STDP rule (tune's --rule); "" keeps the base's
    std::vector<double> decay_range, inc_range, dec_range, rate_range, alpha_range, steps_range, threshold_range;
    std::vector<std::string> rules, normalizations, initial_files;
    bool vary_include_output = false;
};

/// The search space: ranges are LO HI (log scale; LO == HI fixes the value), the varied choices, --initial.
inline void add_space_options(CLI::App& app, SpaceFlags& a, const std::string& steps_help = "steps range LO HI")
{
    app.add_option("--inc-range", a.inc_range, "inc range LO HI (default 1e-4 0.1)")->expected(2);
    app.add_option("--dec-range", a.dec_range, "dec range LO HI (default 1e-5 0.1)")->expected(2);
    app.add_option("--rate-range", a.rate_range, "input rate range in Hz, LO HI (default 10 490)")->expected(2);
    app.add_option("--alpha-range", a.alpha_range, "alpha_scale range LO HI (default 0.3 100)")->expected(2);
    app.add_option("--steps-range", a.steps_range, steps_help + " (default 300 30000)")->expected(2);
    app.add_option("--threshold-range", a.threshold_range, "threshold range of every layer, LO HI (default 0.3 100)")
        ->expected(2);
    app.add_option("--decay-range", a.decay_range,
                   "vary the membrane decay over LO HI (linear, inside (0, 1]; default: fixed 0.999)")
        ->expected(2);
    app.add_option("--rules", a.rules, "vary the STDP rule over these: authors paper (default: --rule only)");
    app.add_option("--normalizations", a.normalizations,
                   "vary the normalization chain over these: authors textbook percentile (default: authors only)");
    app.add_flag("--vary-include-output", a.vary_include_output,
                 "let the search choose whether the output layer sleeps");
    app.add_option(
        "--initial", a.initial_files,
        "parameter files (sleep --params format) placed first in the initial population (values clamped to the space)");
}

/// The ranges given (--inc-range ... --decay-range), each appended to `flags`.
inline void set_ranges(const SpaceFlags& a, sleepnet::SearchSpace& space, std::string& flags)
{
    auto range = [&](const char* flag, const std::vector<double>& v, sleepnet::ParamRange& r, bool log) {
        if (v.empty()) return;
        r = {v[0], v[1], log};
        char buf[96];
        std::snprintf(buf, sizeof buf, " %s %g %g", flag, v[0], v[1]);
        flags += buf;
    };
    range("--inc-range", a.inc_range, space.inc, true);
    range("--dec-range", a.dec_range, space.dec, true);
    range("--rate-range", a.rate_range, space.rate, true);
    range("--alpha-range", a.alpha_range, space.alpha_scale, true);
    range("--steps-range", a.steps_range, space.steps, true);
    range("--threshold-range", a.threshold_range, space.threshold, true);
    if (!a.decay_range.empty()) {
        space.decay = sleepnet::ParamRange{};
        range("--decay-range", a.decay_range, *space.decay, false);
    }
}

/// The choices the search varies (--rules, --normalizations, --vary-include-output), appended to `flags`.
inline void set_choices(const SpaceFlags& a, sleepnet::SearchSpace& space, std::string& flags)
{
    for (const auto& r : a.rules) {
        if (r == "authors")
            space.rules.push_back(sleepnet::StdpRuleKind::authors);
        else if (r == "paper")
            space.rules.push_back(sleepnet::StdpRuleKind::paper);
        else
            throw sleepnet::invalid_argument("--rules: unknown rule '" + r + "' (authors or paper)");
        flags += (&r == &a.rules.front() ? " --rules " : " ") + r;
    }
    for (const auto& c : a.normalizations) {
        space.normalizations.push_back(sleepnet::normalization_from_string(c));
        flags += (&c == &a.normalizations.front() ? " --normalizations " : " ") + c;
    }
    space.vary_include_output = a.vary_include_output;
    if (a.vary_include_output) flags += " --vary-include-output";
}

/// The search space of the flags around `base` (its rule replaced by a.rule), validated for
/// a network of `layers` layers; its flags go to `flags`.
inline sleepnet::SearchSpace search_space(const SpaceFlags& a, std::size_t layers, std::string& flags,
                                          sleepnet::SleepParams base = sleepnet::SearchSpace{}.base)
{
    sleepnet::SearchSpace space;
    space.base = std::move(base);
    if (a.rule == "paper")
        space.base.rule = sleepnet::StdpRuleKind::paper;
    else if (a.rule == "authors")
        space.base.rule = sleepnet::StdpRuleKind::authors;
    else if (!a.rule.empty())
        throw sleepnet::invalid_argument("--rule must be authors or paper, got '" + a.rule + "'");
    set_ranges(a, space, flags);
    set_choices(a, space, flags);
    const std::size_t threshold_genes = space.vary_include_output ? layers : space.base.simulated_layers(layers);
    space.validate(threshold_genes);
    return space;
}

/// The --initial files as genomes of `space`, checked against a network of `layers` layers.
inline std::vector<std::vector<double>> initial_genomes(const SpaceFlags& a, const sleepnet::SearchSpace& space,
                                                        std::size_t layers, std::string& flags)
{
    std::vector<std::vector<double>> genomes;
    for (const auto& f : a.initial_files) {
        const sleepnet::SleepParams ip = sleepnet::load_sleep_params(f);
        const std::size_t sim = ip.simulated_layers(layers);
        if (ip.thresholds.size() != sim)
            throw sleepnet::invalid_argument("--initial " + f + ": " + std::to_string(ip.thresholds.size()) +
                                             " thresholds for " + std::to_string(sim) + " simulated layers");
        if (!space.vary_include_output && ip.include_output != space.base.include_output)
            throw sleepnet::invalid_argument("--initial " + f +
                                             ": include_output differs from the search's "
                                             "(add --vary-include-output)");
        genomes.push_back(space.encode(ip));
        flags += " --initial " + f;
    }
    return genomes;
}

}  // namespace examples
