#pragma once
// reproduce: the aggregate of several seed runs (reproduce_seeds.hpp). Every cell of
// Table 1, the checks, the clean accuracies and every curve level as mean, sample sd
// (n - 1) and n over the seed runs (sleepnet::summarize), read back from the seed
// directories' results.json; written as results.json, table1.txt, table1.csv, curve
// CSV/.dat files and gnuplot scripts with error bars.
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sleepnet/core/json.hpp>
#include <sleepnet/core/summary.hpp>

#include "reproduce_plots.hpp"
#include "reproduce_seeds.hpp"
#include "reproduce_table.hpp"

namespace repro {

/// A JSON number of a seed run; null (JSON's infinity, reproduce_table.hpp) reads as +inf.
inline double number_or_inf(const nlohmann::json& v)
{
    return v.is_null() ? std::numeric_limits<double>::infinity() : v.get<double>();
}

/// {"n", "mean", "sd", "min", "max"}; NaN (n < 2 for sd, n = 0 for the others) is null.
inline nlohmann::json to_json(const sleepnet::Summary& s)
{
    return {{"n", s.n},
            {"mean", sleepnet::json_number(s.mean)},
            {"sd", sleepnet::json_number(s.sd)},
            {"min", sleepnet::json_number(s.min)},
            {"max", sleepnet::json_number(s.max)}};
}

/// A score over the seed runs: the finite values summarised, failures (inf) counted.
inline nlohmann::json score_json(const std::vector<double>& v)
{
    const auto f = sleepnet::summarize_finite(v);
    auto j = to_json(f.finite);
    j["infinite"] = f.infinite;
    return j;
}

/// values[seed run] of `get(run)`.
template <class F>
std::vector<double> across(const std::vector<nlohmann::json>& runs, F&& get)
{
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(get(r));
    return v;
}

/// One cell of Table 1 over the seed runs; the network must be the same in each.
inline nlohmann::json table_cell(const std::vector<nlohmann::json>& runs, const std::string& atk,
                                 const std::string& col)
{
    const auto cell = [&](const nlohmann::json& r) -> const nlohmann::json& { return r.at("table1").at(atk).at(col); };
    const std::string key = cell(runs.front()).at("network").get<std::string>();
    for (const auto& r : runs)
        if (cell(r).at("network") != key)
            throw sleepnet::invalid_argument("reproduce --merge: the seed runs measured different networks in " + atk +
                                             " / " + col);
    nlohmann::json j = {
        {"network", key},
        {"score",
         score_json(across(runs, [&](const nlohmann::json& r) { return number_or_inf(cell(r).at("score")); }))},
        {"success_rate", to_json(sleepnet::summarize(across(runs, [&](const nlohmann::json& r) {
             return cell(r).at("success_rate").get<double>();
         })))}};
    if (cell(runs.front()).contains("robust_accuracy")) {
        nlohmann::json ra = nlohmann::json::array();
        const std::size_t k = cell(runs.front())["robust_accuracy"].size();
        for (std::size_t b = 0; b < k; ++b)
            ra.push_back(to_json(sleepnet::summarize(across(
                runs, [&](const nlohmann::json& r) { return cell(r).at("robust_accuracy").at(b).get<double>(); }))));
        j["robust_accuracy"] = ra;
    }
    return j;
}

inline nlohmann::json aggregate_table1(const std::vector<nlohmann::json>& runs)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto& row : attack_rows())
        for (const auto& col : table_columns()) j[row.first][col] = table_cell(runs, row.first, col);
    return j;
}

/// The checks over the seed runs: the capped scores per column, the paired sleep - control
/// differences (per seed run, then summarised) and in how many seed runs sleep was above.
inline nlohmann::json aggregate_checks(const std::vector<nlohmann::json>& runs)
{
    const auto sum = [&](auto get) { return to_json(sleepnet::summarize(across(runs, get))); };
    nlohmann::json j;
    for (const std::string k : {"fgsm_score_capped", "apgd_score_capped"})
        for (const auto& col : table_columns())
            j[k][col] = sum([&](const nlohmann::json& r) { return r.at("checks").at(k).at(col).get<double>(); });
    for (const std::string k : {"sleep_fgsm_minus_control", "sleep_apgd_minus_control"})
        j[k] = sum([&](const nlohmann::json& r) { return r.at("checks").at(k).get<double>(); });
    std::size_t above = 0;
    for (const auto& r : runs)
        above += sleepnet::detail::json_integer<int>(r.at("checks").at("sleep_fgsm_above_control"),
                                                     "sleep_fgsm_above_control", "reproduce --merge: checks")
                     ? 1
                     : 0;
    j["sleep_fgsm_above_control"] = {{"seed_runs", above}, {"n", runs.size()}};
    return j;
}

/// Test accuracy of every network over the seed runs.
inline nlohmann::json aggregate_accuracy(const std::vector<nlohmann::json>& runs)
{
    nlohmann::json j = nlohmann::json::object();
    for (auto it = runs.front().at("networks").begin(); it != runs.front().at("networks").end(); ++it) {
        const std::string key = it.key();
        j[key] = to_json(sleepnet::summarize(across(runs, [&](const nlohmann::json& r) {
            return r.at("networks").at(key).at("test_accuracy").get<double>();
        })));
        j[key]["title"] = it.value().at("title");
    }
    return j;
}

/// One curve over the seed runs: per network and level, mean and sd (x must agree).
inline examples::CurveTable aggregate_curve(const std::vector<nlohmann::json>& runs, const std::string& name,
                                            nlohmann::json& out)
{
    const auto& c0 = runs.front().at("curves").at(name);
    examples::CurveTable t;
    t.x_name = c0.at("x_name").get<std::string>();
    t.x = c0.at("x").get<std::vector<double>>();
    out = {{"x_name", t.x_name}, {"x", t.x}, {"n", runs.size()}};
    for (const auto& r : runs)
        if (r.at("curves").at(name).at("x") != c0.at("x"))
            throw sleepnet::invalid_argument("reproduce --merge: the seed runs' " + name + " curves have different x");
    for (auto it = c0.at("accuracy").begin(); it != c0.at("accuracy").end(); ++it) {
        std::vector<double> mean, sd;
        for (std::size_t i = 0; i < t.x.size(); ++i) {
            const auto s = sleepnet::summarize(across(runs, [&](const nlohmann::json& r) {
                return r.at("curves").at(name).at("accuracy").at(it.key()).at(i).get<double>();
            }));
            mean.push_back(s.mean);
            sd.push_back(s.sd);
            out["mean"][it.key()].push_back(sleepnet::json_number(s.mean));
            out["sd"][it.key()].push_back(sleepnet::json_number(s.sd));
        }
        t.series.push_back(it.key() + "_mean");
        t.values.push_back(mean);
        t.series.push_back(it.key() + "_sd");
        t.values.push_back(sd);
    }
    return t;
}

/// A seed run's Table 1 and checks for the aggregate's "seed_runs" (timings left out:
/// they stay in the seed directory).
inline nlohmann::json seed_run_json(const nlohmann::json& r)
{
    nlohmann::json t = r.at("table1");
    for (auto& row : t)
        for (auto& cell : row) cell.erase("seconds");
    nlohmann::json acc = nlohmann::json::object();
    for (auto it = r.at("networks").begin(); it != r.at("networks").end(); ++it)
        acc[it.key()] = it.value().at("test_accuracy");
    const auto seed = r.at("plan").at("seed").get<std::uint64_t>();
    return {{"seed", seed},
            {"dir", seed_dir_name(seed)},
            {"table1", t},
            {"checks", r.at("checks")},
            {"test_accuracy", acc}};
}

}  // namespace repro
