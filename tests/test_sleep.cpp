// Sleep: the event-driven kernel against the plain reference loop (bit for bit), analytic
// integrate-and-fire and STDP cases, normalization chains, parameters and presets.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include <sleepnet/snn/reference.hpp>
#include <sleepnet/snn/sleep.hpp>
#include <sleepnet/snn/sleep_json.hpp>

using namespace sleepnet;

namespace {

template <class T>
DenseNetwork<T> random_net(const std::vector<std::size_t>& sizes, std::uint64_t seed, double lo, double hi)
{
    DenseNetwork<T> net(sizes);
    default_engine eng(seed);
    for (std::size_t l = 0; l < net.num_layers(); ++l) {
        for (auto& w : net.weights(l)) w = static_cast<T>(rng::uniform<double>(eng, lo, hi));
    }
    return net;
}

template <class T>
matrix<T> random_images(std::size_t n, std::size_t d, std::uint64_t seed, double zero_fraction)
{
    default_engine eng(seed);
    matrix<T> x = matrix<T>::from_shape({n, d});
    for (auto& v : x) v = rng::uniform01<double>(eng) < zero_fraction ? T(0) : rng::uniform01<T>(eng);
    return x;
}

template <class T>
bool bitwise_equal(const matrix<T>& a, const matrix<T>& b)
{
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T, class Rule>
void compare_kernel_with_reference(const Rule& rule, double threshold_scale, std::uint64_t seed)
{
    CAPTURE(seed);
    CAPTURE(threshold_scale);
    const std::vector<std::size_t> sizes{40, 30, 20, 6};
    auto fast = random_net<T>(sizes, seed, -0.05, 0.08);
    auto ref = fast;
    const auto x = random_images<T>(25, 40, seed + 1, 0.5);
    const PoissonOptions po{200.0, 0.001, 2.0};
    std::vector<IfLayerParams> params{
        {1.5, 0.6 * threshold_scale}, {2.0, 0.4 * threshold_scale}, {1.0, 0.3 * threshold_scale}};
    const std::size_t steps = 400;

    PoissonSequence<T> src_fast(x, po), src_ref(x, po);
    default_engine e1(seed), e2(seed);
    const auto report = sleep_weights(weight_views(fast, 3), params, 0.999, steps, src_fast, rule, e1);
    const auto counts = reference::sleep_loop(weight_views(ref, 3), params, 0.999, steps, src_ref, rule, e2);
    for (std::size_t l = 0; l < 3; ++l) {
        CAPTURE(l);
        CHECK(report.spikes[l] == counts.spikes[l]);
        CHECK(bitwise_equal(fast.weights(l), ref.weights(l)));
    }
    // the comparison must not be vacuous: something spiked and changed
    CHECK(report.spikes[0] > 0);
    CHECK(report.weights_changed[0] > 0);
}

}  // namespace

TEST_CASE("event-driven kernel equals the reference loop bit for bit")
{
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        for (double activity : {0.3, 1.0, 3.0}) {  // dense .. sparse spiking
            compare_kernel_with_reference<float>(AuthorsStdp{0.06, 0.07}, activity, seed);
            compare_kernel_with_reference<double>(AuthorsStdp{0.06, 0.07}, activity, seed);
            compare_kernel_with_reference<float>(PaperStdp{0.003, 0.001}, activity, seed);
            compare_kernel_with_reference<double>(PaperStdp{0.003, 0.001}, activity, seed);
        }
    }
}

TEST_CASE("replaying a recorded raster reproduces the Poisson run exactly")
{
    auto a = random_net<double>({20, 10, 4}, 5, -0.05, 0.1);
    auto b = a;
    const auto x = random_images<double>(8, 20, 6, 0.3);
    PoissonSequence<double> src(x, PoissonOptions{300.0, 0.001, 2.0});
    default_engine rec_eng(9);
    const auto raster = record_raster(src, 300, rec_eng);
    RasterReplay replay(raster);
    std::vector<IfLayerParams> params{{2.0, 0.5}, {1.0, 0.3}};
    default_engine e1(9), e2(12345);  // the replay ignores its engine
    PoissonSequence<double> src2(x, PoissonOptions{300.0, 0.001, 2.0});
    const auto r1 = sleep_weights(weight_views(a, 2), params, 0.999, 300, src2, AuthorsStdp{0.05, 0.05}, e1);
    const auto r2 = sleep_weights(weight_views(b, 2), params, 0.999, 300, replay, AuthorsStdp{0.05, 0.05}, e2);
    CHECK(r1.input_spikes == r2.input_spikes);
    CHECK(r1.spikes == r2.spikes);
    CHECK(bitwise_equal(a.weights(0), b.weights(0)));
    CHECK(bitwise_equal(a.weights(1), b.weights(1)));
    RasterReplay short_raster(xt::xtensor<std::uint8_t, 2>(xt::view(raster, xt::range(0, 10), xt::all())));
    CHECK_THROWS_WITH_AS(sleep_weights(weight_views(b, 2), params, 0.999, 300, short_raster, AuthorsStdp{}, e2),
                         doctest::Contains("raster has 10 rows"), invalid_argument);
    RasterReplay wrong_width(xt::xtensor<std::uint8_t, 2>(xt::zeros<std::uint8_t>({300, 21})));
    CHECK_THROWS_WITH_AS(sleep_weights(weight_views(b, 2), params, 0.999, 300, wrong_width, AuthorsStdp{}, e2),
                         doctest::Contains("21 inputs"), invalid_argument);
}

TEST_CASE("integrate-and-fire: analytic spike times of one neuron with constant drive")
{
    // one input spiking every step, weight w, scale alpha: v_t = decay v_{t-1} + alpha w,
    // fires when v >= threshold, then resets to 0.
    const double w = 0.3, alpha = 2.0, threshold = 1.7, decay = 0.9;
    std::vector<double> weights{w};
    xt::xtensor<std::uint8_t, 2> raster = xt::ones<std::uint8_t>({50, 1});
    RasterReplay src(raster);
    default_engine eng(1);
    const auto r = sleep_weights(std::vector<WeightView<double>>{{weights.data(), 1, 1}}, {{alpha, threshold}}, decay,
                                 50, src, NoPlasticity{}, eng);
    // simulate by hand
    double v = 0;
    std::uint64_t expected = 0;
    for (int t = 0; t < 50; ++t) {
        v = decay * v + alpha * w;
        if (v >= threshold) {
            ++expected;
            v = 0;
        }
    }
    CHECK(expected > 0);
    CHECK(r.spikes[0] == expected);
    CHECK(weights[0] == w);  // no plasticity
    // closed form: spikes every k steps where k is the first with alpha w (1 - decay^k) / (1 - decay) >= threshold
    int k = 1;
    while (alpha * w * (1 - std::pow(decay, k)) / (1 - decay) < threshold) ++k;
    CHECK(expected == static_cast<std::uint64_t>(50 / k));
}

TEST_CASE("STDP: potentiation where the pre-synaptic neuron spiked, depression elsewhere")
{
    // 3 inputs, 1 neuron; inputs 0 and 2 spike at step 0; the neuron fires at once.
    std::vector<double> weights{0.5, -0.01, 0.002};
    xt::xtensor<std::uint8_t, 2> raster{{1, 0, 1}};
    RasterReplay src(raster);
    default_engine eng(1);
    const AuthorsStdp rule{0.1, 0.05};
    const std::vector<double> before = weights;
    const auto r =
        sleep_weights(std::vector<WeightView<double>>{{weights.data(), 1, 3}}, {{1.0, 0.4}}, 0.999, 1, src, rule, eng);
    CHECK(r.spikes[0] == 1);
    CHECK(weights[0] == before[0]);  // 0.5 is far above the sigmoid's range: g = 0
    CHECK(weights[1] == doctest::Approx(-0.01 - 0.05 * 2.0 / (1.0 + std::exp(-10.0))).epsilon(1e-12));
    CHECK(weights[2] == doctest::Approx(0.002 + 0.1 * 2.0 * (1.0 - 1.0 / (1.0 + std::exp(-2.0)))).epsilon(1e-12));
    CHECK(r.weights_changed[0] == 2);

    std::vector<double> w2{0.5, -0.01, 0.002};
    RasterReplay src2(raster);
    sleep_weights(std::vector<WeightView<double>>{{w2.data(), 1, 3}}, {{1.0, 0.4}}, 0.999, 1, src2,
                  PaperStdp{0.1, 0.05}, eng);
    CHECK(w2[0] == doctest::Approx(0.6));
    CHECK(w2[1] == doctest::Approx(-0.06));
    CHECK(w2[2] == doctest::Approx(0.102));
}

TEST_CASE("authors' g is exactly zero above inert_above(), so skipping those weights is exact")
{
    const AuthorsStdp rule{0.06, 0.07};
    for (double w = rule.inert_above(); w < 0.2; w += 1e-5) {
        const double literal = 2.0 * (1.0 - 1.0 / (1.0 + std::exp(-w / rule.sigma)));
        REQUIRE(literal == 0.0);
    }
    // and not zero just below the interesting range
    CHECK(rule.g(0.03) > 0.0);
    CHECK(rule.g(-0.01) == doctest::Approx(2.0).epsilon(1e-4));
    CHECK(rule.g(0.0) == doctest::Approx(1.0));
}

TEST_CASE("normalization: the authors' chain and the textbook chain on a hand-made network")
{
    // 1 input, ReLU chain with known maxima: x in {0.5, 1}
    DenseNetwork<double> net({1, 1, 1, 1});
    net.set_weights(0, matrix<double>{{2.0}});   // a1 max 2   -> s1 = 2
    net.set_weights(1, matrix<double>{{3.0}});   // a2 max 6   -> s2 = 6
    net.set_weights(2, matrix<double>{{0.25}});  // a3 max 1.5 -> s3 = 1.5
    const matrix<double> x{{0.5}, {1.0}};
    const auto a = compute_normalization(net, x, {NormalizationChain::authors});
    CHECK(a.scale == std::vector<double>{2.0, 6.0, 1.5});
    REQUIRE(a.factors.size() == 3);
    CHECK(a.factors[0] == doctest::Approx(1.0 / 2.0));
    CHECK(a.factors[1] == doctest::Approx(2.0 / 6.0));
    CHECK(a.factors[2] == doctest::Approx(6.0 / (2.0 * 1.5)));  // s2 / (s1 s3)
    const auto t = compute_normalization(net, x, {NormalizationChain::textbook});
    CHECK(t.factors[2] == doctest::Approx(6.0 / 1.5));
    // weights larger than every activation set the scale
    net.set_weights(2, matrix<double>{{9.0}});
    CHECK(compute_normalization(net, x, {NormalizationChain::textbook}).scale[2] == 54.0);
    // the normalized textbook copy has maximal activation 1 in every layer
    net.set_weights(2, matrix<double>{{0.25}});
    const auto copy = normalized_copy(net, t.factors);
    for (const auto& act : copy.activations(x)) CHECK(xt::amax(act)() == doctest::Approx(1.0));
    // percentile ignores a rare outlier
    matrix<double> many = xt::ones<double>({1000, 1});
    many(7, 0) = 100.0;
    const auto p = compute_normalization(net, many, {NormalizationChain::percentile, 99.0});
    CHECK(p.max_activation[0] == doctest::Approx(2.0));
    CHECK(compute_normalization(net, many, {NormalizationChain::authors}).max_activation[0] == 200.0);
}

TEST_CASE("sleep on a DenseNetwork: presets validate, reports add up, seeds reproduce")
{
    for (const auto& name : sleep_preset_names()) {
        const auto p = sleep_preset(name);
        CHECK_NOTHROW(p.validate(name == "patches" ? 1 : 3));
        CHECK(!p.provenance.empty());
    }
    CHECK_THROWS_WITH_AS(sleep_preset("nope"), doctest::Contains("mnist-fgsm"), invalid_argument);

    auto net = random_net<float>({30, 20, 10, 4}, 3, -0.02, 0.1);
    const auto x = random_images<float>(50, 30, 4, 0.2);
    SleepParams p;
    p.rate = 100;
    p.thresholds = {1.0, 1.0, 1.0};
    p.alpha_scale = 3.0;
    p.steps = 500;
    auto net2 = net;
    default_engine e1(17), e2(17);
    const auto r1 = sleep(net, x, p, e1);
    const auto r2 = sleep(net2, x, p, e2);
    CHECK(r1.steps == 500);
    CHECK(r1.spikes == r2.spikes);
    CHECK(bitwise_equal(net.weights(0), net2.weights(0)));
    CHECK(r1.spikes[0] > 0);
    CHECK(r1.neurons == std::vector<std::size_t>{20, 10, 4});
    CHECK(r1.weights == std::vector<std::size_t>{600, 200, 40});
    CHECK(r1.neurons_spiked[0] <= 20);
    CHECK(r1.alpha.size() == 3);

    // stopping early through a callback
    struct StopAt {
        std::size_t at;
        bool on_step(const SleepProgress& s) { return s.step == at; }
    };
    auto net3 = net;
    default_engine e3(1);
    const auto r3 = sleep(net3, x, p, e3, StopAt{10});
    CHECK(r3.steps == 10);
    CHECK(r3.stopped_early);

    // excluding the output layer leaves it untouched
    SleepParams q = p;
    q.include_output = false;
    q.thresholds = {1.0, 1.0};
    auto net4 = net;
    default_engine e4(2);
    const auto r4 = sleep(net4, x, q, e4);
    CHECK(r4.spikes.size() == 2);
    CHECK(bitwise_equal(net4.weights(2), net.weights(2)));

    // mean-image input
    SleepParams m = p;
    m.input = SleepInput::mean;
    auto net5 = net;
    default_engine e5(2);
    CHECK(sleep(net5, x, m, e5).input_spikes > 0);
}

TEST_CASE("bad sleep parameters and inputs give clear errors, non-finite weights are restored")
{
    auto net = random_net<double>({10, 5, 3}, 1, -0.1, 0.1);
    const auto x = random_images<double>(5, 10, 2, 0.0);
    default_engine eng(1);
    SleepParams p;
    p.thresholds = {1.0, 1.0};
    auto expect = [&](SleepParams q, const char* text) {
        CAPTURE(text);
        CHECK_THROWS_WITH_AS(sleep(net, x, q, eng), doctest::Contains(text), invalid_argument);
    };
    SleepParams q = p;
    q.rate = 0;
    expect(q, "rate");
    q = p;
    q.steps = 0;
    expect(q, "steps");
    q = p;
    q.rate = 600;  // 2 * 0.001 * 600 = 1.2
    expect(q, "exceeds 1");
    q = p;
    q.thresholds = {1.0, 1.0, 1.0};
    expect(q, "3 thresholds");
    q = p;
    q.thresholds = {1.0, NAN};
    expect(q, "threshold 2");
    q = p;
    q.inc = -1;
    expect(q, "inc");
    q = p;
    q.alpha = {1.0};
    expect(q, "1 alpha");
    q = p;
    q.decay = 1.5;
    expect(q, "decay");

    DenseNetwork<double> biased({10, 3}, NetworkOptions{Activation::relu, Activation::relu, true});
    SleepParams one = p;
    one.thresholds = {1.0};
    CHECK_THROWS_WITH_AS(sleep(biased, x, one, eng), doctest::Contains("biases"), invalid_argument);

    // JSON round trip and typos
    const nlohmann::json j = sleep_preset("mnist-deepfool");
    const auto back = sleep_params_from_json(j);
    CHECK(back.rate == sleep_preset("mnist-deepfool").rate);
    CHECK(back.thresholds == sleep_preset("mnist-deepfool").thresholds);
    auto typo = j;
    typo["treshold"] = 1;
    CHECK_THROWS_WITH_AS(sleep_params_from_json(typo), doctest::Contains("treshold"), invalid_argument);
    nlohmann::json from_preset{{"preset", "mnist-deepfool"}, {"steps", 10}};
    const auto fp = sleep_params_from_json(from_preset);
    CHECK(fp.rate == sleep_preset("mnist-deepfool").rate);
    CHECK(fp.steps == 10);
    auto wrong = j;
    wrong["rate"] = "fast";
    CHECK_THROWS_AS(sleep_params_from_json(wrong), invalid_argument);

    // a rule that produces NaN: weights are restored and the error says so
    struct Poison {
        double potentiate(double) const { return NAN; }
        double depress(double) const { return NAN; }
    };
    auto before = net;
    PoissonSequence<double> src(x, PoissonOptions{400.0, 0.001, 2.0});
    CHECK_THROWS_WITH_AS(sleep_weights(weight_views(net, 2), {{5.0, 0.1}, {5.0, 0.1}}, 0.999, 200, src, Poison{}, eng),
                         doctest::Contains("non-finite"), numeric_error);
    CHECK(bitwise_equal(net.weights(0), before.weights(0)));
    CHECK(bitwise_equal(net.weights(1), before.weights(1)));
}

TEST_CASE("Poisson sources: spike frequencies match rate_factor * dt * rate * x, bad inputs are named")
{
    matrix<double> x{{0.0, 0.25, 1.0, 0.5}, {1.0, 1.0, 0.0, 0.0}};
    const PoissonOptions po{200.0, 0.001, 2.0};  // P = 0.4 x
    PoissonSequence<double> seq(x, po);
    default_engine eng(3);
    std::vector<std::uint32_t> active;
    std::vector<double> count(4, 0.0);
    const int reps = 20000;
    for (int t = 0; t < 2 * reps; t += 2) {  // even steps show image 0
        seq.spikes(static_cast<std::size_t>(t), active, eng);
        CHECK(std::is_sorted(active.begin(), active.end()));
        for (auto j : active) count[j] += 1.0;
    }
    CHECK(count[0] == 0.0);
    for (std::size_t j = 1; j < 4; ++j) {
        const double p = 0.4 * x(0, j);
        CHECK(count[j] / reps == doctest::Approx(p).epsilon(4.0 * std::sqrt(p * (1 - p) / reps) / p));
    }
    seq.spikes(1, active, eng);  // odd steps show image 1: inputs 2 and 3 are 0
    CHECK(std::none_of(active.begin(), active.end(), [](std::uint32_t j) { return j >= 2; }));

    PoissonMean mean(x, po);  // mean image (0.5, 0.625, 0.5, 0.25)
    std::fill(count.begin(), count.end(), 0.0);
    for (int t = 0; t < reps; ++t) {
        mean.spikes(static_cast<std::size_t>(t), active, eng);
        for (auto j : active) count[j] += 1.0;
    }
    CHECK(count[1] / reps == doctest::Approx(0.4 * 0.625).epsilon(0.05));
    CHECK(count[3] / reps == doctest::Approx(0.4 * 0.25).epsilon(0.08));

    matrix<double> bad = x;
    bad(1, 2) = -0.5;
    PoissonSequence<double> bad_seq(bad, po);
    bad_seq.spikes(0, active, eng);  // image 0 is fine
    CHECK_THROWS_WITH_AS(bad_seq.spikes(1, active, eng), doctest::Contains("input 1, element 2"), invalid_argument);
    bad(1, 2) = 3.0;  // P = 1.2
    PoissonSequence<double> too_high(bad, po);
    CHECK_THROWS_WITH_AS(too_high.spikes(1, active, eng), doctest::Contains("> 1"), invalid_argument);
    CHECK_THROWS_AS(PoissonSequence<double>(x, PoissonOptions{-1.0, 0.001, 2.0}), invalid_argument);

    // a bad image met during sleep: the weights are restored
    auto net = random_net<double>({4, 3}, 1, -0.1, 0.5);
    const auto before = net;
    SleepParams p;
    p.rate = 200;
    p.thresholds = {0.01};
    p.alpha = {1.0};
    p.steps = 10;
    bad(1, 2) = NAN;
    default_engine e(1);
    CHECK_THROWS_AS(sleep(net, bad, p, e), invalid_argument);
    CHECK(bitwise_equal(net.weights(0), before.weights(0)));
}

namespace {
struct BadSource {
    std::vector<std::uint32_t> give;
    std::size_t size() const { return 4; }
    template <class E>
    void spikes(std::size_t, std::vector<std::uint32_t>& a, E&) const
    {
        a = give;
    }
};
}  // namespace

TEST_CASE("a spike source giving bad indices is an error, and the weights stay as they were")
{
    std::vector<double> w{0.1, 0.2, 0.3, 0.4};
    default_engine eng(1);
    for (const auto& give :
         {std::vector<std::uint32_t>{1, 4}, std::vector<std::uint32_t>{2, 2}, std::vector<std::uint32_t>{3, 1}}) {
        BadSource bad{give};
        CHECK_THROWS_WITH_AS(sleep_weights(std::vector<WeightView<double>>{{w.data(), 1, 4}}, {{1.0, 0.05}}, 0.999, 3,
                                           bad, PaperStdp{}, eng),
                             doctest::Contains("spike source gave input index"), invalid_argument);
    }
    CHECK(w == std::vector<double>{0.1, 0.2, 0.3, 0.4});
}
