// Adversarial training (defenses/adversarial.hpp): the training attack against analytic
// oracles (affine model) and its invariants, adversarial_train against train() on the
// crafted rows, determinism, a synthetic problem where the defense must help, callbacks,
// and bad input.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <sleepnet/attacks/pgd.hpp>
#include <sleepnet/defenses/adversarial.hpp>
#include <sleepnet/defenses/adversarial_json.hpp>
#include <sleepnet/nn/loss.hpp>
#include <sleepnet/nn/train.hpp>

#include "attack_models.hpp"
#include "support.hpp"

using namespace sleepnet;
using test_support::affine_model;
using test_support::contains;
using test_support::message_of;

namespace {

/// Inputs in [lo, hi]; about one value in ten exactly at a bound (so clipping matters).
matrix<double> inputs_in(std::size_t n, std::size_t d, std::uint64_t seed, double lo = 0.0, double hi = 1.0)
{
    default_engine eng(seed);
    matrix<double> x = matrix<double>::from_shape({n, d});
    for (auto& v : x) {
        const double u = rng::uniform01<double>(eng);
        v = u < 0.05 ? lo : (u < 0.1 ? hi : rng::uniform<double>(eng, lo, hi));
    }
    return x;
}

label_vector labels_of(std::size_t n, std::size_t classes, std::uint64_t seed)
{
    default_engine eng(seed);
    label_vector y = label_vector::from_shape({n});
    for (auto& v : y) v = static_cast<std::size_t>(rng::below(eng, classes));
    return y;
}

double mean_ce(const DenseNetwork<double>& net, const matrix<double>& x, const label_vector& y)
{
    const auto z = net.logits(x);
    double s = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i)
        s += logit_loss(LogitLoss::cross_entropy, z.data() + i * z.shape()[1], 1, z.shape()[1], y(i), 0, nullptr);
    return s / static_cast<double>(y.size());
}

/// A robust feature and many weakly predictive ones (Tsipras et al. 2019, in [0, 1]^d):
/// s = +-1 by class; x_0 = 0.5 + 0.3 s, flipped for 10% of the samples (a
/// 90%-accurate feature no eps <= 0.2 perturbation can move across 0.5);
/// x_j = clip(0.5 + 0.06 s + N(0, 0.12)), j = 1..d-1: together near-perfectly predictive,
/// each moved across its class mean by eps = 0.1.
Dataset<float> robust_and_weak_features(std::size_t n, std::size_t d, std::uint64_t seed)
{
    default_engine eng(seed);
    Dataset<float> data;
    data.x = matrix<float>::from_shape({n, d});
    data.y = label_vector::from_shape({n});
    data.classes = 2;
    data.name = "robust-and-weak";
    for (std::size_t i = 0; i < n; ++i) {
        data.y(i) = static_cast<std::size_t>(rng::below(eng, 2));
        const double s = data.y(i) == 1 ? 1.0 : -1.0;
        const double flip = rng::uniform01<double>(eng) < 0.1 ? -1.0 : 1.0;
        data.x(i, 0) = static_cast<float>(0.5 + 0.3 * s * flip);
        for (std::size_t j = 1; j < d; ++j) {
            const double v = 0.5 + 0.06 * s + 0.12 * rng::normal<double>(eng);
            data.x(i, j) = static_cast<float>(std::min(1.0, std::max(0.0, v)));
        }
    }
    return data;
}

DenseNetwork<float> small_logit_net(std::size_t d, std::uint64_t seed, double dropout = 0.0)
{
    NetworkOptions o;
    o.output = Activation::linear;
    o.bias = true;
    o.dropout = dropout;
    DenseNetwork<float> net({d, 32, 2}, o);
    default_engine eng(seed);
    net.initialize(Init::he(), eng);
    return net;
}

bool same_weights(const DenseNetwork<float>& a, const DenseNetwork<float>& b)
{
    for (std::size_t l = 0; l < a.num_layers(); ++l) {
        if (!std::equal(a.weights(l).begin(), a.weights(l).end(), b.weights(l).begin())) return false;
        if (a.has_bias() && !std::equal(a.bias(l).begin(), a.bias(l).end(), b.bias(l).begin())) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("training attack: every crafted row is inside the eps ball and the bounds, and raises the loss")
{
    DenseNetwork<double> net({30, 20, 3}, NetworkOptions{Activation::relu, Activation::linear});
    default_engine init(4);
    net.initialize(Init::uniform(0.4), init);
    for (const Bounds b : {Bounds{0.0, 1.0}, Bounds{-1.0, 1.0}}) {
        const auto x = inputs_in(60, 30, 5, b.lo, b.hi);
        const auto y = labels_of(60, 3, 6);
        for (auto method : {AdversarialTrainingMethod::pgd, AdversarialTrainingMethod::fgsm_rs}) {
            for (LogitLoss loss : {LogitLoss::cross_entropy, LogitLoss::margin}) {
                for (double eps : {0.05, 0.3}) {
                    AdversarialTrainingOptions o;
                    o.method = method;
                    o.attack_loss = loss;
                    o.epsilon = eps;
                    o.bounds = b;
                    default_engine eng(7);
                    const auto adv = training_adversarials(net, x, y, o, eng);
                    REQUIRE(adv.shape() == x.shape());
                    CAPTURE(to_string(method));
                    CAPTURE(to_string(loss));
                    CAPTURE(eps);
                    CAPTURE(b.lo);
                    double worst = 0.0;
                    std::size_t moved = 0;
                    for (std::size_t i = 0; i < 60; ++i) {
                        const double dist =
                            perturbation_norm(adv.data() + i * 30, x.data() + i * 30, 30, Norm::linf, b);
                        worst = std::max(worst, dist);
                        moved += dist > 0.0 ? 1 : 0;
                    }
                    CHECK(worst <= eps + 1e-12);
                    CHECK(worst >= 0.9 * eps);  // the attack uses its budget
                    CHECK(moved == 60);         // every row, misclassified ones too
                    CHECK(*std::min_element(adv.begin(), adv.end()) >= b.lo);
                    CHECK(*std::max_element(adv.begin(), adv.end()) <= b.hi);
                    CHECK(mean_ce(net, adv, y) > mean_ce(net, x, y) + 0.01);
                }
            }
        }
    }
}

TEST_CASE("training attack on an affine 2-class model: one sign step >= eps lands on clip(x + eps sign(w_other - w_y))")
{
    const std::size_t d = 25;
    const auto net = affine_model(d, 3);
    const auto x = inputs_in(40, d, 8);
    // labels: the prediction for half the rows, the other class for the rest (the training
    // attack attacks misclassified rows too)
    label_vector y = net.predict(x);
    for (std::size_t i = 0; i < 40; i += 2) y(i) = 1 - y(i);
    const auto& w = net.weights(0);
    for (double eps : {0.05, 0.2}) {
        for (LogitLoss loss : {LogitLoss::cross_entropy, LogitLoss::margin}) {
            for (int variant = 0; variant < 3; ++variant) {
                AdversarialTrainingOptions o;
                o.epsilon = eps;
                o.attack_loss = loss;
                o.random_start = false;
                if (variant == 0) {
                    o.method = AdversarialTrainingMethod::fgsm_rs;  // default step 1.25 eps
                } else {
                    o.steps = 1;
                    o.step_size = variant == 1 ? eps : 3.0 * eps;
                }
                default_engine eng(1);
                const auto adv = training_adversarials(net, x, y, o, eng);
                CAPTURE(eps);
                CAPTURE(to_string(loss));
                CAPTURE(variant);
                for (std::size_t i = 0; i < 40; ++i) {
                    const std::size_t u = 1 - y(i);
                    for (std::size_t j = 0; j < d; ++j) {
                        const double dw = w(u, j) - w(y(i), j);
                        const double s = dw > 0 ? 1.0 : (dw < 0 ? -1.0 : 0.0);
                        const double expected = std::min(1.0, std::max(0.0, x(i, j) + eps * s));
                        CHECK(adv(i, j) == expected);
                    }
                }
            }
        }
    }
}

TEST_CASE("adversarial_train = train() on the crafted rows of each batch (momentum 0, clean_fraction 0 and 0.5)")
{
    const auto data = robust_and_weak_features(120, 9, 11);
    for (double f : {0.0, 0.5}) {
        SgdOptions sgd;
        sgd.batch_size = 40;
        sgd.epochs = 1;
        sgd.shuffle = false;
        sgd.momentum = 0.0;  // each step independent of the previous: a fresh train() per batch is the same
        AdversarialTrainingOptions o;
        o.epsilon = 0.1;
        o.steps = 3;
        o.random_start = false;  // the crafted rows do not depend on the engine
        o.clean_fraction = f;
        DenseNetwork<float> a = small_logit_net(9, 12), b = a;
        default_engine ea(13);
        adversarial_train(a, data, MseLoss{}, sgd, o, ea);

        default_engine eb(13);
        for (std::size_t begin = 0; begin < 120; begin += 40) {
            matrix<float> xb = xt::view(data.x, xt::range(begin, begin + 40), xt::all());
            label_vector yb = xt::view(data.y, xt::range(begin, begin + 40));
            const matrix<float> adv = training_adversarials(b, xb, yb, o, eb);
            // MSE's batch mean over [adv; clean] weighs each half 1/2
            const matrix<float> rows = f > 0.0 ? matrix<float>(xt::concatenate(xt::xtuple(adv, xb), 0)) : adv;
            const label_vector ys = f > 0.0 ? label_vector(xt::concatenate(xt::xtuple(yb, yb), 0)) : yb;
            SgdOptions one = sgd;
            one.batch_size = rows.shape()[0];
            train(b, rows, one_hot<float>(ys, 2), MseLoss{}, one, eb);
        }
        CAPTURE(f);
        CHECK(same_weights(a, b));
        CHECK(!same_weights(a, small_logit_net(9, 12)));
    }
}

TEST_CASE("clean_fraction f: the batch loss is (1 - f) L(adversarial) + f L(clean)")
{
    const auto data = robust_and_weak_features(50, 9, 15);
    const DenseNetwork<float> start = small_logit_net(9, 16);
    AdversarialTrainingOptions o;
    o.steps = 3;
    o.random_start = false;
    const matrix<float> targets = one_hot<float>(data.y, 2);
    auto mse = [&](const matrix<float>& x) {
        return static_cast<double>(MseLoss{}(start.logits(x), start.outputs(x), targets, Activation::linear));
    };
    default_engine e0(1);
    const double adv_loss = mse(training_adversarials(start, data.x, data.y, o, e0)), clean_loss = mse(data.x);
    REQUIRE(adv_loss > clean_loss * 1.1);
    for (double f : {0.0, 0.25, 0.9}) {
        o.clean_fraction = f;
        SgdOptions sgd;
        sgd.batch_size = 50;  // one batch: its loss is taken with the starting weights
        sgd.epochs = 1;
        struct Last {
            double loss = -1.0;
            void on_batch(const TrainInfo& i) { loss = i.batch_loss; }
        } last;
        DenseNetwork<float> net = start;
        default_engine eng(17);
        adversarial_train(net, data, MseLoss{}, sgd, o, eng, last);
        CAPTURE(f);
        CHECK(last.loss == doctest::Approx((1.0 - f) * adv_loss + f * clean_loss).epsilon(1e-5));
    }
}

TEST_CASE("adversarial training is deterministic: same seed, same weights, another seed, other weights")
{
    const auto data = robust_and_weak_features(200, 9, 21);
    SgdOptions sgd;
    sgd.batch_size = 32;
    sgd.epochs = 2;
    for (auto method : {AdversarialTrainingMethod::pgd, AdversarialTrainingMethod::fgsm_rs}) {
        AdversarialTrainingOptions o;
        o.method = method;
        o.steps = 3;
        o.clean_fraction = method == AdversarialTrainingMethod::pgd ? 0.0 : 0.3;
        auto run = [&](std::uint64_t seed) {
            DenseNetwork<float> net = small_logit_net(9, 22, 0.2);  // dropout draws from the engine too
            default_engine eng(seed);
            adversarial_train(net, data, SoftmaxCrossEntropy{}, sgd, o, eng);
            return net;
        };
        CAPTURE(to_string(method));
        CHECK(same_weights(run(5), run(5)));
        CHECK(!same_weights(run(5), run(6)));
    }
    // the attack alone: same seed same rows; the random start depends on the seed
    const auto net = small_logit_net(9, 23);
    AdversarialTrainingOptions o;
    default_engine e1(1), e2(1), e3(2);
    const auto a1 = training_adversarials(net, data.x, data.y, o, e1);
    CHECK(a1 == training_adversarials(net, data.x, data.y, o, e2));
    CHECK(a1 != training_adversarials(net, data.x, data.y, o, e3));
}

TEST_CASE("the defense works: robust accuracy under APGD rises by a clear margin, clean accuracy stays reasonable")
{
    const std::size_t d = 41;
    const auto train_set = robust_and_weak_features(2000, d, 31);
    const auto test_set = robust_and_weak_features(400, d, 32);
    const double eps = 0.1;
    SgdOptions sgd;
    sgd.batch_size = 50;
    sgd.epochs = 10;
    DenseNetwork<float> plain = small_logit_net(d, 33), robust = plain;
    default_engine e1(34), e2(34);
    train(plain, train_set, SoftmaxCrossEntropy{}, sgd, e1);
    AdversarialTrainingOptions o;
    o.epsilon = eps;
    o.steps = 7;
    adversarial_train(robust, train_set, SoftmaxCrossEntropy{}, sgd, o, e2);

    auto robust_accuracy = [&](const DenseNetwork<float>& net) {
        default_engine eng(35);
        return pgd(net, test_set.x, test_set.y, eps, PgdOptions{}, eng).robust_accuracy();
    };
    const double clean_plain = accuracy(plain, test_set), clean_robust = accuracy(robust, test_set);
    const double rob_plain = robust_accuracy(plain), rob_robust = robust_accuracy(robust);
    MESSAGE("clean ", clean_plain, " -> ", clean_robust, "; robust at eps 0.1 ", rob_plain, " -> ", rob_robust);
    CHECK(clean_plain > 0.95);
    CHECK(rob_plain < 0.3);
    CHECK(clean_robust > 0.8);
    CHECK(rob_robust > 0.75);
    CHECK(rob_robust > rob_plain + 0.5);
}

TEST_CASE("adversarial_train: callbacks see train()'s TrainInfo and can stop, FGSM-RS and PGD both train")
{
    const auto data = robust_and_weak_features(100, 9, 41);
    SgdOptions sgd;
    sgd.batch_size = 30;  // 4 batches, the last of 10
    sgd.epochs = 3;
    AdversarialTrainingOptions o;
    o.steps = 2;
    struct Recorder {
        std::vector<TrainInfo> batches;
        std::size_t begins = 0, ends = 0, stop_at = 1000;
        bool on_begin_epoch(const TrainInfo&) { return ++begins > 1000; }
        bool on_batch(const TrainInfo& i)
        {
            batches.push_back(i);
            return batches.size() == stop_at;
        }
        void on_end_epoch(const TrainInfo&) { ++ends; }
    };
    {
        DenseNetwork<float> net = small_logit_net(9, 42);
        default_engine eng(43);
        Recorder rec;
        const auto report = adversarial_train(net, data, SoftmaxCrossEntropy{}, sgd, o, eng, rec);
        CHECK(report.epochs_completed == 3);
        CHECK(report.batches == 12);
        CHECK_FALSE(report.stopped_early);
        CHECK(rec.begins == 3);
        CHECK(rec.ends == 3);
        REQUIRE(rec.batches.size() == 12);
        CHECK(rec.batches[5].epoch == 1);
        CHECK(rec.batches[5].batch == 1);
        CHECK(rec.batches[5].batches_per_epoch == 4);
        CHECK(rec.batches[3].samples_seen == 100);
        CHECK(rec.batches.back().samples_seen == 300);
        CHECK(std::isfinite(rec.batches.back().batch_loss));
        CHECK(report.final_epoch_loss == rec.batches.back().epoch_loss);
    }
    {
        DenseNetwork<float> net = small_logit_net(9, 42);
        default_engine eng(43);
        Recorder rec;
        rec.stop_at = 6;
        const auto report = adversarial_train(net, data, SoftmaxCrossEntropy{}, sgd, o, eng, rec);
        CHECK(report.stopped_early);
        CHECK(report.batches == 6);
        CHECK(report.epochs_completed == 1);
        CHECK(rec.ends == 1);
    }
}

TEST_CASE("adversarial training: bad options and input get clear exceptions naming the field")
{
    const auto data = robust_and_weak_features(20, 9, 51);
    DenseNetwork<float> net = small_logit_net(9, 52);
    default_engine eng(1);
    auto msg = [&](const AdversarialTrainingOptions& o) {
        return message_of<invalid_argument>([&] { adversarial_train(net, data, MseLoss{}, SgdOptions{}, o, eng); });
    };
    auto with = [](auto change) {
        AdversarialTrainingOptions o;
        change(o);
        return o;
    };
    CHECK(contains(msg(with([](auto& o) { o.epsilon = 0.0; })),
                   "AdversarialTrainingOptions: epsilon must be finite and > 0, got 0"));
    CHECK(contains(msg(with([](auto& o) { o.epsilon = NAN; })), "epsilon"));
    CHECK(contains(msg(with([](auto& o) { o.steps = 0; })), "steps must be > 0"));
    CHECK(contains(msg(with([](auto& o) { o.step_size = -0.1; })), "step_size must be finite and >= 0"));
    CHECK(contains(msg(with([](auto& o) { o.clean_fraction = 1.0; })), "clean_fraction must be in [0, 1), got 1"));
    CHECK(contains(msg(with([](auto& o) { o.clean_fraction = -0.5; })), "clean_fraction"));
    CHECK(contains(msg(with([](auto& o) { o.attack_loss = LogitLoss::dlr; })),
                   "attack_loss must be ce or margin, got dlr"));
    CHECK(contains(msg(with([](auto& o) { o.bounds = Bounds{1.0, 0.0}; })), "bounds must satisfy lo < hi"));
    // fgsm_rs ignores steps
    CHECK(msg(with([](auto& o) {
              o.method = AdversarialTrainingMethod::fgsm_rs;
              o.steps = 0;
          })) == "<nothing thrown>");
    // SGD options, data outside the bounds, labels, shapes, classes
    SgdOptions bad_sgd;
    bad_sgd.batch_size = 0;
    CHECK(contains(message_of<invalid_argument>(
                       [&] { adversarial_train(net, data, MseLoss{}, bad_sgd, AdversarialTrainingOptions{}, eng); }),
                   "batch_size"));
    AdversarialTrainingOptions narrow;
    narrow.bounds = Bounds{0.0, 0.5};
    CHECK(contains(msg(narrow), "adversarial_train: input"));
    CHECK(contains(msg(narrow), "is outside [0.000000, 0.500000]"));
    label_vector y3 = data.y;
    y3(4) = 2;
    CHECK(contains(message_of<invalid_argument>([&] {
                       adversarial_train(net, data.x, y3, MseLoss{}, SgdOptions{}, AdversarialTrainingOptions{}, eng);
                   }),
                   "label 2 of input 4"));
    label_vector short_y = xt::view(data.y, xt::range(0, 10));
    CHECK(contains(message_of<invalid_argument>([&] {
                       adversarial_train(net, data.x, short_y, MseLoss{}, SgdOptions{}, AdversarialTrainingOptions{},
                                         eng);
                   }),
                   "20 inputs but 10 labels"));
    Dataset<float> three = data;
    three.classes = 3;
    CHECK(contains(message_of<invalid_argument>([&] {
                       adversarial_train(net, three, MseLoss{}, SgdOptions{}, AdversarialTrainingOptions{}, eng);
                   }),
                   "has 3 classes, the network has 2 outputs"));
    DenseNetwork<float> one_out({9, 1});
    label_vector zeros = xt::zeros<std::size_t>({20});
    CHECK(contains(message_of<invalid_argument>(
                       [&] { training_adversarials(one_out, data.x, zeros, AdversarialTrainingOptions{}, eng); }),
                   "at least 2 classes"));
    CHECK(contains(message_of<invalid_argument>([] { adversarial_training_method_from_string("free"); }),
                   "unknown adversarial training method 'free'"));
    CHECK(adversarial_training_method_from_string("fgsm-rs") == AdversarialTrainingMethod::fgsm_rs);
    const nlohmann::json j = with([](auto& o) { o.steps = 4; });
    CHECK(j["method"] == "pgd");
    CHECK(j["step_size"].get<double>() == doctest::Approx(2.5 * 0.1 / 4));
}
