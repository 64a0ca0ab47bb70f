#pragma once
// reproduce: accuracy curves of every network (Figs. 1-3: FGSM epsilon, Gaussian noise,
// Gaussian blur) and the Patches weight analyses (Figs. 3D, 4).
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sleepnet/analysis/weights.hpp>
#include <sleepnet/analysis/weights_json.hpp>
#include <sleepnet/attacks/fgsm_curve.hpp>
#include <sleepnet/distort/curves.hpp>
#include <sleepnet/distort/blur.hpp>
#include <sleepnet/distort/curves_json.hpp>
#include <sleepnet/distort/noise.hpp>

#include "common.hpp"
#include "reproduce_parallel.hpp"
#include "reproduce_plots.hpp"
#include "reproduce_setup.hpp"

namespace repro {

struct Curves {
    examples::CurveTable fgsm, noise, blur;  ///< blur: images only
};

/// The curves' x axes: the authors' FGSM grid (step from the plan), noise std 0 : 0.1 : 0.9,
/// blur sigma 0 : 0.25 : 2.5.
inline Curves curve_axes(const Plan& plan)
{
    Curves c;
    for (double e = 0.0; e <= 0.4 + 1e-9; e += plan.fgsm_curve_step) c.fgsm.x.push_back(std::round(e * 1e6) / 1e6);
    for (int i = 0; i <= 9; ++i) c.noise.x.push_back(0.1 * i);
    for (int i = 0; i <= 10; ++i) c.blur.x.push_back(0.25 * i);
    c.fgsm.x_name = "epsilon";
    c.noise.x_name = "noise_std";
    c.blur.x_name = "blur_sigma";
    return c;
}

/// One network's accuracies along the three axes (blur: images only).
struct NetworkCurves {
    std::vector<double> fgsm, noise, blur;
};

/// The evaluated images at every noise level and blur sigma of the axes, made once per run
/// and measured by every network: the noise levels drawn in order from one engine, as
/// noise_accuracy_curve would draw them (level 0: no draw), the blurs as blur_accuracy_curve
/// makes them (reflect border, clipped to [0, 1]).
struct DistortedImages {
    std::vector<sleepnet::matrix<T>> noise, blur;  ///< blur: images only
};

inline DistortedImages distorted_images(const Setup& s, const Curves& c)
{
    DistortedImages d;
    sleepnet::default_engine ne(s.plan.seed + s_noise_curve);
    for (double level : c.noise.x)
        d.noise.push_back(
            sleepnet::gaussian_noise(s.ex, level, sleepnet::NoiseLevel::std_dev, ne, s.bounds.lo, s.bounds.hi));
    for (double sigma : s.images ? c.blur.x : std::vector<double>{})
        d.blur.push_back(sleepnet::gaussian_blur(s.ex, s.side, s.side, sigma));
    return d;
}

/// One network's three curves (`net` is the network of `nw`, or a copy of it).
inline NetworkCurves network_curves(const Setup& s, const Network& nw, const Net& net, const Curves& c,
                                    const DistortedImages& images)
{
    StageBar bar("curves " + nw.key, s.workers > 1);
    const std::size_t total = c.fgsm.x.size() + images.noise.size() + images.blur.size();
    std::size_t done = 0;
    NetworkCurves r;
    sleepnet::FgsmCurveOptions fo;
    fo.loss = s.attack_loss;
    fo.bounds = s.bounds;
    fo.certify.enabled = !s.reference_schedule;  // the certified scan's accuracies are the brute force's
    r.fgsm = sleepnet::fgsm_curve(net, s.ex, s.ey, c.fgsm.x, fo).accuracy;
    done += r.fgsm.size();
    (*bar).update(done, total);
    for (const auto& x : images.noise) {
        r.noise.push_back(sleepnet::accuracy(net, x, s.ey));
        (*bar).update(++done, total);
    }
    for (const auto& x : images.blur) {
        r.blur.push_back(sleepnet::accuracy(net, x, s.ey));
        (*bar).update(++done, total);
    }
    return r;
}

/// Appends a network's curves as series named by its key.
inline void add_curves(const Setup& s, const Network& nw, NetworkCurves r, Curves& c)
{
    c.fgsm.series.push_back(nw.key);
    c.fgsm.values.push_back(std::move(r.fgsm));
    c.noise.series.push_back(nw.key);
    c.noise.values.push_back(std::move(r.noise));
    if (s.images) {
        c.blur.series.push_back(nw.key);
        c.blur.values.push_back(std::move(r.blur));
    }
}

/// Every network's curves, the networks on s.workers threads (reproduce_parallel.hpp),
/// appended in the order of `nets`.
inline void all_curves(const Setup& s, const Networks& nets, Curves& c)
{
    const unsigned workers = s.reference_schedule ? 1 : s.workers;
    const DistortedImages images = distorted_images(s, c);
    std::vector<NetworkCurves> found(nets.list().size());
    std::vector<Piece> pieces;
    for (std::size_t k = 0; k < found.size(); ++k) {
        pieces.push_back({"curves " + nets.list()[k].key, [&, k] {
                              const Network& nw = nets.list()[k];
                              found[k] = network_curves(s, nw, piece_network(nw.net, workers), c, images);
                          }});
    }
    run_pieces(pieces, workers);
    for (std::size_t k = 0; k < found.size(); ++k) add_curves(s, nets.list()[k], std::move(found[k]), c);
}

inline nlohmann::json to_json(const examples::CurveTable& t)
{
    nlohmann::json j;
    j["x_name"] = t.x_name;
    j["x"] = t.x;
    for (std::size_t i = 0; i < t.series.size(); ++i) j["accuracy"][t.series[i]] = t.values[i];
    return j;
}

/// Every network's curves, written as .dat (gnuplot) and .csv; returns results.json "curves".
inline nlohmann::json curves_stage(const Setup& s, const Networks& nets, Curves& c)
{
    all_curves(s, nets, c);
    nlohmann::json j = {{"fgsm", to_json(c.fgsm)}, {"noise", to_json(c.noise)}};
    j["fgsm"]["note"] = "accuracy on clip(x + eps sign(grad)) over all evaluated inputs (misclassified ones stay in "
                        "the denominator)";
    j["noise"]["note"] = "Gaussian noise, levels are standard deviations, clipped to [0, 1]; the same draws for "
                         "every network";
    const std::string& d = s.out_dir;
    examples::write_curve_dat(d + "/fig1_fgsm.dat", c.fgsm);
    examples::write_curve_csv(d + "/fgsm_curve.csv", c.fgsm);
    examples::write_curve_dat(d + "/fig2_noise.dat", c.noise);
    examples::write_curve_csv(d + "/noise_curve.csv", c.noise);
    if (s.images) {
        j["blur"] = to_json(c.blur);
        examples::write_curve_dat(d + "/fig2_blur.dat", c.blur);
        examples::write_curve_csv(d + "/blur_curve.csv", c.blur);
    }
    return j;
}

/// results.json "networks": each network's info, sizes and accuracy on the evaluated rows.
inline nlohmann::json networks_json(const Setup& s, const Networks& nets)
{
    nlohmann::json jn = nlohmann::json::object();
    for (const auto& nw : nets.list()) {
        auto j = nw.info;
        j["title"] = nw.title;
        j["layer_sizes"] = nw.net.layer_sizes();
        j["evaluated_accuracy"] = sleepnet::accuracy(nw.net, s.ex, s.ey);
        jn[nw.key] = j;
    }
    return jn;
}

/// Writes a matrix for gnuplot's `matrix with image` (rows = image rows).
inline void write_matrix_dat(const std::string& path, const sleepnet::matrix<T>& m)
{
    std::ostringstream o;
    o << std::setprecision(7);
    for (std::size_t i = 0; i < m.shape()[0]; ++i) {
        for (std::size_t j = 0; j < m.shape()[1]; ++j) o << (j ? " " : "") << m(i, j);
        o << '\n';
    }
    examples::write_text(path, o.str());
}

/// Fig. 4 data of one network: per output neuron, pixel index, weight and category
/// (0 on, 1 overlap, 2 off).
inline std::string weight_scatter_dat(const Net& net, const sleepnet::matrix<T>& protos)
{
    const auto cat = sleepnet::pixel_categories(protos);
    std::ostringstream sc;
    sc << "# neuron pixel weight category(0=on,1=overlap,2=off)\n";
    for (std::size_t c = 0; c < net.output_size(); ++c) {
        for (std::size_t p = 0; p < net.input_size(); ++p) {
            const int k = cat[c][p] == sleepnet::PixelCategory::on_exclusive ? 0
                          : cat[c][p] == sleepnet::PixelCategory::overlap    ? 1
                                                                             : 2;
            sc << c << ' ' << p << ' ' << net.weights(0)(c, p) << ' ' << k << '\n';
        }
        sc << "\n\n";
    }
    return sc.str();
}

/// Patches weight analyses (Figs. 3D, 4): the spread per network and the data of the
/// weight plots; returns results.json "patches_weights".
inline nlohmann::json patches_weights(const Setup& s, const Networks& nets)
{
    const sleepnet::matrix<T> protos = s.data.test.x;  // the four images, class order
    nlohmann::json jw = nlohmann::json::object();
    std::ostringstream spread_dat;
    spread_dat << "# network mean_spread mean_on mean_overlap mean_off\n";
    std::size_t idx = 0;
    for (const auto& nw : nets.list()) {
        const auto ws = sleepnet::weight_spread(nw.net, protos);
        double on = 0, ov = 0, off = 0;
        for (const auto& c : ws.classes) {
            on += c.mean_exclusive;
            ov += c.mean_overlap;
            off += c.mean_off;
        }
        const double k = static_cast<double>(ws.classes.size());
        spread_dat << idx++ << ' ' << examples::gp_quote(nw.title) << ' ' << ws.mean_spread << ' ' << on / k << ' '
                   << ov / k << ' ' << off / k << '\n';
        jw[nw.key] = {{"spread", nlohmann::json(ws)},
                      {"scatter", sleepnet::weight_scatter_json(nw.net.weights(0), protos)}};
        examples::write_text(s.out_dir + "/fig4_scatter_" + nw.key + ".dat", weight_scatter_dat(nw.net, protos));
        write_matrix_dat(s.out_dir + "/fig4_grid_" + nw.key + ".dat",
                         sleepnet::weight_grid(nw.net.weights(0), s.side, s.side, 4, 1, T(0)));
    }
    examples::write_text(s.out_dir + "/fig3_spread.dat", spread_dat.str());
    write_matrix_dat(s.out_dir + "/patches_images.dat", sleepnet::weight_grid(protos, s.side, s.side, 4, 1, T(0)));
    return jw;
}

}  // namespace repro
