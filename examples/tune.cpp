// tune: searches sleep parameters for a trained model (genetic algorithm or random
// search), measuring the objective on a validation part of the TRAINING data, never on
// the test set; writes the best parameters for `sleep --params`.
//
//   tune --model out/control --dataset mnist --data data/mnist --budget 200 --out params.json --log tune.jsonl
//   sleep --model out/control --out out/slept --params params.json --dataset mnist --data data/mnist --seed 1
//
// Validation: the last --validation training images (default 2,000; all of them for tiny
// sets such as Patches, where there is nothing to hold out). The objective runs
// on the first --objective-count of them (default 500). Objective (default pgd): APGD
// robust accuracy at --pgd-eps (0.1), or the median minimal APGD eps (--pgd-minimal);
// --objective fgsm is the paper's single-step score, which rewards gradient masking
// (docs/robustness.md). Sleep input and its normalization:
// the whole training set, exactly as the sleep example uses it, so `sleep --params OUT
// --seed <sleep-seed>` reproduces the winner. An interrupted search continues from --log.
// --refit: every candidate's layers above the slept ones are refitted (snn/refit.hpp) on
// the training rows before the validation split before it is measured; the output file
// carries that refit, so `sleep --params OUT` does the same.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include <sleepnet/data/load.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/tune/objective.hpp>
#include <sleepnet/tune/search.hpp>

#include "common.hpp"

namespace {

struct TuneBar {
    examples::Progress bar{"tune"};
    void on_progress(const sleepnet::TuneProgress& p)
    {
        char buf[160];
        const auto& b = *p.best;
        std::snprintf(buf, sizeof buf, "best %s value %.4g acc %.4f", b.feasible ? "feasible" : "infeasible",
                      b.value, b.accuracy);
        bar.update(p.evaluated, p.budget, buf);
    }
};

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"Search sleep parameters for a trained network (objective on a validation split)"};
    std::string model_dir, dataset = "mnist", data_dir, out_file, log_file, method = "genetic", objective = "pgd";
    std::string fgsm_search = "bisection", fgsm_loss = "network", rule = "authors";
    std::size_t budget = 100, validation = 2000, objective_count = 500, population = 16, pgd_steps = 100;
    double pgd_eps = 0.1;
    bool pgd_minimal = false;
    std::uint64_t seed = 1, sleep_seed = 1, max_spikes = 500000;
    double max_drop = 0.03;
    unsigned threads = 2;
    bool restart = false, vary_include_output = false, refit_flag = false;
    std::size_t refit_epochs = 0, refit_frozen = 0, refit_samples = 0;
    double refit_lr = 0.0;
    std::vector<double> decay_range, inc_range, dec_range, rate_range, alpha_range, steps_range, threshold_range;
    std::vector<std::string> rules, normalizations, initial_files;
    app.add_option("--model", model_dir, "trained model directory")->required();
    app.add_option("--dataset", dataset, "mnist | fashion | patches | features | synthetic-features")->required();
    app.add_option("--data", data_dir, "data directory");
    app.add_option("--out", out_file, "where to write the best parameters (JSON for sleep --params)")->required();
    app.add_option("--log", log_file, "JSON-lines log of every candidate; an existing one is continued");
    app.add_flag("--restart", restart, "start afresh, overwriting an existing --log");
    app.add_option("--budget", budget, "candidates to evaluate");
    app.add_option("--method", method, "genetic | random");
    app.add_option("--population", population, "GA population size");
    app.add_option("--objective", objective, "pgd (APGD robust accuracy at --pgd-eps, or median minimal eps with --pgd-minimal; "
                                             "the default) | fgsm (median minimal eps; rewards gradient masking) | deepfool "
                                             "(median distance) | noise (accuracy at std 0.5, 0.7)");
    app.add_option("--pgd-eps", pgd_eps, "pgd objective: the L-inf budget of the robust accuracy");
    app.add_flag("--pgd-minimal", pgd_minimal, "pgd objective: median minimal eps (bisection, ~10x the cost) instead");
    app.add_option("--pgd-steps", pgd_steps, "pgd objective: APGD steps per loss (CE, margin)");
    app.add_option("--rule", rule, "STDP rule of every candidate: authors (code) | paper (text)");
    app.add_option("--fgsm-search", fgsm_search, "bisection (fast) | grid (Foolbox parity)");
    app.add_option("--fgsm-loss", fgsm_loss, "network (the training loss, the paper's) | ce (softmax cross-entropy)");
    app.add_option("--validation", validation, "validation images: the last N of the training set");
    app.add_option("--objective-count", objective_count, "validation images the objective runs on");
    app.add_option("--max-drop", max_drop, "feasible: validation accuracy >= control - this");
    app.add_option("--max-spikes", max_spikes, "runaway guard: stop a candidate after this many spikes (0 = none)");
    app.add_option("--seed", seed, "seed of the search (candidates drawn)");
    app.add_option("--sleep-seed", sleep_seed, "seed of every candidate's input spikes (pass it to sleep --seed)");
    app.add_option("--threads", threads, "candidates evaluated at once");
    // search space: ranges are LO HI (log scale; LO == HI fixes the value)
    app.add_option("--inc-range", inc_range, "inc range LO HI (default 1e-4 0.1)")->expected(2);
    app.add_option("--dec-range", dec_range, "dec range LO HI (default 1e-5 0.1)")->expected(2);
    app.add_option("--rate-range", rate_range, "input rate range in Hz, LO HI (default 10 490)")->expected(2);
    app.add_option("--alpha-range", alpha_range, "alpha_scale range LO HI (default 0.3 100)")->expected(2);
    app.add_option("--steps-range", steps_range, "steps range LO HI (default 300 30000)")->expected(2);
    app.add_option("--threshold-range", threshold_range, "threshold range of every layer, LO HI (default 0.3 100)")
        ->expected(2);
    app.add_option("--decay-range", decay_range, "vary the membrane decay over LO HI (linear, inside (0, 1]; default: fixed 0.999)")
        ->expected(2);
    app.add_option("--rules", rules, "vary the STDP rule over these: authors paper (default: --rule only)");
    app.add_option("--normalizations", normalizations,
                   "vary the normalization chain over these: authors textbook percentile (default: authors only)");
    app.add_flag("--vary-include-output", vary_include_output, "let the search choose whether the output layer sleeps");
    app.add_option("--initial", initial_files,
                   "parameter files (sleep --params format) placed first in the initial population (values clamped to the space)");
    app.add_flag("--refit", refit_flag,
                 "refit every candidate's layers above the slept ones on the training rows before the validation "
                 "split, then measure it (snn/refit.hpp; the output file carries the refit)");
    app.add_option("--refit-epochs", refit_epochs, "refit: epochs (default 2; implies --refit)");
    app.add_option("--refit-frozen", refit_frozen, "refit: leading layers kept frozen (default 1; implies --refit)");
    app.add_option("--refit-lr", refit_lr, "refit: learning rate (default 0.05; implies --refit)");
    app.add_option("--refit-samples", refit_samples,
                   "refit: the first N training rows (default: all before the validation split; implies --refit)");
    CLI11_PARSE(app, argc, argv);

    return examples::guarded("tune", [&] {
        const auto info = sleepnet::read_model_info(model_dir);
        return examples::with_precision(info.dtype, [&](auto zero) {
            using T = decltype(zero);
            const auto control = sleepnet::load_model<T>(model_dir);
            const auto data = sleepnet::load_dataset<T>(dataset, data_dir, seed);
            const std::size_t n = data.train.size();
            if (validation == 0 || validation > n)
                throw sleepnet::invalid_argument("--validation must be in [1, " + std::to_string(n) + "], got " +
                                                 std::to_string(validation));
            const std::size_t m = std::min(objective_count, validation);
            sleepnet::TuneData<T> td;
            td.sleep_x = data.train.x;
            td.val_x = xt::view(data.train.x, xt::range(n - validation, n - validation + m), xt::all());
            td.val_y = xt::view(data.train.y, xt::range(n - validation, n - validation + m));

            sleepnet::TuneOptions opts;
            opts.method = sleepnet::tune_method_from_string(method);
            opts.budget = budget;
            opts.genetic.population = population;
            opts.max_accuracy_drop = max_drop;
            opts.sleep_seed = sleep_seed;
            opts.max_spikes = max_spikes;
            opts.threads = threads;
            opts.log_path = log_file;
            opts.resume = !restart;
            std::string refit_flags;  // for the provenance
            if (refit_flag || refit_epochs > 0 || refit_frozen > 0 || refit_lr > 0.0 || refit_samples > 0) {
                sleepnet::RefitOptions ro;
                if (refit_epochs > 0) ro.epochs = refit_epochs;
                if (refit_frozen > 0) ro.frozen_layers = refit_frozen;
                if (refit_lr > 0.0) ro.learning_rate = refit_lr;
                const std::size_t available = n - validation;
                if (refit_samples > available)
                    throw sleepnet::invalid_argument("--refit-samples " + std::to_string(refit_samples) + " exceeds the " +
                                                     std::to_string(available) +
                                                     " training rows before the validation split");
                ro.samples = refit_samples > 0 ? refit_samples : available;
                if (ro.samples == 0)
                    throw sleepnet::invalid_argument("--refit: no training rows are left before the validation split");
                ro.validate();
                td.refit_x = xt::view(data.train.x, xt::range(0, ro.samples), xt::all());
                td.refit_y = xt::view(data.train.y, xt::range(0, ro.samples));
                char buf[160];
                std::snprintf(buf, sizeof buf, " --refit-epochs %zu --refit-frozen %zu --refit-lr %g --refit-samples %zu",
                              ro.epochs, ro.frozen_layers, ro.learning_rate, ro.samples);
                refit_flags = buf;
                opts.refit = ro;
            }
            sleepnet::SearchSpace space;
            if (rule == "paper") space.base.rule = sleepnet::StdpRuleKind::paper;
            else if (rule != "authors") throw sleepnet::invalid_argument("--rule must be authors or paper, got '" + rule + "'");
            std::string space_flags;  // for the provenance
            auto range = [&](const char* flag, const std::vector<double>& v, sleepnet::ParamRange& r, bool log) {
                if (v.empty()) return;
                r = {v[0], v[1], log};
                char buf[96];
                std::snprintf(buf, sizeof buf, " %s %g %g", flag, v[0], v[1]);
                space_flags += buf;
            };
            range("--inc-range", inc_range, space.inc, true);
            range("--dec-range", dec_range, space.dec, true);
            range("--rate-range", rate_range, space.rate, true);
            range("--alpha-range", alpha_range, space.alpha_scale, true);
            range("--steps-range", steps_range, space.steps, true);
            range("--threshold-range", threshold_range, space.threshold, true);
            if (!decay_range.empty()) {
                space.decay = sleepnet::ParamRange{};
                range("--decay-range", decay_range, *space.decay, false);
            }
            for (const auto& r : rules) {
                if (r == "authors") space.rules.push_back(sleepnet::StdpRuleKind::authors);
                else if (r == "paper") space.rules.push_back(sleepnet::StdpRuleKind::paper);
                else throw sleepnet::invalid_argument("--rules: unknown rule '" + r + "' (authors or paper)");
                space_flags += (&r == &rules.front() ? " --rules " : " ") + r;
            }
            for (const auto& c : normalizations) {
                space.normalizations.push_back(sleepnet::normalization_from_string(c));
                space_flags += (&c == &normalizations.front() ? " --normalizations " : " ") + c;
            }
            space.vary_include_output = vary_include_output;
            if (vary_include_output) space_flags += " --vary-include-output";
            const std::size_t threshold_genes =
                space.vary_include_output ? control.num_layers() : space.base.simulated_layers(control.num_layers());
            space.validate(threshold_genes);
            for (const auto& f : initial_files) {
                const sleepnet::SleepParams ip = sleepnet::load_sleep_params(f);
                const std::size_t sim = ip.simulated_layers(control.num_layers());
                if (ip.thresholds.size() != sim)
                    throw sleepnet::invalid_argument("--initial " + f + ": " + std::to_string(ip.thresholds.size()) +
                                                     " thresholds for " + std::to_string(sim) + " simulated layers");
                if (!space.vary_include_output && ip.include_output != space.base.include_output)
                    throw sleepnet::invalid_argument("--initial " + f + ": include_output differs from the search's "
                                                     "(add --vary-include-output)");
                opts.initial.push_back(space.encode(ip));
                space_flags += " --initial " + f;
            }
            sleepnet::default_engine engine(seed);
            TuneBar bar;

            auto run = [&](const auto& obj) { return sleepnet::tune_sleep(control, td, space, obj, opts, engine, bar); };
            sleepnet::TuneResult r;
            if (objective == "pgd") {
                sleepnet::PgdObjective o;
                o.epsilon = pgd_eps;
                o.options.steps = pgd_steps;
                if (pgd_minimal) o.mode = sleepnet::PgdObjective::Mode::minimal_epsilon;
                char buf[64];
                std::snprintf(buf, sizeof buf, " --pgd-eps %g", pgd_eps);
                space_flags += pgd_minimal ? std::string(" --pgd-minimal") : std::string(buf);
                if (pgd_steps != 100) space_flags += " --pgd-steps " + std::to_string(pgd_steps);
                r = run(o);
            } else if (objective == "fgsm") {
                sleepnet::FgsmObjective o;
                if (fgsm_search == "grid") o.options.search = sleepnet::FgsmSearch::grid;
                else if (fgsm_search != "bisection")
                    throw sleepnet::invalid_argument("--fgsm-search must be bisection or grid, got '" + fgsm_search + "'");
                if (fgsm_search == "grid") space_flags += " --fgsm-search grid";
                if (fgsm_loss == "ce") {
                    o.options.loss = sleepnet::AttackLoss::cross_entropy;
                    space_flags += " --fgsm-loss ce";
                } else if (fgsm_loss != "network") {
                    throw sleepnet::invalid_argument("--fgsm-loss must be network or ce, got '" + fgsm_loss + "'");
                }
                r = run(o);
            } else if (objective == "deepfool") {
                r = run(sleepnet::DeepFoolObjective{});
            } else if (objective == "noise") {
                r = run(sleepnet::NoiseObjective{});
            } else {
                throw sleepnet::invalid_argument("unknown --objective '" + objective + "' (pgd, fgsm, deepfool or noise)");
            }

            const auto& best = r.best();
            std::printf("tune: %zu candidates (%zu from the log) in %.1f s; objective %s on %zu validation images\n",
                        r.history.size(), r.resumed, r.seconds, r.objective.c_str(), m);
            std::printf("control: validation accuracy %.4f, objective %.6g (floor %.4f)\n", r.control_accuracy,
                        r.control_value, r.accuracy_floor);
            std::printf("best: candidate %zu (generation %zu), %s, validation accuracy %.4f, objective %.6g\n",
                        best.index, best.generation, best.feasible ? "feasible" : "INFEASIBLE", best.accuracy,
                        best.value);
            auto j = sleepnet::to_json(best.params);
            char prov[2048];
            std::snprintf(prov, sizeof prov,
                          "tune --method %s --objective %s --budget %zu --seed %llu --sleep-seed %llu%s on %s "
                          "(%zu validation images from the training set): validation accuracy %.4f vs control "
                          "%.4f, objective %.6g vs control %.6g",
                          method.c_str(), objective.c_str(), budget, static_cast<unsigned long long>(seed),
                          static_cast<unsigned long long>(sleep_seed), (space_flags + refit_flags).c_str(),
                          model_dir.c_str(), m,
                          best.accuracy, r.control_accuracy, best.value, r.control_value);
            j["provenance"] = prov;
            if (opts.refit) j["refit"] = sleepnet::to_json(*opts.refit);
            examples::write_json(out_file, j);
            std::printf("parameters written to %s (use: sleep --params %s --seed %llu)\n", out_file.c_str(),
                        out_file.c_str(), static_cast<unsigned long long>(sleep_seed));
            return best.feasible ? 0 : 2;
        });
    });
}
