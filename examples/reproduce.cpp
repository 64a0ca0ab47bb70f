// reproduce: the paper's experiments in one command (Tadros et al., ICLR 2020, Table 1 and
// Figs. 1-4): trains the control network, the defensively distilled network, fine-tuned
// networks and the slept network, attacks and distorts each, prints Table 1 and writes
// results.json, CSV files, gnuplot data/scripts and PNG plots.
//
//   reproduce --dataset patches --quick --out out/repro-patches
//   reproduce --dataset mnist --data data/mnist --quick --out out/repro-mnist
//   reproduce --dataset mnist --data data/mnist --out out/repro-mnist-full [--seed 1] [--sleep-params FILE]
//
// Every random draw comes from an engine seeded from --seed (stage k uses seed + k, listed
// in results.json under "seeds"; control and sleep use the seed itself). See docs/reproduce.md for what each stage does and what
// --quick reduces.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>

#include <sleepnet/attacks/boundary.hpp>
#include <sleepnet/attacks/deepfool.hpp>
#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/jsma.hpp>
#include <sleepnet/analysis/weights.hpp>
#include <sleepnet/data/load.hpp>
#include <sleepnet/defenses/distillation.hpp>
#include <sleepnet/defenses/finetune.hpp>
#include <sleepnet/distort/curves.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>
#include <sleepnet/snn/refit.hpp>
#include <sleepnet/snn/sleep.hpp>
#include <sleepnet/tune/objective.hpp>
#include <sleepnet/tune/search.hpp>

#include "common.hpp"
#include "reproduce_plots.hpp"

namespace fs = std::filesystem;
using T = float;
using Net = sleepnet::DenseNetwork<T>;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// What a run does; quick mode changes some of it (listed in `reductions`).
struct Plan {
    std::string dataset;
    bool quick = false;
    std::uint64_t seed = 1;
    std::size_t patches_copies = 250;      ///< Patches training set: the 4 images this many times
    std::size_t train_limit = 0;           ///< first N training rows (0 = all)
    std::size_t control_epochs = 2;
    std::size_t defense_epochs = 2;        ///< distillation teacher and student, fine-tuning
    std::size_t eval_count = 0;            ///< test inputs for FGSM, DeepFool and the curves (0 = all)
    std::size_t jsma_count = 100;
    std::size_t boundary_count = 20;
    std::size_t boundary_iterations = 1000;
    double fgsm_curve_step = 0.005;        ///< authors: 0 : 0.005 : 0.4
    std::size_t finetune_replace = 5000;
    bool finetune_per_attack = true;       ///< fine-tune on DeepFool and JSMA images too
    double finetune_noise_std = 0.3;
    double finetune_blur_sigma = 1.0;
    double distill_temperature = 50.0;
    std::size_t tune_budget = 0;           ///< Patches: sleep parameter search before sleeping (0 = off)
    std::vector<std::string> reductions;   ///< what quick mode reduced, in words
};

nlohmann::json to_json(const Plan& p)
{
    return {{"dataset", p.dataset},
            {"quick", p.quick},
            {"seed", p.seed},
            {"patches_copies", p.patches_copies},
            {"train_limit", p.train_limit},
            {"control_epochs", p.control_epochs},
            {"defense_epochs", p.defense_epochs},
            {"eval_count", p.eval_count},
            {"jsma_count", p.jsma_count},
            {"boundary_count", p.boundary_count},
            {"boundary_iterations", p.boundary_iterations},
            {"fgsm_curve_step", p.fgsm_curve_step},
            {"finetune_replace", p.finetune_replace},
            {"finetune_per_attack", p.finetune_per_attack},
            {"finetune_noise_std", p.finetune_noise_std},
            {"finetune_blur_sigma", p.finetune_blur_sigma},
            {"distill_temperature", p.distill_temperature},
            {"tune_budget", p.tune_budget},
            {"quick_reductions", p.reductions}};
}

/// Stage seeds: the data (Patches), the control network and the sleep phase use --seed
/// itself, so `reproduce --seed S` trains the control `train --seed S` trains and sleeps it
/// as `sleep --seed S` does (tuned parameter files name that seed); stage k of the others
/// uses seed + k.
enum Stage : std::uint64_t {
    s_data = 0, s_control = 0, s_sleep = 0, s_distill = 1, s_ft_fgsm = 2, s_ft_noise = 3, s_ft_blur = 4,
    s_ft_deepfool = 5, s_ft_jsma = 6, s_boundary = 7, s_noise_curve = 8, s_tune = 9
};
const std::pair<const char*, std::uint64_t> stage_list[] = {
    {"data", s_data},         {"control", s_control},          {"sleep", s_sleep},
    {"distillation", s_distill}, {"finetune_fgsm", s_ft_fgsm},  {"finetune_noise", s_ft_noise},
    {"finetune_blur", s_ft_blur}, {"finetune_deepfool", s_ft_deepfool}, {"finetune_jsma", s_ft_jsma},
    {"boundary", s_boundary}, {"noise_curve", s_noise_curve}, {"tune", s_tune}};

struct Network {
    std::string key;    ///< control, distilled, ft_fgsm, ...
    std::string title;  ///< for tables and plot legends
    Net net;
    nlohmann::json info;
};

struct AttackScore {
    double score = 0.0;
    double success = 0.0;
    std::size_t attempted = 0;
    std::size_t count = 0;
    double seconds = 0.0;
};

nlohmann::json to_json(const AttackScore& a)
{
    return {{"score", sleepnet::json_number(a.score)}, {"success_rate", a.success}, {"attempted", a.attempted},
            {"inputs", a.count},   {"seconds", a.seconds}};
}

sleepnet::SleepParams read_params_file(const std::string& file)
{
    std::ifstream in(file);
    if (!in) throw sleepnet::io_error("cannot open sleep parameter file '" + file + "'");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw sleepnet::format_error(file + ": not valid JSON (" + e.what() + ")");
    }
    try {
        return sleepnet::sleep_params_from_json(j);
    } catch (const sleepnet::invalid_argument& e) {
        throw sleepnet::invalid_argument(file + ": " + e.what());
    }
}

std::string preset_for(const std::string& dataset)
{
    if (dataset == "patches") return "patches";
    if (dataset == "features" || dataset == "synthetic-features") return "cub200";
    return "mnist-fgsm";
}

sleepnet::matrix<T> rows_of(const sleepnet::matrix<T>& x, std::size_t n)
{
    return xt::view(x, xt::range(0, n), xt::all());
}
sleepnet::label_vector rows_of(const sleepnet::label_vector& y, std::size_t n)
{
    return xt::view(y, xt::range(0, n));
}

/// Runs an attack in chunks with a progress bar; returns the merged samples.
template <class Attack>
AttackScore run_attack(const std::string& label, const sleepnet::matrix<T>& x, const sleepnet::label_vector& y,
                       bool fgsm_score, Attack&& attack, std::size_t chunk)
{
    const auto t0 = Clock::now();
    examples::Progress bar(label);
    sleepnet::AttackResult<T> all;
    const std::size_t n = x.shape()[0];
    for (std::size_t start = 0; start < n; start += chunk) {
        const std::size_t stop = std::min(n, start + chunk);
        const sleepnet::matrix<T> xc = xt::view(x, xt::range(start, stop), xt::all());
        const sleepnet::label_vector yc = xt::view(y, xt::range(start, stop));
        auto r = attack(xc, yc);
        for (auto s : r.samples) all.samples.push_back(s);
        bar.update(stop, n);
    }
    AttackScore a;
    a.score = fgsm_score ? all.median_epsilon() : all.median_distance();
    a.success = all.success_rate();
    a.attempted = all.attempted();
    a.count = n;
    a.seconds = since(t0);
    return a;
}

std::string fmt(double v, const char* f = "%.4f")
{
    if (!std::isfinite(v)) return "inf";
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

/// Writes a matrix for gnuplot's `matrix with image` (rows = image rows).
void write_matrix_dat(const std::string& path, const sleepnet::matrix<T>& m)
{
    std::ostringstream o;
    o << std::setprecision(7);
    for (std::size_t i = 0; i < m.shape()[0]; ++i) {
        for (std::size_t j = 0; j < m.shape()[1]; ++j) o << (j ? " " : "") << m(i, j);
        o << '\n';
    }
    examples::write_text(path, o.str());
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"Reproduce the paper's Table 1 and Figs. 1-4 (control, distillation, fine-tuning, sleep)"};
    Plan plan;
    std::string out_dir, data_dir, params_file, fgsm_loss = "network";
    bool no_plots = false;
    long tune_budget = -1;
    app.add_option("--dataset", plan.dataset, "patches | mnist | fashion | features")->required()
        ->check(CLI::IsMember({"patches", "mnist", "fashion", "features", "synthetic-features"}));
    app.add_flag("--quick", plan.quick, "smaller run (see docs/reproduce.md; what it reduces is printed)");
    app.add_option("--out", out_dir, "output directory")->required();
    app.add_option("--data", data_dir, "data directory (mnist, features; fashion: default Debian's)");
    app.add_option("--seed", plan.seed, "base seed: stage k uses seed + k");
    app.add_option("--sleep-params", params_file,
                   "sleep parameters (JSON); default examples/params/<dataset>.json if present, else the preset");
    app.add_option("--fgsm-loss", fgsm_loss, "FGSM gradient: network (the authors' MSE, default) | ce");
    app.add_option("--tune-budget", tune_budget,
                   "Patches: sleep parameter search candidates on a validation split before sleeping "
                   "(default: 200 for patches, 0 = off for the others; see docs/reproduce.md)");
    app.add_flag("--no-plots", no_plots, "write data and .gp scripts but do not run gnuplot");
    CLI11_PARSE(app, argc, argv);

    return examples::guarded("reproduce", [&] {
        const auto t_start = Clock::now();
        const std::string ds = plan.dataset;
        const bool patches = ds == "patches";
        const bool mnist_like = ds == "mnist" || ds == "fashion";
        if (fgsm_loss != "network" && fgsm_loss != "ce")
            throw sleepnet::invalid_argument("--fgsm-loss must be network or ce, got '" + fgsm_loss + "'");
        const auto attack_loss = fgsm_loss == "ce" ? sleepnet::AttackLoss::cross_entropy : sleepnet::AttackLoss::network;

        // ---- plan: full vs quick
        if (patches) {
            plan.eval_count = 0;
            plan.jsma_count = plan.boundary_count = 4;
            plan.finetune_replace = 0;  // set from the training set size below
        }
        if (plan.quick) {
            if (mnist_like) {
                plan.defense_epochs = 1;
                plan.eval_count = 500;
                plan.jsma_count = 50;
                plan.boundary_count = 10;
                plan.boundary_iterations = 300;
                plan.fgsm_curve_step = 0.01;
                plan.finetune_per_attack = false;
                plan.reductions = {"distillation (teacher, student) and fine-tuning: 1 epoch instead of 2",
                                   "FGSM, DeepFool and the accuracy curves on the first 500 test images instead of 10,000",
                                   "JSMA on the first 50 test images (full: 100), Boundary on the first 10 with 300 "
                                   "steps (full: 20 with 1000)",
                                   "FGSM accuracy curve at eps 0 : 0.01 : 0.4 (full: the authors' 0 : 0.005 : 0.4)",
                                   "fine-tuning column: the FGSM-fine-tuned network for every attack (full: also "
                                   "networks fine-tuned on DeepFool and JSMA images)"};
            } else if (patches) {
                plan.reductions = {"none: Patches is small; quick and full runs are the same"};
            } else {
                plan.defense_epochs = 10;
                plan.eval_count = 1000;
                plan.jsma_count = 50;
                plan.boundary_count = 10;
                plan.boundary_iterations = 300;
                plan.fgsm_curve_step = 0.01;
                plan.finetune_per_attack = false;
                plan.reductions = {"distillation and fine-tuning: 10 epochs", "evaluation on 1,000 test inputs",
                                   "JSMA 50 inputs, Boundary 10 inputs x 300 steps", "FGSM curve step 0.01",
                                   "fine-tuning column: the FGSM-fine-tuned network for every attack"};
            }
        }
        if (patches) plan.tune_budget = 200;  // the preset barely changes our Patches net (docs/reproduce.md)
        if (tune_budget >= 0) plan.tune_budget = static_cast<std::size_t>(tune_budget);
        const auto defaults = examples::defaults_for(ds);
        plan.control_epochs = defaults.epochs;

        fs::create_directories(out_dir);
        nlohmann::json J;
        J["program"] = "reproduce";
        J["command"] = [&] {
            std::string c;
            for (int i = 0; i < argc; ++i) c += (i ? " " : "") + std::string(argv[i]);
            return c;
        }();
        nlohmann::json seeds;
        for (const auto& st : stage_list) seeds[st.first] = plan.seed + st.second;
        J["seeds"] = seeds;
        nlohmann::json times;

        // ---- data
        auto t0 = Clock::now();
        sleepnet::DataSplits<T> data;
        if (patches) {
            sleepnet::default_engine e(plan.seed + s_data);
            sleepnet::PatchesOptions po;
            po.copies = plan.patches_copies;
            data = sleepnet::make_patches<T>(e, po);
        } else {
            data = sleepnet::load_dataset<T>(ds, data_dir, plan.seed + s_data);
        }
        if (plan.train_limit > 0 && plan.train_limit < data.train.size()) {
            data.train.x = rows_of(data.train.x, plan.train_limit);
            data.train.y = rows_of(data.train.y, plan.train_limit);
        }
        if (patches) plan.finetune_replace = data.train.size() / 12;  // the authors' 5,000 of 60,000
        const std::size_t n_eval = plan.eval_count == 0 ? data.test.size() : std::min(plan.eval_count, data.test.size());
        const sleepnet::matrix<T> ex = rows_of(data.test.x, n_eval);
        const sleepnet::label_vector ey = rows_of(data.test.y, n_eval);
        const std::size_t side = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(data.test.dim()))));
        const bool images = side * side == data.test.dim() && ds != "features" && ds != "synthetic-features";
        // valid input range: [0, 1] for images, the data's own range for feature vectors
        sleepnet::Bounds bounds;
        if (!images) {
            bounds.lo = std::min(*std::min_element(data.train.x.begin(), data.train.x.end()),
                                 *std::min_element(data.test.x.begin(), data.test.x.end()));
            bounds.hi = std::max(*std::max_element(data.train.x.begin(), data.train.x.end()),
                                 *std::max_element(data.test.x.begin(), data.test.x.end()));
            if (!(bounds.hi > bounds.lo)) bounds.hi = bounds.lo + 1.0;
        }
        sleepnet::DeepFoolOptions dfo;
        dfo.bounds = bounds;
        sleepnet::JsmaOptions jso;
        jso.bounds = bounds;
        times["data"] = since(t0);
        J["plan"] = to_json(plan);
        J["data"] = {{"name", data.train.name}, {"train", data.train.size()}, {"test", data.test.size()},
                     {"dim", data.train.dim()}, {"classes", data.train.classes}, {"evaluated", n_eval},
                     {"bounds", {bounds.lo, bounds.hi}}};

        std::fprintf(stderr, "reproduce: %s%s, %zu training and %zu test inputs (%zu evaluated), seed %llu\n",
                     ds.c_str(), plan.quick ? " (quick)" : "", data.train.size(), data.test.size(), n_eval,
                     static_cast<unsigned long long>(plan.seed));
        for (const auto& r : plan.reductions) std::fprintf(stderr, "reproduce: quick mode: %s\n", r.c_str());

        std::vector<std::size_t> sizes{data.train.dim()};
        for (auto h : defaults.hidden) sizes.push_back(h);
        sizes.push_back(data.train.classes);

        std::vector<Network> nets;
        auto add_net = [&](std::string key, std::string title, Net n, nlohmann::json info) {
            info["test_accuracy"] = sleepnet::accuracy(n, data.test);
            std::fprintf(stderr, "reproduce: %s: test accuracy %.4f\n", title.c_str(),
                         info["test_accuracy"].get<double>());
            nets.push_back({std::move(key), std::move(title), std::move(n), std::move(info)});
        };
        auto find_net = [&](const std::string& key) -> const Network* {
            for (const auto& n : nets)
                if (n.key == key) return &n;
            return nullptr;
        };

        // ---- control (paper Table 2)
        t0 = Clock::now();
        sleepnet::NetworkOptions nopt;
        nopt.dropout = defaults.dropout;
        Net control(sizes, nopt);
        {
            sleepnet::default_engine e(plan.seed + s_control);
            control.initialize(sleepnet::Init::uniform(0.01), e);
            sleepnet::SgdOptions sgd;
            sgd.epochs = plan.control_epochs;
            std::fprintf(stderr, "reproduce: training the control network (%zu epochs, lr 0.1, momentum 0.5)\n",
                         sgd.epochs);
            examples::TrainProgress prog;
            auto rep = sleepnet::train(control, data.train, sleepnet::MseLoss{}, sgd, e, prog);
            add_net("control", "Control", control,
                    {{"epochs", sgd.epochs}, {"learning_rate", sgd.learning_rate}, {"dropout", nopt.dropout},
                     {"final_epoch_loss", rep.final_epoch_loss}, {"seconds", rep.seconds}});
        }
        times["control"] = since(t0);

        // ---- defensive distillation (T = 50; lr scaled by T, see docs/defenses.md)
        t0 = Clock::now();
        {
            sleepnet::default_engine e(plan.seed + s_distill);
            sleepnet::DistillationOptions d;
            d.temperature = plan.distill_temperature;
            d.network.dropout = defaults.dropout;
            d.teacher_sgd.epochs = d.student_sgd.epochs = plan.defense_epochs;
            d.teacher_sgd.learning_rate = d.student_sgd.learning_rate = 0.1 * d.temperature;
            std::fprintf(stderr, "reproduce: defensive distillation (T = %g, lr %g, %zu epochs teacher + student)\n",
                         d.temperature, d.teacher_sgd.learning_rate, d.teacher_sgd.epochs);
            examples::TrainProgress prog;
            auto r = sleepnet::distill(data.train, sizes, d, e, prog);
            nlohmann::json info = sleepnet::to_json(r);
            info["options"] = sleepnet::to_json(d);
            info["teacher_test_accuracy"] = sleepnet::accuracy(r.teacher, data.test);
            add_net("distilled", "Defensive distillation", std::move(r.student), info);
        }
        times["distillation"] = since(t0);

        // ---- fine-tuning
        sleepnet::FinetuneOptions fo;
        fo.replace = plan.finetune_replace;
        fo.sgd.epochs = plan.defense_epochs;
        auto finetune = [&](const std::string& key, const std::string& title, Stage st, auto gen,
                            nlohmann::json what) {
            const auto t = Clock::now();
            sleepnet::default_engine e(plan.seed + st);
            std::fprintf(stderr, "reproduce: fine-tuning on %s images (%zu rows replaced, lr %g, %zu epochs)\n",
                         what.dump().c_str(), fo.replace, fo.sgd.learning_rate, fo.sgd.epochs);
            examples::TrainProgress prog;
            auto r = sleepnet::finetune(control, data.train, sleepnet::MseLoss{}, gen, fo, e, prog);
            nlohmann::json info = sleepnet::to_json(r.report);
            info["generator"] = what;
            add_net(key, title, std::move(r.network), info);
            times[key] = since(t);
        };
        {
            sleepnet::FgsmRandomStepOptions fr;
            fr.loss = attack_loss;
            fr.bounds = bounds;
            finetune("ft_fgsm", "Fine-tuned (FGSM)", s_ft_fgsm, sleepnet::fgsm_random_step_generator(control, fr),
                     {{"kind", "fgsm_random_step"}, {"max_epsilon", fr.max_epsilon}, {"per_pixel", fr.per_pixel}});
            finetune("ft_noise", "Fine-tuned (noise)", s_ft_noise,
                     sleepnet::gaussian_noise_generator(plan.finetune_noise_std, sleepnet::NoiseLevel::std_dev, bounds.lo,
                                                        bounds.hi),
                     {{"kind", "noise"}, {"std", plan.finetune_noise_std}});
            if (images) {
                finetune("ft_blur", "Fine-tuned (blur)", s_ft_blur,
                         sleepnet::gaussian_blur_generator(side, side, plan.finetune_blur_sigma),
                         {{"kind", "blur"}, {"sigma", plan.finetune_blur_sigma}});
            }
            if (plan.finetune_per_attack) {
                finetune("ft_deepfool", "Fine-tuned (DeepFool)", s_ft_deepfool,
                         sleepnet::attack_generator(
                             [&](const sleepnet::matrix<T>& x, const sleepnet::label_vector& y) {
                                 return sleepnet::deepfool(control, x, y, dfo);
                             }),
                         {{"kind", "deepfool"}});
                finetune("ft_jsma", "Fine-tuned (JSMA)", s_ft_jsma,
                         sleepnet::attack_generator(
                             [&](const sleepnet::matrix<T>& x, const sleepnet::label_vector& y) {
                                 return sleepnet::jsma(control, x, y, jso);
                             }),
                         {{"kind", "jsma"}});
            }
        }

        // ---- sleep
        t0 = Clock::now();
        {
            sleepnet::SleepParams sp;
            std::optional<sleepnet::RefitOptions> refit;  // a file's "refit" object (snn/refit.hpp)
            std::string source;
            const fs::path here = fs::path(__FILE__).parent_path() / "params" / (ds + ".json");
            const fs::path cwd = fs::path("examples") / "params" / (ds + ".json");
            if (!params_file.empty()) {
                sp = read_params_file(params_file);
                refit = sleepnet::load_refit_options(params_file);
                source = "file " + params_file;
            } else if (fs::exists(here)) {
                sp = read_params_file(here.string());
                refit = sleepnet::load_refit_options(here.string());
                source = "file " + here.string();
            } else if (fs::exists(cwd)) {
                sp = read_params_file(cwd.string());
                refit = sleepnet::load_refit_options(cwd.string());
                source = "file " + cwd.string();
            } else {
                sp = sleepnet::sleep_preset(preset_for(ds));
                source = "preset " + preset_for(ds);
            }
            nlohmann::json info;
            // sleep turns inputs into spike probabilities, so they must lie in [0, 1]:
            // feature vectors outside it are rescaled by their range for sleep only
            sleepnet::matrix<T> sleep_x = data.train.x;
            if (bounds.lo < 0.0 || bounds.hi > 1.0) {
                const T lo = static_cast<T>(bounds.lo), r = static_cast<T>(bounds.hi - bounds.lo);
                for (auto& v : sleep_x) v = (v - lo) / r;
                info["sleep_input_rescaled"] = {{"lo", bounds.lo}, {"hi", bounds.hi}};
            }
            if (plan.tune_budget > 0) {
                // sleep parameter search on a validation split of the TRAINING data
                const auto tt = Clock::now();
                const std::size_t n = data.train.size();
                const std::size_t nv = patches ? n : std::min<std::size_t>(2000, n / 10);
                const std::size_t m = std::min<std::size_t>(nv, 500);
                sleepnet::TuneData<T> td;
                td.sleep_x = sleep_x;
                td.val_x = xt::view(data.train.x, xt::range(n - nv, n - nv + m), xt::all());
                td.val_y = xt::view(data.train.y, xt::range(n - nv, n - nv + m));
                sleepnet::TuneOptions to;
                to.budget = plan.tune_budget;
                to.sleep_seed = plan.seed + s_sleep;
                to.initial.push_back(sleepnet::SearchSpace{}.encode(sp));
                if (refit) {
                    // candidates are refitted as the file says, on the rows before the validation split
                    refit->samples = n - nv;
                    if (refit->samples == 0)
                        throw sleepnet::invalid_argument("reproduce: the parameter file asks for a refit, but no "
                                                         "training rows are left before the validation split");
                    td.refit_x = xt::view(data.train.x, xt::range(0, n - nv), xt::all());
                    td.refit_y = xt::view(data.train.y, xt::range(0, n - nv));
                    to.refit = refit;
                }
                sleepnet::SearchSpace space;
                sleepnet::FgsmObjective obj;
                obj.options.loss = attack_loss;
                obj.options.search = sleepnet::FgsmSearch::grid;
                obj.options.bounds = bounds;
                sleepnet::default_engine te(plan.seed + s_tune);
                struct Bar {
                    examples::Progress bar{"tune sleep"};
                    void on_progress(const sleepnet::TuneProgress& p) { bar.update(p.evaluated, p.budget); }
                } bar;
                auto tr = sleepnet::tune_sleep(control, td, space, obj, to, te, bar);
                const auto& best = tr.best();
                info["tune"] = {{"budget", plan.tune_budget}, {"validation_rows", m},
                                {"control_value", sleepnet::json_number(tr.control_value)},
                                {"best_value", sleepnet::json_number(best.value)}, {"best_feasible", best.feasible},
                                {"best_accuracy", best.accuracy}, {"seconds", since(tt)},
                                {"started_from", source}};
                if (best.feasible) {
                    sp = tr.best_params();
                    source = "tuned (tune_sleep, FGSM objective on training data) from " + source;
                }
            }
            Net slept = control;
            sleepnet::default_engine e(plan.seed + s_sleep);
            struct SleepBar {
                examples::Progress bar{"sleep"};
                void on_step(const sleepnet::SleepProgress& s) { bar.update(s.step, s.steps); }
            } sbar;
            std::fprintf(stderr, "reproduce: sleep (%s, %zu steps)\n", source.c_str(), sp.steps);
            auto rep = sleepnet::sleep(slept, sleep_x, sp, e, sbar);
            if (refit) {
                refit->validate(slept.num_layers());
                std::fprintf(stderr, "reproduce: refit layers %zu-%zu after sleep\n", refit->frozen_layers + 1,
                             slept.num_layers());
                info["accuracy_after_sleep_before_refit"] = sleepnet::accuracy(slept, data.test);
                sleepnet::default_engine re(refit->seed);
                const auto rr = sleepnet::refit(slept, data.train.x, data.train.y, *refit, re);
                info["refit"] = sleepnet::to_json(*refit);
                info["refit_seconds"] = rr.seconds;
                source += " + refit";
            }
            info["params"] = sleepnet::to_json(sp);
            info["params_source"] = source;
            info["report"] = sleepnet::to_json(rep);
            add_net("sleep", "Sleep", std::move(slept), info);
        }
        times["sleep"] = since(t0);

        // ---- attacks (Table 1)
        const std::vector<std::string> attacks{"fgsm", "deepfool", "jsma", "boundary"};
        const std::map<std::string, std::string> attack_titles{
            {"fgsm", "FGSM"}, {"deepfool", "DeepFool"}, {"jsma", "JSMA"}, {"boundary", "Boundary Attack"}};
        auto ft_for = [&](const std::string& atk) -> std::string {
            if (atk == "deepfool" && find_net("ft_deepfool")) return "ft_deepfool";
            if (atk == "jsma" && find_net("ft_jsma")) return "ft_jsma";
            return "ft_fgsm";
        };
        const std::vector<std::string> columns{"control", "distilled", "finetuned", "sleep"};
        std::map<std::string, std::map<std::string, AttackScore>> scores;  // scores[net][attack]
        nlohmann::json jtable = nlohmann::json::object();
        t0 = Clock::now();
        for (const auto& atk : attacks) {
            for (const auto& col : columns) {
                const std::string key = col == "finetuned" ? ft_for(atk) : col;
                if (scores[key].count(atk)) continue;
                const Network& nw = *find_net(key);
                const std::string label = atk + " " + key;
                AttackScore a;
                if (atk == "fgsm") {
                    sleepnet::FgsmOptions o;
                    o.bounds = bounds;
                    o.loss = attack_loss;
                    a = run_attack(label, ex, ey, true, [&](const auto& x, const auto& y) { return sleepnet::fgsm(nw.net, x, y, o); }, 250);
                } else if (atk == "deepfool") {
                    a = run_attack(label, ex, ey, false, [&](const auto& x, const auto& y) { return sleepnet::deepfool(nw.net, x, y, dfo); }, 500);
                } else if (atk == "jsma") {
                    const std::size_t n = std::min(plan.jsma_count, data.test.size());
                    a = run_attack(label, rows_of(data.test.x, n), rows_of(data.test.y, n), false,
                                   [&](const auto& x, const auto& y) { return sleepnet::jsma(nw.net, x, y, jso); }, 10);
                } else {
                    const std::size_t n = std::min(plan.boundary_count, data.test.size());
                    sleepnet::BoundaryOptions bo;
                    bo.bounds = bounds;
                    bo.iterations = plan.boundary_iterations;
                    sleepnet::default_engine e(plan.seed + s_boundary);
                    a = run_attack(label, rows_of(data.test.x, n), rows_of(data.test.y, n), false,
                                   [&](const auto& x, const auto& y) { return sleepnet::boundary(nw.net, x, y, bo, e); }, 2);
                }
                scores[key][atk] = a;
            }
        }
        times["attacks"] = since(t0);
        for (const auto& atk : attacks) {
            nlohmann::json row;
            for (const auto& col : columns) {
                const std::string key = col == "finetuned" ? ft_for(atk) : col;
                auto j = to_json(scores[key][atk]);
                j["network"] = key;
                row[col] = j;
            }
            jtable[atk] = row;
        }
        J["table1"] = jtable;
        {
            // FGSM scores with failures (inf) counted as the grid's largest epsilon (1.0), so
            // that they compare as numbers in JSON (which has no infinity)
            auto capped = [&](const std::string& key) {
                const double v = scores[key]["fgsm"].score;
                return std::isfinite(v) ? v : 1.0;
            };
            J["checks"] = {{"fgsm_score_capped", {{"control", capped("control")}, {"distilled", capped("distilled")},
                                                  {"finetuned", capped(ft_for("fgsm"))}, {"sleep", capped("sleep")}}},
                           {"sleep_fgsm_minus_control", capped("sleep") - capped("control")},
                           {"sleep_fgsm_above_control", capped("sleep") > capped("control") ? 1 : 0}};
        }
        J["table1_notes"] = {
            {"fgsm", "score = median minimal epsilon (Foolbox grid, 1000 steps in (0, 1]), gradient of the " +
                         std::string(fgsm_loss == "ce" ? "softmax cross-entropy" : "authors' MSE training loss")},
            {"others", "score = median mean squared distance ||x' - x||^2 / N over correctly classified inputs "
                       "(failures count as +inf; null = inf)"},
            {"success_rate", "flipped / attempted (attempted = correctly classified before the attack)"}};

        // ---- curves (Figs. 1-3)
        t0 = Clock::now();
        examples::CurveTable fgsm_curve, noise_curve, blur_curve;
        for (double e = 0.0; e <= 0.4 + 1e-9; e += plan.fgsm_curve_step) fgsm_curve.x.push_back(std::round(e * 1e6) / 1e6);
        for (int i = 0; i <= 9; ++i) noise_curve.x.push_back(0.1 * i);
        for (int i = 0; i <= 10; ++i) blur_curve.x.push_back(0.25 * i);
        fgsm_curve.x_name = "epsilon";
        noise_curve.x_name = "noise_std";
        blur_curve.x_name = "blur_sigma";
        std::vector<std::string> titles;
        for (const auto& nw : nets) {
            titles.push_back(nw.title);
            examples::Progress bar("curves " + nw.key);
            const std::size_t total = fgsm_curve.x.size() + noise_curve.x.size() + (images ? blur_curve.x.size() : 0);
            std::size_t done = 0;
            std::vector<double> fc, nc, bc;
            fc = sleepnet::fgsm_accuracy_curve(nw.net, ex, ey, fgsm_curve.x, attack_loss, bounds);
            done += fc.size();
            bar.update(done, total);
            sleepnet::default_engine ne(plan.seed + s_noise_curve);  // the same noise for every network
            for (double s : noise_curve.x) {
                nc.push_back(sleepnet::noise_accuracy_curve(nw.net, ex, ey, {s}, sleepnet::NoiseLevel::std_dev, ne,
                                                                bounds.lo, bounds.hi)[0]);
                bar.update(++done, total);
            }
            if (images) {
                for (double s : blur_curve.x) {
                    bc.push_back(sleepnet::blur_accuracy_curve(nw.net, ex, ey, side, side, {s})[0]);
                    bar.update(++done, total);
                }
            }
            fgsm_curve.series.push_back(nw.key);
            fgsm_curve.values.push_back(fc);
            noise_curve.series.push_back(nw.key);
            noise_curve.values.push_back(nc);
            if (images) {
                blur_curve.series.push_back(nw.key);
                blur_curve.values.push_back(bc);
            }
        }
        times["curves"] = since(t0);
        auto curve_json = [](const examples::CurveTable& t) {
            nlohmann::json j;
            j["x_name"] = t.x_name;
            j["x"] = t.x;
            for (std::size_t s = 0; s < t.series.size(); ++s) j["accuracy"][t.series[s]] = t.values[s];
            return j;
        };
        J["curves"] = {{"fgsm", curve_json(fgsm_curve)}, {"noise", curve_json(noise_curve)}};
        J["curves"]["fgsm"]["note"] = "accuracy on clip(x + eps sign(grad)) over all evaluated inputs (misclassified "
                                      "ones stay in the denominator)";
        J["curves"]["noise"]["note"] = "Gaussian noise, levels are standard deviations, clipped to [0, 1]; the same "
                                       "draws for every network";
        if (images) J["curves"]["blur"] = curve_json(blur_curve);
        examples::write_curve_dat(out_dir + "/fig1_fgsm.dat", fgsm_curve);
        examples::write_curve_csv(out_dir + "/fgsm_curve.csv", fgsm_curve);
        examples::write_curve_dat(out_dir + "/fig2_noise.dat", noise_curve);
        examples::write_curve_csv(out_dir + "/noise_curve.csv", noise_curve);
        if (images) {
            examples::write_curve_dat(out_dir + "/fig2_blur.dat", blur_curve);
            examples::write_curve_csv(out_dir + "/blur_curve.csv", blur_curve);
        }

        // ---- networks
        nlohmann::json jn = nlohmann::json::object();
        for (const auto& nw : nets) {
            auto j = nw.info;
            j["title"] = nw.title;
            j["layer_sizes"] = nw.net.layer_sizes();
            j["evaluated_accuracy"] = sleepnet::accuracy(nw.net, ex, ey);
            jn[nw.key] = j;
        }
        J["networks"] = jn;

        // ---- Patches weight analyses (Figs. 3D, 4)
        if (patches) {
            const sleepnet::matrix<T> protos = data.test.x;  // the four images, class order
            nlohmann::json jw = nlohmann::json::object();
            std::ostringstream spread_dat;
            spread_dat << "# network mean_spread mean_on mean_overlap mean_off\n";
            std::size_t idx = 0;
            for (const auto& nw : nets) {
                const auto ws = sleepnet::weight_spread(nw.net, protos);
                double on = 0, ov = 0, off = 0;
                for (const auto& c : ws.classes) {
                    on += c.mean_exclusive;
                    ov += c.mean_overlap;
                    off += c.mean_off;
                }
                const double k = static_cast<double>(ws.classes.size());
                spread_dat << idx++ << ' ' << examples::gp_quote(nw.title) << ' ' << ws.mean_spread << ' ' << on / k
                           << ' ' << ov / k << ' ' << off / k << '\n';
                jw[nw.key] = {{"spread", sleepnet::to_json(ws)},
                              {"scatter", sleepnet::weight_scatter_json(nw.net.weights(0), protos)}};
                // Fig. 4 data: per neuron, pixel index, weight, category (0 on, 1 overlap, 2 off)
                const auto cat = sleepnet::pixel_categories(protos);
                std::ostringstream sc;
                sc << "# neuron pixel weight category(0=on,1=overlap,2=off)\n";
                for (std::size_t c = 0; c < nw.net.output_size(); ++c) {
                    for (std::size_t p = 0; p < nw.net.input_size(); ++p) {
                        sc << c << ' ' << p << ' ' << nw.net.weights(0)(c, p) << ' '
                           << (cat[c][p] == sleepnet::PixelCategory::on_exclusive ? 0 : cat[c][p] == sleepnet::PixelCategory::overlap ? 1 : 2)
                           << '\n';
                    }
                    sc << "\n\n";
                }
                examples::write_text(out_dir + "/fig4_scatter_" + nw.key + ".dat", sc.str());
                write_matrix_dat(out_dir + "/fig4_grid_" + nw.key + ".dat",
                                 sleepnet::weight_grid(nw.net.weights(0), side, side, 4, 1, T(0)));
            }
            examples::write_text(out_dir + "/fig3_spread.dat", spread_dat.str());
            write_matrix_dat(out_dir + "/patches_images.dat", sleepnet::weight_grid(protos, side, side, 4, 1, T(0)));
            J["patches_weights"] = jw;
        }

        // ---- Table 1 (stdout, CSV, JSON)
        std::ostringstream tbl, csv;
        const char* header[] = {"Control", "Defensive Distillation", "Fine-tuning", "Sleep"};
        char line[512];
        std::snprintf(line, sizeof line, "%-16s | %-18s | %-22s | %-18s | %-18s\n",
                      (ds == "mnist" ? "MNIST" : ds == "patches" ? "Patches" : ds.c_str()), header[0], header[1],
                      header[2], header[3]);
        tbl << line << std::string(104, '-') << '\n';
        csv << "attack,network,column,score,success_rate,attempted,inputs\n";
        for (const auto& atk : attacks) {
            std::string cells[4];
            for (std::size_t c = 0; c < 4; ++c) {
                const std::string key = columns[c] == "finetuned" ? ft_for(atk) : columns[c];
                const auto& a = scores[key][atk];
                cells[c] = fmt(a.score) + " (" + fmt(100.0 * a.success, "%.2f") + "%)";
                csv << atk << ',' << key << ',' << columns[c] << ',' << (std::isfinite(a.score) ? fmt(a.score, "%.6g") : "inf")
                    << ',' << a.success << ',' << a.attempted << ',' << a.count << '\n';
            }
            std::snprintf(line, sizeof line, "%-16s | %-18s | %-22s | %-18s | %-18s\n", attack_titles.at(atk).c_str(),
                          cells[0].c_str(), cells[1].c_str(), cells[2].c_str(), cells[3].c_str());
            tbl << line;
        }
        tbl << "cells: score (attack success rate). FGSM score: median minimal epsilon; others: median mean squared "
               "distance.\nFine-tuning column: ";
        for (const auto& atk : attacks) tbl << attack_titles.at(atk) << " -> " << ft_for(atk) << (atk == "boundary" ? "\n" : ", ");
        tbl << "Clean test accuracy:";
        for (const auto& nw : nets) tbl << ' ' << nw.key << ' ' << fmt(nw.info["test_accuracy"].get<double>());
        tbl << '\n';
        examples::write_text(out_dir + "/table1.txt", tbl.str());
        examples::write_text(out_dir + "/table1.csv", csv.str());

        // ---- plots
        t0 = Clock::now();
        const bool have_gp = !no_plots && examples::gnuplot_available();
        const std::string term = examples::gnuplot_terminal(have_gp, 800, 560);
        const std::string dsname = ds == "mnist" ? "MNIST" : ds == "patches" ? "Patches" : ds == "fashion" ? "Fashion-MNIST" : ds;
        std::vector<std::string> scripts;
        {
            std::ostringstream g;
            g << term << "\nset output 'fig1_fgsm.png'\nset title " << examples::gp_quote("Fig. 1: FGSM accuracy vs epsilon (" + dsname + ")")
              << "\nset xlabel 'Epsilon'\nset ylabel 'Accuracy'\nset yrange [0:1.02]\nset key bottom left\nset grid\n"
              << examples::gp_plot_lines("fig1_fgsm.dat", fgsm_curve, titles);
            examples::write_text(out_dir + "/fig1_fgsm.gp", g.str());
            scripts.push_back("fig1_fgsm.gp");
        }
        {
            std::ostringstream g;
            g << examples::gnuplot_terminal(have_gp, images ? 1200 : 700, 520) << "\nset output 'fig2_distortions.png'\n";
            g << "set multiplot layout 1," << (images ? 2 : 1) << " title " << examples::gp_quote("Fig. 2: accuracy under distortions (" + dsname + ")") << "\n";
            g << "set yrange [0:1.02]\nset grid\nset key bottom left\nset ylabel 'Accuracy'\n";
            g << "set title 'Gaussian noise'\nset xlabel 'Noise STD'\n" << examples::gp_plot_lines("fig2_noise.dat", noise_curve, titles);
            if (images) g << "set title 'Gaussian blur'\nset xlabel 'Blur Sigma'\n" << examples::gp_plot_lines("fig2_blur.dat", blur_curve, titles);
            g << "unset multiplot\n";
            examples::write_text(out_dir + "/fig2_distortions.gp", g.str());
            scripts.push_back("fig2_distortions.gp");
        }
        if (patches) {
            {
                std::ostringstream g;
                g << examples::gnuplot_terminal(have_gp, 1500, 480) << "\nset output 'fig3_patches.png'\n";
                g << "set multiplot layout 1,4 title 'Fig. 3: Patches'\n";
                g << "set title 'A: the four images'\nunset key\nset size ratio -1\nunset xtics\nunset ytics\n"
                     "set palette gray\nunset colorbox\nset yrange [*:*] reverse\nplot 'patches_images.dat' matrix with image\n";
                g << "set size noratio\nset xtics\nset ytics\nset yrange [0:1.02] noreverse\nset grid\nset key bottom left\nset ylabel 'Accuracy'\n";
                g << "set title 'C: noise'\nset xlabel 'Noise STD'\n" << examples::gp_plot_lines("fig2_noise.dat", noise_curve, titles);
                g << "set title 'C: blur'\nset xlabel 'Blur Sigma'\n" << examples::gp_plot_lines("fig2_blur.dat", blur_curve, titles);
                g << "set title 'D: weight spread (mean ON - mean OFF)'\nset xlabel ''\nset ylabel 'Weight spread'\nset yrange [*:*]\nunset key\n"
                     "set style fill solid 0.6\nset boxwidth 0.6\nset xtics rotate by -30\n"
                     "plot 'fig3_spread.dat' using 1:3:xtic(2) with boxes\nunset multiplot\n";
                examples::write_text(out_dir + "/fig3_patches.gp", g.str());
                scripts.push_back("fig3_patches.gp");
            }
            {
                std::ostringstream g;
                const std::size_t k = nets.size();
                g << examples::gnuplot_terminal(have_gp, 1400, 260 * static_cast<int>(k)) << "\nset output 'fig4_weights.png'\n";
                g << "set multiplot layout " << k << ",2 title 'Fig. 4: Patches weights (input -> output neuron k)'\n";
                for (const auto& nw : nets) {
                    g << "set title " << examples::gp_quote(nw.title + ": weights into output neurons 1-4 (10x10 each)")
                      << "\nunset key\nset size ratio -1\nunset xtics\nunset ytics\nset palette defined (-1 'blue', 0 'white', 1 'red')\n"
                         "set cbrange [-0.12:0.12]\nset colorbox\nset yrange [*:*] reverse\nset xrange [*:*]\n"
                      << "plot " << examples::gp_quote("fig4_grid_" + nw.key + ".dat") << " matrix with image\n";
                    g << "set size noratio\nset xtics\nset ytics\nset yrange [*:*] noreverse\nset xrange [0:400]\nset key outside right\n"
                      << "set title " << examples::gp_quote(nw.title + ": weight per input (neuron k at x = 100k + pixel)")
                      << "\nplot " << examples::gp_quote("fig4_scatter_" + nw.key + ".dat")
                      << " using ($1*100+$2):($4==0?$3:1/0) with points pt 7 ps 0.4 lc rgb 'red' title 'ON', '' using ($1*100+$2):($4==1?$3:1/0) with points pt 7 ps 0.4 lc rgb 'gray40' title 'overlap', '' using ($1*100+$2):($4==2?$3:1/0) with points pt 7 ps 0.4 lc rgb 'blue' title 'OFF'\n";
                }
                g << "unset multiplot\n";
                examples::write_text(out_dir + "/fig4_weights.gp", g.str());
                scripts.push_back("fig4_weights.gp");
            }
        }
        std::vector<std::string> pngs;
        if (have_gp) {
            for (const auto& s : scripts) {
                if (examples::run_gnuplot(out_dir, s)) pngs.push_back(s.substr(0, s.size() - 3) + ".png");
                else std::fprintf(stderr, "reproduce: warning: gnuplot failed on %s/%s\n", out_dir.c_str(), s.c_str());
            }
        } else {
            std::fprintf(stderr, "reproduce: warning: %s; wrote the data and the gnuplot scripts (%s/*.gp); "
                                 "make the PNGs later with: cd %s && for f in *.gp; do gnuplot $f; done\n",
                         no_plots ? "--no-plots given" : "gnuplot not found (Debian package gnuplot-nox)",
                         out_dir.c_str(), out_dir.c_str());
        }
        times["plots"] = since(t0);
        J["plots"] = {{"gnuplot", have_gp}, {"scripts", scripts}, {"png", pngs}};
        times["total"] = since(t_start);
        J["seconds"] = times;
        examples::write_json(out_dir + "/results.json", J);

        std::printf("%s", tbl.str().c_str());
        std::printf("wrote %s/results.json, table1.csv, curves (*.csv, *.dat), %zu plot script(s)%s; total %.1f s\n",
                    out_dir.c_str(), scripts.size(), have_gp ? " and PNGs" : "", since(t_start));
        return 0;
    });
}
