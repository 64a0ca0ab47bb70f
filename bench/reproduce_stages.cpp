// bench/reproduce_stages: the full reproduction (examples/reproduce) stage by stage, the
// current schedule against the reference schedule of before issue 15, in the same run.
//
//   reproduce_stages [--reproduce PATH] [--out DIR] [--workers N] [--skip-reference] -- REPRODUCE ARGS
//   reproduce_stages -- --dataset mnist --data data/mnist            (one full MNIST seed, ~2 x 20 min)
//   reproduce_stages -- --dataset mnist --data data/mnist --quick    (a few minutes)
//
// Runs `reproduce ARGS --no-plots --reference-schedule` (pieces of a stage one after the
// other, Table 1's JSMA and Boundary in chunks of 10 and 2 rows, the FGSM curve brute
// force) into OUT/reference, then
// `reproduce ARGS --no-plots --workers N` into OUT/current, reads the "seconds" of both
// results.json and prints per stage: reference seconds, current seconds and the ratio
// reference / current (> 1: faster now). Then it checks that the outputs are the same
// (table1.txt, table1.csv and the curves' CSV files byte for byte): the schedule moves time,
// never a figure. Exit code 1 when they differ. --skip-reference times the current
// schedule alone.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench_common.hpp"

namespace {

struct Args {
    std::string reproduce = SLEEPNET_REPRODUCE_PATH;
    std::string out = "out/bench-reproduce-stages";
    unsigned workers = 2;
    bool skip_reference = false;
    std::vector<std::string> rest;
};

std::string quoted(const std::string& s) { return "'" + s + "'"; }

/// Runs reproduce with `extra` into dir (its log in dir.log); the "seconds" of its results.json.
nlohmann::json run_reproduce(const Args& a, const std::string& dir, const std::string& extra)
{
    std::string cmd = quoted(a.reproduce);
    for (const auto& r : a.rest) cmd += " " + quoted(r);
    cmd += " --no-plots " + extra + " --out " + quoted(dir) + " > " + quoted(dir + ".log") + " 2>&1";
    std::fprintf(stderr, "reproduce_stages: %s\n", cmd.c_str());
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("reproduce failed, see " + dir + ".log");
    std::ifstream in(dir + "/results.json");
    return nlohmann::json::parse(in)["seconds"];
}

std::string file_text(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The output files both runs wrote that differ (a file neither wrote is skipped).
std::vector<std::string> differing_outputs(const std::string& a, const std::string& b)
{
    std::vector<std::string> out;
    for (const char* f : {"table1.txt", "table1.csv", "fgsm_curve.csv", "noise_curve.csv", "blur_curve.csv"}) {
        const bool ea = std::filesystem::exists(a + "/" + f), eb = std::filesystem::exists(b + "/" + f);
        if (!ea && !eb) continue;
        if (ea != eb || file_text(a + "/" + f) != file_text(b + "/" + f)) out.push_back(f);
    }
    return out;
}

void print_stages(const nlohmann::json& ref, const nlohmann::json& cur)
{
    std::printf("  %-22s %12s %12s %8s\n", "stage", "reference s", "current s", "ratio");
    for (auto it = cur.begin(); it != cur.end(); ++it) {
        const double c = it.value().get<double>();
        if (ref.is_null() || !ref.contains(it.key())) {
            std::printf("  %-22s %12s %12.1f\n", it.key().c_str(), "-", c);
            continue;
        }
        const double r = ref[it.key()].get<double>();
        if (r < 0.1 || c < 0.1) {  // a ratio of milliseconds says nothing
            std::printf("  %-22s %12.1f %12.1f %8s\n", it.key().c_str(), r, c, "-");
            continue;
        }
        std::printf("  %-22s %12.1f %12.1f %8.2f\n", it.key().c_str(), r, c, r / c);
    }
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"the full reproduction stage by stage: current schedule against the reference schedule"};
    Args a;
    app.add_option("--reproduce", a.reproduce, "the reproduce program");
    app.add_option("--out", a.out, "output directory (reference/ and current/ inside)");
    app.add_option("--workers", a.workers, "reproduce --workers of the current run")->check(bench::at_least(1));
    app.add_flag("--skip-reference", a.skip_reference, "time the current schedule alone");
    app.add_option("rest", a.rest, "the reproduce arguments (after --)")->required();
    CLI11_PARSE(app, argc, argv);
    return bench::guarded("reproduce_stages", [&] {
        std::filesystem::create_directories(a.out);
        nlohmann::json ref;
        if (!a.skip_reference) ref = run_reproduce(a, a.out + "/reference", "--reference-schedule");
        const nlohmann::json cur = run_reproduce(a, a.out + "/current", "--workers " + std::to_string(a.workers));
        std::printf("bench/reproduce_stages: reproduce");
        for (const auto& r : a.rest) std::printf(" %s", r.c_str());
        std::printf(", current schedule on %u workers\n", a.workers);
        print_stages(ref, cur);
        if (a.skip_reference) return 0;
        bench::print_ratio_line("total, reference / current", ref["total"].get<double>() / cur["total"].get<double>(),
                                "> 1: faster than the reference schedule");
        const auto diff = differing_outputs(a.out + "/reference", a.out + "/current");
        for (const auto& f : diff) std::printf("  OUTPUT DIFFERS: %s\n", f.c_str());
        if (diff.empty()) std::printf("  outputs: the same (table1.txt, table1.csv, curve CSV files)\n");
        return diff.empty() ? 0 : 1;
    });
}
