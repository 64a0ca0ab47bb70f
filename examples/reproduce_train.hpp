#pragma once
// reproduce: the networks that are trained (the control of the paper's Table 2, defensive
// distillation, fine-tuning on attacks and distortions, adversarial training).
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include <sleepnet/attacks/deepfool.hpp>
#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/jsma.hpp>
#include <sleepnet/defenses/adversarial.hpp>
#include <sleepnet/defenses/adversarial_json.hpp>
#include <sleepnet/defenses/distillation.hpp>
#include <sleepnet/defenses/distillation_json.hpp>
#include <sleepnet/defenses/finetune.hpp>
#include <sleepnet/defenses/finetune_json.hpp>
#include <sleepnet/nn/train.hpp>

#include "common.hpp"
#include "reproduce_parallel.hpp"
#include "reproduce_setup.hpp"

namespace repro {

/// A new network of the control's recipe (paper Table 2: sizes, dropout, uniform +-0.01),
/// initialised from `e`.
inline Net new_network(const Setup& s, sleepnet::default_engine& e)
{
    sleepnet::NetworkOptions nopt;
    nopt.dropout = s.defaults.dropout;
    Net net(s.sizes, nopt);
    net.initialize(sleepnet::Init::uniform(0.01), e);
    return net;
}

/// The control network (paper Table 2), trained as `train --seed S` trains it.
inline void train_control(const Setup& s, Networks& nets)
{
    sleepnet::default_engine e(s.plan.seed + s_control);
    Net control = new_network(s, e);
    sleepnet::SgdOptions sgd;
    sgd.epochs = s.plan.control_epochs;
    std::fprintf(stderr, "reproduce: training the control network (%zu epochs, lr 0.1, momentum 0.5)\n", sgd.epochs);
    auto prog = examples::progress_bar("control");
    auto rep = sleepnet::train(control, s.data.train, sleepnet::MseLoss{}, sgd, e, prog);
    nets.add("control", "Control", std::move(control),
             {{"epochs", sgd.epochs},
              {"learning_rate", sgd.learning_rate},
              {"dropout", s.defaults.dropout},
              {"final_epoch_loss", rep.final_epoch_loss},
              {"seconds", rep.seconds}});
}

/// Defensive distillation at T = 50, lr scaled by T (docs/defenses.md).
inline void train_distilled(const Setup& s, Networks& nets)
{
    sleepnet::default_engine e(s.plan.seed + s_distill);
    sleepnet::DistillationOptions d;
    d.temperature = s.plan.distill_temperature;
    d.network.dropout = s.defaults.dropout;
    d.teacher_sgd.epochs = d.student_sgd.epochs = s.plan.defense_epochs;
    d.teacher_sgd.learning_rate = d.student_sgd.learning_rate = 0.1 * d.temperature;
    std::fprintf(stderr, "reproduce: defensive distillation (T = %g, lr %g, %zu epochs teacher + student)\n",
                 d.temperature, d.teacher_sgd.learning_rate, d.teacher_sgd.epochs);
    auto prog = examples::progress_bar("distill");
    auto r = sleepnet::distill(s.data.train, s.sizes, d, e, prog);
    nlohmann::json info = r;
    info["options"] = d;
    info["teacher_test_accuracy"] = sleepnet::accuracy(r.teacher, s.data.test);
    nets.add("distilled", "Defensive distillation", std::move(r.student), info);
}

/// One fine-tuned copy of the control: rows replaced by what `gen` makes of them.
template <class Generator>
void finetune_one(const Setup& s, Networks& nets, const std::string& key, const std::string& title, Stage st,
                  Generator gen, const nlohmann::json& what)
{
    sleepnet::FinetuneOptions fo;
    fo.replace = s.plan.finetune_replace;
    fo.sgd.epochs = s.plan.defense_epochs;
    sleepnet::default_engine e(s.plan.seed + st);
    std::fprintf(stderr, "reproduce: fine-tuning on %s images (%zu rows replaced, lr %g, %zu epochs)\n",
                 what.dump().c_str(), fo.replace, fo.sgd.learning_rate, fo.sgd.epochs);
    auto prog = examples::progress_bar("finetune");
    auto r = sleepnet::finetune(nets.at("control").net, s.data.train, sleepnet::MseLoss{}, gen, fo, e, prog);
    nlohmann::json info = r.report;
    info["generator"] = what;
    nets.add(key, title, std::move(r.network), info);
}

inline sleepnet::DeepFoolOptions deepfool_options(const Setup& s)
{
    sleepnet::DeepFoolOptions o;
    o.bounds = s.bounds;
    return o;
}

inline sleepnet::JsmaOptions jsma_options(const Setup& s)
{
    sleepnet::JsmaOptions o;
    o.bounds = s.bounds;
    return o;
}

/// The fine-tuning column: on FGSM random-step, noise and blur images, and (full runs) on
/// DeepFool and JSMA adversarials of the control (made on s.workers threads: the rows split
/// between them, the same images).
inline void train_finetuned(const Setup& s, Networks& nets, StageTimes& times)
{
    const Net& control = nets.at("control").net;
    sleepnet::FgsmRandomStepOptions fr;
    fr.loss = s.attack_loss;
    fr.bounds = s.bounds;
    times.time("ft_fgsm", [&] {
        finetune_one(s, nets, "ft_fgsm", "Fine-tuned (FGSM)", s_ft_fgsm,
                     sleepnet::fgsm_random_step_generator(control, fr),
                     {{"kind", "fgsm_random_step"}, {"max_epsilon", fr.max_epsilon}, {"per_pixel", fr.per_pixel}});
    });
    times.time("ft_noise", [&] {
        finetune_one(s, nets, "ft_noise", "Fine-tuned (noise)", s_ft_noise,
                     sleepnet::gaussian_noise_generator(s.plan.finetune_noise_std, sleepnet::NoiseLevel::std_dev,
                                                        s.bounds.lo, s.bounds.hi),
                     {{"kind", "noise"}, {"std", s.plan.finetune_noise_std}});
    });
    if (s.images)
        times.time("ft_blur", [&] {
            finetune_one(s, nets, "ft_blur", "Fine-tuned (blur)", s_ft_blur,
                         sleepnet::gaussian_blur_generator(s.side, s.side, s.plan.finetune_blur_sigma),
                         {{"kind", "blur"}, {"sigma", s.plan.finetune_blur_sigma}});
        });
    if (!s.plan.finetune_per_attack) return;
    const auto dfo = deepfool_options(s);
    const auto jso = jsma_options(s);
    const unsigned workers = s.reference_schedule ? 1 : s.workers;
    times.time("ft_deepfool", [&] {
        finetune_one(s, nets, "ft_deepfool", "Fine-tuned (DeepFool)", s_ft_deepfool,
                     sleepnet::attack_generator([&](const sleepnet::matrix<T>& x, const sleepnet::label_vector& y) {
                         return split_rows_attack(control, x, y, workers,
                                                  [&](const Net& n, const auto& xp, const auto& yp) {
                                                      return sleepnet::deepfool(n, xp, yp, dfo);
                                                  });
                     }),
                     {{"kind", "deepfool"}});
    });
    times.time("ft_jsma", [&] {
        finetune_one(s, nets, "ft_jsma", "Fine-tuned (JSMA)", s_ft_jsma,
                     sleepnet::attack_generator([&](const sleepnet::matrix<T>& x, const sleepnet::label_vector& y) {
                         return split_rows_attack(control, x, y, workers,
                                                  [&](const Net& n, const auto& xp, const auto& yp) {
                                                      return sleepnet::jsma(n, xp, yp, jso);
                                                  });
                     }),
                     {{"kind", "jsma"}});
    });
}

/// The reference defense (defenses/adversarial.hpp): the control's architecture and recipe,
/// trained from scratch on adversarials of itself (PGD-AT, or FGSM-RS in quick mode).
inline void train_adversarial(const Setup& s, Networks& nets)
{
    sleepnet::default_engine e(s.plan.seed + s_adversarial);
    Net net = new_network(s, e);
    sleepnet::SgdOptions sgd;
    sgd.epochs = s.plan.control_epochs;
    sleepnet::AdversarialTrainingOptions adv;
    adv.method = s.plan.adversarial_method;
    adv.epsilon = s.plan.adversarial_epsilon;
    adv.bounds = s.bounds;
    std::fprintf(stderr, "reproduce: adversarial training (%s, eps %g, %zu epochs)\n",
                 sleepnet::to_string(adv.method).c_str(), adv.epsilon, sgd.epochs);
    auto prog = examples::progress_bar("adversarial");
    auto rep = sleepnet::adversarial_train(net, s.data.train, sleepnet::MseLoss{}, sgd, adv, e, prog);
    const std::string title = adv.method == sleepnet::AdversarialTrainingMethod::pgd ? "Adversarial training (PGD)"
                                                                                     : "Adversarial training (FGSM-RS)";
    nets.add("adversarial", title, std::move(net),
             {{"options", nlohmann::json(adv)},
              {"epochs", sgd.epochs},
              {"final_epoch_loss", rep.final_epoch_loss},
              {"seconds", rep.seconds}});
}

}  // namespace repro
