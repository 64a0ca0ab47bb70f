#pragma once
// Output of the continual example: results.json, summary.csv, after_task.csv, the mean
// accuracy matrices (matrix_<method>.dat) and the gnuplot scripts / PNGs.
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sleepnet/continual/continual.hpp>
#include <sleepnet/core/summary.hpp>

#include "common.hpp"
#include "reproduce_plots.hpp"

namespace cont {

/// Every trial's report of one method.
struct MethodRuns {
    sleepnet::ContinualMethod method = sleepnet::ContinualMethod::sleep;
    std::vector<sleepnet::ContinualReport> reports;  ///< one per trial

    std::string name() const { return sleepnet::to_string(method); }
    /// A name fit for a file: "rehearsal+sleep" -> "rehearsal_sleep".
    std::string file_name() const
    {
        std::string s = name();
        for (char& c : s)
            if (c == '+') c = '_';
        return s;
    }
};

inline double final_bwt(const sleepnet::ContinualReport& r)
{
    return r.accuracy.size() < 2 ? std::nan("") : sleepnet::backward_transfer(r.accuracy);
}

inline double final_forgetting(const sleepnet::ContinualReport& r)
{
    return r.accuracy.size() < 2 ? std::nan("") : sleepnet::forgetting(r.accuracy);
}

/// The four headline figures of one report, in summary order.
inline std::vector<double> headline(const sleepnet::ContinualReport& r)
{
    return {r.average.back(), r.total_accuracy.back(), final_bwt(r), final_forgetting(r), r.seconds};
}

inline const std::vector<std::string>& headline_names()
{
    static const std::vector<std::string> names{"final_average_accuracy", "final_total_accuracy", "bwt", "forgetting",
                                                "seconds"};
    return names;
}

/// summarize() of headline figure k over the trials.
inline sleepnet::Summary headline_summary(const MethodRuns& m, std::size_t k)
{
    std::vector<double> v;
    for (const auto& r : m.reports) v.push_back(headline(r)[k]);
    return sleepnet::summarize(v);
}

inline nlohmann::json summary_json(const sleepnet::Summary& s)
{
    return {{"n", s.n}, {"mean", s.mean}, {"sd", s.sd}, {"min", s.min}, {"max", s.max}};
}

inline nlohmann::json sleep_json(const sleepnet::SleepReport& s, std::size_t after)
{
    return {{"after_task", after},
            {"steps", s.steps},
            {"input_spikes", s.input_spikes},
            {"spikes", s.spikes},
            {"weights_changed", s.weights_changed},
            {"weights", s.weights},
            {"alpha", s.alpha},
            {"seconds", s.seconds}};
}

inline nlohmann::json report_json(const sleepnet::ContinualReport& r)
{
    nlohmann::json sleeps = nlohmann::json::array();
    for (std::size_t k = 0; k < r.sleeps.size(); ++k) sleeps.push_back(sleep_json(r.sleeps[k], r.slept_after[k]));
    return {{"accuracy", r.accuracy},
            {"average_accuracy", r.average},
            {"total_accuracy", r.total_accuracy},
            {"bwt", final_bwt(r)},
            {"forgetting", final_forgetting(r)},
            {"trained_rows", r.trained_rows},
            {"sleeps", sleeps},
            {"seconds", r.seconds}};
}

/// The element-wise mean of the trials' accuracy matrices.
inline sleepnet::AccuracyMatrix mean_matrix(const MethodRuns& m)
{
    sleepnet::AccuracyMatrix mean = m.reports.front().accuracy;
    for (auto& row : mean)
        for (auto& v : row) v = 0.0;
    for (const auto& r : m.reports)
        for (std::size_t i = 0; i < mean.size(); ++i)
            for (std::size_t j = 0; j < mean[i].size(); ++j)
                mean[i][j] += r.accuracy[i][j] / static_cast<double>(m.reports.size());
    return mean;
}

/// Summary of the average accuracy after each phase, over the trials.
inline std::vector<sleepnet::Summary> after_task(const MethodRuns& m)
{
    std::vector<sleepnet::Summary> out;
    for (std::size_t i = 0; i < m.reports.front().average.size(); ++i) {
        std::vector<double> v;
        for (const auto& r : m.reports) v.push_back(r.average[i]);
        out.push_back(sleepnet::summarize(v));
    }
    return out;
}

/// The 1-based task after which phase i of `m` is measured (joint: its one phase, after all).
inline std::size_t phase_task(const MethodRuns& m, std::size_t i, std::size_t tasks)
{
    return m.method == sleepnet::ContinualMethod::joint ? tasks : i + 1;
}

inline nlohmann::json method_summary_json(const MethodRuns& m, std::size_t tasks)
{
    nlohmann::json j;
    for (std::size_t k = 0; k < headline_names().size(); ++k)
        j[headline_names()[k]] = summary_json(headline_summary(m, k));
    nlohmann::json after = nlohmann::json::array();
    const auto a = after_task(m);
    for (std::size_t i = 0; i < a.size(); ++i)
        after.push_back({{"task", phase_task(m, i, tasks)}, {"mean", a[i].mean}, {"sd", a[i].sd}});
    j["after_task"] = after;
    j["mean_accuracy"] = mean_matrix(m);
    return j;
}

inline std::string num(double v)
{
    char b[32];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

inline void write_summary_csv(const std::string& dir, const std::vector<MethodRuns>& runs)
{
    std::ostringstream o;
    o << "method,trials";
    for (const auto& n : headline_names()) o << ',' << n << "_mean," << n << "_sd";
    o << '\n';
    for (const auto& m : runs) {
        o << m.name() << ',' << m.reports.size();
        for (std::size_t k = 0; k < headline_names().size(); ++k) {
            const auto s = headline_summary(m, k);
            o << ',' << num(s.mean) << ',' << num(s.sd);
        }
        o << '\n';
    }
    examples::write_text(dir + "/summary.csv", o.str());
}

/// after_task.csv (method,task,mean,sd) and after_task.dat (one gnuplot block per method).
inline void write_after_task(const std::string& dir, const std::vector<MethodRuns>& runs, std::size_t tasks)
{
    std::ostringstream csv, dat;
    csv << "method,task,mean,sd\n";
    for (const auto& m : runs) {
        dat << "# " << m.name() << ": task mean sd\n";
        const auto a = after_task(m);
        for (std::size_t i = 0; i < a.size(); ++i) {
            const std::size_t t = phase_task(m, i, tasks);
            const double sd = std::isnan(a[i].sd) ? 0.0 : a[i].sd;
            csv << m.name() << ',' << t << ',' << num(a[i].mean) << ',' << num(a[i].sd) << '\n';
            dat << t << ' ' << num(a[i].mean) << ' ' << num(sd) << '\n';
        }
        dat << "\n\n";
    }
    examples::write_text(dir + "/after_task.csv", csv.str());
    examples::write_text(dir + "/after_task.dat", dat.str());
}

inline void write_matrices(const std::string& dir, const std::vector<MethodRuns>& runs)
{
    for (const auto& m : runs) {
        std::ostringstream o;
        for (const auto& row : mean_matrix(m)) {
            for (std::size_t j = 0; j < row.size(); ++j) o << (j ? " " : "") << num(row[j]);
            o << '\n';
        }
        examples::write_text(dir + "/matrix_" + m.file_name() + ".dat", o.str());
    }
}

inline std::string after_task_script(bool gp, const std::vector<MethodRuns>& runs, std::size_t tasks,
                                     const std::string& title)
{
    std::ostringstream g;
    g << examples::gnuplot_terminal(gp, 760, 520) << "\nset output 'after_task.png'\nset title "
      << examples::gp_quote(title) << "\nset xlabel 'tasks trained'\nset ylabel 'average accuracy on the tasks seen'\n"
      << "set xrange [0.5:" << tasks + 0.5
      << "]\nset yrange [0:1.05]\nset xtics 1\nset key bottom left\nset grid\nplot ";
    for (std::size_t k = 0; k < runs.size(); ++k)
        g << (k ? ", \\\n     " : "") << "'after_task.dat' index " << k << " using 1:2:3 with yerrorlines pt " << k + 1
          << " lw 1.5 title " << examples::gp_quote(runs[k].name());
    return g.str() + "\n";
}

inline std::string matrix_script(bool gp, const std::vector<MethodRuns>& runs, std::size_t tasks)
{
    std::ostringstream g;
    g << examples::gnuplot_terminal(gp, 330 * static_cast<int>(runs.size()), 340) << "\nset output 'matrices.png'\n"
      << "set multiplot layout 1," << runs.size() << "\nset palette rgbformulae 22,13,-31\nset cbrange [0:1]\n"
      << "unset colorbox\nset xlabel 'test task'\nset ylabel 'after task'\nset xtics 1\nset ytics 1\n"
      << "set xrange [-0.5:" << tasks - 0.5 << "]\n";
    for (const auto& m : runs) {
        const std::size_t rows = m.reports.front().accuracy.size();  // gnuplot images need 2 x 2 points
        const std::string f = "'matrix_" + m.file_name() + ".dat'";
        g << "set title " << examples::gp_quote(m.name()) << "\nset yrange [" << rows - 0.5 << ":-0.5]\n"
          << "plot " << f << (rows > 1 ? " matrix with image" : " matrix using 1:2:3 with points pt 5 ps 5 lc palette")
          << " notitle, " << f << " matrix using 1:2:(sprintf('%.2f', $3)) with labels font ',8' notitle\n";
    }
    return g.str() + "unset multiplot\n";
}

/// Writes the scripts, runs gnuplot unless no_plots or it is missing; results.json "plots".
inline nlohmann::json write_plots(const std::string& dir, const std::vector<MethodRuns>& runs, std::size_t tasks,
                                  const std::string& title, bool no_plots)
{
    const bool gp = !no_plots && examples::gnuplot_available();
    const std::vector<std::pair<std::string, std::string>> scripts{
        {"after_task.gp", after_task_script(gp, runs, tasks, title)}, {"matrices.gp", matrix_script(gp, runs, tasks)}};
    std::vector<std::string> names, pngs;
    for (const auto& [name, text] : scripts) {
        examples::write_text(dir + "/" + name, text);
        names.push_back(name);
        if (!gp) continue;
        if (examples::run_gnuplot(dir, name))
            pngs.push_back(name.substr(0, name.size() - 3) + ".png");
        else
            std::fprintf(stderr, "continual: warning: gnuplot failed on %s/%s\n", dir.c_str(), name.c_str());
    }
    if (!gp)
        std::fprintf(stderr,
                     "continual: %s; wrote the data and the gnuplot scripts; make the PNGs with: cd %s && "
                     "gnuplot after_task.gp && gnuplot matrices.gp\n",
                     no_plots ? "--no-plots given" : "gnuplot not found (Debian package gnuplot-nox)", dir.c_str());
    return {{"gnuplot", gp}, {"scripts", names}, {"png", pngs}};
}

/// The table on stdout: mean +- sd over the trials.
inline void print_table(const std::vector<MethodRuns>& runs)
{
    std::printf("%-16s %6s  %-17s  %-17s  %-17s  %-17s  %8s\n", "method", "trials", "avg acc (final)",
                "total acc (final)", "BWT", "forgetting", "s/run");
    for (const auto& m : runs) {
        std::printf("%-16s %6zu", m.name().c_str(), m.reports.size());
        for (std::size_t k = 0; k < 4; ++k) {
            const auto s = headline_summary(m, k);
            if (std::isnan(s.sd))
                std::printf("  %7.4f +- %-6s", s.mean, "n/a");
            else
                std::printf("  %7.4f +- %-6.4f", s.mean, s.sd);
        }
        std::printf("  %8.1f\n", headline_summary(m, 4).mean);
    }
}

}  // namespace cont
