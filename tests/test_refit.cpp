// Frozen layers in back-propagation and SGD, and the post-sleep refit (snn/refit.hpp):
// frozen weights stay bit-identical, trained layers get exactly the updates of an
// unfrozen run, refit trains what its options say on the rows they name, and its JSON
// form round-trips and rejects bad input by name.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include <sleepnet/nn/loss.hpp>
#include <sleepnet/nn/sgd.hpp>
#include <sleepnet/nn/train.hpp>
#include <sleepnet/snn/refit.hpp>
#include <sleepnet/snn/refit_json.hpp>
#include <sleepnet/snn/sleep.hpp>
#include <sleepnet/snn/sleep_json.hpp>

#include "support.hpp"

using namespace sleepnet;
using test_support::contains;
using test_support::message_of;

namespace {

DenseNetwork<float> net4(std::uint64_t seed)
{
    DenseNetwork<float> net({6, 9, 7, 3});
    default_engine eng(seed);
    net.initialize(Init::uniform(0.5), eng);
    return net;
}

struct Labelled {
    matrix<float> x;
    label_vector y;
};

Labelled labelled(std::size_t n, std::uint64_t seed)
{
    default_engine eng(seed);
    Labelled d;
    d.x = matrix<float>::from_shape({n, 6});
    for (auto& v : d.x) v = rng::uniform01<float>(eng);
    d.y = label_vector::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) d.y(i) = (d.x(i, 0) + d.x(i, 1) > 1.0f ? 1 : 0) + (d.x(i, 2) > 0.7f ? 1 : 0);
    return d;
}

bool same(const matrix<float>& a, const matrix<float>& b) { return a.shape() == b.shape() && a == b; }

}  // namespace

TEST_CASE("backward: a sink's first_layer leaves lower gradients alone and the others as a full pass gives them")
{
    const auto net = net4(1);
    const auto d = labelled(5, 2);
    ForwardState<float> st;
    net.forward(d.x, st);
    matrix<float> dz = matrix<float>::from_shape({5, 3});
    default_engine eng(3);
    for (auto& v : dz) v = rng::uniform<float>(eng, -1.0f, 1.0f);

    std::vector<matrix<float>> full(net.num_layers()), part;
    GradientSink<float> s_full;
    s_full.weights = &full;
    matrix<float> dx_full;
    net.backward(st, dz, &s_full, &dx_full);

    for (std::size_t first : {1u, 2u}) {
        CAPTURE(first);
        part.clear();
        for (std::size_t l = 0; l < net.num_layers(); ++l) {
            part.push_back(matrix<float>::from_shape(net.weights(l).shape()));
            part.back().fill(42.0f);  // a sentinel: layers below `first` must keep it
        }
        GradientSink<float> s;
        s.weights = &part;
        s.first_layer = first;
        // below `first`: the sentinel; from it on: the full pass's gradients
        auto check_layers = [&] {
            for (std::size_t l = 0; l < net.num_layers(); ++l) {
                CAPTURE(l);
                if (l < first) {
                    for (float v : part[l]) REQUIRE(v == 42.0f);
                } else {
                    CHECK(same(part[l], full[l]));
                }
            }
        };
        ForwardState<float> st2;
        net.forward(d.x, st2);
        net.backward(st2, dz, &s, nullptr);
        check_layers();
        // asking for the input gradient as well still gives the full one, and still no
        // gradient below `first`
        matrix<float> dx;
        for (auto& g : part) g.fill(42.0f);
        net.forward(d.x, st2);
        net.backward(st2, dz, &s, &dx);
        CHECK(same(dx, dx_full));
        check_layers();
    }
    GradientSink<float> bad;
    bad.weights = &part;
    bad.first_layer = 3;
    CHECK(contains(message_of<invalid_argument>([&] { net.backward(st, dz, &bad, nullptr); }), "first_layer 3"));
}

TEST_CASE("SGD with frozen layers: frozen weights unchanged, trained layers updated exactly as without freezing")
{
    const auto d = labelled(40, 4);
    const matrix<float> t = one_hot<float>(d.y, 3);
    for (std::size_t frozen : {1u, 2u}) {
        CAPTURE(frozen);
        auto a = net4(5), b = net4(5);
        SgdOptions o;
        o.epochs = 1;
        o.batch_size = 40;  // one step: the upper layers' gradients do not depend on freezing yet
        o.shuffle = false;
        default_engine ea(1), eb(1);
        train(a, d.x, t, MseLoss{}, o, ea);
        o.frozen_layers = frozen;
        train(b, d.x, t, MseLoss{}, o, eb);
        const auto start = net4(5);
        for (std::size_t l = 0; l < 3; ++l) {
            CAPTURE(l);
            if (l < frozen) {
                CHECK(same(b.weights(l), start.weights(l)));
                CHECK_FALSE(same(a.weights(l), start.weights(l)));
            } else {
                CHECK(same(b.weights(l), a.weights(l)));
                CHECK_FALSE(same(b.weights(l), start.weights(l)));
            }
        }
        // and over many steps the frozen layers still never move
        auto c = net4(5);
        o.batch_size = 7;
        o.epochs = 3;
        o.shuffle = true;
        default_engine ec(2);
        train(c, d.x, t, MseLoss{}, o, ec);
        for (std::size_t l = 0; l < frozen; ++l) CHECK(same(c.weights(l), start.weights(l)));
        CHECK_FALSE(same(c.weights(2), start.weights(2)));
    }
    auto n = net4(5);
    SgdOptions o;
    o.frozen_layers = 3;
    CHECK(contains(message_of<invalid_argument>([&] { Sgd<float> s(n, o); }), "frozen_layers 3"));
}

TEST_CASE("refit: trains the layers above frozen_layers on the first `samples` rows with the chosen loss")
{
    const auto d = labelled(60, 6);
    const auto start = net4(7);
    RefitOptions o;
    o.sgd.frozen_layers = 1;
    o.sgd.epochs = 3;
    o.sgd.batch_size = 10;
    o.sgd.learning_rate = 0.1;

    // equals train() with frozen layers on those rows
    auto a = start;
    default_engine ea(11);
    const auto rep = refit(a, d.x, d.y, o, ea);
    CHECK(rep.epochs_completed == 3);
    CHECK(rep.batches == 18);
    auto b = start;
    default_engine eb(11);
    train(b, d.x, one_hot<float>(d.y, 3), MseLoss{}, o.sgd, eb);
    for (std::size_t l = 0; l < 3; ++l) CHECK(same(a.weights(l), b.weights(l)));
    CHECK(same(a.weights(0), start.weights(0)));

    // samples: the first rows only (the same as passing just those rows)
    o.samples = 25;
    auto c = start, c2 = start;
    default_engine ec(11), ec2(11);
    refit(c, d.x, d.y, o, ec);
    const matrix<float> x25 = xt::view(d.x, xt::range(0, 25), xt::all());
    const label_vector y25 = xt::view(d.y, xt::range(0, 25));
    RefitOptions all = o;
    all.samples = 0;
    refit(c2, x25, y25, all, ec2);
    for (std::size_t l = 0; l < 3; ++l) CHECK(same(c.weights(l), c2.weights(l)));
    CHECK_FALSE(same(c.weights(2), a.weights(2)));

    // loss ce is softmax cross-entropy at the given temperature
    o.samples = 0;
    o.loss = RefitLoss::ce;
    o.temperature = 2.0;
    auto e = start, f = start;
    default_engine ee(11), ef(11);
    refit(e, d.x, d.y, o, ee);
    SoftmaxCrossEntropy ce;
    ce.temperature = 2.0;
    train(f, d.x, one_hot<float>(d.y, 3), ce, o.sgd, ef);
    for (std::size_t l = 0; l < 3; ++l) CHECK(same(e.weights(l), f.weights(l)));
    CHECK_FALSE(same(e.weights(2), a.weights(2)));

    // bad input, by name
    auto g = start;
    default_engine eg(1);
    RefitOptions bad;
    bad.sgd.frozen_layers = 3;
    CHECK(
        contains(message_of<invalid_argument>([&] { refit(g, d.x, d.y, bad, eg); }), "refit options: frozen_layers 3"));
    bad = RefitOptions{};
    bad.samples = 61;
    CHECK(contains(message_of<invalid_argument>([&] { refit(g, d.x, d.y, bad, eg); }), "samples 61"));
    bad = RefitOptions{};
    bad.sgd.epochs = 0;
    CHECK(contains(message_of<invalid_argument>([&] { refit(g, d.x, d.y, bad, eg); }), "epochs"));
    bad = RefitOptions{};
    bad.sgd.learning_rate = -1.0;
    CHECK(contains(message_of<invalid_argument>([&] { refit(g, d.x, d.y, bad, eg); }), "learning_rate"));
    auto y_bad = d.y;
    y_bad(4) = 3;
    CHECK(contains(message_of<invalid_argument>([&] { refit(g, d.x, y_bad, RefitOptions{}, eg); }),
                   "refit: one_hot: label y(4) = 3 is not < classes = 3"));
    const label_vector y_short = xt::view(d.y, xt::range(0, 59));
    CHECK(contains(message_of<invalid_argument>([&] { refit(g, d.x, y_short, RefitOptions{}, eg); }), "59 labels"));
    CHECK(same(g.weights(2), start.weights(2)));  // nothing was half-done
}

TEST_CASE("refit options: JSON round trip, defaults for missing keys, errors name the key, sleep files may carry them")
{
    RefitPlan o;
    o.options.sgd.frozen_layers = 2;
    o.options.samples = 1234;
    o.options.sgd.epochs = 3;
    o.options.sgd.learning_rate = 0.02;
    o.options.sgd.momentum = 0.9;
    o.options.sgd.batch_size = 50;
    o.options.loss = RefitLoss::ce;
    o.options.temperature = 3.0;
    o.seed = 99;
    const RefitPlan r = refit_plan_from_json(nlohmann::json(o));
    CHECK(nlohmann::json(r) == nlohmann::json(o));
    CHECK(r.options.samples == 1234);
    CHECK(r.options.loss == RefitLoss::ce);
    CHECK(r.seed == 99);
    const RefitPlan dflt = refit_plan_from_json(nlohmann::json::object());
    CHECK(nlohmann::json(dflt) == nlohmann::json(RefitPlan{}));

    CHECK(contains(message_of<invalid_argument>([] { refit_plan_from_json({{"epoch", 2}}); }), "unknown key 'epoch'"));
    CHECK(contains(message_of<invalid_argument>([] {
                       refit_plan_from_json({{"loss", "hinge"}});
                   }),
                   "unknown loss 'hinge'"));
    CHECK(contains(message_of<invalid_argument>([] { refit_plan_from_json({{"epochs", -1}}); }), "'epochs'"));
    CHECK(contains(message_of<invalid_argument>([] {
                       refit_plan_from_json({{"learning_rate", "fast"}});
                   }),
                   "'learning_rate'"));
    CHECK(contains(message_of<invalid_argument>([] { refit_plan_from_json({{"momentum", 1.5}}); }), "momentum"));
    CHECK(contains(message_of<invalid_argument>([] { refit_plan_from_json(nlohmann::json::array()); }), "JSON object"));

    const std::string dir = test_support::fresh_dir("refit", "files");
    const std::string with = dir + "/with.json", without = dir + "/without.json", broken = dir + "/broken.json";
    nlohmann::json p = SleepParams{};
    std::ofstream(without) << p.dump();
    p["refit"] = o;
    std::ofstream(with) << p.dump();
    p["refit"] = {{"frozen_layers", "one"}};
    std::ofstream(broken) << p.dump();
    CHECK_FALSE(load_refit_plan(without).has_value());
    const auto loaded = load_refit_plan(with);
    REQUIRE(loaded.has_value());
    CHECK(nlohmann::json(*loaded) == nlohmann::json(o));
    CHECK(nlohmann::json(load_sleep_params(with)) ==
          nlohmann::json(load_sleep_params(without)));  // sleep ignores the refit object
    const std::string m = message_of<invalid_argument>([&] { load_refit_plan(broken); });
    CHECK(contains(m, broken));
    CHECK(contains(m, "'frozen_layers'"));
    CHECK(contains(message_of<io_error>([&] { load_refit_plan(dir + "/missing.json"); }), "missing.json"));
}

TEST_CASE("a parameter file checked against a network names the file, and without thresholds says they are missing")
{
    const std::string dir = test_support::fresh_dir("refit", "params_for_network");
    auto file = [&](const std::string& name, const std::string& text) {
        const std::string path = dir + "/" + name;
        std::ofstream(path) << text;
        return path;
    };
    const std::string empty = file("empty.json", "{}"), steps = file("steps.json", R"({"steps": 100})");
    const std::string two = file("two.json", R"({"thresholds": [1, 2]})"), rate = file("rate.json", R"({"rate": -1})");
    const std::string preset = file("preset.json", R"({"preset": "mnist-fgsm"})");
    // the defaults' three thresholds fit 784-1200-1200-10 (3 weight layers)
    validate_sleep_params_file(load_sleep_params(empty), empty, 3);
    for (const auto& path : {empty, steps}) {
        CAPTURE(path);
        CHECK(message_of<invalid_argument>([&] { validate_sleep_params_file(load_sleep_params(path), path, 4); }) ==
              path + ": sleep parameters: thresholds missing: the network has 4 simulated layers, give \"thresholds\" "
                     "with 4 values (the defaults' 3 are for a 784-1200-1200-10 network)");
    }
    CHECK(message_of<invalid_argument>([&] { validate_sleep_params_file(load_sleep_params(two), two, 4); }) ==
          two + ": sleep parameters: 2 thresholds given, the network has 4 simulated layers");
    CHECK(message_of<invalid_argument>([&] { validate_sleep_params_file(load_sleep_params(preset), preset, 4); }) ==
          preset + ": sleep parameters: 3 thresholds given, the network has 4 simulated layers");
    const std::string m =
        message_of<invalid_argument>([&] { validate_sleep_params_file(load_sleep_params(rate), rate, 3); });
    CHECK(contains(m, rate + ": sleep parameters"));
    CHECK(contains(m, "rate"));
}
