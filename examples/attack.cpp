// attack: runs one attack or distortion on a model's test inputs and writes per-sample
// rows and the paper's aggregates.
//
//   attack --model out/control --dataset mnist --data data/mnist --attack fgsm --count 1000 --json fgsm.json
//   attack ... --attack deepfool|jsma|boundary|noise|blur
//   attack ... --attack pgd --eps 0.05 0.1 0.2          robust accuracy per budget (APGD, CE + margin)
//   attack ... --attack pgd --minimal                   per-sample minimal budget (bisection)
//   attack ... --attack pgd --norm l2 --losses ce dlr-t --method pgd --steps 50 --restarts 3
//   attack ... --attack fmn [--norm l2]                  per-sample minimal norm in one run (FMN)
//   attack ... --attack square --eps 0.1 [--queries N]   gradient-free robust accuracy (Square, L-inf)
//
// Attacks: the JSON holds one row per sample (index, label, prediction, success,
// distance, epsilon for FGSM, iterations) and the aggregates (score = median distance,
// or median minimal epsilon for FGSM, over correctly classified inputs; success rate).
// pgd: with --eps, robust accuracy per budget (rows of the last budget); with --minimal,
// rows with the minimal budget per sample and its median. noise / blur: accuracy per
// level. Inputs other than pgd's are processed in chunks (results do not depend
// on the chunking); progress on stderr.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sleepnet/attacks/boundary.hpp>
#include <sleepnet/attacks/deepfool.hpp>
#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/fmn.hpp>
#include <sleepnet/attacks/jsma.hpp>
#include <sleepnet/attacks/pgd.hpp>
#include <sleepnet/attacks/square.hpp>
#include <sleepnet/data/load.hpp>
#include <sleepnet/distort/curves.hpp>
#include <sleepnet/distort/curves_json.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>

#include "common.hpp"
#include "strict_cli.hpp"
#include "test_slice.hpp"

namespace {

using Clock = std::chrono::steady_clock;

template <class T>
using Net = sleepnet::DenseNetwork<T>;
template <class T>
using Inputs = examples::TestInputs<T>;

struct Args {
    std::string model_dir, dataset = "mnist", data_dir, attack = "fgsm", json_file, search = "grid", loss = "network";
    std::string overshoot_mode = "per_step", variant = "single", noise_kind = "std", method = "apgd", norm = "linf";
    std::vector<std::string> losses{"ce", "margin"};
    std::vector<double> eps, levels;
    std::size_t count = 0, offset = 0, chunk = 250, steps = 0, max_iterations = 0, boundary_iterations = 1000;
    std::size_t restarts = 1, targets = 9, queries = 5000;
    std::uint64_t seed = 1;
    double max_epsilon = 1.0, overshoot = -1.0, theta = 0.1, tolerance = 1e-3, split = 0.5;
    bool warm_start = false;
    bool clip = false, minimal = false, random_start = false;
};

void add_options(CLI::App& app, Args& a)
{
    app.add_option("--model", a.model_dir, "model directory")->required();
    app.add_option("--dataset", a.dataset, "mnist | fashion | patches | features | synthetic-features")->required();
    app.add_option("--data", a.data_dir, "data directory");
    app.add_option("--attack", a.attack, "fgsm | deepfool | jsma | boundary | pgd | fmn | square | noise | blur")
        ->required();
    app.add_option("--count", a.count, "attack the first N test inputs (after --offset); 0 = all");
    app.add_option("--offset", a.offset, "skip this many test inputs");
    app.add_option("--chunk", a.chunk, "inputs per chunk (progress granularity; results do not depend on it)")
        ->check(examples::positive_count());
    app.add_option("--json", a.json_file, "write rows and aggregates here")->required();
    app.add_option("--seed", a.seed, "seed (boundary, noise, generated data sets)");
    app.add_option("--steps", a.steps,
                   "fgsm: grid points in (0, max-epsilon] (1000); pgd: iterations per run (100); fmn: steps (100)");
    app.add_option("--max-epsilon", a.max_epsilon,
                   "fgsm, pgd --minimal: largest epsilon (a norm in units of the input range)");
    app.add_option("--method", a.method, "pgd: apgd (Croce & Hein 2020) | pgd (Madry et al. 2018)");
    app.add_option("--norm", a.norm, "pgd, fmn: linf | l2");
    app.add_option("--losses", a.losses, "pgd: losses run one after another: ce | margin | dlr | dlr-t");
    app.add_option("--eps", a.eps, "pgd, square: budgets for robust accuracy (e.g. --eps 0.05 0.1 0.2)");
    app.add_flag("--minimal", a.minimal, "pgd: per-sample minimal budget by bisection");
    app.add_option("--tolerance", a.tolerance, "pgd --minimal: the search stops at this bracket width");
    app.add_option("--split", a.split,
                   "pgd --minimal: next budget hi - split (hi - lo) (0.5: bisection; 0.15 with --warm-start: fewer "
                   "passes)")
        ->check(CLI::Range(0.01, 0.99));
    app.add_flag("--warm-start", a.warm_start,
                 "pgd --minimal: each round's first run starts at the closest adversarial found");
    app.add_option("--restarts", a.restarts, "pgd: runs per loss (the first from x, the rest from random points)");
    app.add_flag("--random-start", a.random_start, "pgd: the first run starts at a random point of the ball too");
    app.add_option("--targets", a.targets, "pgd: target classes of dlr-t");
    app.add_option("--queries", a.queries, "square: model evaluations per input");
    app.add_option("--search", a.search, "fgsm: grid (Foolbox parity) | bisection");
    app.add_option("--loss", a.loss, "fgsm: network (the training loss) | ce (softmax cross-entropy)");
    app.add_option("--overshoot", a.overshoot, "deepfool: overshoot (default 0.05 per_step, 0.02 at_end)");
    app.add_option("--overshoot-mode", a.overshoot_mode, "deepfool: per_step (paper) | at_end (original DeepFool)");
    app.add_flag("--clip", a.clip, "deepfool: clip to [0, 1] every step (the authors' code does not)");
    app.add_option("--max-iterations", a.max_iterations, "deepfool (100) / jsma (500): iteration budget");
    app.add_option("--theta", a.theta, "jsma: change per step");
    app.add_option("--variant", a.variant, "jsma: single | pairs");
    app.add_option("--iterations", a.boundary_iterations, "boundary: steps");
    app.add_option("--levels", a.levels,
                   "noise: levels (default 0 .1 .3 .5 .7 .9); blur: sigmas (default 0 .5 1 1.5 2 2.5)");
    app.add_option("--noise-kind", a.noise_kind, "noise: levels are std | variance (the authors' code)");
}

// --- noise, blur: accuracy per level -------------------------------------------------

/// --levels, or the default noise levels / blur sigmas.
std::vector<double> distortion_levels(const Args& a, bool noise)
{
    if (!a.levels.empty()) return a.levels;
    return noise ? std::vector<double>{0, .1, .3, .5, .7, .9} : std::vector<double>{0, .5, 1, 1.5, 2, 2.5};
}

/// The accuracy curve into j, one line per level on stdout.
void distortion_curve(const char* what, const std::vector<double>& levels, const std::vector<double>& acc,
                      nlohmann::json& j)
{
    j["curve"] = sleepnet::make_curve(levels, acc);
    for (std::size_t i = 0; i < levels.size(); ++i) std::printf("%s %.3f: accuracy %.4f\n", what, levels[i], acc[i]);
}

/// --attack noise: Gaussian noise, levels as std or variance (--noise-kind).
template <class T>
void run_noise(const Args& a, const Net<T>& net, const Inputs<T>& in, nlohmann::json& j,
               sleepnet::default_engine& engine)
{
    const auto levels = distortion_levels(a, true);
    const auto kind = a.noise_kind == "variance" ? sleepnet::NoiseLevel::variance : sleepnet::NoiseLevel::std_dev;
    if (a.noise_kind != "variance" && a.noise_kind != "std")
        throw sleepnet::invalid_argument("--noise-kind must be std or variance, got '" + a.noise_kind + "'");
    const auto acc = sleepnet::noise_accuracy_curve(net, in.x, in.y, levels, kind, engine);
    j["noise_kind"] = a.noise_kind;
    distortion_curve("noise", levels, acc, j);
}

/// --attack blur: Gaussian blur of square images, levels are sigmas.
template <class T>
void run_blur(const Args& a, const Net<T>& net, const Inputs<T>& in, nlohmann::json& j)
{
    const auto levels = distortion_levels(a, false);
    const std::size_t dim = in.x.shape()[1];
    const std::size_t side = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(dim))));
    if (side * side != dim)
        throw sleepnet::invalid_argument("blur needs square images; inputs have " + std::to_string(dim) + " values");
    distortion_curve("blur sigma", levels, sleepnet::blur_accuracy_curve(net, in.x, in.y, side, side, levels), j);
}

// --- pgd, fmn, square: the strong attacks ---------------------------------------------

/// --method, --norm, --losses, --steps, --restarts, --random-start and --targets.
sleepnet::PgdOptions pgd_options(const Args& a)
{
    sleepnet::PgdOptions o;
    if (a.method != "apgd" && a.method != "pgd")
        throw sleepnet::invalid_argument("--method must be apgd or pgd, got '" + a.method + "'");
    o.method = a.method == "apgd" ? sleepnet::PgdMethod::apgd : sleepnet::PgdMethod::pgd;
    o.norm = sleepnet::norm_from_string(a.norm);
    o.losses.clear();
    for (const auto& l : a.losses) o.losses.push_back(sleepnet::logit_loss_from_string(l));
    if (a.steps > 0) o.steps = a.steps;
    o.restarts = a.restarts;
    o.random_start = a.random_start;
    o.targets = a.targets;
    return o;
}

/// Robust accuracy per budget of --eps (rows of the last budget) into j.
template <class Attack>
void budget_curve(const Args& a, nlohmann::json& j, Attack&& attack)
{
    if (a.eps.empty()) throw sleepnet::invalid_argument("this attack needs --eps E...");
    nlohmann::json curve = nlohmann::json::array();
    for (double e : a.eps) {
        const auto r = attack(e);
        curve.push_back({{"epsilon", e}, {"robust_accuracy", r.robust_accuracy()}, {"success_rate", r.success_rate()}});
        std::printf("%s eps %.4f: robust accuracy %.4f (success rate %.4f)\n", r.attack.c_str(), e, r.robust_accuracy(),
                    r.success_rate());
        if (e == a.eps.back()) examples::attack_rows(j, r, a.offset);
    }
    j["curve"] = curve;
}

/// Rows, median minimal budget and success rate of a minimal-budget result into j.
template <class R>
void minimal_summary(const R& r, const Args& a, nlohmann::json& j)
{
    examples::attack_rows(j, r, a.offset);
    j["score"] = sleepnet::json_number(r.median_epsilon());
    j["score_kind"] = "median minimal " + a.norm + " norm";
    j["success_rate"] = r.success_rate();
    std::printf("%s on %zu inputs (%zu correctly classified): median minimal norm %.4f, success rate %.4f\n",
                r.attack.c_str(), r.samples.size(), r.attempted(), r.median_epsilon(), r.success_rate());
}

/// --attack pgd: robust accuracy per --eps budget, or the minimal budget per input (--minimal).
template <class T>
void run_pgd(const Args& a, const Net<T>& net, const Inputs<T>& in, nlohmann::json& j, sleepnet::default_engine& engine)
{
    const sleepnet::PgdOptions o = pgd_options(a);
    if (a.minimal == !a.eps.empty()) throw sleepnet::invalid_argument("pgd needs either --eps E... or --minimal");
    auto bar = examples::progress_bar("pgd");
    j["pgd"] = {{"method", a.method}, {"norm", a.norm},         {"losses", a.losses},
                {"steps", o.steps},   {"restarts", a.restarts}, {"random_start", a.random_start}};
    if (!a.minimal)
        return budget_curve(a, j, [&](double e) { return sleepnet::pgd(net, in.x, in.y, e, o, engine, bar); });
    sleepnet::MinimalEpsilonSearch ms;
    ms.max_epsilon = a.max_epsilon;
    ms.tolerance = a.tolerance;
    ms.split = a.split;
    ms.warm_start = a.warm_start;
    j["tolerance"] = a.tolerance;
    j["split"] = a.split;
    j["warm_start"] = a.warm_start;
    minimal_summary(sleepnet::pgd_minimal(net, in.x, in.y, o, ms, engine, bar), a, j);
}

/// --attack fmn: the minimal norm per input in one run.
template <class T>
void run_fmn(const Args& a, const Net<T>& net, const Inputs<T>& in, nlohmann::json& j)
{
    sleepnet::FmnOptions o;
    o.norm = sleepnet::norm_from_string(a.norm);
    if (a.steps > 0) o.steps = a.steps;
    minimal_summary(sleepnet::fmn(net, in.x, in.y, o), a, j);
}

/// --attack square: gradient-free robust accuracy per --eps budget.
template <class T>
void run_square(const Args& a, const Net<T>& net, const Inputs<T>& in, nlohmann::json& j,
                sleepnet::default_engine& engine)
{
    sleepnet::SquareOptions o;
    o.queries = a.queries;
    budget_curve(a, j, [&](double e) { return sleepnet::square_attack(net, in.x, in.y, e, o, engine); });
}

// --- fgsm, deepfool, jsma, boundary: minimal perturbations, chunk by chunk -----------

/// Runs attack(x, y) on --chunk inputs at a time (progress on stderr); one result for all.
template <class T, class Attack>
sleepnet::AttackResult<T> in_chunks(const Args& a, const Inputs<T>& in, Attack&& attack)
{
    const std::size_t n = in.y.size();
    auto bar = examples::progress_bar(a.attack);
    sleepnet::AttackResult<T> all;
    all.attack = a.attack;
    all.adversarial = in.x;
    for (std::size_t start = 0; start < n; start += a.chunk) {
        const std::size_t stop = std::min(n, start + a.chunk);
        const sleepnet::matrix<T> xc = xt::view(in.x, xt::range(start, stop), xt::all());
        const sleepnet::label_vector yc = xt::view(in.y, xt::range(start, stop));
        const sleepnet::AttackResult<T> r = attack(xc, yc);
        for (auto s : r.samples) {
            s.index += start;
            all.samples.push_back(s);
        }
        std::copy(r.adversarial.begin(), r.adversarial.end(), all.adversarial.data() + start * in.x.shape()[1]);
        bar.update(stop, n);
    }
    return all;
}

/// Rows, score (median minimal epsilon of fgsm, median distance otherwise) and success rate
/// into j and on stdout.
template <class T>
void chunked_summary(const Args& a, const sleepnet::AttackResult<T>& all, std::size_t n, nlohmann::json& j)
{
    const bool fgsm = a.attack == "fgsm";
    examples::attack_rows(j, all, a.offset);
    const double score = fgsm ? all.median_epsilon() : all.median_distance();
    j["score"] = sleepnet::json_number(score);
    j["score_kind"] = fgsm ? "median minimal epsilon" : "median mean squared distance";
    j["success_rate"] = all.success_rate();
    std::printf("%s on %zu inputs (%zu correctly classified): score %.6g (%s), success rate %.4f\n", a.attack.c_str(),
                n, all.attempted(), score, fgsm ? "median minimal epsilon" : "median distance", all.success_rate());
}

/// --steps, --max-epsilon, --search and --loss.
sleepnet::FgsmOptions fgsm_options(const Args& a)
{
    sleepnet::FgsmOptions o;
    if (a.steps > 0) o.steps = a.steps;
    o.max_epsilon = a.max_epsilon;
    if (a.search != "grid" && a.search != "bisection")
        throw sleepnet::invalid_argument("--search must be grid or bisection");
    o.search = a.search == "grid" ? sleepnet::FgsmSearch::grid : sleepnet::FgsmSearch::bisection;
    if (a.loss != "network" && a.loss != "ce") throw sleepnet::invalid_argument("--loss must be network or ce");
    o.loss = a.loss == "ce" ? sleepnet::AttackLoss::cross_entropy : sleepnet::AttackLoss::network;
    return o;
}

/// --attack fgsm: the minimal epsilon per input (grid or bisection).
template <class T>
void run_fgsm(const Args& a, const Net<T>& net, const Inputs<T>& in, nlohmann::json& j)
{
    const auto o = fgsm_options(a);
    const auto all = in_chunks(a, in, [&](const auto& x, const auto& y) { return sleepnet::fgsm(net, x, y, o); });
    chunked_summary(a, all, in.y.size(), j);
}

/// --overshoot-mode, --overshoot, --max-iterations and --clip.
sleepnet::DeepFoolOptions deepfool_options(const Args& a)
{
    sleepnet::DeepFoolOptions o;
    if (a.overshoot_mode == "at_end") {
        o.mode = sleepnet::OvershootMode::at_end;
        o.overshoot = 0.02;
    } else if (a.overshoot_mode != "per_step") {
        throw sleepnet::invalid_argument("--overshoot-mode must be per_step or at_end");
    }
    if (a.overshoot >= 0) o.overshoot = a.overshoot;
    if (a.max_iterations > 0) o.max_iterations = a.max_iterations;
    o.clip = a.clip;
    return o;
}

/// --attack deepfool.
template <class T>
void run_deepfool(const Args& a, const Net<T>& net, const Inputs<T>& in, nlohmann::json& j)
{
    const auto o = deepfool_options(a);
    const auto all = in_chunks(a, in, [&](const auto& x, const auto& y) { return sleepnet::deepfool(net, x, y, o); });
    chunked_summary(a, all, in.y.size(), j);
}

/// --attack jsma: single pixels or pairs (--variant).
template <class T>
void run_jsma(const Args& a, const Net<T>& net, const Inputs<T>& in, nlohmann::json& j)
{
    sleepnet::JsmaOptions o;
    o.theta = a.theta;
    if (a.max_iterations > 0) o.max_iterations = a.max_iterations;
    if (a.variant != "single" && a.variant != "pairs")
        throw sleepnet::invalid_argument("--variant must be single or pairs");
    o.variant = a.variant == "pairs" ? sleepnet::JsmaOptions::Variant::pairs : sleepnet::JsmaOptions::Variant::single;
    const auto all = in_chunks(a, in, [&](const auto& x, const auto& y) { return sleepnet::jsma(net, x, y, o); });
    chunked_summary(a, all, in.y.size(), j);
}

/// --attack boundary: decision-based, random steps from the engine.
template <class T>
void run_boundary(const Args& a, const Net<T>& net, const Inputs<T>& in, nlohmann::json& j,
                  sleepnet::default_engine& engine)
{
    sleepnet::BoundaryOptions o;
    o.iterations = a.boundary_iterations;
    const auto all =
        in_chunks(a, in, [&](const auto& x, const auto& y) { return sleepnet::boundary(net, x, y, o, engine); });
    chunked_summary(a, all, in.y.size(), j);
}

// --- the program -----------------------------------------------------------------------

/// Runs --attack on the inputs; its results into j and on stdout.
template <class T>
void run_attack(const Args& a, const Net<T>& net, const Inputs<T>& in, nlohmann::json& j,
                sleepnet::default_engine& engine)
{
    if (a.attack == "noise") return run_noise(a, net, in, j, engine);
    if (a.attack == "blur") return run_blur(a, net, in, j);
    if (a.attack == "pgd") return run_pgd(a, net, in, j, engine);
    if (a.attack == "fmn") return run_fmn(a, net, in, j);
    if (a.attack == "square") return run_square(a, net, in, j, engine);
    if (a.attack == "fgsm") return run_fgsm(a, net, in, j);
    if (a.attack == "deepfool") return run_deepfool(a, net, in, j);
    if (a.attack == "jsma") return run_jsma(a, net, in, j);
    if (a.attack == "boundary") return run_boundary(a, net, in, j, engine);
    throw sleepnet::invalid_argument("unknown --attack '" + a.attack +
                                     "' (fgsm, deepfool, jsma, boundary, noise, blur)");
}

/// The fields every run writes: what was attacked, with which seed.
nlohmann::json header_json(const Args& a, const std::string& dataset, std::size_t n)
{
    nlohmann::json j;
    j["program"] = "attack";
    j["attack"] = a.attack;
    j["model"] = a.model_dir;
    j["dataset"] = dataset;
    j["offset"] = a.offset;
    j["count"] = n;
    j["seed"] = a.seed;
    return j;
}

/// Loads the model and data in precision T, attacks the test slice, prints, writes JSON.
template <class T>
int attack_model(const Args& a)
{
    const auto net = sleepnet::load_model<T>(a.model_dir);
    const auto data = sleepnet::load_dataset<T>(a.dataset, a.data_dir, a.seed);
    const auto in = examples::test_inputs(data.test, a.offset, a.count);
    sleepnet::default_engine engine(a.seed);
    nlohmann::json j = header_json(a, data.test.name, in.y.size());
    j["clean_accuracy"] = sleepnet::accuracy(net, in.x, in.y);
    const auto t0 = Clock::now();
    run_attack(a, net, in, j, engine);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    j["seconds"] = seconds;
    std::printf("time %.2f s\n", seconds);
    examples::write_json(a.json_file, j);
    return 0;
}

int run(const Args& a)
{
    examples::check_outputs({{"--json", a.json_file}});
    const auto info = sleepnet::read_model_info(a.model_dir);
    return examples::with_precision(info.dtype, [&](auto zero) { return attack_model<decltype(zero)>(a); });
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"Attack or distort a model's test inputs (FGSM, DeepFool, JSMA, Boundary, noise, blur)"};
    Args args;
    add_options(app, args);
    examples::strict_numbers(app);
    CLI11_PARSE(app, argc, argv);
    return examples::guarded("attack", [&] { return run(args); });
}
