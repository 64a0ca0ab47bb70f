#pragma once
// reproduce: the aggregate of several seed runs as text (table1.txt), CSV (table1.csv) and
// gnuplot scripts with error bars (Figs. 1-2), from the aggregate JSON of
// reproduce_aggregate.hpp. Cells are "mean+-sd" (sample sd, n - 1); a single value has no sd.
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reproduce_aggregate.hpp"
#include "reproduce_plots.hpp"
#include "reproduce_table.hpp"

namespace repro {

/// "mean+-sd" of a summary's JSON (mean in format f, sd "%.4f"); "mean" when sd is null
/// (n = 1); "-" when n = 0.
inline std::string mean_sd(const nlohmann::json& s, const char* f = "%.4f")
{
    if (s.at("mean").is_null()) return "-";
    std::string t = fmt(s.at("mean").get<double>(), f);
    if (!s.at("sd").is_null()) t += "+-" + fmt(s.at("sd").get<double>(), "%.4f");
    return t;
}

/// A score cell: "inf" when every seed run failed, "mean+-sd*" when some did (the footnote
/// says how many), then the mean success rate.
inline std::string score_cell(const nlohmann::json& c)
{
    const auto& sc = c.at("score");
    const auto inf = sleepnet::detail::json_integer<std::size_t>(sc.at("infinite"), "infinite", "score");
    const auto n = sleepnet::detail::json_integer<std::size_t>(sc.at("n"), "n", "score");
    std::string t = n == 0 ? "inf" : mean_sd(sc) + (inf ? "*" : "");
    return t + " (" + fmt(100.0 * c.at("success_rate").at("mean").get<double>(), "%.2f") + "%)";
}

inline std::string row_line(const std::string& title, const std::vector<std::string>& cells)
{
    char line[512];
    std::snprintf(line, sizeof line, "%-22s | %-26s | %-26s | %-26s | %-26s | %-26s\n", title.c_str(), cells[0].c_str(),
                  cells[1].c_str(), cells[2].c_str(), cells[3].c_str(), cells[4].c_str());
    return line;
}

/// The paired sleep - control differences and whether each exceeds its sd.
inline std::string checks_text(const nlohmann::json& checks)
{
    std::ostringstream t;
    t << "Sleep - control, paired per seed run (FGSM, APGD median minimal eps; failures counted as eps 1.0):\n";
    for (const std::string atk : {"fgsm", "apgd"}) {
        const auto& d = checks.at("sleep_" + atk + "_minus_control");
        t << "  " << (atk == "fgsm" ? "FGSM" : "APGD L-inf") << ": " << mean_sd(d, "%+.4f");
        if (!d.at("sd").is_null()) {
            const double m = d.at("mean").get<double>(), sd = d.at("sd").get<double>();
            t << (std::fabs(m) > sd ? "  |mean| exceeds the sd" : "  |mean| within the sd (seed-to-seed noise)");
        }
        if (atk == "fgsm")
            t << "; sleep above control in " << checks.at("sleep_fgsm_above_control").at("seed_runs") << " of "
              << checks.at("sleep_fgsm_above_control").at("n") << " seed runs";
        t << '\n';
    }
    return t.str();
}

/// The strong rows' robust accuracy per column and budget.
inline std::string robust_accuracy_text(const nlohmann::json& table)
{
    std::ostringstream t;
    for (const std::string atk : {"apgd", "fmn"}) {
        const auto eps = strong_eps(atk);
        t << "Robust accuracy, " << (atk == "apgd" ? "APGD L-inf" : "FMN L2") << ", mean+-sd:\n";
        char line[256];
        std::snprintf(line, sizeof line, "  %-22s", "budget");
        t << line;
        for (double e : eps) t << "  " << fmt(e, "%-15g");
        t << '\n';
        for (const auto& col : table_columns()) {
            const auto& c = table.at(atk).at(col);
            std::snprintf(line, sizeof line, "  %-22s", c.at("network").get<std::string>().c_str());
            t << line;
            for (const auto& s : c.at("robust_accuracy")) {
                std::snprintf(line, sizeof line, "  %-15s", mean_sd(s).c_str());
                t << line;
            }
            t << '\n';
        }
    }
    return t.str();
}

/// Table 1 of the aggregate as text.
inline std::string aggregate_text(const std::string& dataset, const nlohmann::json& agg)
{
    std::ostringstream t;
    const auto& table = agg.at("table1");
    const auto& seeds = agg.at("seeds").at("list");
    t << dataset_title(dataset) << ": Table 1 over " << seeds.size() << " seed runs (base seeds";
    for (const auto& s : seeds) t << ' ' << sleepnet::detail::json_integer<std::uint64_t>(s, "seeds", "aggregate");
    t << "), each cell mean+-sd (sample sd, n - 1, n = " << seeds.size() << ")\n";
    t << row_line("", {"Control", "Defensive Distillation", "Fine-tuning", "Sleep", "Adversarial training"})
      << std::string(162, '-') << '\n';
    std::vector<std::string> starred;
    for (const auto& row : attack_rows()) {
        std::vector<std::string> cells;
        for (const auto& col : table_columns()) {
            const auto& c = table.at(row.first).at(col);
            cells.push_back(score_cell(c));
            const auto inf = sleepnet::detail::json_integer<std::size_t>(c.at("score").at("infinite"), "infinite", col);
            if (inf && sleepnet::detail::json_integer<std::size_t>(c.at("score").at("n"), "n", col))
                starred.push_back(row.second + " / " + col + ": " + std::to_string(inf) + " of " +
                                  std::to_string(seeds.size()) + " seed runs inf");
        }
        t << row_line(row.second, cells);
    }
    t << "cells: score (mean attack success rate), scores as in the single-seed table; inf = the attack failed "
         "in every seed run.\n";
    for (const auto& s : starred) t << "* " << s << " (mean and sd over the others)\n";
    t << "Clean test accuracy, mean+-sd:";
    for (auto it = agg.at("test_accuracy").begin(); it != agg.at("test_accuracy").end(); ++it)
        t << ' ' << it.key() << ' ' << mean_sd(it.value());
    t << '\n' << checks_text(agg.at("checks")) << robust_accuracy_text(table);
    return t.str();
}

/// Table 1 of the aggregate as CSV, one line per cell.
inline std::string aggregate_csv(const nlohmann::json& table)
{
    std::ostringstream csv;
    csv << "attack,column,network,n,score_mean,score_sd,score_min,score_max,score_infinite,success_mean,success_sd\n";
    const auto num = [](const nlohmann::json& v) {
        return v.is_null() ? std::string("") : fmt(v.get<double>(), "%.6g");
    };
    for (const auto& row : attack_rows()) {
        for (const auto& col : table_columns()) {
            const auto& c = table.at(row.first).at(col);
            const auto& s = c.at("score");
            csv << row.first << ',' << col << ',' << c.at("network").get<std::string>() << ','
                << c.at("success_rate").at("n") << ',' << num(s.at("mean")) << ',' << num(s.at("sd")) << ','
                << num(s.at("min")) << ',' << num(s.at("max")) << ',' << s.at("infinite") << ','
                << num(c.at("success_rate").at("mean")) << ',' << num(c.at("success_rate").at("sd")) << '\n';
        }
    }
    return csv.str();
}

/// Script lines plotting mean with sd error bars: series come in pairs (mean, sd).
inline std::string gp_plot_errorbars(const std::string& dat, const examples::CurveTable& t,
                                     const std::vector<std::string>& titles)
{
    std::ostringstream o;
    o << "plot ";
    for (std::size_t s = 0; 2 * s + 1 < t.series.size(); ++s) {
        if (s) o << ", \\\n     ";
        o << examples::gp_quote(dat) << " using 1:" << 2 * s + 2 << ':' << 2 * s + 3 << " with yerrorlines pt "
          << (s % 7) + 1 << " ps 0.6 title " << examples::gp_quote(s < titles.size() ? titles[s] : t.series[2 * s]);
    }
    return o.str() + "\n";
}

}  // namespace repro
