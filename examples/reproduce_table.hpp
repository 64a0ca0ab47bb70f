#pragma once
// reproduce: Table 1. The paper's attacks (FGSM, DeepFool, JSMA, Boundary) and two strong
// ones (APGD L-inf minimal eps, FMN L2 minimal norm) against the control, distillation,
// fine-tuning, sleep and adversarial-training columns; stdout, CSV and JSON.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sleepnet/attacks/boundary.hpp>
#include <sleepnet/attacks/deepfool.hpp>
#include <sleepnet/attacks/ensemble.hpp>
#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/fmn.hpp>
#include <sleepnet/attacks/jsma.hpp>
#include <sleepnet/attacks/pgd.hpp>

#include "common.hpp"
#include "reproduce_parallel.hpp"
#include "reproduce_setup.hpp"
#include "reproduce_train.hpp"

namespace repro {

struct AttackScore {
    double score = 0.0;
    double success = 0.0;
    std::size_t attempted = 0;
    std::size_t count = 0;
    double seconds = 0.0;
    std::vector<double> robust_accuracy;  ///< minimal-budget attacks: at strong_eps()
};

/// Budgets at which the strong rows report robust accuracy (units of the input range).
inline std::vector<double> strong_eps(const std::string& attack)
{
    if (attack == "apgd") return {0.05, 0.1, 0.15, 0.2};
    return {0.5, 1.0, 1.5, 2.0};  // fmn, L2
}

inline nlohmann::json to_json(const AttackScore& a)
{
    nlohmann::json j = {{"score", sleepnet::json_number(a.score)},
                        {"success_rate", a.success},
                        {"attempted", a.attempted},
                        {"inputs", a.count},
                        {"seconds", a.seconds}};
    if (!a.robust_accuracy.empty()) j["robust_accuracy"] = a.robust_accuracy;
    return j;
}

inline std::string fmt(double v, const char* f = "%.4f")
{
    if (!std::isfinite(v)) return "inf";
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

/// The rows of Table 1, in order, with their titles.
inline const std::vector<std::pair<std::string, std::string>>& attack_rows()
{
    static const std::vector<std::pair<std::string, std::string>> rows{{"fgsm", "FGSM"},
                                                                       {"deepfool", "DeepFool"},
                                                                       {"jsma", "JSMA"},
                                                                       {"boundary", "Boundary Attack"},
                                                                       {"apgd", "APGD L-inf (min eps)"},
                                                                       {"fmn", "FMN L2 (min norm)"}};
    return rows;
}

inline const std::vector<std::string>& table_columns()
{
    static const std::vector<std::string> c{"control", "distilled", "finetuned", "sleep", "adversarial"};
    return c;
}

/// The network of a column for an attack: the fine-tuning column uses the network
/// fine-tuned on that attack's images where there is one, else the FGSM one.
inline std::string network_for(const Networks& nets, const std::string& attack, const std::string& column)
{
    if (column != "finetuned") return column;
    if (attack == "deepfool" && nets.find("ft_deepfool")) return "ft_deepfool";
    if (attack == "jsma" && nets.find("ft_jsma")) return "ft_jsma";
    return "ft_fgsm";
}

/// Scores of a finished attack: the paper's (median minimal eps, or median distance) and
/// the success rate over `n` inputs.
inline AttackScore score_of(const sleepnet::AttackResult<T>& r, bool eps_score, std::size_t n, Clock::time_point t0)
{
    AttackScore a;
    a.score = eps_score ? r.median_epsilon() : r.median_distance();
    a.success = r.success_rate();
    a.attempted = r.attempted();
    a.count = n;
    a.seconds = since(t0);
    return a;
}

/// Runs an attack in chunks of `chunk` rows (0 = all at once) with a progress bar; scores
/// the merged samples. Every input's result is independent of its chunk.
template <class Attack>
AttackScore run_chunked(const Setup& s, const std::string& label, const sleepnet::matrix<T>& x,
                        const sleepnet::label_vector& y, bool eps_score, Attack&& attack, std::size_t chunk)
{
    const auto t0 = Clock::now();
    StageBar bar(label, s.workers > 1);
    sleepnet::AttackResult<T> all;
    const std::size_t n = x.shape()[0];
    const std::size_t step = chunk == 0 ? std::max<std::size_t>(n, 1) : chunk;
    for (std::size_t start = 0; start < n; start += step) {
        const std::size_t stop = std::min(n, start + step);
        const sleepnet::matrix<T> xc = xt::view(x, xt::range(start, stop), xt::all());
        const sleepnet::label_vector yc = xt::view(y, xt::range(start, stop));
        auto r = attack(xc, yc);
        for (auto smp : r.samples) all.samples.push_back(smp);
        (*bar).update(stop, n);
    }
    return score_of(all, eps_score, n, t0);
}

/// Rows per call of JSMA and the Boundary attack: all at once (wider batches for the
/// deterministic passes), or the small chunks of the reference schedule (a finer bar).
inline std::size_t small_set_chunk(const Setup& s, std::size_t reference)
{
    return s.reference_schedule ? reference : 0;
}

/// APGD (CE and margin, 100 steps) minimal L-inf eps (the plan's search), or FMN's minimal L2
/// norm, on the first strong-count evaluated rows; robust accuracy read off the budgets.
inline AttackScore run_strong(const Setup& s, const std::string& atk, const Net& net, const std::string& label)
{
    const auto t0 = Clock::now();
    const std::size_t n = s.plan.strong_count == 0 ? s.ex.shape()[0] : std::min(s.plan.strong_count, s.ex.shape()[0]);
    const auto x = rows_of(s.ex, n);
    const auto y = rows_of(s.ey, n);
    sleepnet::AttackResult<T> r;
    if (atk == "apgd") {
        sleepnet::PgdOptions o;
        o.bounds = s.bounds;
        sleepnet::default_engine e(s.plan.seed + s_strong);
        StageBar bar(label, s.workers > 1);
        r = sleepnet::pgd_minimal(net, x, y, o, apgd_search(s.plan), e, *bar);
    } else {
        sleepnet::FmnOptions o;
        o.norm = sleepnet::Norm::l2;
        o.bounds = s.bounds;
        r = sleepnet::fmn(net, x, y, o);
    }
    AttackScore a = score_of(r, true, n, t0);
    a.robust_accuracy = sleepnet::robust_accuracy_curve(r, strong_eps(atk));
    return a;
}

/// One cell of Table 1.
inline AttackScore attack_network(const Setup& s, const std::string& atk, const Net& net, const std::string& label)
{
    if (atk == "fgsm") {
        sleepnet::FgsmOptions o;
        o.bounds = s.bounds;
        o.loss = s.attack_loss;
        return run_chunked(
            s, label, s.ex, s.ey, true, [&](const auto& x, const auto& y) { return sleepnet::fgsm(net, x, y, o); },
            250);
    }
    if (atk == "deepfool") {
        const auto o = deepfool_options(s);
        return run_chunked(
            s, label, s.ex, s.ey, false, [&](const auto& x, const auto& y) { return sleepnet::deepfool(net, x, y, o); },
            500);
    }
    if (atk == "jsma") {
        const std::size_t n = std::min(s.plan.jsma_count, s.data.test.size());
        const auto o = jsma_options(s);
        return run_chunked(
            s, label, rows_of(s.data.test.x, n), rows_of(s.data.test.y, n), false,
            [&](const auto& x, const auto& y) { return sleepnet::jsma(net, x, y, o); }, small_set_chunk(s, 10));
    }
    if (atk == "boundary") {
        const std::size_t n = std::min(s.plan.boundary_count, s.data.test.size());
        sleepnet::BoundaryOptions o;
        o.bounds = s.bounds;
        o.iterations = s.plan.boundary_iterations;
        sleepnet::default_engine e(s.plan.seed + s_boundary);
        return run_chunked(
            s, label, rows_of(s.data.test.x, n), rows_of(s.data.test.y, n), false,
            [&](const auto& x, const auto& y) { return sleepnet::boundary(net, x, y, o, e); }, small_set_chunk(s, 2));
    }
    return run_strong(s, atk, net, label);
}

/// scores[network key][attack]
using Scores = std::map<std::string, std::map<std::string, AttackScore>>;

/// Rough cost rank of an attack's cells (the longest go to the workers first).
inline std::size_t attack_cost_rank(const std::string& atk)
{
    static const std::vector<std::string> order{"apgd", "boundary", "deepfool", "fgsm", "jsma", "fmn"};
    return static_cast<std::size_t>(std::find(order.begin(), order.end(), atk) - order.begin());
}

/// Every cell of Table 1 (a network that fills two columns is attacked once), the cells
/// on s.workers threads (reproduce_parallel.hpp); the reference schedule runs them one
/// after the other in table order.
inline Scores attack_networks(const Setup& s, const Networks& nets)
{
    struct Cell {
        std::string atk, key;
        AttackScore score;
    };
    std::vector<Cell> cells;
    for (const auto& row : attack_rows()) {
        for (const auto& col : table_columns()) {
            const std::string key = network_for(nets, row.first, col);
            bool seen = false;
            for (const auto& c : cells) seen = seen || (c.atk == row.first && c.key == key);
            if (!seen) cells.push_back({row.first, key, {}});
        }
    }
    const unsigned workers = s.reference_schedule ? 1 : s.workers;
    std::vector<Piece> pieces;
    for (std::size_t k = 0; k < cells.size(); ++k) {
        pieces.push_back({cells[k].atk + " " + cells[k].key, [&, k] {
                              const Net net = piece_network(nets.at(cells[k].key).net, workers);
                              cells[k].score = attack_network(s, cells[k].atk, net, cells[k].atk + " " + cells[k].key);
                          }});
    }
    if (!s.reference_schedule) {
        auto rank = [](const Piece& p) { return attack_cost_rank(p.label.substr(0, p.label.find(' '))); };
        std::stable_sort(pieces.begin(), pieces.end(),
                         [&](const Piece& a, const Piece& b) { return rank(a) < rank(b); });
    }
    run_pieces(pieces, workers);
    Scores scores;
    for (auto& c : cells) scores[c.key][c.atk] = std::move(c.score);
    return scores;
}

/// results.json "table1": per attack and column, the cell and the network it measured.
inline nlohmann::json table1_json(const Networks& nets, Scores& scores)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto& row : attack_rows()) {
        nlohmann::json r;
        for (const auto& col : table_columns()) {
            const std::string key = network_for(nets, row.first, col);
            auto c = to_json(scores[key][row.first]);
            c["network"] = key;
            r[col] = c;
        }
        j[row.first] = r;
    }
    return j;
}

/// results.json "checks": FGSM scores with failures (inf) counted as the grid's largest
/// epsilon (1.0), so that they compare as numbers in JSON (which has no infinity), and the
/// sleep-minus-control differences of FGSM and APGD.
inline nlohmann::json checks_json(const Networks& nets, Scores& scores)
{
    auto capped = [&](const std::string& col, const std::string& atk) {
        const double v = scores[network_for(nets, atk, col)][atk].score;
        return std::isfinite(v) ? v : 1.0;
    };
    nlohmann::json fgsm, apgd;
    for (const auto& col : table_columns()) {
        fgsm[col] = capped(col, "fgsm");
        apgd[col] = capped(col, "apgd");
    }
    return {{"fgsm_score_capped", fgsm},
            {"apgd_score_capped", apgd},
            {"sleep_fgsm_minus_control", capped("sleep", "fgsm") - capped("control", "fgsm")},
            {"sleep_fgsm_above_control", capped("sleep", "fgsm") > capped("control", "fgsm") ? 1 : 0},
            {"sleep_apgd_minus_control", capped("sleep", "apgd") - capped("control", "apgd")}};
}

inline nlohmann::json table1_notes(sleepnet::AttackLoss fgsm_loss)
{
    const std::string fgsm_grad =
        fgsm_loss == sleepnet::AttackLoss::cross_entropy ? "softmax cross-entropy" : "authors' MSE training loss";
    return {{"fgsm", "score = median minimal epsilon (Foolbox grid, 1000 steps in (0, 1]), gradient of the " +
                         fgsm_grad + "; a single step: a high score is not evidence of robustness (gradient masking)"},
            {"apgd",
             "score = median minimal L-inf epsilon of APGD (cross-entropy then margin loss, 100 steps each, "
             "search to 1e-3 in (0, 1], plan.apgd_search); robust_accuracy at eps 0.05, 0.1, 0.15, 0.2 read off the "
             "per-input minimal eps"},
            {"fmn", "score = median minimal L2 norm of FMN (100 steps), units of the input range; robust_accuracy "
                    "at L2 0.5, 1, 1.5, 2"},
            {"others", "score = median mean squared distance ||x' - x||^2 / N over correctly classified inputs "
                       "(failures count as +inf; null = inf)"},
            {"success_rate", "flipped / attempted (attempted = correctly classified before the attack)"}};
}

inline nlohmann::json table1_notes(const Setup& s) { return table1_notes(s.attack_loss); }

inline std::string dataset_title(const std::string& ds)
{
    if (ds == "mnist") return "MNIST";
    if (ds == "patches") return "Patches";
    if (ds == "fashion") return "Fashion-MNIST";
    return ds;
}

/// The strong rows as robust accuracy: per column, at each budget of strong_eps().
inline std::string robust_accuracy_text(const Networks& nets, Scores& scores)
{
    std::ostringstream t;
    for (const std::string atk : {"apgd", "fmn"}) {
        const auto eps = strong_eps(atk);
        t << "Robust accuracy, " << (atk == "apgd" ? "APGD L-inf" : "FMN L2")
          << " (inputs correct and unbroken at the budget):\n";
        char line[256];
        std::snprintf(line, sizeof line, "  %-22s", "budget");
        t << line;
        for (double e : eps) t << "  " << fmt(e, "%-6g");
        t << '\n';
        for (const auto& col : table_columns()) {
            const std::string key = network_for(nets, atk, col);
            std::snprintf(line, sizeof line, "  %-22s", key.c_str());
            t << line;
            for (double v : scores[key][atk].robust_accuracy) t << "  " << fmt(v, "%.4f");
            t << '\n';
        }
    }
    return t.str();
}

/// Table 1 as text: score (success rate) per cell, then which network each fine-tuning
/// cell measured and the clean accuracies.
inline std::string table1_text(const Setup& s, const Networks& nets, Scores& scores)
{
    std::ostringstream t;
    char line[512];
    std::snprintf(line, sizeof line, "%-22s | %-18s | %-22s | %-18s | %-18s | %-20s\n",
                  dataset_title(s.plan.dataset).c_str(), "Control", "Defensive Distillation", "Fine-tuning", "Sleep",
                  "Adversarial training");
    t << line << std::string(134, '-') << '\n';
    for (const auto& row : attack_rows()) {
        std::vector<std::string> cells;
        for (const auto& col : table_columns()) {
            const auto& a = scores[network_for(nets, row.first, col)][row.first];
            cells.push_back(fmt(a.score) + " (" + fmt(100.0 * a.success, "%.2f") + "%)");
        }
        std::snprintf(line, sizeof line, "%-22s | %-18s | %-22s | %-18s | %-18s | %-20s\n", row.second.c_str(),
                      cells[0].c_str(), cells[1].c_str(), cells[2].c_str(), cells[3].c_str(), cells[4].c_str());
        t << line;
    }
    t << "cells: score (attack success rate). FGSM, APGD: median minimal L-inf epsilon; FMN: median minimal L2 "
         "norm;\nDeepFool, JSMA, Boundary: median mean squared distance. FGSM is one step: a high FGSM score is "
         "not robustness.\nFine-tuning column: ";
    const auto& rows = attack_rows();
    for (std::size_t i = 0; i < rows.size(); ++i)
        t << rows[i].second << " -> " << network_for(nets, rows[i].first, "finetuned")
          << (i + 1 < rows.size() ? ", " : "\n");
    t << "Adversarial training column: " << nets.at("adversarial").title << ", eps " << s.plan.adversarial_epsilon
      << "\n";
    t << "Clean test accuracy:";
    for (const auto& nw : nets.list()) t << ' ' << nw.key << ' ' << fmt(nw.info["test_accuracy"].get<double>());
    t << '\n';
    return t.str() + robust_accuracy_text(nets, scores);
}

/// Table 1 as CSV, one line per cell.
inline std::string table1_csv(const Networks& nets, Scores& scores)
{
    std::ostringstream csv;
    csv << "attack,network,column,score,success_rate,attempted,inputs\n";
    for (const auto& row : attack_rows()) {
        for (const auto& col : table_columns()) {
            const std::string key = network_for(nets, row.first, col);
            const auto& a = scores[key][row.first];
            csv << row.first << ',' << key << ',' << col << ','
                << (std::isfinite(a.score) ? fmt(a.score, "%.6g") : "inf") << ',' << a.success << ',' << a.attempted
                << ',' << a.count << '\n';
        }
    }
    return csv.str();
}

}  // namespace repro
