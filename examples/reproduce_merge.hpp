#pragma once
// reproduce: the merge step. Reads OUT/seed-*/results.json of every seed run (checked by
// reproduce_seeds.hpp), aggregates them (reproduce_aggregate.hpp) and writes OUT's
// results.json, table1.txt, table1.csv, the averaged curves (*_curve.csv, fig*.dat) and
// Figs. 1-2 with sd error bars. Runs nothing else: a serial --seeds N run and N shards
// followed by --merge give the same files (timings and the command aside).
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "reproduce_aggregate.hpp"
#include "reproduce_aggregate_text.hpp"
#include "reproduce_plots.hpp"
#include "reproduce_seeds.hpp"
#include "reproduce_table.hpp"

namespace repro {

struct MergeInput {
    std::string out_dir, command;
    Plan plan;  ///< the merge's own plan (seed = the base seed)
    RunConfig config;
    std::size_t seeds = 1;
    bool no_plots = false;
};

/// Figs. 1-2 of the aggregate: scripts, and PNGs when gnuplot runs; returns "plots".
inline nlohmann::json aggregate_plots(const MergeInput& in, const std::vector<examples::CurveTable>& curves,
                                      const std::vector<std::string>& titles)
{
    const bool gp = !in.no_plots && examples::gnuplot_available();
    const std::string ds = dataset_title(in.plan.dataset), n = std::to_string(in.seeds);
    std::ostringstream f1, f2;
    f1 << examples::gnuplot_terminal(gp, 800, 560) << "\nset output 'fig1_fgsm.png'\nset title "
       << examples::gp_quote("Fig. 1: FGSM accuracy vs epsilon (" + ds + "), mean +- sd over " + n + " seed runs")
       << "\nset xlabel 'Epsilon'\nset ylabel 'Accuracy'\nset yrange [0:1.02]\nset key bottom left\nset grid\n"
       << gp_plot_errorbars("fig1_fgsm.dat", curves[0], titles);
    const bool blur = curves.size() > 2;
    f2 << examples::gnuplot_terminal(gp, blur ? 1200 : 700, 520) << "\nset output 'fig2_distortions.png'\n"
       << "set multiplot layout 1," << (blur ? 2 : 1) << " title "
       << examples::gp_quote("Fig. 2: accuracy under distortions (" + ds + "), mean +- sd over " + n + " seed runs")
       << "\nset yrange [0:1.02]\nset grid\nset key bottom left\nset ylabel 'Accuracy'\n"
       << "set title 'Gaussian noise'\nset xlabel 'Noise STD'\n"
       << gp_plot_errorbars("fig2_noise.dat", curves[1], titles);
    if (blur)
        f2 << "set title 'Gaussian blur'\nset xlabel 'Blur Sigma'\n"
           << gp_plot_errorbars("fig2_blur.dat", curves[2], titles);
    f2 << "unset multiplot\n";
    std::vector<std::string> names, pngs;
    for (const auto& [name, text] :
         {std::pair{std::string("fig1_fgsm.gp"), f1.str()}, std::pair{std::string("fig2_distortions.gp"), f2.str()}}) {
        examples::write_text(in.out_dir + "/" + name, text);
        names.push_back(name);
        if (gp && examples::run_gnuplot(in.out_dir, name)) pngs.push_back(name.substr(0, name.size() - 3) + ".png");
    }
    return {{"gnuplot", gp}, {"scripts", names}, {"png", pngs}};
}

/// The averaged curves: results.json "curves" and the CSV/.dat files.
inline std::vector<examples::CurveTable> aggregate_curves(const MergeInput& in, const std::vector<nlohmann::json>& runs,
                                                          nlohmann::json& out)
{
    std::vector<examples::CurveTable> tables;
    const std::vector<std::pair<std::string, std::string>> files{
        {"fgsm", "fig1_fgsm"}, {"noise", "fig2_noise"}, {"blur", "fig2_blur"}};
    for (const auto& [name, dat] : files) {
        if (!runs.front().at("curves").contains(name)) continue;
        tables.push_back(aggregate_curve(runs, name, out[name]));
        examples::write_curve_dat(in.out_dir + "/" + dat + ".dat", tables.back());
        examples::write_curve_csv(in.out_dir + "/" + name + "_curve.csv", tables.back());
    }
    return tables;
}

/// The merge step; prints the aggregate table and returns 0.
inline int merge_seed_runs(const MergeInput& in)
{
    const auto t0 = Clock::now();
    const auto runs = load_seed_runs(in.out_dir, in.plan.seed, in.seeds, in.config);
    nlohmann::json seeds = {{"count", in.seeds}, {"base", in.plan.seed}, {"stride", seed_stride}};
    nlohmann::json J = {{"program", "reproduce"}, {"command", in.command}, {"plan", to_json(in.plan)}};
    nlohmann::json per_seed = nlohmann::json::array(), seconds;
    for (const auto& r : runs) {
        per_seed.push_back(seed_run_json(r));
        seeds["list"].push_back(per_seed.back()["seed"]);
        seeds["dirs"].push_back(per_seed.back()["dir"]);
        seconds["seed_runs"][per_seed.back()["dir"].get<std::string>()] = r.value("seconds", nlohmann::json{});
    }
    J["seeds"] = seeds;
    J["statistics"] = "every cell: n, mean, sample sd (n - 1; null for n = 1), min, max over the seed runs; "
                      "scores: failures (inf) counted in 'infinite' and left out of the others";
    J["table1"] = aggregate_table1(runs);
    J["checks"] = aggregate_checks(runs);
    J["test_accuracy"] = aggregate_accuracy(runs);
    J["table1_notes"] = runs.front().at("table1_notes");
    J["seed_runs"] = per_seed;
    nlohmann::json curves;
    const auto tables = aggregate_curves(in, runs, curves);
    J["curves"] = curves;
    std::vector<std::string> titles;
    for (const auto& key : runs.front().at("curves").at("fgsm").at("accuracy").items())
        titles.push_back(runs.front().at("networks").at(key.key()).at("title").get<std::string>());
    const std::string table = aggregate_text(in.plan.dataset, J);
    examples::write_text(in.out_dir + "/table1.txt", table);
    examples::write_text(in.out_dir + "/table1.csv", aggregate_csv(J["table1"]));
    J["plots"] = aggregate_plots(in, tables, titles);
    seconds["merge"] = since(t0);
    J["seconds"] = seconds;
    examples::write_json(in.out_dir + "/results.json", J);
    std::printf("%s", table.c_str());
    std::printf("wrote the aggregate of %zu seed runs: %s/results.json, table1.txt, table1.csv, curves%s\n", in.seeds,
                in.out_dir.c_str(), J["plots"]["gnuplot"].get<bool>() ? " and PNGs" : "");
    return 0;
}

}  // namespace repro
