// Defenses: defensive distillation (soft labels in test mode, temperature, teacher and
// student training as plain train() calls) and fine-tuning (rows replaced by generator
// images, labels kept, reproducibility, the caller's network untouched, generators).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/data/patches.hpp>
#include <sleepnet/defenses/distillation.hpp>
#include <sleepnet/defenses/distillation_json.hpp>
#include <sleepnet/defenses/finetune.hpp>
#include <sleepnet/defenses/finetune_json.hpp>

#include "support.hpp"

using namespace sleepnet;
using test_support::message_of;
using test_support::random_matrix;
using Mat = matrix<double>;

namespace {

// three noisy blobs in 6 dimensions
Dataset<double> blobs(std::size_t n, std::uint64_t seed)
{
    default_engine eng(seed);
    Dataset<double> d;
    d.classes = 3;
    d.name = "blobs";
    d.x = Mat::from_shape({n, 6});
    d.y = label_vector::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i % 3;
        d.y(i) = c;
        for (std::size_t j = 0; j < 6; ++j) {
            const double centre = (j % 3 == c) ? 0.8 : 0.2;
            d.x(i, j) = std::min(1.0, std::max(0.0, centre + 0.1 * rng::normal<double>(eng)));
        }
    }
    return d;
}

bool same_weights(const DenseNetwork<double>& a, const DenseNetwork<double>& b)
{
    if (a.num_layers() != b.num_layers()) return false;
    for (std::size_t l = 0; l < a.num_layers(); ++l) {
        if (a.weights(l) != b.weights(l)) return false;
    }
    return true;
}

DistillationOptions small_distillation(double temperature, std::size_t epochs = 3)
{
    DistillationOptions o;
    o.temperature = temperature;
    o.teacher_sgd.epochs = epochs;
    o.teacher_sgd.batch_size = 16;
    o.student_sgd = o.teacher_sgd;
    o.init = Init::he();
    return o;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// distillation

TEST_CASE("soft labels are softmax(logits / T) of a test-mode pass (hand computation, dropout net)")
{
    default_engine eng(11);
    for (DropoutMode mode : {DropoutMode::scale_at_test, DropoutMode::inverted}) {
        NetworkOptions opt = distillation_network_options();
        opt.dropout = 0.3;
        opt.dropout_mode = mode;
        DenseNetwork<double> net({4, 5, 3}, opt);
        net.initialize(Init::he(), eng);
        const Mat x = random_matrix(6, 4, eng);
        for (double t : {1.0, 2.5, 50.0}) {
            const Mat p = soft_labels(net, x, t);
            REQUIRE(p.shape()[0] == 6);
            REQUIRE(p.shape()[1] == 3);
            const double keep = mode == DropoutMode::scale_at_test ? 0.7 : 1.0;
            for (std::size_t i = 0; i < 6; ++i) {
                double h[5];
                for (std::size_t u = 0; u < 5; ++u) {
                    double z = 0.0;
                    for (std::size_t j = 0; j < 4; ++j) z += net.weights(0)(u, j) * x(i, j);
                    h[u] = std::max(0.0, z) * keep;
                }
                double z2[3], s = 0.0;
                for (std::size_t k = 0; k < 3; ++k) {
                    z2[k] = 0.0;
                    for (std::size_t u = 0; u < 5; ++u) z2[k] += net.weights(1)(k, u) * h[u];
                    s += std::exp(z2[k] / t);
                }
                double row = 0.0;
                for (std::size_t k = 0; k < 3; ++k) {
                    CHECK(p(i, k) == doctest::Approx(std::exp(z2[k] / t) / s).epsilon(1e-12));
                    row += p(i, k);
                }
                CHECK(row == doctest::Approx(1.0).epsilon(1e-12));
            }
        }
        // soft labels do not depend on the engine state: nothing is drawn
        CHECK(soft_labels(net, x, 50.0) == soft_labels(net, x, 50.0));
        // and differ from a training-mode (dropout sampled) pass, which the authors used
        ForwardState<double> st;
        default_engine mask(3);
        net.forward(x, st, Mode::train, &mask);
        CHECK(softmax(st.logits(), 50.0) != soft_labels(net, x, 50.0));
    }
}

TEST_CASE("soft labels of a ReLU-output teacher come from its pre-activation, not the clipped output")
{
    default_engine eng(5);
    DenseNetwork<double> net({3, 4});  // ReLU output
    net.initialize(Init::he(), eng);
    const Mat x = random_matrix(20, 3, eng);
    const Mat z = net.logits(x);
    bool negative = false;
    for (double v : z) negative = negative || v < 0.0;
    REQUIRE(negative);  // some logits are clipped by the ReLU output
    CHECK(soft_labels(net, x, 2.0) == softmax(z, 2.0));
    CHECK(soft_labels(net, x, 2.0) != softmax(net.outputs(x), 2.0));
}

TEST_CASE("distill() = train teacher at T on one-hot, then a fresh student at T on its test-mode soft labels")
{
    const auto data = blobs(60, 1);
    auto opt = small_distillation(4.0);
    opt.network.dropout = 0.2;  // soft labels must still be test mode
    const std::vector<std::size_t> sizes{6, 7, 3};

    default_engine eng(42);
    const auto r = distill(data, sizes, opt, eng);

    default_engine ref(42);
    DenseNetwork<double> teacher(sizes, opt.network);
    teacher.initialize(opt.init, ref);
    const auto tr = train(teacher, data.x, one_hot<double>(data.y, 3), SoftmaxCrossEntropy{4.0}, opt.teacher_sgd, ref);
    const Mat soft = softmax(teacher.logits(data.x), 4.0);
    DenseNetwork<double> student(sizes, opt.network);
    student.initialize(opt.init, ref);
    train(student, data.x, soft, SoftmaxCrossEntropy{4.0}, opt.student_sgd, ref);

    CHECK(same_weights(r.teacher, teacher));
    CHECK(same_weights(r.student, student));
    CHECK(r.teacher_report.batches == tr.batches);
    CHECK(r.temperature == 4.0);
    CHECK(r.student.options().output == Activation::linear);
    CHECK(eng() == ref());  // the same draws, in the same order

    const nlohmann::json j = r;
    CHECK(j["temperature"] == 4.0);
    CHECK(j["teacher"]["epochs_completed"] == 3);
    CHECK(j["student_sizes"] == nlohmann::json(sizes));
    CHECK(nlohmann::json(opt)["output"] == "linear");
}

TEST_CASE("distill_from at T = 1 equals ordinary cross-entropy training on the teacher's probabilities")
{
    const auto data = blobs(45, 2);
    default_engine eng(7);
    DenseNetwork<double> teacher({6, 5, 3});  // the authors' control: ReLU output, any loss
    teacher.initialize(Init::he(), eng);
    SgdOptions sgd;
    sgd.epochs = 5;
    sgd.batch_size = 10;
    train(teacher, data, MseLoss{}, sgd, eng);
    const DenseNetwork<double> before = teacher;

    auto opt = small_distillation(1.0, 4);
    opt.student_sizes = {6, 8, 3};
    default_engine a(9);
    const auto s = distill_from(teacher, data.x, opt, a);
    CHECK(same_weights(teacher, before));  // the teacher is untouched

    default_engine b(9);
    DenseNetwork<double> student({6, 8, 3}, distillation_network_options());
    student.initialize(opt.init, b);
    const Mat p = softmax(teacher.logits(data.x));
    const auto rep = train(student, data.x, p, SoftmaxCrossEntropy{}, opt.student_sgd, b);
    CHECK(same_weights(s.student, student));
    CHECK(s.report.final_epoch_loss == rep.final_epoch_loss);
    CHECK(s.student.layer_sizes() == std::vector<std::size_t>{6, 8, 3});
}

TEST_CASE("softmax cross-entropy at T = 50 with soft targets: gradients match finite differences")
{
    default_engine eng(4);
    NetworkOptions opt = distillation_network_options();
    opt.bias = true;
    DenseNetwork<double> net({4, 5, 3}, opt);
    net.initialize(Init::he(), eng);
    for (std::size_t l = 0; l < 2; ++l)
        for (auto& b : net.bias(l)) b = rng::uniform<double>(eng, -0.5, 0.5);
    const Mat x = random_matrix(5, 4, eng);
    const Mat y = softmax(random_matrix(5, 3, eng, -3.0, 3.0), 1.0);  // soft labels
    const SoftmaxCrossEntropy loss{50.0};
    auto value = [&](const DenseNetwork<double>& n) {
        ForwardState<double> st;
        n.forward(x, st);
        return static_cast<double>(loss(st.logits(), st.output(), y, n.options().output));
    };
    ForwardState<double> st;
    net.forward(x, st);
    Mat dz;
    loss(st.logits(), st.output(), y, net.options().output, &dz);
    std::vector<Mat> gw(2);
    std::vector<vector<double>> gb(2);
    GradientSink<double> sink{&gw, &gb, 1.0, 0.0};
    net.backward(st, dz, &sink, nullptr);
    const double h = 1e-5;
    double worst = 0.0, largest = 0.0;
    for (std::size_t l = 0; l < 2; ++l) {
        for (std::size_t i = 0; i < net.weights(l).size(); ++i) {
            double& w = net.weights(l).data()[i];
            const double old = w;
            w = old + h;
            const double up = value(net);
            w = old - h;
            const double down = value(net);
            w = old;
            worst = std::max(worst, std::abs((up - down) / (2 * h) - gw[l].data()[i]));
            largest = std::max(largest, std::abs(gw[l].data()[i]));
        }
        for (std::size_t i = 0; i < net.bias(l).size(); ++i) {
            double& b = net.bias(l).data()[i];
            const double old = b;
            b = old + h;
            const double up = value(net);
            b = old - h;
            const double down = value(net);
            b = old;
            worst = std::max(worst, std::abs((up - down) / (2 * h) - gb[l].data()[i]));
        }
    }
    CHECK(largest > 1e-4);  // the check is not vacuous
    CHECK(worst < 1e-9);
}

TEST_CASE("distillation at T = 50 learns Patches, the student is used at T = 1")
{
    default_engine eng(3);
    PatchesOptions po;
    po.copies = 25;
    const auto data = make_patches<double>(eng, po);
    DistillationOptions opt;  // T = 50, the authors' SGD, except:
    opt.teacher_sgd.epochs = 60;
    opt.teacher_sgd.batch_size = 10;
    opt.teacher_sgd.learning_rate = 0.5;
    opt.student_sgd = opt.teacher_sgd;
    const auto r = distill(data.train, {100, 4}, opt, eng);
    CHECK(accuracy(r.teacher, data.test) == 1.0);
    CHECK(accuracy(r.student, data.test) == 1.0);
    // at T = 1 the student's probabilities are sharper than its soft labels at T = 50
    const Mat p1 = softmax(r.student.logits(data.test.x), 1.0);
    const Mat p50 = softmax(r.student.logits(data.test.x), 50.0);
    for (std::size_t k = 0; k < 4; ++k) CHECK(p1(k, k) > p50(k, k));
}

TEST_CASE("distillation: bad input gets clear exceptions")
{
    const auto data = blobs(12, 1);
    default_engine eng(1);
    auto opt = small_distillation(50.0, 1);

    auto relu = opt;
    relu.network.output = Activation::relu;
    const std::string m = message_of<invalid_argument>([&] { distill(data, {6, 3}, relu, eng); });
    CHECK(test_support::contains(m, "distill: network.output must be linear"));
    CHECK(test_support::contains(m, "got relu"));

    for (double t : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
        auto bad = opt;
        bad.temperature = t;
        CHECK(test_support::contains(message_of<invalid_argument>([&] {
                                         distill(data, {6, 3}, bad, eng);
                                     }),
                                     "distill: temperature must be finite and > 0"));
    }
    DenseNetwork<double> net({6, 3}, distillation_network_options());
    CHECK(test_support::contains(message_of<invalid_argument>([&] { soft_labels(net, data.x, 0.0); }),
                                 "soft_labels: temperature must be finite and > 0, got 0"));
    CHECK(test_support::contains(message_of<invalid_argument>([&] {
                                     soft_labels(net, Mat::from_shape({0, 6}), 1.0);
                                 }),
                                 "soft_labels: no inputs"));
    CHECK(test_support::contains(message_of<invalid_argument>([&] {
                                     soft_labels(net, Mat::from_shape({2, 5}), 1.0);
                                 }),
                                 "soft_labels: input has shape (2, 5)"));
    CHECK(test_support::contains(message_of<invalid_argument>([&] {
                                     distill(data, {6, 4}, opt, eng);
                                 }),
                                 "has 3 classes but sizes ends with 4"));
    CHECK(test_support::contains(message_of<invalid_argument>([&] {
                                     distill(data, {5, 3}, opt, eng);
                                 }),
                                 "distill: x has shape (12, 6) but sizes starts with 5"));
    CHECK(test_support::contains(message_of<invalid_argument>([&] {
                                     distill(data.x, Mat::from_shape({11, 3}), {6, 3}, opt, eng);
                                 }),
                                 "distill: targets have shape (11, 3), expected (12, 3)"));
    CHECK(test_support::contains(message_of<invalid_argument>([&] {
                                     distill(Mat::from_shape({0, 6}), Mat::from_shape({0, 3}), {6, 3}, opt, eng);
                                 }),
                                 "distill: no training samples"));
    auto bad_sgd = opt;
    bad_sgd.student_sgd.learning_rate = -1;
    CHECK(test_support::contains(message_of<invalid_argument>([&] {
                                     distill(data, {6, 3}, bad_sgd, eng);
                                 }),
                                 "distill: student_sgd: SgdOptions: learning_rate"));
    auto bad_sizes = opt;
    bad_sizes.student_sizes = {6, 4};
    CHECK(test_support::contains(
        message_of<invalid_argument>([&] { distill_from(net, data.x, bad_sizes, eng); }),
        "distill_from: student_sizes must start with the teacher's 6 inputs and end with its 3 outputs"));
    DenseNetwork<double> nan_net({6, 3}, distillation_network_options());
    nan_net.weights(0)(0, 0) = std::nan("");
    CHECK_THROWS_AS(soft_labels(nan_net, data.x, 1.0), numeric_error);
}

// ---------------------------------------------------------------------------------------
// fine-tuning

namespace {

// a generator that records what it was given and returns recognisable rows
struct Recording {
    std::vector<Mat>* seen_x;
    std::vector<label_vector>* seen_y;
    template <class Engine>
    Mat operator()(const Mat& x, const label_vector& y, Engine&)
    {
        seen_x->push_back(x);
        seen_y->push_back(y);
        Mat out = Mat::from_shape({x.shape()[0], x.shape()[1]});
        for (std::size_t i = 0; i < out.shape()[0]; ++i)
            for (std::size_t j = 0; j < out.shape()[1]; ++j) out(i, j) = 0.5 + 0.01 * static_cast<double>(i);
        return out;
    }
};

DenseNetwork<double> trained_control(const Dataset<double>& data, std::uint64_t seed)
{
    default_engine eng(seed);
    DenseNetwork<double> net({6, 8, 3});
    net.initialize(Init::he(), eng);
    SgdOptions sgd;
    sgd.epochs = 10;
    sgd.batch_size = 10;
    train(net, data, MseLoss{}, sgd, eng);
    return net;
}

}  // namespace

TEST_CASE("fine-tuning replaces exactly the requested rows, in order, other rows and labels are kept")
{
    const auto data = blobs(30, 3);
    std::vector<Mat> xs;
    std::vector<label_vector> ys;
    FinetuneOptions opt;
    opt.rows = {7, 2, 29};
    default_engine eng(1);
    std::vector<std::size_t> used;
    const Mat mixed = finetune_inputs(data.x, data.y, Recording{&xs, &ys}, opt, eng, &used);
    REQUIRE(xs.size() == 1);  // called once
    CHECK(used == opt.rows);
    for (std::size_t k = 0; k < 3; ++k) {
        for (std::size_t j = 0; j < 6; ++j) {
            CHECK(xs[0](k, j) == data.x(opt.rows[k], j));
            CHECK(mixed(opt.rows[k], j) == 0.5 + 0.01 * static_cast<double>(k));
        }
        CHECK(ys[0](k) == data.y(opt.rows[k]));
    }
    for (std::size_t i = 0; i < 30; ++i) {
        if (i == 7 || i == 2 || i == 29) continue;
        for (std::size_t j = 0; j < 6; ++j) CHECK(mixed(i, j) == data.x(i, j));
    }

    // default: the first `replace` rows, clamped to the set size
    FinetuneOptions first;
    first.replace = 10;
    finetune_inputs(data.x, data.y, Recording{&xs, &ys}, first, eng, &used);
    CHECK(used == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(xs.back() == xt::eval(xt::view(data.x, xt::range(0, 10), xt::all())));
    finetune_inputs(data.x, data.y, Recording{&xs, &ys}, FinetuneOptions{}, eng, &used);  // 5000 > 30
    CHECK(used.size() == 30);
    FinetuneOptions none;
    none.replace = 0;
    const std::size_t calls = xs.size();
    CHECK(finetune_inputs(data.x, data.y, Recording{&xs, &ys}, none, eng) == data.x);
    CHECK(xs.size() == calls);  // nothing to replace: the generator is not called

    // fine-tuning = train() on the mixture with the ORIGINAL one-hot labels, lr 0.05
    const auto control = trained_control(data, 5);
    default_engine a(8), b(8);
    const auto tuned = finetune(control, data, MseLoss{}, Recording{&xs, &ys}, opt, a);
    DenseNetwork<double> ref = control;
    CHECK(finetune_sgd_options().learning_rate == 0.05);
    CHECK(finetune_sgd_options().momentum == 0.5);
    train(ref, mixed, one_hot<double>(data.y, 3), MseLoss{}, finetune_sgd_options(), b);
    CHECK(same_weights(tuned.network, ref));
    CHECK(tuned.report.rows == opt.rows);
    CHECK(tuned.report.train.epochs_completed == 2);
    CHECK(nlohmann::json(tuned.report)["replaced"] == 3);
}

TEST_CASE("fine-tuning is reproducible with the same seed and leaves the caller's network untouched")
{
    const auto data = blobs(60, 4);
    const auto control = trained_control(data, 2);
    const DenseNetwork<double> copy = control;
    FinetuneOptions opt;
    opt.replace = 20;
    opt.sgd.batch_size = 10;
    auto gen = gaussian_noise_generator(0.2);
    default_engine e1(3), e2(3), e3(4);
    const auto a = finetune(control, data, MseLoss{}, gen, opt, e1);
    const auto b = finetune(control, data, MseLoss{}, gen, opt, e2);
    const auto c = finetune(control, data, MseLoss{}, gen, opt, e3);
    CHECK(same_weights(control, copy));
    CHECK(same_weights(a.network, b.network));
    CHECK(!same_weights(a.network, c.network));
    CHECK(!same_weights(a.network, control));

    // in place: the same as the copying variant
    DenseNetwork<double> inplace = control;
    default_engine e4(3);
    finetune_in_place(inplace, data, MseLoss{}, gen, opt, e4);
    CHECK(same_weights(inplace, a.network));
}

TEST_CASE("FGSM random-step generator: clip(x + eps * sign(grad)), eps uniform in 0 to 0.1 per pixel or per image")
{
    const auto data = blobs(12, 5);
    const auto net = trained_control(data, 1);
    const Mat g = detail::loss_input_gradient(net, data.x, data.y, AttackLoss::network);
    for (bool per_pixel : {true, false}) {
        FgsmRandomStepOptions o;
        o.per_pixel = per_pixel;
        auto gen = fgsm_random_step_generator(net, o);
        default_engine eng(17), ref(17);
        const Mat out = gen(data.x, data.y, eng);
        std::size_t moved = 0;
        for (std::size_t i = 0; i < 12; ++i) {
            double row_eps = per_pixel ? 0.0 : rng::uniform<double>(ref, 0.0, 0.1);
            for (std::size_t j = 0; j < 6; ++j) {
                const double eps = per_pixel ? rng::uniform<double>(ref, 0.0, 0.1) : row_eps;
                const double s = g(i, j) > 0 ? 1.0 : (g(i, j) < 0 ? -1.0 : 0.0);
                const double expect = std::min(1.0, std::max(0.0, data.x(i, j) + eps * s));
                CHECK(out(i, j) == expect);
                CHECK(std::abs(out(i, j) - data.x(i, j)) < 0.1);
                moved += out(i, j) != data.x(i, j) ? 1 : 0;
            }
        }
        CHECK(moved > 30);
        CHECK(eng() == ref());  // exactly one draw per pixel (or per image)
    }
    FgsmRandomStepOptions bad;
    bad.max_epsilon = -0.1;
    CHECK(test_support::contains(message_of<invalid_argument>([&] { fgsm_random_step_generator(net, bad); }),
                                 "max_epsilon must be finite and >= 0"));
    auto gen = fgsm_random_step_generator(net);
    default_engine eng(1);
    Mat outside = data.x;
    outside(0, 0) = 2.0;
    CHECK(test_support::contains(message_of<invalid_argument>([&] { gen(outside, data.y, eng); }),
                                 "fgsm_random_step: input 0, element 0 = 2"));
}

TEST_CASE("attack generator: adversarials where the attack succeeded, the clean image elsewhere")
{
    const auto data = blobs(15, 6);
    const auto net = trained_control(data, 3);
    default_engine eng(1);
    // a real attack
    auto gen = attack_generator([&](const Mat& x, const label_vector& y) { return fgsm(net, x, y); });
    const Mat out = gen(data.x, data.y, eng);
    const auto direct = fgsm(net, data.x, data.y);
    CHECK(out == direct.adversarial);
    CHECK(direct.successes() > 0);

    // a fake attack that leaves garbage in a failed row; the engine variant is called with the engine
    bool got_engine = false;
    auto fake = attack_generator([&](const Mat& x, const label_vector& y, default_engine& e) {
        got_engine = &e == &eng;
        AttackResult<double> r;
        r.adversarial = x + 0.25;
        r.samples.resize(y.size());
        for (std::size_t i = 0; i < y.size(); ++i) r.samples[i].success = i % 2 == 0;
        return r;
    });
    const Mat f = fake(data.x, data.y, eng);
    CHECK(got_engine);
    for (std::size_t i = 0; i < 15; ++i)
        for (std::size_t j = 0; j < 6; ++j) CHECK(f(i, j) == (i % 2 == 0 ? data.x(i, j) + 0.25 : data.x(i, j)));

    auto wrong = attack_generator([&](const Mat& x, const label_vector&) {
        AttackResult<double> r;
        r.adversarial = Mat::from_shape({x.shape()[0] - 1, x.shape()[1]});
        return r;
    });
    CHECK(test_support::contains(message_of<invalid_argument>([&] { wrong(data.x, data.y, eng); }),
                                 "attack_generator: the attack returned (14, 6) adversarials"));
}

TEST_CASE("noise and blur generators equal the distortions with the same engine")
{
    default_engine eng(2);
    const Mat x = random_matrix(5, 16, eng);
    const label_vector y = label_vector::from_shape({5});
    default_engine a(9), b(9);
    CHECK(gaussian_noise_generator(0.3, NoiseLevel::variance)(x, y, a) ==
          gaussian_noise(x, 0.3, NoiseLevel::variance, b));
    CHECK(gaussian_blur_generator(4, 4, 1.0)(x, y, a) == gaussian_blur(x, 4, 4, 1.0));
    CHECK_THROWS_AS(gaussian_noise_generator(-1.0), invalid_argument);
    CHECK_THROWS_AS(gaussian_blur_generator(4, 4, -1.0), invalid_argument);
    CHECK(test_support::contains(message_of<invalid_argument>([&] { gaussian_blur_generator(0, 4, 1.0); }),
                                 "gaussian_blur_generator: rows and cols must be > 0"));
    CHECK(test_support::contains(message_of<invalid_argument>([&] { gaussian_blur_generator(3, 3, 1.0)(x, y, a); }),
                                 "gaussian_blur"));
}

TEST_CASE("fine-tuning: bad input gets clear exceptions")
{
    const auto data = blobs(12, 7);
    auto net = trained_control(data, 1);
    default_engine eng(1);
    std::vector<Mat> xs;
    std::vector<label_vector> ys;
    FinetuneOptions opt;
    opt.rows = {3, 12};
    CHECK(message_of<invalid_argument>([&] {
              finetune(net, data, MseLoss{}, Recording{&xs, &ys}, opt, eng);
          }) == "finetune: rows[1] = 12 is out of range (training set has 12 rows)");
    opt.rows = {3, 4, 3};
    CHECK(message_of<invalid_argument>([&] {
              finetune(net, data, MseLoss{}, Recording{&xs, &ys}, opt, eng);
          }) == "finetune: rows[2] = 3 is repeated");
    opt.rows = {};
    auto short_gen = [](const Mat& x, const label_vector&, default_engine&) {
        return Mat::from_shape({x.shape()[0], 2});
    };
    CHECK(message_of<invalid_argument>([&] { finetune(net, data, MseLoss{}, short_gen, opt, eng); }) ==
          "finetune: the generator returned shape (12, 2), expected (12, 6)");
    auto nan_gen = [](const Mat& x, const label_vector&, default_engine&) {
        Mat o = x;
        o(1, 2) = std::nan("");
        return o;
    };
    CHECK(message_of<numeric_error>([&] { finetune(net, data, MseLoss{}, nan_gen, opt, eng); }) ==
          "finetune: the generator returned a non-finite value in row 1, column 2");
    CHECK(message_of<invalid_argument>([&] {
              finetune(net, data.x, label_vector(xt::zeros<std::size_t>({11})), MseLoss{}, short_gen, opt, eng);
          }) == "finetune: x has 12 rows but y has 11 labels");
    label_vector bad_y = data.y;
    bad_y(4) = 3;
    CHECK(message_of<invalid_argument>([&] { finetune(net, data.x, bad_y, MseLoss{}, short_gen, opt, eng); }) ==
          "finetune: label y(4) = 3 is not below the network's 3 outputs");
    CHECK(message_of<invalid_argument>([&] {
              finetune(net, Mat::from_shape({0, 6}), label_vector::from_shape({0}), MseLoss{}, short_gen, opt, eng);
          }) == "finetune: no training samples (x has 0 rows)");
    CHECK(test_support::contains(message_of<invalid_argument>([&] {
                                     finetune(net, Mat::from_shape({2, 5}), data.y, MseLoss{}, short_gen, opt, eng);
                                 }),
                                 "finetune: input has shape (2, 5)"));
    DenseNetwork<double> four({6, 4});
    CHECK(test_support::contains(
        message_of<invalid_argument>([&] { finetune(four, data, MseLoss{}, short_gen, opt, eng); }),
        "finetune: data set 'blobs' has 3 classes, the network has 4 outputs"));
    opt.sgd.learning_rate = 0.0;
    CHECK_THROWS_AS(finetune(net, data, MseLoss{}, short_gen, opt, eng), invalid_argument);
}
