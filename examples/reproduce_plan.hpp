#pragma once
// reproduce: what a run does (the plan), full or --quick, and the seed of each stage.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <sleepnet/core/error.hpp>
#include <sleepnet/defenses/adversarial.hpp>

#include "common.hpp"

namespace repro {

/// What a run does; quick mode changes some of it (listed in `reductions`).
struct Plan {
    std::string dataset;
    bool quick = false;
    std::uint64_t seed = 1;
    std::size_t patches_copies = 250;  ///< Patches training set: the 4 images this many times
    std::size_t train_limit = 0;       ///< first N training rows (0 = all)
    std::size_t control_epochs = 2;
    std::size_t defense_epochs = 2;   ///< distillation teacher and student, fine-tuning
    std::size_t eval_count = 0;       ///< test inputs for FGSM, DeepFool, APGD, FMN and the curves (0 = all)
    std::size_t strong_count = 2000;  ///< of those, the first N for APGD and FMN (0 = all evaluated)
    std::size_t jsma_count = 100;
    std::size_t boundary_count = 20;
    std::size_t boundary_iterations = 1000;
    double fgsm_curve_step = 0.005;  ///< authors: 0 : 0.005 : 0.4
    std::size_t finetune_replace = 5000;
    bool finetune_per_attack = true;  ///< fine-tune on DeepFool and JSMA images too
    double finetune_noise_std = 0.3;
    double finetune_blur_sigma = 1.0;
    double distill_temperature = 50.0;
    /// the adversarially trained column (defenses/adversarial.hpp): PGD-AT, or FGSM-RS in quick mode
    sleepnet::AdversarialTrainingMethod adversarial_method = sleepnet::AdversarialTrainingMethod::pgd;
    double adversarial_epsilon = 0.1;
    std::size_t tune_budget = 0;          ///< sleep parameter search before sleeping (0 = off)
    std::string tune_objective = "pgd";   ///< pgd (median minimal APGD eps) | fgsm (median minimal FGSM eps)
    std::string apgd_search = "warm";     ///< Table 1's APGD search: warm | bisection (apgd_search())
    std::vector<std::string> reductions;  ///< what quick mode reduced, in words
};

/// Table 1's APGD minimal-eps search (to 1e-3 in (0, 1]): "warm" tests at hi - 0.15 (hi - lo)
/// and starts each round's first run at the closest adversarial found (MinimalEpsilonSearch;
/// 1.5x fewer passes on an MNIST control), "bisection" tests at (lo + hi) / 2 with every run from x
/// (the tables before issue 15).
inline sleepnet::MinimalEpsilonSearch apgd_search(const Plan& p)
{
    sleepnet::MinimalEpsilonSearch m;
    if (p.apgd_search == "bisection") return m;
    if (p.apgd_search != "warm")
        throw sleepnet::invalid_argument("--apgd-search must be warm or bisection, got '" + p.apgd_search + "'");
    m.split = 0.15;
    m.warm_start = true;
    return m;
}

inline nlohmann::json to_json(const Plan& p)
{
    return {{"dataset", p.dataset},
            {"quick", p.quick},
            {"seed", p.seed},
            {"patches_copies", p.patches_copies},
            {"train_limit", p.train_limit},
            {"control_epochs", p.control_epochs},
            {"defense_epochs", p.defense_epochs},
            {"eval_count", p.eval_count},
            {"strong_count", p.strong_count},
            {"jsma_count", p.jsma_count},
            {"boundary_count", p.boundary_count},
            {"boundary_iterations", p.boundary_iterations},
            {"fgsm_curve_step", p.fgsm_curve_step},
            {"finetune_replace", p.finetune_replace},
            {"finetune_per_attack", p.finetune_per_attack},
            {"finetune_noise_std", p.finetune_noise_std},
            {"finetune_blur_sigma", p.finetune_blur_sigma},
            {"distill_temperature", p.distill_temperature},
            {"adversarial_method", sleepnet::to_string(p.adversarial_method)},
            {"adversarial_epsilon", p.adversarial_epsilon},
            {"tune_budget", p.tune_budget},
            {"tune_objective", p.tune_objective},
            {"apgd_search", p.apgd_search},
            {"quick_reductions", p.reductions}};
}

/// What quick mode reduces on every data set but Patches.
inline void reduce(Plan& p, std::size_t defense_epochs, std::size_t eval_count)
{
    p.defense_epochs = defense_epochs;
    p.eval_count = eval_count;
    p.jsma_count = 50;
    p.boundary_count = 10;
    p.boundary_iterations = 300;
    p.fgsm_curve_step = 0.01;
    p.finetune_per_attack = false;
    p.adversarial_method = sleepnet::AdversarialTrainingMethod::fgsm_rs;
}

/// Quick mode on MNIST and Fashion-MNIST.
inline void reduce_mnist_like(Plan& p)
{
    reduce(p, 1, 500);
    p.reductions = {"distillation (teacher, student) and fine-tuning: 1 epoch instead of 2",
                    "FGSM, DeepFool, APGD, FMN and the accuracy curves on the first 500 test images instead of 10,000",
                    "JSMA on the first 50 test images (full: 100), Boundary on the first 10 with 300 "
                    "steps (full: 20 with 1000)",
                    "FGSM accuracy curve at eps 0 : 0.01 : 0.4 (full: the authors' 0 : 0.005 : 0.4)",
                    "fine-tuning column: the FGSM-fine-tuned network for every attack (full: also "
                    "networks fine-tuned on DeepFool and JSMA images)",
                    "adversarial training column: FGSM with random start (full: PGD-AT, 10 steps)"};
}

/// Quick mode on feature vectors.
inline void reduce_features(Plan& p)
{
    reduce(p, 10, 1000);
    p.reductions = {"distillation and fine-tuning: 10 epochs",
                    "evaluation on 1,000 test inputs",
                    "JSMA 50 inputs, Boundary 10 inputs x 300 steps",
                    "FGSM curve step 0.01",
                    "fine-tuning column: the FGSM-fine-tuned network for every attack",
                    "adversarial training column: FGSM with random start (full: PGD-AT, 10 steps)"};
}

/// The plan of a data set, full or quick; tune_budget < 0 keeps the data set's default
/// (200 candidates on Patches, off elsewhere).
inline Plan make_plan(const std::string& dataset, bool quick, std::uint64_t seed, long tune_budget,
                      const std::string& tune_objective)
{
    if (tune_objective != "pgd" && tune_objective != "fgsm")
        throw sleepnet::invalid_argument("--tune-objective must be pgd or fgsm, got '" + tune_objective + "'");
    Plan p;
    p.dataset = dataset;
    p.quick = quick;
    p.seed = seed;
    p.tune_objective = tune_objective;
    const bool patches = dataset == "patches";
    if (patches) {
        p.eval_count = 0;
        p.jsma_count = p.boundary_count = 4;
        p.finetune_replace = 0;  // set from the training set size once the data is loaded
        p.tune_budget = 200;     // the preset barely changes our Patches net (docs/reproduce.md)
    }
    if (quick) {
        if (dataset == "mnist" || dataset == "fashion")
            reduce_mnist_like(p);
        else if (patches)
            p.reductions = {"none: Patches is small; quick and full runs are the same"};
        else
            reduce_features(p);
    }
    if (tune_budget >= 0) p.tune_budget = static_cast<std::size_t>(tune_budget);
    p.control_epochs = examples::defaults_for(dataset).epochs;
    return p;
}

/// Stage seeds: the data (Patches), the control network and the sleep phase use --seed
/// itself, so `reproduce --seed S` trains the control `train --seed S` trains and sleeps it
/// as `sleep --seed S` does (tuned parameter files name that seed); stage k of the others
/// uses seed + k.
enum Stage : std::uint64_t {
    s_data = 0,
    s_control = 0,
    s_sleep = 0,
    s_distill = 1,
    s_ft_fgsm = 2,
    s_ft_noise = 3,
    s_ft_blur = 4,
    s_ft_deepfool = 5,
    s_ft_jsma = 6,
    s_boundary = 7,
    s_noise_curve = 8,
    s_tune = 9,
    s_adversarial = 10,
    s_strong = 11
};

/// Every stage's seed, by name (results.json "seeds").
inline nlohmann::json stage_seeds(std::uint64_t seed)
{
    const std::pair<const char*, std::uint64_t> stages[] = {{"data", s_data},
                                                            {"control", s_control},
                                                            {"sleep", s_sleep},
                                                            {"distillation", s_distill},
                                                            {"finetune_fgsm", s_ft_fgsm},
                                                            {"finetune_noise", s_ft_noise},
                                                            {"finetune_blur", s_ft_blur},
                                                            {"finetune_deepfool", s_ft_deepfool},
                                                            {"finetune_jsma", s_ft_jsma},
                                                            {"boundary", s_boundary},
                                                            {"noise_curve", s_noise_curve},
                                                            {"tune", s_tune},
                                                            {"adversarial_training", s_adversarial},
                                                            {"strong_attacks", s_strong}};
    nlohmann::json j;
    for (const auto& st : stages) j[st.first] = seed + st.second;
    return j;
}

}  // namespace repro
