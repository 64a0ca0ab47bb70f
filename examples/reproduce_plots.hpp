#pragma once
// Plot files of the reproduce example: whitespace-separated data files plus gnuplot
// scripts (.gp) that turn them into PNGs. The program writes both and then runs gnuplot
// if it is installed; without gnuplot the data and scripts stay for later
// (`gnuplot DIR/fig1_fgsm.gp`, run inside DIR).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include <sleepnet/core/atomic_file.hpp>

namespace examples {

/// A table of curves: one x column, one y column per series ("-" for a missing value).
struct CurveTable {
    std::string x_name;
    std::vector<double> x;
    std::vector<std::string> series;          ///< column names
    std::vector<std::vector<double>> values;  ///< values[s][i]
};

inline std::string gp_quote(const std::string& s)
{
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        o += c;
    }
    return o + "\"";
}

inline void write_text(const std::string& path, const std::string& text)
{
    sleepnet::detail::write_file_atomically(path, [&](std::ostream& out) { out << text; });
}

/// Data file: "# x s1 s2 ..." then one row per x.
inline void write_curve_dat(const std::string& path, const CurveTable& t)
{
    std::ostringstream o;
    o << "# " << t.x_name;
    for (const auto& s : t.series) o << ' ' << s;
    o << '\n' << std::setprecision(8);
    for (std::size_t i = 0; i < t.x.size(); ++i) {
        o << t.x[i];
        for (const auto& v : t.values) o << ' ' << v[i];
        o << '\n';
    }
    write_text(path, o.str());
}

/// CSV of the same table.
inline void write_curve_csv(const std::string& path, const CurveTable& t)
{
    std::ostringstream o;
    o << t.x_name;
    for (const auto& s : t.series) o << ',' << s;
    o << '\n' << std::setprecision(8);
    for (std::size_t i = 0; i < t.x.size(); ++i) {
        o << t.x[i];
        for (const auto& v : t.values) o << ',' << v[i];
        o << '\n';
    }
    write_text(path, o.str());
}

/// The gnuplot terminal line: pngcairo when this gnuplot has it, else png.
inline std::string gnuplot_terminal(bool available, int w, int h)
{
    const bool cairo = available && std::system("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1") == 0;
    std::ostringstream o;
    if (cairo || !available) {
        o << "set terminal pngcairo size " << w << "," << h << " enhanced font 'sans,10'";
    } else {
        o << "set terminal png size " << w << "," << h;
    }
    return o.str();
}

inline bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

/// Script lines plotting every series of `dat` against its first column.
inline std::string gp_plot_lines(const std::string& dat, const CurveTable& t, const std::vector<std::string>& titles)
{
    std::ostringstream o;
    o << "plot ";
    for (std::size_t s = 0; s < t.series.size(); ++s) {
        if (s) o << ", \\\n     ";
        o << gp_quote(dat) << " using 1:" << s + 2 << " with linespoints pt " << (s % 7) + 1 << " ps 0.6 title "
          << gp_quote(s < titles.size() ? titles[s] : t.series[s]);
    }
    return o.str() + "\n";
}

/// Runs `gnuplot script` inside dir; returns true on success.
inline bool run_gnuplot(const std::string& dir, const std::string& script)
{
    const std::string cmd = "cd " + gp_quote(dir) + " && gnuplot " + gp_quote(script) + " 2>&1";
    return std::system(cmd.c_str()) == 0;
}

}  // namespace examples
