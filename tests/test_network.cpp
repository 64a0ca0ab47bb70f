// DenseNetwork, losses and SGD: finite-difference gradient checks (double) for every
// loss / output activation / bias / dropout combination, input gradients and Jacobians,
// plus analytic oracles for the authors' conventions.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <sleepnet/nn/dense_network.hpp>
#include <sleepnet/nn/loss.hpp>
#include <sleepnet/nn/sgd.hpp>

using namespace sleepnet;

namespace {

using Mat = matrix<double>;

Mat random_matrix(std::size_t r, std::size_t c, default_engine& eng, double lo = 0.0, double hi = 1.0)
{
    Mat m = Mat::from_shape({r, c});
    for (auto& v : m) {
        v = rng::uniform<double>(eng, lo, hi);
    }
    return m;
}

Mat random_targets(std::size_t r, std::size_t c, default_engine& eng, bool soft)
{
    Mat y = Mat::from_shape({r, c});
    y.fill(0.0);
    for (std::size_t i = 0; i < r; ++i) {
        if (soft) {
            double s = 0.0;
            for (std::size_t k = 0; k < c; ++k) {
                y(i, k) = rng::uniform01<double>(eng) + 0.1;
                s += y(i, k);
            }
            for (std::size_t k = 0; k < c; ++k) {
                y(i, k) /= s;
            }
        } else {
            y(i, rng::below(eng, c)) = 1.0;
        }
    }
    return y;
}

struct Case {
    Activation output;
    bool bias;
    double dropout;
    DropoutMode mode;
    bool train;
    int loss;  // 0 = exact mse, 1 = softmax CE T=1, 2 = softmax CE T=3
};

std::string describe(const Case& c)
{
    return "output=" + to_string(c.output) + " bias=" + std::to_string(c.bias) +
           " dropout=" + std::to_string(c.dropout) + " mode=" + to_string(c.mode) +
           " train=" + std::to_string(c.train) + " loss=" + std::to_string(c.loss);
}

template <class F>
double loss_of(const DenseNetwork<double>& net, const Mat& x, const Mat& y, const Case& c, std::uint64_t mask_seed,
               F&& loss)
{
    ForwardState<double> st;
    default_engine eng(mask_seed);
    net.forward(x, st, c.train ? Mode::train : Mode::test, &eng);
    return loss(st.logits(), st.output(), y, net.options().output, nullptr);
}

template <class Loss>
void check_gradients(const Case& c, const Loss& loss)
{
    CAPTURE(describe(c));
    default_engine eng(42);
    NetworkOptions opt;
    opt.output = c.output;
    opt.bias = c.bias;
    opt.dropout = c.dropout;
    opt.dropout_mode = c.mode;
    DenseNetwork<double> net({5, 7, 6, 4}, opt);
    net.initialize(Init::he(), eng);
    if (c.bias) {
        for (std::size_t l = 0; l < net.num_layers(); ++l) {
            for (auto& b : net.bias(l)) {
                b = rng::uniform<double>(eng, -0.3, 0.3);
            }
        }
    }
    const Mat x = random_matrix(3, 5, eng);
    const Mat y = random_targets(3, 4, eng, c.loss != 0);
    const std::uint64_t mask_seed = 7;

    ForwardState<double> st;
    default_engine mask_eng(mask_seed);
    net.forward(x, st, c.train ? Mode::train : Mode::test, &mask_eng);
    Mat dz;
    loss(st.logits(), st.output(), y, net.options().output, &dz);
    std::vector<Mat> gw(net.num_layers());
    std::vector<vector<double>> gb(net.num_layers());
    GradientSink<double> sink{&gw, c.bias ? &gb : nullptr, 1.0, 0.0};
    Mat dx;
    net.backward(st, dz, &sink, &dx);

    const double h = 1e-6;
    auto numeric = [&](double& param) {
        const double old = param;
        param = old + h;
        const double up = loss_of(net, x, y, c, mask_seed, loss);
        param = old - h;
        const double down = loss_of(net, x, y, c, mask_seed, loss);
        param = old;
        return (up - down) / (2 * h);
    };
    double worst = 0.0;
    for (std::size_t l = 0; l < net.num_layers(); ++l) {
        auto& w = net.weights(l);
        for (std::size_t i = 0; i < w.size(); ++i) {
            const double num = numeric(w.data()[i]);
            worst = std::max(worst, std::abs(num - gw[l].data()[i]));
        }
        if (c.bias) {
            auto& b = net.bias(l);
            for (std::size_t i = 0; i < b.size(); ++i) {
                const double num = numeric(b.data()[i]);
                worst = std::max(worst, std::abs(num - gb[l].data()[i]));
            }
        }
    }
    CHECK(worst < 1e-7);

    // input gradient
    Mat xp = x;
    double worst_x = 0.0;
    for (std::size_t i = 0; i < xp.size(); ++i) {
        const double old = xp.data()[i];
        xp.data()[i] = old + h;
        const double up = loss_of(net, xp, y, c, mask_seed, loss);
        xp.data()[i] = old - h;
        const double down = loss_of(net, xp, y, c, mask_seed, loss);
        xp.data()[i] = old;
        worst_x = std::max(worst_x, std::abs((up - down) / (2 * h) - dx.data()[i]));
    }
    CHECK(worst_x < 1e-7);
}

}  // namespace

TEST_CASE("finite-difference gradients: every loss, output activation, bias and dropout combination")
{
    const MseLoss mse{true};
    const SoftmaxCrossEntropy ce1{1.0};
    const SoftmaxCrossEntropy ce3{3.0};
    for (Activation out : {Activation::relu, Activation::linear}) {
        for (bool bias : {false, true}) {
            for (double dropout : {0.0, 0.2}) {
                for (DropoutMode mode : {DropoutMode::scale_at_test, DropoutMode::inverted}) {
                    for (bool train : {false, true}) {
                        if (dropout == 0.0 && (mode == DropoutMode::inverted || train)) {
                            continue;
                        }
                        check_gradients(Case{out, bias, dropout, mode, train, 0}, mse);
                        check_gradients(Case{out, bias, dropout, mode, train, 1}, ce1);
                        check_gradients(Case{out, bias, dropout, mode, train, 2}, ce3);
                    }
                }
            }
        }
    }
}

TEST_CASE("authors' MSE delta is (a - y) / m without the output derivative")
{
    default_engine eng(3);
    DenseNetwork<double> net({4, 6, 3});
    net.initialize(Init::he(), eng);
    const Mat x = random_matrix(5, 4, eng);
    const Mat y = random_targets(5, 3, eng, false);
    ForwardState<double> st;
    net.forward(x, st);
    Mat dz;
    const double value = MseLoss{}(st.logits(), st.output(), y, Activation::relu, &dz);
    double expect = 0.0;
    for (std::size_t i = 0; i < 5; ++i) {
        for (std::size_t k = 0; k < 3; ++k) {
            const double e = st.output()(i, k) - y(i, k);
            expect += e * e;
            CHECK(dz(i, k) == doctest::Approx(e / 5.0).epsilon(1e-14));
        }
    }
    CHECK(value == doctest::Approx(0.5 * expect / 5.0).epsilon(1e-14));
    // a negative pre-activation still passes the error through (no ReLU derivative)
    bool found_dead = false;
    for (std::size_t i = 0; i < st.logits().size(); ++i) {
        if (st.logits().data()[i] < 0) {
            found_dead = true;
            CHECK(dz.data()[i] == doctest::Approx(-y.data()[i] / 5.0));
        }
    }
    (void)found_dead;
}

TEST_CASE("softmax cross-entropy oracles")
{
    Mat z = Mat::from_shape({2, 4});
    z.fill(0.3);
    Mat y = Mat::from_shape({2, 4});
    y.fill(0.0);
    y(0, 1) = 1.0;
    y(1, 3) = 1.0;
    Mat dz;
    const double v = SoftmaxCrossEntropy{2.0}(z, z, y, Activation::linear, &dz);
    CHECK(v == doctest::Approx(std::log(4.0)));
    CHECK(dz(0, 1) == doctest::Approx((0.25 - 1.0) / (2.0 * 2.0)));
    CHECK(dz(0, 0) == doctest::Approx(0.25 / 4.0));
    const Mat p = softmax(z, 5.0);
    CHECK(p(1, 2) == doctest::Approx(0.25));
    // large logits stay finite
    z(0, 0) = 1e4;
    CHECK(std::isfinite(SoftmaxCrossEntropy{}(z, z, y, Activation::linear, &dz)));
    CHECK_THROWS_AS(SoftmaxCrossEntropy{0.0}(z, z, y, Activation::linear, &dz), invalid_argument);
}

TEST_CASE("Jacobian matches finite differences of the logits, and the linear oracle")
{
    for (bool bias : {false, true}) {
        default_engine eng(11);
        NetworkOptions opt;
        opt.bias = bias;
        opt.dropout = 0.2;
        DenseNetwork<double> net({6, 8, 5}, opt);
        net.initialize(Init::he(), eng);
        const Mat x = random_matrix(4, 6, eng);
        const auto jac = net.jacobian(x);
        REQUIRE(jac.shape()[0] == 4);
        REQUIRE(jac.shape()[1] == 5);
        REQUIRE(jac.shape()[2] == 6);
        const double h = 1e-6;
        double worst = 0.0;
        for (std::size_t j = 0; j < 6; ++j) {
            Mat up = x, down = x;
            for (std::size_t i = 0; i < 4; ++i) {
                up(i, j) += h;
                down(i, j) -= h;
            }
            const Mat zu = net.logits(up);
            const Mat zd = net.logits(down);
            for (std::size_t i = 0; i < 4; ++i) {
                for (std::size_t k = 0; k < 5; ++k) {
                    worst = std::max(worst, std::abs((zu(i, k) - zd(i, k)) / (2 * h) - jac(i, k, j)));
                }
            }
        }
        CHECK(worst < 1e-7);
    }
    // single linear layer: the Jacobian is W for every sample
    DenseNetwork<double> lin({3, 2}, NetworkOptions{Activation::relu, Activation::linear});
    default_engine eng(1);
    lin.initialize(Init::uniform(1.0), eng);
    const auto jac = lin.jacobian(random_matrix(2, 3, eng));
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t k = 0; k < 2; ++k) {
            for (std::size_t j = 0; j < 3; ++j) {
                CHECK(jac(i, k, j) == lin.weights(0)(k, j));
            }
        }
    }
}

TEST_CASE("forward: analytic two-layer example with the authors' test-time dropout scaling")
{
    NetworkOptions opt;
    opt.dropout = 0.2;  // test mode multiplies hidden activations by 0.8
    DenseNetwork<double> net({2, 2, 2}, opt);
    net.set_weights(0, Mat{{1.0, -1.0}, {0.5, 2.0}});
    net.set_weights(1, Mat{{1.0, 1.0}, {-1.0, 3.0}});
    const Mat x{{1.0, 2.0}};
    // hidden z = [-1, 4.5] -> relu [0, 4.5] -> *0.8 = [0, 3.6]; out z = [3.6, 10.8]
    const Mat z = net.logits(x);
    CHECK(z(0, 0) == doctest::Approx(3.6));
    CHECK(z(0, 1) == doctest::Approx(10.8));
    CHECK(net.predict(x)(0) == 1);
    const auto acts = net.activations(x);
    CHECK(acts[0](0, 0) == 0.0);
    CHECK(acts[0](0, 1) == doctest::Approx(3.6));

    NetworkOptions inv = opt;
    inv.dropout_mode = DropoutMode::inverted;
    DenseNetwork<double> net2({2, 2, 2}, inv);
    net2.set_weights(0, net.weights(0));
    net2.set_weights(1, net.weights(1));
    CHECK(net2.logits(x)(0, 1) == doctest::Approx(13.5));
}

TEST_CASE("predict: argmax of the pre-activation, first index on ties, ReLU output does not hide order")
{
    DenseNetwork<double> net({2, 3}, NetworkOptions{Activation::relu, Activation::relu});
    net.set_weights(0, Mat{{1.0, 0.0}, {1.0, 0.0}, {-1.0, 0.0}});
    const auto p = net.predict(Mat{{1.0, 0.0}, {-1.0, 0.0}});
    CHECK(p(0) == 0);  // tie between 0 and 1 -> first index
    CHECK(p(1) == 2);  // all-negative pre-activations: argmax of z, not of relu(z)
}

TEST_CASE("training-mode dropout: drop rate and the two scaling conventions")
{
    for (DropoutMode mode : {DropoutMode::scale_at_test, DropoutMode::inverted}) {
        NetworkOptions opt;
        opt.dropout = 0.3;
        opt.dropout_mode = mode;
        opt.output = Activation::linear;
        DenseNetwork<double> net({1, 2000, 1}, opt);
        net.weights(0).fill(1.0);
        net.weights(1).fill(1.0);
        Mat x{{1.0}};
        ForwardState<double> st;
        default_engine eng(5);
        net.forward(x, st, Mode::train, &eng);
        std::size_t dropped = 0;
        for (double v : st.a[0]) {
            dropped += v == 0.0 ? 1 : 0;
            CHECK((v == 0.0 || v == doctest::Approx(mode == DropoutMode::inverted ? 1.0 / 0.7 : 1.0)));
        }
        CHECK(static_cast<double>(dropped) / 2000.0 == doctest::Approx(0.3).epsilon(0.15));
        // mean training output ~ test output
        const double test_out = net.logits(x)(0, 0);
        CHECK(test_out == doctest::Approx(2000.0 * (mode == DropoutMode::inverted ? 1.0 : 0.7)));
    }
    DenseNetwork<double> net({2, 2, 2}, NetworkOptions{Activation::relu, Activation::relu, false, 0.5});
    ForwardState<double> st;
    CHECK_THROWS_AS(net.forward(Mat{{1.0, 1.0}}, st, Mode::train, static_cast<default_engine*>(nullptr)),
                    invalid_argument);
}

TEST_CASE("SGD with momentum follows v = m v + lr g, W -= v")
{
    // one linear layer, MSE exact: g = (x w^T - y)^T x / m
    DenseNetwork<double> net({2, 1}, NetworkOptions{Activation::relu, Activation::linear});
    net.set_weights(0, Mat{{0.5, -0.25}});
    SgdOptions o;
    o.learning_rate = 0.1;
    o.momentum = 0.5;
    Sgd<double> sgd(net, o);
    const Mat x{{1.0, 2.0}};
    const Mat y{{1.0}};
    double w0 = 0.5, w1 = -0.25, v0 = 0.0, v1 = 0.0;
    for (int step = 0; step < 3; ++step) {
        ForwardState<double> st;
        net.forward(x, st);
        Mat dz;
        MseLoss{true}(st.logits(), st.output(), y, Activation::linear, &dz);
        sgd.step(net, st, dz);
        const double e = w0 * 1.0 + w1 * 2.0 - 1.0;
        v0 = 0.5 * v0 + 0.1 * e * 1.0;
        v1 = 0.5 * v1 + 0.1 * e * 2.0;
        w0 -= v0;
        w1 -= v1;
        CHECK(net.weights(0)(0, 0) == doctest::Approx(w0).epsilon(1e-14));
        CHECK(net.weights(0)(0, 1) == doctest::Approx(w1).epsilon(1e-14));
    }
    SgdOptions wd = o;
    wd.weight_decay = 0.01;
    DenseNetwork<double> net2({2, 1}, NetworkOptions{Activation::relu, Activation::linear});
    net2.set_weights(0, Mat{{0.5, -0.25}});
    Sgd<double> sgd2(net2, wd);
    ForwardState<double> st;
    net2.forward(x, st);
    Mat dz;
    MseLoss{true}(st.logits(), st.output(), y, Activation::linear, &dz);
    sgd2.step(net2, st, dz);
    const double e = 0.5 - 0.5 - 1.0;
    CHECK(net2.weights(0)(0, 0) == doctest::Approx(0.5 - 0.1 * (e + 0.01 * 0.5)));
}

TEST_CASE("float and double networks agree")
{
    default_engine eng(9);
    DenseNetwork<double> nd({10, 20, 5});
    nd.initialize(Init::he(), eng);
    DenseNetwork<float> nf({10, 20, 5});
    for (std::size_t l = 0; l < 2; ++l) {
        nf.set_weights(l, xt::cast<float>(nd.weights(l)));
    }
    const Mat x = random_matrix(7, 10, eng);
    const matrix<float> xf = xt::cast<float>(x);
    const Mat zd = nd.logits(x);
    const matrix<float> zf = nf.logits(xf);
    for (std::size_t i = 0; i < zd.size(); ++i) {
        CHECK(zf.data()[i] == doctest::Approx(zd.data()[i]).epsilon(1e-4));
    }
}

TEST_CASE("chunked whole-set passes equal one batch pass")
{
    default_engine eng(2);
    DenseNetwork<double> net({3, 4, 2});
    net.initialize(Init::he(), eng);
    const Mat x = random_matrix(2500, 3, eng);
    const Mat all = net.logits(x);
    ForwardState<double> st;
    const Mat part = xt::view(x, xt::range(1800, 1900), xt::all());
    net.forward(part, st);
    for (std::size_t i = 0; i < 100; ++i) {
        CHECK(all(1800 + i, 1) == doctest::Approx(st.logits()(i, 1)).epsilon(1e-12));
    }
}

TEST_CASE("bad input gets clear exceptions")
{
    CHECK_THROWS_AS(DenseNetwork<float>({784}), invalid_argument);
    CHECK_THROWS_AS(DenseNetwork<float>({784, 0, 10}), invalid_argument);
    CHECK_THROWS_AS(DenseNetwork<float>({4, 2}, NetworkOptions{Activation::relu, Activation::relu, false, 1.0}),
                    invalid_argument);
    DenseNetwork<float> net({4, 3, 2});
    CHECK_THROWS_WITH_AS(net.logits(matrix<float>::from_shape({2, 5})), doctest::Contains("expects 4 columns"),
                         invalid_argument);
    CHECK_THROWS_AS(net.set_weights(0, matrix<float>::from_shape({4, 3})), invalid_argument);
    CHECK_THROWS_AS(net.set_weights(5, matrix<float>::from_shape({3, 4})), invalid_argument);
    CHECK_THROWS_AS(net.bias(0), invalid_argument);
    net.weights(1)(0, 0) = NAN;
    CHECK_THROWS_AS(net.validate(), numeric_error);
    SgdOptions bad;
    bad.momentum = 1.0;
    CHECK_THROWS_AS(bad.validate(), invalid_argument);
    bad = SgdOptions{};
    bad.learning_rate = -1;
    CHECK_THROWS_AS(Sgd<float>(net, bad), invalid_argument);
}

TEST_CASE("deterministic passes: a sample's logits and gradients do not depend on its batch or the thread count")
{
    for (bool bias : {false, true}) {
        default_engine eng(21);
        NetworkOptions opt;
        opt.bias = bias;
        opt.dropout = 0.2;
        DenseNetwork<float> net({70, 45, 33, 7}, opt);
        net.initialize(Init::he(), eng);
        if (bias) {
            for (std::size_t l = 0; l < 3; ++l)
                for (auto& b : net.bias(l)) b = rng::uniform<float>(eng, -0.2f, 0.2f);
        }
        // 700 rows: the whole-batch products take the packed-panel path of exact_gemm
        // (long rows of B), the slices do not
        matrix<float> x = matrix<float>::from_shape({700, 70});
        for (auto& v : x) v = rng::uniform01<float>(eng);
        net.set_inference_threads(1);
        const matrix<float> all = net.logits(x);
        matrix<float> dz = matrix<float>::from_shape({700, 7});
        for (auto& v : dz) v = rng::uniform<float>(eng, -1.0f, 1.0f);
        const matrix<float> g_all = net.input_gradient(x, dz);
        for (unsigned threads : {1u, 2u, 3u}) {
            net.set_inference_threads(threads);
            CHECK(net.logits(x) == all);
            for (std::size_t start : {0u, 5u, 64u, 150u, 640u}) {
                for (std::size_t len : {1u, 2u, 31u, 33u, 53u}) {
                    if (start + len > 700) continue;
                    const matrix<float> part = xt::view(x, xt::range(start, start + len), xt::all());
                    const matrix<float> z = net.logits(part);
                    const matrix<float> dzp = xt::view(dz, xt::range(start, start + len), xt::all());
                    const matrix<float> g = net.input_gradient(part, dzp);
                    CAPTURE(start);
                    CAPTURE(len);
                    CHECK(z == xt::view(all, xt::range(start, start + len), xt::all()));
                    CHECK(g == xt::view(g_all, xt::range(start, start + len), xt::all()));
                }
            }
        }
        // and they agree with the BLAS training path to rounding
        ForwardState<float> st;
        net.forward(x, st);
        CHECK(xt::amax(xt::abs(st.logits() - all))() < 1e-4f * (1.0f + xt::amax(xt::abs(all))()));
    }
}
