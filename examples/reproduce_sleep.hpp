#pragma once
// reproduce: the sleep stage. Finds the sleep parameters (a file, the data set's shipped
// file, or a preset), optionally refines them with the sleep parameter search on the
// training data, sleeps a copy of the control and refits it when the file says so.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sleepnet/snn/refit.hpp>
#include <sleepnet/snn/refit_json.hpp>
#include <sleepnet/snn/sleep.hpp>
#include <sleepnet/snn/sleep_json.hpp>
#include <sleepnet/tune/objective.hpp>
#include <sleepnet/tune/search.hpp>

#include "common.hpp"
#include "reproduce_setup.hpp"

namespace repro {

/// Sleep parameters and where they came from.
struct SleepSource {
    sleepnet::SleepParams params;
    std::optional<sleepnet::RefitPlan> refit;  ///< a file's "refit" object (snn/refit.hpp)
    std::string source;                        ///< "file PATH" or "preset NAME"
};

inline std::string preset_for(const std::string& dataset)
{
    if (dataset == "patches") return "patches";
    if (dataset == "features" || dataset == "synthetic-features") return "cub200";
    return "mnist-fgsm";
}

/// --sleep-params FILE, else examples/params/<dataset>.json (next to this source, then
/// under the working directory), else the data set's preset.
inline SleepSource find_sleep_params(const std::string& dataset, const std::string& params_file)
{
    namespace fs = std::filesystem;
    std::string file = params_file;
    if (file.empty()) {
        for (const fs::path& p : {fs::path(__FILE__).parent_path() / "params" / (dataset + ".json"),
                                  fs::path("examples") / "params" / (dataset + ".json")})
            if (fs::exists(p)) {
                file = p.string();
                break;
            }
    }
    if (file.empty())
        return {sleepnet::sleep_preset(preset_for(dataset)), std::nullopt, "preset " + preset_for(dataset)};
    return {sleepnet::load_sleep_params(file), sleepnet::load_refit_plan(file), "file " + file};
}

/// Sleep turns inputs into spike probabilities, so they must lie in [0, 1]: feature vectors
/// outside it are rescaled by their range for sleep only (noted in `info`).
inline sleepnet::matrix<T> sleep_input(const Setup& s, nlohmann::json& info)
{
    sleepnet::matrix<T> x = s.data.train.x;
    if (s.bounds.lo < 0.0 || s.bounds.hi > 1.0) {
        const T lo = static_cast<T>(s.bounds.lo), r = static_cast<T>(s.bounds.hi - s.bounds.lo);
        for (auto& v : x) v = (v - lo) / r;
        info["sleep_input_rescaled"] = {{"lo", s.bounds.lo}, {"hi", s.bounds.hi}};
    }
    return x;
}

/// The search's robustness objective: the median minimal L-inf eps of APGD (default; the
/// Table 1 row), or the paper's median minimal FGSM eps.
template <class F>
auto with_tune_objective(const Setup& s, F&& f)
{
    if (s.plan.tune_objective == "fgsm") {
        sleepnet::FgsmObjective obj;
        obj.options.loss = s.attack_loss;
        obj.options.search = sleepnet::FgsmSearch::grid;
        obj.options.bounds = s.bounds;
        return f(obj, "FGSM objective");
    }
    sleepnet::PgdObjective obj;
    obj.mode = sleepnet::PgdObjective::Mode::minimal_epsilon;
    obj.options.bounds = s.bounds;
    obj.seed = s.plan.seed + s_tune;
    return f(obj, "APGD objective");
}

/// Patches: the training rows are copies of the four images, so the search measures on the
/// first training row of each class (the same images, each once).
inline std::vector<std::size_t> first_row_per_class(const sleepnet::Dataset<T>& d)
{
    std::vector<std::size_t> rows;
    std::vector<bool> seen(d.classes, false);
    for (std::size_t i = 0; i < d.size(); ++i)
        if (!seen[d.y(i)]) {
            seen[d.y(i)] = true;
            rows.push_back(i);
        }
    return rows;
}

/// The search's data: candidates sleep on `sleep_x` and are measured on a validation split
/// at the end of the training rows (refitted on the rows before it when the file says so).
inline sleepnet::TuneData<T> tune_data(const Setup& s, const sleepnet::matrix<T>& sleep_x, std::size_t nv,
                                       std::size_t m, bool with_refit)
{
    const std::size_t n = s.data.train.size();
    sleepnet::TuneData<T> td;
    td.sleep_x = sleep_x;
    if (s.patches()) {
        const auto rows = first_row_per_class(s.data.train);
        td.val_x = xt::view(s.data.train.x, xt::keep(rows), xt::all());
        td.val_y = xt::view(s.data.train.y, xt::keep(rows));
    } else {
        td.val_x = xt::view(s.data.train.x, xt::range(n - nv, n - nv + m), xt::all());
        td.val_y = xt::view(s.data.train.y, xt::range(n - nv, n - nv + m));
    }
    if (with_refit) {
        if (n == nv)
            throw sleepnet::invalid_argument("reproduce: the parameter file asks for a refit, but no training rows "
                                             "are left before the validation split");
        td.refit_x = xt::view(s.data.train.x, xt::range(0, n - nv), xt::all());
        td.refit_y = xt::view(s.data.train.y, xt::range(0, n - nv));
    }
    return td;
}

/// Sleep parameter search on a validation split of the TRAINING data, started from `src`;
/// replaces src's parameters by the best feasible candidate.
inline void tune_before_sleep(const Setup& s, const Net& control, const sleepnet::matrix<T>& sleep_x, SleepSource& src,
                              nlohmann::json& info)
{
    const auto t0 = Clock::now();
    const std::size_t n = s.data.train.size();
    const std::size_t nv = s.patches() ? n : std::min<std::size_t>(2000, n / 10);
    const std::size_t m = std::min<std::size_t>(nv, 500);
    const auto td = tune_data(s, sleep_x, nv, m, src.refit.has_value());
    sleepnet::TuneOptions to;
    to.budget = s.plan.tune_budget;
    to.initial.push_back(sleepnet::SearchSpace{}.encode(src.params));
    if (src.refit) {
        src.refit->options.samples = n - nv;  // candidates are refitted on the rows before the validation split
        to.refit = src.refit->options;
    }
    // the sleep below uses default_engine(seed + s_sleep), the refit the file's seed
    const sleepnet::CandidateEngines<> engines{sleepnet::default_engine(s.plan.seed + s_sleep),
                                               sleepnet::default_engine(src.refit ? src.refit->seed : 1)};
    sleepnet::default_engine te(s.plan.seed + s_tune);
    auto bar = examples::progress_bar("tune sleep");
    with_tune_objective(s, [&](const auto& obj, const char* what) {
        auto tr = sleepnet::tune_sleep(control, td, sleepnet::SearchSpace{}, obj, to, engines, te, bar);
        const auto& best = tr.best();
        info["tune"] = {{"budget", s.plan.tune_budget},
                        {"validation_rows", td.val_y.size()},
                        {"objective", obj.name()},
                        {"control_value", sleepnet::json_number(tr.control_value)},
                        {"best_value", sleepnet::json_number(best.value)},
                        {"best_feasible", best.feasible},
                        {"best_accuracy", best.accuracy},
                        {"seconds", since(t0)},
                        {"started_from", src.source}};
        if (!best.feasible) return;
        src.params = tr.best_params();
        src.source = std::string("tuned (tune_sleep, ") + what + " on training data) from " + src.source;
    });
}

/// Sleeps a copy of the control (and refits it when the parameter file says so).
inline void sleep_control(const Setup& s, Networks& nets, const std::string& params_file)
{
    const Net& control = nets.at("control").net;
    SleepSource src = find_sleep_params(s.plan.dataset, params_file);
    nlohmann::json info;
    const sleepnet::matrix<T> sleep_x = sleep_input(s, info);
    if (s.plan.tune_budget > 0) tune_before_sleep(s, control, sleep_x, src, info);
    Net slept = control;
    sleepnet::default_engine e(s.plan.seed + s_sleep);
    auto sbar = examples::progress_bar("sleep");
    std::fprintf(stderr, "reproduce: sleep (%s, %zu steps)\n", src.source.c_str(), src.params.steps);
    auto rep = sleepnet::sleep(slept, sleep_x, src.params, e, sbar);
    if (src.refit) {
        src.refit->options.validate(slept.num_layers());
        std::fprintf(stderr, "reproduce: refit layers %zu-%zu after sleep\n", src.refit->options.sgd.frozen_layers + 1,
                     slept.num_layers());
        info["accuracy_after_sleep_before_refit"] = sleepnet::accuracy(slept, s.data.test);
        sleepnet::default_engine re(src.refit->seed);
        const auto rr = sleepnet::refit(slept, s.data.train.x, s.data.train.y, src.refit->options, re);
        info["refit"] = nlohmann::json(*src.refit);
        info["refit_seconds"] = rr.seconds;
        src.source += " + refit";
    }
    info["params"] = src.params;
    info["params_source"] = src.source;
    info["report"] = rep;
    nets.add("sleep", "Sleep", std::move(slept), info);
}

}  // namespace repro
