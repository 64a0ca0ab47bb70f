// Analyses: class activation statistics, layer correlation matrices (both definitions,
// against brute-force hand computations), class-selective neurons on constructed
// networks, the Patches weight spread on hand-built weights, weight grids and JSON.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <sleepnet/analysis/activations.hpp>
#include <sleepnet/analysis/correlation.hpp>
#include <sleepnet/analysis/correlation_json.hpp>
#include <sleepnet/analysis/selectivity.hpp>
#include <sleepnet/analysis/selectivity_json.hpp>
#include <sleepnet/analysis/weights.hpp>
#include <sleepnet/analysis/weights_json.hpp>
#include <sleepnet/data/patches.hpp>
#include <sleepnet/nn/train.hpp>

#include "support.hpp"

using namespace sleepnet;
using test_support::contains;
using test_support::message_of;
using test_support::random_matrix;
using Mat = matrix<double>;

namespace {

label_vector labels(std::initializer_list<std::size_t> v)
{
    label_vector y = label_vector::from_shape({v.size()});
    std::size_t i = 0;
    for (auto c : v) y(i++) = c;
    return y;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b)
{
    double ma = 0, mb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        ma += a[i];
        mb += b[i];
    }
    ma /= a.size();
    mb /= b.size();
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
}

std::vector<double> row_of(const Mat& m, std::size_t i)
{
    return std::vector<double>(m.data() + i * m.shape()[1], m.data() + (i + 1) * m.shape()[1]);
}

// a linear identity layer: activations equal the inputs
DenseNetwork<double> identity_net(std::size_t d)
{
    DenseNetwork<double> net({d, d}, NetworkOptions{Activation::relu, Activation::linear});
    for (std::size_t i = 0; i < d; ++i) net.weights(0)(i, i) = 1.0;
    return net;
}

}  // namespace

TEST_CASE("class activation statistics: per-class means and the layer maximum, chunked like one pass")
{
    default_engine eng(1);
    NetworkOptions opt;
    opt.dropout = 0.5;  // test mode: scaled by 0.5
    DenseNetwork<double> net({5, 7, 3}, opt);
    net.initialize(Init::he(), eng);
    const std::size_t n = 2500;  // more than one inference chunk
    const Mat x = random_matrix(n, 5, eng);
    label_vector y = label_vector::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) y(i) = (i * 7) % 4;
    const auto s = class_activation_stats(net, x, y, 4);
    const auto acts = net.activations(x);
    REQUIRE(s.means.size() == 2);
    for (std::size_t l = 0; l < 2; ++l) {
        for (std::size_t c = 0; c < 4; ++c) {
            for (std::size_t u = 0; u < acts[l].shape()[1]; ++u) {
                double sum = 0;
                std::size_t cnt = 0;
                for (std::size_t i = 0; i < n; ++i)
                    if (y(i) == c) {
                        sum += acts[l](i, u);
                        ++cnt;
                    }
                CHECK(s.means[l](c, u) == doctest::Approx(sum / cnt).epsilon(1e-12));
                CHECK(s.counts[c] == cnt);
            }
        }
        CHECK(s.layer_max[l] == xt::amax(acts[l])());
    }
    CHECK(contains(message_of<invalid_argument>([&] { class_activation_stats(net, x, y, 5); }),
                   "class_activation_stats: class 4 has no samples"));
}

TEST_CASE("pearson_rows: symmetric, unit diagonal, equals a hand computation, constant rows are NaN")
{
    default_engine eng(2);
    const Mat v = random_matrix(4, 9, eng);
    const Mat c = pearson_rows(v);
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(c(i, i) == 1.0);
        for (std::size_t j = 0; j < 4; ++j) {
            CHECK(c(i, j) == c(j, i));
            CHECK(c(i, j) == doctest::Approx(pearson(row_of(v, i), row_of(v, j))).epsilon(1e-12));
        }
    }
    Mat w = v;
    for (std::size_t u = 0; u < 9; ++u) {
        w(1, u) = 3.0 * v(0, u) + 2.0;   // perfectly correlated with row 0
        w(2, u) = -0.5 * v(0, u) + 1.0;  // perfectly anti-correlated
        w(3, u) = 0.25;                  // constant
    }
    const Mat d = pearson_rows(w);
    CHECK(d(0, 1) == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(d(0, 2) == doctest::Approx(-1.0).epsilon(1e-14));
    CHECK(std::isnan(d(3, 3)));
    CHECK(std::isnan(d(0, 3)));
    CHECK(contains(message_of<invalid_argument>([] { pearson_rows(Mat::from_shape({0, 3})); }), "pearson_rows: empty"));
}

TEST_CASE("layer correlations (class means): hand computation on tiny data, perfectly correlated classes give 1")
{
    // identity network: activations are the inputs
    const auto net = identity_net(4);
    Mat x = {{1.0, 2.0, 0.0, 1.0},   // class 0
             {3.0, 2.0, 2.0, 1.0},   // class 0 -> mean (2, 2, 1, 1)
             {4.0, 4.0, 2.0, 2.0},   // class 1 = 2 * mean of class 0: correlation 1
             {0.0, 1.0, 3.0, 5.0},   // class 2
             {1.0, 0.0, 0.0, 0.0}};  // class 2 -> mean (0.5, 0.5, 1.5, 2.5)
    const auto y = labels({0, 0, 1, 2, 2});
    const auto r = layer_correlations(net, x, y, 3);
    REQUIRE(r.layers.size() == 1);
    const Mat& c = r.layers[0].correlation;
    CHECK(c(0, 1) == doctest::Approx(1.0).epsilon(1e-14));
    const double c02 = pearson({2, 2, 1, 1}, {0.5, 0.5, 1.5, 2.5});
    CHECK(c(0, 2) == doctest::Approx(c02).epsilon(1e-12));
    CHECK(c(2, 0) == c(0, 2));
    CHECK(c(1, 2) == doctest::Approx(c02).epsilon(1e-12));  // class 1 is a multiple of class 0
    for (std::size_t i = 0; i < 3; ++i) CHECK(c(i, i) == 1.0);
    CHECK(r.counts == std::vector<std::size_t>{2, 1, 2});

    // a deeper random network: every layer symmetric with unit diagonal, equal to pearson of class means
    default_engine eng(3);
    DenseNetwork<double> deep({6, 10, 8, 3});
    deep.initialize(Init::he(), eng);
    const Mat xs = random_matrix(60, 6, eng);
    label_vector ys = label_vector::from_shape({60});
    for (std::size_t i = 0; i < 60; ++i) ys(i) = i % 3;
    const auto rd = layer_correlations(deep, xs, ys, 3);
    const auto stats = class_activation_stats(deep, xs, ys, 3);
    REQUIRE(rd.layers.size() == 3);
    for (std::size_t l = 0; l < 3; ++l) {
        const Mat& m = rd.layers[l].correlation;
        CHECK(rd.layers[l].units == deep.layer_sizes()[l + 1]);
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK(m(i, i) == 1.0);
            for (std::size_t j = 0; j < 3; ++j) {
                CHECK(m(i, j) == m(j, i));
                CHECK(m(i, j) == doctest::Approx(pearson(row_of(stats.means[l], i), row_of(stats.means[l], j))));
            }
        }
    }
    const nlohmann::json j = rd;
    CHECK(j["method"] == "class_means");
    CHECK(j["layers"].size() == 3);
    CHECK(j["layers"][1]["correlation"][0][0] == 1.0);
}

TEST_CASE("layer correlations (mean pairwise, the paper's wording): brute force over sample pairs")
{
    default_engine eng(4);
    DenseNetwork<double> net({5, 6, 4});
    net.initialize(Init::he(), eng);
    const std::size_t n = 23;
    Mat x = random_matrix(n, 5, eng);
    for (std::size_t j = 0; j < 5; ++j) x(4, j) = 0.0;  // an all-zero input: constant activations, excluded
    label_vector y = label_vector::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) y(i) = (i * 5) % 3;
    const auto r = layer_correlations(net, x, y, 3, CorrelationMethod::mean_pairwise);
    const auto acts = net.activations(x);
    for (std::size_t l = 0; l < 2; ++l) {
        auto constant = [&](std::size_t i) {
            for (std::size_t u = 1; u < acts[l].shape()[1]; ++u)
                if (acts[l](i, u) != acts[l](i, 0)) return false;
            return true;
        };
        std::vector<std::size_t> excluded(3, 0);
        for (std::size_t i = 0; i < n; ++i) excluded[y(i)] += constant(i);
        CHECK(r.layers[l].excluded == excluded);
        for (std::size_t a = 0; a < 3; ++a) {
            for (std::size_t b = 0; b < 3; ++b) {
                double sum = 0;
                std::size_t pairs = 0;
                for (std::size_t s = 0; s < n; ++s)
                    for (std::size_t t = 0; t < n; ++t) {
                        if (s == t || y(s) != a || y(t) != b || constant(s) || constant(t)) continue;
                        sum += pearson(row_of(acts[l], s), row_of(acts[l], t));
                        ++pairs;
                    }
                REQUIRE(pairs > 0);
                CHECK(r.layers[l].correlation(a, b) == doctest::Approx(sum / pairs).epsilon(1e-10));
            }
        }
    }
    CHECK(r.layers[0].excluded[y(4)] >= 1);  // the zero input (no biases) gives a silent layer
    // identical exemplars of a class correlate perfectly with each other
    const auto id = identity_net(3);
    const Mat same = {{1.0, 0.0, 2.0}, {1.0, 0.0, 2.0}, {2.0, 0.0, 4.0}, {0.0, 1.0, 0.0}, {0.0, 1.0, 0.0}};
    const auto rs = layer_correlations(id, same, labels({0, 0, 0, 1, 1}), 2, CorrelationMethod::mean_pairwise);
    CHECK(rs.layers[0].correlation(0, 0) == doctest::Approx(1.0));
    CHECK(rs.layers[0].correlation(1, 1) == doctest::Approx(1.0));
    CHECK(rs.layers[0].correlation(0, 1) == doctest::Approx(pearson({1, 0, 2}, {0, 1, 0})));
    // one sample: no pair, NaN diagonal (null in JSON)
    const auto one = layer_correlations(id, same, labels({0, 0, 0, 0, 1}), 2, CorrelationMethod::mean_pairwise);
    CHECK(std::isnan(one.layers[0].correlation(1, 1)));
    CHECK(nlohmann::json(one)["layers"][0]["correlation"][1][1].is_null());
}

TEST_CASE("correlation difference and bad input")
{
    default_engine eng(5);
    DenseNetwork<double> a({4, 5, 2}), b({4, 5, 2});
    a.initialize(Init::he(), eng);
    b.initialize(Init::he(), eng);
    const Mat x = random_matrix(10, 4, eng);
    label_vector y = label_vector::from_shape({10});
    for (std::size_t i = 0; i < 10; ++i) y(i) = i % 2;
    const auto ca = layer_correlations(a, x, y, 2), cb = layer_correlations(b, x, y, 2);
    const auto d = correlation_difference(ca, cb);
    for (std::size_t l = 0; l < 2; ++l)
        for (std::size_t i = 0; i < 2; ++i)
            for (std::size_t j = 0; j < 2; ++j)
                CHECK(d.layers[l].correlation(i, j) == ca.layers[l].correlation(i, j) - cb.layers[l].correlation(i, j));
    const auto cp = layer_correlations(b, x, y, 2, CorrelationMethod::mean_pairwise);
    CHECK(contains(message_of<invalid_argument>([&] { correlation_difference(ca, cp); }),
                   "correlation_difference: the analyses differ (method class_means vs mean_pairwise"));

    CHECK(message_of<invalid_argument>([&] {
              layer_correlations(a, Mat::from_shape({0, 4}), label_vector::from_shape({0}), 2);
          }) == "layer_correlations: no inputs (x has 0 rows)");
    CHECK(contains(message_of<invalid_argument>([&] {
                       layer_correlations(a, Mat::from_shape({3, 3}), y, 2);
                   }),
                   "layer_correlations: input has shape (3, 3)"));
    CHECK(message_of<invalid_argument>([&] {
              layer_correlations(a, x, labels({0, 1}), 2);
          }) == "layer_correlations: x has 10 rows but y has 2 labels");
    CHECK(message_of<invalid_argument>([&] { layer_correlations(a, x, y, 1); }) ==
          "layer_correlations: label y(1) = 1 is not < classes = 1");
    CHECK(message_of<invalid_argument>([&] { layer_correlations(a, x, y, 3); }) ==
          "layer_correlations: class 2 has no samples");
    CHECK(message_of<invalid_argument>([&] { layer_correlations(a, x, y, 3, CorrelationMethod::mean_pairwise); }) ==
          "layer_correlations: class 2 has no samples");
    CHECK(message_of<invalid_argument>([&] { layer_correlations(a, x, y, 0); }) == "layer_correlations: classes is 0");
}

TEST_CASE("class-selective neurons on a constructed network: top-k by class mean, before vs after")
{
    // inputs are one-hot classes (3 classes); hidden unit u responds to class u % 3 with strength (u + 1)
    const std::size_t units = 6;
    DenseNetwork<double> before({3, units, 3}, NetworkOptions{Activation::relu, Activation::linear});
    for (std::size_t u = 0; u < units; ++u) before.weights(0)(u, u % 3) = static_cast<double>(u + 1);
    DenseNetwork<double> after = before;
    for (std::size_t u = 0; u < units; ++u) after.weights(0)(u, u % 3) *= 2.0;  // stronger responses
    after.weights(0)(0, 1) = 10.0;  // unit 0 now also answers class 1, strongly (and sets after's layer max)
    const Mat x = {{1, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    const auto y = labels({0, 0, 1, 2});

    SelectivityOptions opt;
    opt.top_k = 2;
    const auto s = class_selectivity(before, after, x, y, 3, opt);
    REQUIRE(s.layers.size() == 1);  // default: the hidden layer
    const auto& l = s.layers[0];
    CHECK(l.layer == 0);
    CHECK(l.k == 2);
    CHECK(l.before_max == 6.0);
    CHECK(l.after_max == 12.0);
    // class 0: units 3 (4) and 0 (1); class 1: units 4 (5), 1 (2); class 2: units 5 (6), 2 (3)
    CHECK(l.classes[0].neurons_before == std::vector<std::size_t>{3, 0});
    CHECK(l.classes[1].neurons_before == std::vector<std::size_t>{4, 1});
    CHECK(l.classes[2].neurons_before == std::vector<std::size_t>{5, 2});
    CHECK(l.classes[0].before == 2.5);
    CHECK(l.classes[0].after == 5.0);
    CHECK(l.classes[1].before == 3.5);
    CHECK(l.classes[1].after == 7.0);  // units 4, 1 in after: 10 and 4
    CHECK(l.classes[2].before_normalized == doctest::Approx(4.5 / 6.0));
    CHECK(l.classes[2].after_normalized == doctest::Approx(9.0 / 12.0));
    CHECK(l.classes[1].neurons_after == l.classes[1].neurons_before);

    // selection on each network: for class 1 the after network's top units are 0 (10) and 4 (10): tie -> lower index
    opt.selection = SelectionSource::each;
    const auto e = class_selectivity(before, after, x, y, 3, opt);
    CHECK(e.layers[0].classes[1].neurons_after == std::vector<std::size_t>{0, 4});
    CHECK(e.layers[0].classes[1].after == 10.0);

    // top_k larger than the layer: clamped
    opt.top_k = 100;
    opt.layers = {0, 1};
    const auto big = class_selectivity(before, before, x, y, 3, opt);
    CHECK(big.layers[0].k == units);
    CHECK(big.layers[1].k == 3);
    CHECK(big.layers[0].classes[0].before == big.layers[0].classes[0].after);
    const nlohmann::json j = s;
    CHECK(j["layers"][0]["classes"][0]["neurons_before"] == nlohmann::json({3, 0}));
    CHECK(j["selection"] == "before");

    DenseNetwork<double> other({3, 5, 3});
    CHECK(message_of<invalid_argument>([&] { class_selectivity(before, other, x, y, 3); }) ==
          "class_selectivity: the networks differ in layer sizes (3-6-3 vs 3-5-3)");
    opt.layers = {2};
    CHECK(message_of<invalid_argument>([&] { class_selectivity(before, after, x, y, 3, opt); }) ==
          "class_selectivity: layer 2 out of range (the networks have 2 layers, 0 .. 1)");
    opt.layers = {};
    opt.top_k = 0;
    CHECK(message_of<invalid_argument>([&] { class_selectivity(before, after, x, y, 3, opt); }) ==
          "class_selectivity: top_k must be > 0");
    CHECK(message_of<invalid_argument>([&] { class_selectivity(before, after, x, y, 4); }) ==
          "class_selectivity: class 3 has no samples");
}

TEST_CASE("weight spread on a hand-built weight matrix equals the hand-computed value")
{
    // 3 classes, 6 pixels. prototypes: class 0 ON {0, 1, 2}, class 1 ON {2, 3}, class 2 ON {4}
    const Mat proto = {{1, 1, 1, 0, 0, 0}, {0, 0, 1, 1, 0, 0}, {0, 0, 0, 0, 1, 0}};
    const Mat w = {
        {0.5, 0.3, 0.1, -0.2, -0.4, 0.0}, {0.2, -0.1, 0.0, 0.6, 0.1, -0.3}, {-0.5, 0.0, 0.2, 0.1, 0.9, -0.1}};
    const auto s = weight_spread(w, proto);
    REQUIRE(s.classes.size() == 3);
    // class 0: ON {0,1,2} (2 overlapping with class 1), OFF {3,4,5}
    CHECK(s.classes[0].on == 3);
    CHECK(s.classes[0].exclusive == 2);
    CHECK(s.classes[0].overlap == 1);
    CHECK(s.classes[0].off == 3);
    CHECK(s.classes[0].mean_on == doctest::Approx((0.5 + 0.3 + 0.1) / 3));
    CHECK(s.classes[0].mean_off == doctest::Approx((-0.2 - 0.4 + 0.0) / 3));
    CHECK(s.classes[0].spread == doctest::Approx(0.3 - (-0.2)));
    CHECK(s.classes[0].spread_exclusive == doctest::Approx(0.4 - (-0.2)));
    CHECK(s.classes[0].mean_overlap == doctest::Approx(0.1));
    // class 1: ON {2 (overlap), 3 (exclusive)}, OFF {0, 1, 4, 5}
    CHECK(s.classes[1].spread == doctest::Approx((0.0 + 0.6) / 2 - (0.2 - 0.1 + 0.1 - 0.3) / 4));
    CHECK(s.classes[1].spread_exclusive == doctest::Approx(0.6 - (-0.025)));
    // class 2: ON {4}, no overlap: NaN overlap mean
    CHECK(s.classes[2].spread == doctest::Approx(0.9 - (-0.5 + 0.0 + 0.2 + 0.1 - 0.1) / 5));
    CHECK(std::isnan(s.classes[2].mean_overlap));
    CHECK(s.mean_spread == doctest::Approx((s.classes[0].spread + s.classes[1].spread + s.classes[2].spread) / 3));
    CHECK(s.spreads() == std::vector<double>{s.classes[0].spread, s.classes[1].spread, s.classes[2].spread});
    const nlohmann::json j = s;
    CHECK(j["classes"][2]["mean_overlap"].is_null());
    CHECK(j["classes"][0]["exclusive"] == 2);

    // the network overload reads the layer's weights
    DenseNetwork<double> net({6, 3});
    net.set_weights(0, w);
    CHECK(weight_spread(net, proto).mean_spread == s.mean_spread);

    const auto scatter = weight_scatter_json(w, proto);
    CHECK(scatter[1]["category"] == nlohmann::json({"off", "off", "overlap", "on", "off", "off"}));
    CHECK(scatter[1]["weights"][3] == 0.6);

    CHECK(contains(message_of<invalid_argument>([&] {
                       weight_spread(w, Mat::from_shape({3, 5}));
                   }),
                   "weight_spread: weights have shape (3, 6) but the prototypes have shape (3, 5)"));
    const Mat all_on = {{1, 1}, {0, 1}};
    CHECK(contains(message_of<invalid_argument>([&] {
                       weight_spread(Mat::from_shape({2, 2}), all_on);
                   }),
                   "weight_spread: the prototype of class 0 has 2 ON and 0 OFF pixels"));
    CHECK(message_of<invalid_argument>([&] { weight_spread(net, proto, 1); }) ==
          "weight_spread: layer 1 out of range (network has 1 weight layers)");
    Mat bad = w;
    bad(1, 1) = std::nan("");
    CHECK(contains(message_of<numeric_error>([&] { weight_spread(bad, proto); }), "weight (1, 1) is not finite"));
}

TEST_CASE("Patches: prototypes are the images, a trained one-layer network has positive weight spread")
{
    default_engine eng(6);
    PatchesOptions po;
    po.copies = 20;
    const auto data = make_patches<double>(eng, po);
    const Mat proto = class_prototypes(data.train);
    CHECK(proto == data.test.x);
    const auto cats = pixel_categories(proto);
    std::size_t ex = 0, ov = 0;
    for (auto c : cats[0]) {
        ex += c == PixelCategory::on_exclusive;
        ov += c == PixelCategory::overlap;
    }
    CHECK(ex == 10);
    CHECK(ov == 15);
    DenseNetwork<double> net({100, 4});  // the paper's Patches network: 100 -> 4, ReLU output
    net.initialize(Init::uniform(0.01), eng);
    SgdOptions sgd;
    sgd.epochs = 20;
    sgd.batch_size = 10;
    train(net, data.train, MseLoss{}, sgd, eng);
    CHECK(accuracy(net, data.test) == 1.0);
    const auto s = weight_spread(net, proto);
    for (const auto& c : s.classes) {
        CHECK(c.spread > 0.0);
        CHECK(c.spread_exclusive > c.spread);  // the class's own pixels carry the most weight
    }
    Dataset<double> empty;
    empty.name = "none";
    CHECK(message_of<invalid_argument>([&] { class_prototypes(empty); }) ==
          "class_prototypes: data set 'none' is empty");
}

TEST_CASE("weight grid: tiles in row-major order with padding, per-tile normalization")
{
    Mat w = Mat::from_shape({3, 4});  // 3 units of 2 x 2 images
    for (std::size_t u = 0; u < 3; ++u)
        for (std::size_t p = 0; p < 4; ++p) w(u, p) = 10.0 * u + p;
    const Mat g = weight_grid(w, 2, 2, 2, 1, -1.0);
    REQUIRE(g.shape()[0] == 2 * 3 + 1);
    REQUIRE(g.shape()[1] == 2 * 3 + 1);
    CHECK(g(0, 0) == -1.0);
    CHECK(g(1, 1) == 0.0);
    CHECK(g(1, 2) == 1.0);
    CHECK(g(2, 1) == 2.0);
    CHECK(g(2, 2) == 3.0);
    CHECK(g(1, 4) == 10.0);  // unit 1: second tile of the first grid row
    CHECK(g(5, 2) == 23.0);  // unit 2: first tile of the second row
    CHECK(g(4, 4) == -1.0);  // the empty fourth tile stays padding
    const Mat n = weight_grid(w, 2, 2, 3, 0, 0.0, true);
    CHECK(n.shape()[1] == 6);
    CHECK(n(0, 2) == 0.0);
    CHECK(n(1, 3) == 1.0);
    CHECK(n(0, 1) == doctest::Approx(1.0 / 3));
    CHECK(contains(message_of<invalid_argument>([&] { weight_grid(w, 3, 2); }),
                   "weight_grid: weights of shape (3, 4) cannot be shown as 3 x 2 images"));
}
