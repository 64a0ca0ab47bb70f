#pragma once
// reproduce: the gnuplot scripts of Figs. 1-4 and running them (PNGs when gnuplot is
// installed; the data and scripts either way).
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reproduce_curves.hpp"
#include "reproduce_plots.hpp"
#include "reproduce_setup.hpp"
#include "reproduce_table.hpp"

namespace repro {

inline std::string fig1_script(bool gp, const std::string& dsname, const Curves& c,
                               const std::vector<std::string>& titles)
{
    std::ostringstream g;
    g << examples::gnuplot_terminal(gp, 800, 560) << "\nset output 'fig1_fgsm.png'\nset title "
      << examples::gp_quote("Fig. 1: FGSM accuracy vs epsilon (" + dsname + ")")
      << "\nset xlabel 'Epsilon'\nset ylabel 'Accuracy'\nset yrange [0:1.02]\nset key bottom left\nset grid\n"
      << examples::gp_plot_lines("fig1_fgsm.dat", c.fgsm, titles);
    return g.str();
}

inline std::string fig2_script(bool gp, const std::string& dsname, bool images, const Curves& c,
                               const std::vector<std::string>& titles)
{
    std::ostringstream g;
    g << examples::gnuplot_terminal(gp, images ? 1200 : 700, 520) << "\nset output 'fig2_distortions.png'\n";
    g << "set multiplot layout 1," << (images ? 2 : 1) << " title "
      << examples::gp_quote("Fig. 2: accuracy under distortions (" + dsname + ")") << "\n";
    g << "set yrange [0:1.02]\nset grid\nset key bottom left\nset ylabel 'Accuracy'\n";
    g << "set title 'Gaussian noise'\nset xlabel 'Noise STD'\n"
      << examples::gp_plot_lines("fig2_noise.dat", c.noise, titles);
    if (images)
        g << "set title 'Gaussian blur'\nset xlabel 'Blur Sigma'\n"
          << examples::gp_plot_lines("fig2_blur.dat", c.blur, titles);
    g << "unset multiplot\n";
    return g.str();
}

inline std::string fig3_script(bool gp, const Curves& c, const std::vector<std::string>& titles)
{
    std::ostringstream g;
    g << examples::gnuplot_terminal(gp, 1500, 480) << "\nset output 'fig3_patches.png'\n";
    g << "set multiplot layout 1,4 title 'Fig. 3: Patches'\n";
    g << "set title 'A: the four images'\nunset key\nset size ratio -1\nunset xtics\nunset ytics\n"
         "set palette gray\nunset colorbox\nset yrange [*:*] reverse\nplot 'patches_images.dat' matrix with image\n";
    g << "set size noratio\nset xtics\nset ytics\nset yrange [0:1.02] noreverse\nset grid\nset key bottom left\n"
         "set ylabel 'Accuracy'\n";
    g << "set title 'C: noise'\nset xlabel 'Noise STD'\n" << examples::gp_plot_lines("fig2_noise.dat", c.noise, titles);
    g << "set title 'C: blur'\nset xlabel 'Blur Sigma'\n" << examples::gp_plot_lines("fig2_blur.dat", c.blur, titles);
    g << "set title 'D: weight spread (mean ON - mean OFF)'\nset xlabel ''\nset ylabel 'Weight spread'\n"
         "set yrange [*:*]\nunset key\nset style fill solid 0.6\nset boxwidth 0.6\nset xtics rotate by -30\n"
         "plot 'fig3_spread.dat' using 1:3:xtic(2) with boxes\nunset multiplot\n";
    return g.str();
}

inline std::string fig4_script(bool gp, const Networks& nets)
{
    std::ostringstream g;
    const std::size_t k = nets.list().size();
    g << examples::gnuplot_terminal(gp, 1400, 260 * static_cast<int>(k)) << "\nset output 'fig4_weights.png'\n";
    g << "set multiplot layout " << k << ",2 title 'Fig. 4: Patches weights (input -> output neuron k)'\n";
    for (const auto& nw : nets.list()) {
        g << "set title " << examples::gp_quote(nw.title + ": weights into output neurons 1-4 (10x10 each)")
          << "\nunset key\nset size ratio -1\nunset xtics\nunset ytics\nset palette defined (-1 'blue', 0 'white', "
             "1 'red')\nset cbrange [-0.12:0.12]\nset colorbox\nset yrange [*:*] reverse\nset xrange [*:*]\n"
          << "plot " << examples::gp_quote("fig4_grid_" + nw.key + ".dat") << " matrix with image\n";
        g << "set size noratio\nset xtics\nset ytics\nset yrange [*:*] noreverse\nset xrange [0:400]\n"
             "set key outside right\nset title "
          << examples::gp_quote(nw.title + ": weight per input (neuron k at x = 100k + pixel)") << "\nplot "
          << examples::gp_quote("fig4_scatter_" + nw.key + ".dat")
          << " using ($1*100+$2):($4==0?$3:1/0) with points pt 7 ps 0.4 lc rgb 'red' title 'ON', '' using "
             "($1*100+$2):($4==1?$3:1/0) with points pt 7 ps 0.4 lc rgb 'gray40' title 'overlap', '' using "
             "($1*100+$2):($4==2?$3:1/0) with points pt 7 ps 0.4 lc rgb 'blue' title 'OFF'\n";
    }
    g << "unset multiplot\n";
    return g.str();
}

/// Writes the figure scripts and runs gnuplot on them unless `no_plots` or gnuplot is
/// missing; returns results.json "plots".
inline nlohmann::json plots_stage(const Setup& s, const Networks& nets, const Curves& c, bool no_plots)
{
    const bool gp = !no_plots && examples::gnuplot_available();
    const std::string dsname = dataset_title(s.plan.dataset);
    std::vector<std::string> titles;
    for (const auto& nw : nets.list()) titles.push_back(nw.title);
    std::vector<std::pair<std::string, std::string>> scripts{
        {"fig1_fgsm.gp", fig1_script(gp, dsname, c, titles)},
        {"fig2_distortions.gp", fig2_script(gp, dsname, s.images, c, titles)}};
    if (s.patches()) {
        scripts.emplace_back("fig3_patches.gp", fig3_script(gp, c, titles));
        scripts.emplace_back("fig4_weights.gp", fig4_script(gp, nets));
    }
    std::vector<std::string> names, pngs;
    for (const auto& [name, text] : scripts) {
        examples::write_text(s.out_dir + "/" + name, text);
        names.push_back(name);
        if (!gp) continue;
        if (examples::run_gnuplot(s.out_dir, name))
            pngs.push_back(name.substr(0, name.size() - 3) + ".png");
        else
            std::fprintf(stderr, "reproduce: warning: gnuplot failed on %s/%s\n", s.out_dir.c_str(), name.c_str());
    }
    if (!gp)
        std::fprintf(stderr,
                     "reproduce: warning: %s; wrote the data and the gnuplot scripts (%s/*.gp); make the PNGs later "
                     "with: cd %s && for f in *.gp; do gnuplot $f; done\n",
                     no_plots ? "--no-plots given" : "gnuplot not found (Debian package gnuplot-nox)",
                     s.out_dir.c_str(), s.out_dir.c_str());
    return {{"gnuplot", gp}, {"scripts", names}, {"png", pngs}};
}

}  // namespace repro
