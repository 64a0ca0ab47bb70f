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
#include <cstdio>
#include <iostream>
#include <sstream>

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
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>

#include "common.hpp"

namespace {

/// Flags of the strong attacks (pgd, fmn, square).
struct StrongFlags {
    std::string method = "apgd", norm = "linf";
    std::vector<std::string> losses{"ce", "margin"};
    std::vector<double> eps;
    std::size_t restarts = 1, targets = 9, queries = 5000, steps = 0, offset = 0;
    double tolerance = 1e-3, max_epsilon = 1.0;
    bool minimal = false, random_start = false;
};

sleepnet::PgdOptions pgd_options(const StrongFlags& f)
{
    sleepnet::PgdOptions o;
    if (f.method != "apgd" && f.method != "pgd")
        throw sleepnet::invalid_argument("--method must be apgd or pgd, got '" + f.method + "'");
    o.method = f.method == "apgd" ? sleepnet::PgdMethod::apgd : sleepnet::PgdMethod::pgd;
    o.norm = sleepnet::norm_from_string(f.norm);
    o.losses.clear();
    for (const auto& l : f.losses) o.losses.push_back(sleepnet::logit_loss_from_string(l));
    if (f.steps > 0) o.steps = f.steps;
    o.restarts = f.restarts;
    o.random_start = f.random_start;
    o.targets = f.targets;
    return o;
}

/// Robust accuracy per budget of f.eps (rows of the last budget) into j.
template <class Attack>
void budget_curve(const StrongFlags& f, nlohmann::json& j, Attack&& attack)
{
    if (f.eps.empty()) throw sleepnet::invalid_argument("this attack needs --eps E...");
    nlohmann::json curve = nlohmann::json::array();
    for (double e : f.eps) {
        const auto r = attack(e);
        curve.push_back({{"epsilon", e}, {"robust_accuracy", r.robust_accuracy()}, {"success_rate", r.success_rate()}});
        std::printf("%s eps %.4f: robust accuracy %.4f (success rate %.4f)\n", r.attack.c_str(), e, r.robust_accuracy(),
                    r.success_rate());
        if (e == f.eps.back()) examples::attack_rows(j, r, f.offset);
    }
    j["curve"] = curve;
}

/// Rows, median minimal budget and success rate of a minimal-budget result into j.
template <class R>
void minimal_summary(const R& r, const StrongFlags& f, nlohmann::json& j)
{
    examples::attack_rows(j, r, f.offset);
    j["score"] = sleepnet::json_number(r.median_epsilon());
    j["score_kind"] = "median minimal " + f.norm + " norm";
    j["success_rate"] = r.success_rate();
    std::printf("%s on %zu inputs (%zu correctly classified): median minimal norm %.4f, success rate %.4f\n",
                r.attack.c_str(), r.samples.size(), r.attempted(), r.median_epsilon(), r.success_rate());
}

/// --attack pgd | fmn | square.
template <class T, class Engine>
void run_strong(const std::string& attack, const sleepnet::DenseNetwork<T>& net, const sleepnet::matrix<T>& x,
                const sleepnet::label_vector& y, const StrongFlags& f, nlohmann::json& j, Engine& engine)
{
    if (attack == "fmn") {
        sleepnet::FmnOptions o;
        o.norm = sleepnet::norm_from_string(f.norm);
        if (f.steps > 0) o.steps = f.steps;
        return minimal_summary(sleepnet::fmn(net, x, y, o), f, j);
    }
    if (attack == "square") {
        sleepnet::SquareOptions o;
        o.queries = f.queries;
        return budget_curve(f, j, [&](double e) { return sleepnet::square_attack(net, x, y, e, o, engine); });
    }
    const sleepnet::PgdOptions o = pgd_options(f);
    if (f.minimal == !f.eps.empty()) throw sleepnet::invalid_argument("pgd needs either --eps E... or --minimal");
    examples::PgdBar bar("pgd");
    j["pgd"] = {{"method", f.method}, {"norm", f.norm}, {"losses", f.losses}, {"steps", o.steps},
                {"restarts", f.restarts}, {"random_start", f.random_start}};
    if (!f.minimal) return budget_curve(f, j, [&](double e) { return sleepnet::pgd(net, x, y, e, o, engine, bar); });
    sleepnet::MinimalEpsilonSearch ms;
    ms.max_epsilon = f.max_epsilon;
    ms.tolerance = f.tolerance;
    j["tolerance"] = f.tolerance;
    minimal_summary(sleepnet::pgd_minimal(net, x, y, o, ms, engine, bar), f, j);
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"Attack or distort a model's test inputs (FGSM, DeepFool, JSMA, Boundary, noise, blur)"};
    std::string model_dir, dataset = "mnist", data_dir, attack = "fgsm", json_file, search = "grid", loss = "network";
    std::string overshoot_mode = "per_step", variant = "single", noise_kind = "std";
    StrongFlags strong;
    std::size_t count = 0, offset = 0, chunk = 250, steps = 0, max_iterations = 0, boundary_iterations = 1000;
    std::uint64_t seed = 1;
    double max_epsilon = 1.0, overshoot = -1.0, theta = 0.1;
    bool clip = false;
    std::vector<double> levels;
    app.add_option("--model", model_dir, "model directory")->required();
    app.add_option("--dataset", dataset, "mnist | fashion | patches | features | synthetic-features")->required();
    app.add_option("--data", data_dir, "data directory");
    app.add_option("--attack", attack, "fgsm | deepfool | jsma | boundary | pgd | fmn | square | noise | blur")->required();
    app.add_option("--count", count, "attack the first N test inputs (after --offset); 0 = all");
    app.add_option("--offset", offset, "skip this many test inputs");
    app.add_option("--chunk", chunk, "inputs per chunk (progress granularity; results do not depend on it)");
    app.add_option("--json", json_file, "write rows and aggregates here")->required();
    app.add_option("--seed", seed, "seed (boundary, noise, generated data sets)");
    app.add_option("--steps", steps, "fgsm: grid points in (0, max-epsilon] (1000); pgd: iterations per run (100); fmn: steps (100)");
    app.add_option("--max-epsilon", max_epsilon, "fgsm, pgd --minimal: largest epsilon (a norm in units of the input range)");
    app.add_option("--method", strong.method, "pgd: apgd (Croce & Hein 2020) | pgd (Madry et al. 2018)");
    app.add_option("--norm", strong.norm, "pgd, fmn: linf | l2");
    app.add_option("--losses", strong.losses, "pgd: losses run one after another: ce | margin | dlr | dlr-t");
    app.add_option("--eps", strong.eps, "pgd, square: budgets for robust accuracy (e.g. --eps 0.05 0.1 0.2)");
    app.add_flag("--minimal", strong.minimal, "pgd: per-sample minimal budget by bisection");
    app.add_option("--tolerance", strong.tolerance, "pgd --minimal: bisection stops at this bracket width");
    app.add_option("--restarts", strong.restarts, "pgd: runs per loss (the first from x, the rest from random points)");
    app.add_flag("--random-start", strong.random_start, "pgd: the first run starts at a random point of the ball too");
    app.add_option("--targets", strong.targets, "pgd: target classes of dlr-t");
    app.add_option("--queries", strong.queries, "square: model evaluations per input");
    app.add_option("--search", search, "fgsm: grid (Foolbox parity) | bisection");
    app.add_option("--loss", loss, "fgsm: network (the training loss) | ce (softmax cross-entropy)");
    app.add_option("--overshoot", overshoot, "deepfool: overshoot (default 0.05 per_step, 0.02 at_end)");
    app.add_option("--overshoot-mode", overshoot_mode, "deepfool: per_step (paper) | at_end (original DeepFool)");
    app.add_flag("--clip", clip, "deepfool: clip to [0, 1] every step (the authors' code does not)");
    app.add_option("--max-iterations", max_iterations, "deepfool (100) / jsma (500): iteration budget");
    app.add_option("--theta", theta, "jsma: change per step");
    app.add_option("--variant", variant, "jsma: single | pairs");
    app.add_option("--iterations", boundary_iterations, "boundary: steps");
    app.add_option("--levels", levels, "noise: levels (default 0 .1 .3 .5 .7 .9); blur: sigmas (default 0 .5 1 1.5 2 2.5)");
    app.add_option("--noise-kind", noise_kind, "noise: levels are std | variance (the authors' code)");
    CLI11_PARSE(app, argc, argv);

    return examples::guarded("attack", [&] {
        const auto info = sleepnet::read_model_info(model_dir);
        return examples::with_precision(info.dtype, [&](auto zero) {
            using T = decltype(zero);
            const auto net = sleepnet::load_model<T>(model_dir);
            const auto data = sleepnet::load_dataset<T>(dataset, data_dir, seed);
            const std::size_t total = data.test.size();
            if (offset >= total) throw sleepnet::invalid_argument("--offset " + std::to_string(offset) + " >= " + std::to_string(total) + " test inputs");
            const std::size_t n = count == 0 ? total - offset : std::min(count, total - offset);
            const sleepnet::matrix<T> x = xt::view(data.test.x, xt::range(offset, offset + n), xt::all());
            const sleepnet::label_vector y = xt::view(data.test.y, xt::range(offset, offset + n));
            sleepnet::default_engine engine(seed);
            nlohmann::json j;
            j["program"] = "attack";
            j["attack"] = attack;
            j["model"] = model_dir;
            j["dataset"] = data.test.name;
            j["offset"] = offset;
            j["count"] = n;
            j["seed"] = seed;
            j["clean_accuracy"] = sleepnet::accuracy(net, x, y);
            const auto t0 = std::chrono::steady_clock::now();

            if (attack == "noise" || attack == "blur") {
                const bool noise = attack == "noise";
                if (levels.empty()) levels = noise ? std::vector<double>{0, .1, .3, .5, .7, .9}
                                                   : std::vector<double>{0, .5, 1, 1.5, 2, 2.5};
                std::vector<double> acc;
                if (noise) {
                    const auto kind = noise_kind == "variance" ? sleepnet::NoiseLevel::variance : sleepnet::NoiseLevel::std_dev;
                    if (noise_kind != "variance" && noise_kind != "std")
                        throw sleepnet::invalid_argument("--noise-kind must be std or variance, got '" + noise_kind + "'");
                    acc = sleepnet::noise_accuracy_curve(net, x, y, levels, kind, engine);
                    j["noise_kind"] = noise_kind;
                } else {
                    const std::size_t side = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(x.shape()[1]))));
                    if (side * side != x.shape()[1])
                        throw sleepnet::invalid_argument("blur needs square images; inputs have " + std::to_string(x.shape()[1]) + " values");
                    acc = sleepnet::blur_accuracy_curve(net, x, y, side, side, levels);
                }
                j["curve"] = sleepnet::to_json(sleepnet::make_curve(levels, acc));
                for (std::size_t i = 0; i < levels.size(); ++i)
                    std::printf("%s %.3f: accuracy %.4f\n", noise ? "noise" : "blur sigma", levels[i], acc[i]);
            } else if (attack == "pgd" || attack == "fmn" || attack == "square") {
                strong.steps = steps;
                strong.max_epsilon = max_epsilon;
                strong.offset = offset;
                run_strong(attack, net, x, y, strong, j, engine);
            } else {
                examples::Progress bar(attack);
                sleepnet::AttackResult<T> all;
                all.attack = attack;
                all.adversarial = x;
                sleepnet::BoundaryOptions bo;
                bo.iterations = boundary_iterations;
                for (std::size_t start = 0; start < n; start += chunk) {
                    const std::size_t stop = std::min(n, start + chunk);
                    const sleepnet::matrix<T> xc = xt::view(x, xt::range(start, stop), xt::all());
                    const sleepnet::label_vector yc = xt::view(y, xt::range(start, stop));
                    sleepnet::AttackResult<T> r;
                    if (attack == "fgsm") {
                        sleepnet::FgsmOptions o;
                        if (steps > 0) o.steps = steps;
                        o.max_epsilon = max_epsilon;
                        if (search != "grid" && search != "bisection") throw sleepnet::invalid_argument("--search must be grid or bisection");
                        o.search = search == "grid" ? sleepnet::FgsmSearch::grid : sleepnet::FgsmSearch::bisection;
                        if (loss != "network" && loss != "ce") throw sleepnet::invalid_argument("--loss must be network or ce");
                        o.loss = loss == "ce" ? sleepnet::AttackLoss::cross_entropy : sleepnet::AttackLoss::network;
                        r = sleepnet::fgsm(net, xc, yc, o);
                    } else if (attack == "deepfool") {
                        sleepnet::DeepFoolOptions o;
                        if (overshoot_mode == "at_end") {
                            o.mode = sleepnet::OvershootMode::at_end;
                            o.overshoot = 0.02;
                        } else if (overshoot_mode != "per_step") {
                            throw sleepnet::invalid_argument("--overshoot-mode must be per_step or at_end");
                        }
                        if (overshoot >= 0) o.overshoot = overshoot;
                        if (max_iterations > 0) o.max_iterations = max_iterations;
                        o.clip = clip;
                        r = sleepnet::deepfool(net, xc, yc, o);
                    } else if (attack == "jsma") {
                        sleepnet::JsmaOptions o;
                        o.theta = theta;
                        if (max_iterations > 0) o.max_iterations = max_iterations;
                        if (variant != "single" && variant != "pairs") throw sleepnet::invalid_argument("--variant must be single or pairs");
                        o.variant = variant == "pairs" ? sleepnet::JsmaOptions::Variant::pairs : sleepnet::JsmaOptions::Variant::single;
                        r = sleepnet::jsma(net, xc, yc, o);
                    } else if (attack == "boundary") {
                        r = sleepnet::boundary(net, xc, yc, bo, engine);
                    } else {
                        throw sleepnet::invalid_argument("unknown --attack '" + attack + "' (fgsm, deepfool, jsma, boundary, noise, blur)");
                    }
                    for (auto s : r.samples) {
                        s.index += start;
                        all.samples.push_back(s);
                    }
                    std::copy(r.adversarial.begin(), r.adversarial.end(), all.adversarial.data() + start * x.shape()[1]);
                    bar.update(stop, n);
                }
                examples::attack_rows(j, all, offset);
                const double score = attack == "fgsm" ? all.median_epsilon() : all.median_distance();
                j["score"] = sleepnet::json_number(score);
                j["score_kind"] = attack == "fgsm" ? "median minimal epsilon" : "median mean squared distance";
                j["success_rate"] = all.success_rate();
                std::printf("%s on %zu inputs (%zu correctly classified): score %.6g (%s), success rate %.4f\n",
                            attack.c_str(), n, all.attempted(), score,
                            attack == "fgsm" ? "median minimal epsilon" : "median distance", all.success_rate());
            }
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            j["seconds"] = seconds;
            std::printf("time %.2f s\n", seconds);
            examples::write_json(json_file, j);
            return 0;
        });
    });
}
