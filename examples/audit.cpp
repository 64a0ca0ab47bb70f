// audit: the robustness audit of a model (Carlini et al. 2019's checklist, attacks/audit.hpp):
// prints one line per check and a verdict on gradient masking, writes the checks, the
// robust-accuracy curves and the per-input worst case to JSON, and with --plot the curves
// as data, a gnuplot script and a PNG.
//
//   audit --model out/mnist-refit --surrogate out/control --dataset mnist --data data/mnist
//         --count 500 --json audit.json --plot audit-plots
//   audit ... --eps 0.1 --epsilons 0.05 0.1 0.2 0.3 --steps 100 --no-l2 --seed 1
//
// Any model directory works (model.json + W*.npy, e.g. written from PyTorch); it is
// evaluated in the precision its weights are stored in, the surrogate in the same one.
// Exit code 0 whatever the verdict (1 on errors).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>

#include <sleepnet/attacks/audit.hpp>
#include <sleepnet/attacks/audit_json.hpp>
#include <sleepnet/attacks/common_json.hpp>
#include <sleepnet/data/load.hpp>
#include <sleepnet/nn/io.hpp>

#include "common.hpp"
#include "strict_cli.hpp"
#include "reproduce_plots.hpp"
#include "test_slice.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
    std::string model_dir, surrogate_dir, dataset, data_dir, json_file, plot_dir;
    std::size_t count = 1000, offset = 0, steps = 0, queries = 0;
    std::uint64_t seed = 1;
    double eps = 0.0, tolerance = -1.0;
    std::vector<double> epsilons;
    bool no_l2 = false;
};

void add_options(CLI::App& app, Args& a)
{
    app.add_option("--model", a.model_dir, "model directory (model.json + W*.npy)")->required();
    app.add_option("--surrogate", a.surrogate_dir,
                   "model directory of a surrogate for the transfer check (e.g. the control)");
    app.add_option("--dataset", a.dataset, "mnist | fashion | patches | features | synthetic-features")->required();
    app.add_option("--data", a.data_dir, "data directory");
    app.add_option("--count", a.count, "audit the first N test inputs (after --offset); 0 = all");
    app.add_option("--offset", a.offset, "skip this many test inputs");
    app.add_option("--eps", a.eps, "the L-inf budget of the per-budget checks (default 0.1)");
    app.add_option("--epsilons", a.epsilons, "L-inf grid of the curves (default 0.025 0.05 0.075 0.1 0.15 0.2 0.3)");
    app.add_option("--steps", a.steps, "APGD iterations per run (default 100)");
    app.add_option("--queries", a.queries, "Square queries per input (default 1000)");
    app.add_option("--tolerance", a.tolerance, "robust accuracies this close count as equal (default 0.01)");
    app.add_flag("--no-l2", a.no_l2, "skip the L2 curves (APGD-L2 and FMN-L2)");
    app.add_option("--seed", a.seed, "seed of the random parts (and of generated data sets)");
    app.add_option("--json", a.json_file, "write options, checks, curves and per-input worst case here")->required();
    app.add_option("--plot", a.plot_dir, "write the curves (data, gnuplot script, PNG) into this directory");
}

/// The seconds of every stage (the stage lines and bars on stderr are the library's ProgressBar).
struct StageTimer {
    std::vector<std::pair<std::string, double>> seconds;
    Clock::time_point began = Clock::now();

    void on_progress(const sleepnet::AuditProgress& p)
    {
        close();
        seconds.emplace_back(p.stage, 0.0);
        began = Clock::now();
    }
    /// Books the time of the stage in progress.
    void close()
    {
        if (!seconds.empty() && seconds.back().second == 0.0)
            seconds.back().second = std::chrono::duration<double>(Clock::now() - began).count();
    }
};

template <class T>
void print_report(const sleepnet::AuditReport<T>& r, double eps)
{
    std::printf("clean accuracy %.4f\n", r.clean_accuracy);
    for (const auto& c : r.checks)
        std::printf("%s  %-40s %8.4f vs %8.4f  %s\n", c.pass ? "PASS" : "FAIL", c.name.c_str(), c.value, c.reference,
                    c.detail.c_str());
    auto table = [](const char* what, const std::vector<double>& budgets,
                    const std::vector<std::pair<std::string, std::vector<double>>>& curves) {
        if (curves.empty()) return;
        std::printf("robust accuracy, %s:\n%10s", what, "budget");
        for (const auto& c : curves) std::printf(" %12s", c.first.c_str());
        std::printf("\n");
        for (std::size_t k = 0; k < budgets.size(); ++k) {
            std::printf("%10.4g", budgets[k]);
            for (const auto& c : curves) std::printf(" %12.4f", c.second[k]);
            std::printf("\n");
        }
    };
    table("L-inf", r.epsilons, r.linf_curves);
    table("L2", r.l2_norms, r.l2_curves);
    std::string failed;
    for (const auto& c : r.checks)
        if (!c.pass && c.masking) failed += (failed.empty() ? "" : ", ") + c.name;
    if (r.stopped) std::printf("audit stopped early: the checklist is incomplete\n");
    if (r.masking_suspected())
        std::printf("verdict: gradient masking suspected: %s failed\n", failed.c_str());
    else
        std::printf("verdict: no sign of gradient masking%s\n", r.stopped ? " (in the checks made)" : "");
    if (!r.converged()) std::printf("note: the white-box attack alone is not converged (check converged)\n");
    if (!std::isnan(r.robust_accuracy))
        std::printf(
            "robust accuracy at eps %g, worst case over every fixed-budget attack (the figure to report): %.4f\n", eps,
            r.robust_accuracy);
}

/// DIR/audit_linf.dat, audit_l2.dat, audit_curves.gp and (with gnuplot) audit_curves.png.
template <class T>
nlohmann::json write_plots(const std::string& dir, const sleepnet::AuditReport<T>& r, const std::string& title)
{
    std::filesystem::create_directories(dir);
    auto table = [](const char* x, const std::vector<double>& budgets,
                    const std::vector<std::pair<std::string, std::vector<double>>>& curves) {
        examples::CurveTable t{x, budgets, {}, {}};
        for (const auto& [name, c] : curves) {
            t.series.push_back(name);
            t.values.push_back(c);
        }
        return t;
    };
    const auto linf = table("epsilon", r.epsilons, r.linf_curves), l2 = table("l2_norm", r.l2_norms, r.l2_curves);
    const bool with_l2 = !r.l2_curves.empty();
    examples::write_curve_dat(dir + "/audit_linf.dat", linf);
    if (with_l2) examples::write_curve_dat(dir + "/audit_l2.dat", l2);
    const bool have_gp = examples::gnuplot_available();
    std::ostringstream g;
    g << examples::gnuplot_terminal(have_gp, with_l2 ? 1200 : 700, 500) << "\nset output 'audit_curves.png'\n"
      << "set multiplot layout 1," << (with_l2 ? 2 : 1) << " title " << examples::gp_quote("Robustness audit: " + title)
      << "\nset yrange [0:1.02]\nset grid\nset key top right\nset ylabel 'Robust accuracy'\n"
      << "set title 'L-inf'\nset xlabel 'Epsilon'\n"
      << examples::gp_plot_lines("audit_linf.dat", linf, {});
    if (with_l2) g << "set title 'L2'\nset xlabel 'L2 norm'\n" << examples::gp_plot_lines("audit_l2.dat", l2, {});
    g << "unset multiplot\n";
    examples::write_text(dir + "/audit_curves.gp", g.str());
    bool png = false;
    if (have_gp && !(png = examples::run_gnuplot(dir, "audit_curves.gp")))
        std::fprintf(stderr, "audit: warning: gnuplot failed on %s/audit_curves.gp\n", dir.c_str());
    if (!have_gp)
        std::fprintf(stderr, "audit: warning: gnuplot not found; wrote %s/audit_curves.gp (run it inside %s)\n",
                     dir.c_str(), dir.c_str());
    return {{"dir", dir},
            {"script", "audit_curves.gp"},
            {"png", png ? nlohmann::json("audit_curves.png") : nlohmann::json()}};
}

/// The library's defaults, overridden by the options given.
sleepnet::AuditOptions audit_options(const Args& a)
{
    sleepnet::AuditOptions o;
    if (a.eps > 0.0) o.epsilon = a.eps;
    if (!a.epsilons.empty()) o.epsilons = a.epsilons;
    if (a.steps > 0) o.attack.steps = a.steps;
    if (a.queries > 0) o.square_queries = a.queries;
    if (a.tolerance >= 0.0) o.tolerance = a.tolerance;
    o.l2 = !a.no_l2;
    o.validate();
    return o;
}

/// An audit with its total and per-stage seconds.
template <class T>
struct TimedAudit {
    sleepnet::AuditReport<T> report;
    double seconds;
    std::vector<std::pair<std::string, double>> stages;
};

template <class T>
TimedAudit<T> run_audit(const sleepnet::DenseNetwork<T>& net, const sleepnet::DenseNetwork<T>* surrogate,
                        const examples::TestInputs<T>& in, const sleepnet::AuditOptions& o, std::uint64_t seed)
{
    sleepnet::default_engine engine(seed);
    auto bar = examples::progress_bar("audit");
    StageTimer timer;
    const auto t0 = Clock::now();
    auto r = sleepnet::audit(net, in.x, in.y, surrogate, o, engine, timer, bar);
    timer.close();
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return {std::move(r), seconds, timer.seconds};
}

/// Everything but the plots: options, checks, curves, worst case per input, seconds.
template <class T>
nlohmann::json audit_json(const Args& a, const std::string& dataset, const std::string& dtype, std::size_t n,
                          const sleepnet::AuditOptions& o, const TimedAudit<T>& t)
{
    nlohmann::json j = t.report;  // checks, curves, verdicts, worst case (attacks/audit_json.hpp)
    nlohmann::json stage_seconds = nlohmann::json::array();
    j["program"] = "audit";
    j["model"] = a.model_dir;
    j["surrogate"] = a.surrogate_dir.empty() ? nlohmann::json() : nlohmann::json(a.surrogate_dir);
    j["dataset"] = dataset;
    j["dtype"] = dtype;
    j["offset"] = a.offset;
    j["count"] = n;
    j["seed"] = a.seed;
    j["options"] = o;
    for (auto& row : j["worst_case"])
        row["index"] =
            sleepnet::detail::json_integer<std::size_t>(row["index"], "index", "audit worst case") + a.offset;
    for (const auto& [stage, s] : t.stages) stage_seconds.push_back({{"stage", stage}, {"seconds", s}});
    j["seconds"] = {{"total", t.seconds}, {"stages", stage_seconds}};
    return j;
}

/// Loads the model (and surrogate) and data in precision T, audits, prints, writes JSON and plots.
template <class T>
int audit_model(const Args& a, const sleepnet::AuditOptions& o, const std::string& dtype)
{
    const auto net = sleepnet::load_model<T>(a.model_dir);
    std::optional<sleepnet::DenseNetwork<T>> surrogate;
    if (!a.surrogate_dir.empty()) surrogate = sleepnet::load_model<T>(a.surrogate_dir);
    const auto data = sleepnet::load_dataset<T>(a.dataset, a.data_dir, a.seed);
    const auto in = examples::test_inputs(data.test, a.offset, a.count);
    const auto t = run_audit(net, surrogate ? &*surrogate : nullptr, in, o, a.seed);
    print_report(t.report, o.epsilon);
    std::printf("time %.1f s\n", t.seconds);
    auto j = audit_json(a, data.test.name, dtype, in.y.size(), o, t);
    if (!a.plot_dir.empty()) j["plots"] = write_plots(a.plot_dir, t.report, a.model_dir + " (" + data.test.name + ")");
    examples::write_json(a.json_file, j);
    return 0;
}

int run(const Args& a)
{
    examples::check_outputs({{"--json", a.json_file}, {"--plot", a.plot_dir, true}});
    const auto o = audit_options(a);
    const auto info = sleepnet::read_model_info(a.model_dir);
    return examples::with_precision(info.dtype,
                                    [&](auto zero) { return audit_model<decltype(zero)>(a, o, info.dtype); });
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"Robustness audit (Carlini et al. 2019 checklist): is the measured robustness gradient masking?"};
    Args args;
    add_options(app, args);
    examples::strict_numbers(app);
    CLI11_PARSE(app, argc, argv);
    return examples::guarded("audit", [&] { return run(args); });
}
