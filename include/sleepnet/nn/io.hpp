#pragma once
// Model directories: the exchange format between sleepnet, its example programs and
// other tools (numpy, PyTorch exports).
//
//   DIR/model.json   {"format": "sleepnet-model", "format_version": 1,
//                     "layer_sizes": [784, 1200, 1200, 10],
//                     "hidden_activation": "relu", "output_activation": "relu" | "linear",
//                     "bias": false, "dropout": 0.2,
//                     "dropout_mode": "scale_at_test" | "inverted",
//                     "dtype": "float32" | "float64"}
//   DIR/W1.npy ...   one weight matrix per layer, shape (out, in), float32 or float64
//   DIR/b1.npy ...   one bias vector per layer, shape (out,), only when "bias" is true
//
// Only "format_version" and "layer_sizes" are required; the rest default to the authors'
// network (ReLU everywhere, no bias, no dropout). Unknown keys are ignored, so tools may
// add their own (the writer adds "test_scale", the factor hidden activations get at test
// time, for readers that do not know the dropout conventions). A directory is written to
// a temporary sibling and renamed into place, so readers never see half a model, and a
// save killed at any point leaves the complete old or new model (core/atomic_dir.hpp).

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/atomic_dir.hpp"
#include "../core/atomic_file.hpp"
#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../data/npy.hpp"
#include "dense_network.hpp"

namespace sleepnet {

constexpr int model_format_version = 1;

/// What model.json says, before any weight is read.
struct ModelInfo {
    std::vector<std::size_t> layer_sizes;
    NetworkOptions options;
    std::string dtype = "float32";  ///< precision the weights are stored in
};

namespace detail {

inline std::string model_json_path(const std::string& dir)
{
    return (std::filesystem::path(dir) / "model.json").string();
}

}  // namespace detail

/// Reads and validates DIR/model.json (after repairing an interrupted save of DIR,
/// core/atomic_dir.hpp).
inline ModelInfo read_model_info(const std::string& dir)
{
    detail::recover_directory(dir, "model.json");
    const std::string file = detail::model_json_path(dir);
    std::ifstream in(file);
    if (!in) {
        throw io_error("cannot open model file '" + file + "' (is '" + dir + "' a model directory?)");
    }
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw format_error(file + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) {
        throw format_error(file + ": expected a JSON object");
    }
    if (!j.contains("format_version")) {
        throw format_error(file + ": missing 'format_version'");
    }
    const int version = detail::json_get<int, format_error>(j, "format_version", 0, file);
    if (version != model_format_version) {
        throw format_error(file + ": unknown format_version " + std::to_string(version) + " (this sleepnet reads " +
                           std::to_string(model_format_version) + ")");
    }
    const std::string format = detail::json_get<std::string, format_error>(j, "format", "sleepnet-model", file);
    if (format != "sleepnet-model") {
        throw format_error(file + ": 'format' is '" + format + "', expected 'sleepnet-model'");
    }
    if (!j.contains("layer_sizes")) {
        throw format_error(file + ": missing 'layer_sizes'");
    }
    ModelInfo info;
    const nlohmann::json& sizes = j.at("layer_sizes");
    if (!sizes.is_array() || sizes.size() < 2) {
        throw format_error(file + ": 'layer_sizes' must be an array of at least 2 entries");
    }
    for (const auto& s : sizes) {  // kind and range checked before any conversion (1e30 is refused)
        const auto v = detail::json_integer<std::int64_t, format_error>(s, "layer_sizes", file);
        if (v <= 0) {
            throw format_error(file + ": 'layer_sizes' entries must be positive, got " + std::to_string(v));
        }
        info.layer_sizes.push_back(static_cast<std::size_t>(v));
    }
    // absent: the defaults of NetworkOptions (relu, relu, scale_at_test)
    info.options.hidden = Activation::relu;
    info.options.output = Activation::relu;
    info.options.dropout_mode = DropoutMode::scale_at_test;
    detail::json_read_enum<Activation, format_error>(j, "hidden_activation", info.options.hidden, file);
    detail::json_read_enum<Activation, format_error>(j, "output_activation", info.options.output, file);
    detail::json_read_enum<DropoutMode, format_error>(j, "dropout_mode", info.options.dropout_mode, file);
    info.options.bias = detail::json_get<bool, format_error>(j, "bias", false, file);
    info.options.dropout = detail::json_get<double, format_error>(j, "dropout", 0.0, file);
    if (!(info.options.dropout >= 0.0 && info.options.dropout < 1.0)) {
        throw format_error(file + ": 'dropout' must be in [0, 1), got " + std::to_string(info.options.dropout));
    }
    info.dtype = detail::json_get<std::string, format_error>(j, "dtype", "", file);
    const std::string w1 = (std::filesystem::path(dir) / "W1.npy").string();
    if (info.dtype.empty()) {
        // not stated: the precision of the first weight file decides
        if (!std::filesystem::exists(w1)) {
            throw io_error("model '" + dir + "': missing weight file '" + w1 + "'");
        }
        const auto header = npy::read_header(w1);
        info.dtype = header.kind == 'f' && header.itemsize == 8 ? "float64" : "float32";
    }
    if (info.dtype != "float32" && info.dtype != "float64") {
        throw format_error(file + ": 'dtype' must be 'float32' or 'float64', got '" + info.dtype + "'");
    }
    return info;
}

namespace detail {

/// Every W<l>.npy exists and its header states the shape model.json implies (out, in):
/// checked from the headers alone, so a model.json with huge layer sizes is refused
/// before anything of that size is allocated.
inline void check_weight_headers(const std::string& dir, const ModelInfo& info)
{
    for (std::size_t l = 0; l + 1 < info.layer_sizes.size(); ++l) {
        const std::string wfile = (std::filesystem::path(dir) / ("W" + std::to_string(l + 1) + ".npy")).string();
        if (!std::filesystem::exists(wfile)) throw io_error("model '" + dir + "': missing weight file '" + wfile + "'");
        const auto h = npy::read_header(wfile);
        const std::size_t out = info.layer_sizes[l + 1], in = info.layer_sizes[l];
        if (h.shape.size() != 2 || h.shape[0] != out || h.shape[1] != in) {
            std::string shape;
            for (auto d : h.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
            throw format_error("model file '" + wfile + "' has shape (" + shape + "), model.json says (" +
                               std::to_string(out) + ", " + std::to_string(in) + ") (out x in)");
        }
    }
}

}  // namespace detail

/// Loads a model directory into a DenseNetwork<T> (weights converted to T). Missing
/// files, wrong shapes and non-finite values are errors naming the file.
template <class T = float>
inline DenseNetwork<T> load_model(const std::string& dir)
{
    const ModelInfo info = read_model_info(dir);
    detail::check_weight_headers(dir, info);  // before the network allocates its layers
    DenseNetwork<T> net(info.layer_sizes, info.options);
    const auto path = std::filesystem::path(dir);
    auto check_finite = [](const auto& a, const std::string& file) {
        for (auto v : a) {
            if (!std::isfinite(static_cast<double>(v))) {
                throw numeric_error("model file '" + file + "' contains non-finite values");
            }
        }
    };
    for (std::size_t l = 0; l < net.num_layers(); ++l) {
        const std::string wfile = (path / ("W" + std::to_string(l + 1) + ".npy")).string();
        if (!std::filesystem::exists(wfile)) {
            throw io_error("model '" + dir + "': missing weight file '" + wfile + "'");
        }
        auto w = npy::load<T, 2>(wfile);
        const std::size_t out = info.layer_sizes[l + 1];
        const std::size_t in = info.layer_sizes[l];
        if (w.shape()[0] != out || w.shape()[1] != in) {
            throw format_error("model file '" + wfile + "' has shape " + detail::shape_string(w) +
                               ", model.json says (" + std::to_string(out) + ", " + std::to_string(in) +
                               ") (out x in)");
        }
        check_finite(w, wfile);
        net.weights(l) = std::move(w);
        if (info.options.bias) {
            const std::string bfile = (path / ("b" + std::to_string(l + 1) + ".npy")).string();
            if (!std::filesystem::exists(bfile)) {
                throw io_error("model '" + dir + "': 'bias' is true but '" + bfile + "' is missing");
            }
            auto b = npy::load<T, 1>(bfile);
            if (b.shape()[0] != out) {
                throw format_error("model file '" + bfile + "' has shape " + detail::shape_string(b) + ", expected (" +
                                   std::to_string(out) + ",)");
            }
            check_finite(b, bfile);
            net.bias(l) = std::move(b);
        }
    }
    // a leftover weight file beyond the stated layers means model.json and the files disagree
    const std::string extra = (path / ("W" + std::to_string(net.num_layers() + 1) + ".npy")).string();
    if (std::filesystem::exists(extra)) {
        throw format_error("model '" + dir + "': found '" + extra + "' but model.json states " +
                           std::to_string(net.num_layers()) + " weight layers");
    }
    return net;
}

namespace detail {

/// model.json of `net` (what save_model writes).
template <class T>
inline nlohmann::json model_json(const DenseNetwork<T>& net)
{
    const auto& opt = net.options();
    nlohmann::json j;
    j["format"] = "sleepnet-model";
    j["format_version"] = model_format_version;
    j["layer_sizes"] = net.layer_sizes();
    j["hidden_activation"] = to_string(opt.hidden);
    j["output_activation"] = to_string(opt.output);
    j["bias"] = opt.bias;
    j["dropout"] = opt.dropout;
    j["dropout_mode"] = to_string(opt.dropout_mode);
    j["test_scale"] = static_cast<double>(net.test_scale());
    j["dtype"] = std::is_same<T, double>::value ? "float64" : "float32";
    return j;
}

}  // namespace detail

/// Writes `net` as a model directory at `dir`, replacing an existing one, crash-consistently
/// (core/atomic_dir.hpp): the files go to a temporary sibling, model.json last, which is
/// renamed into place; a save interrupted at any point leaves the complete old or the
/// complete new model once the directory is next opened (load_model, read_model_info,
/// save_model recover it and remove leftovers of interrupted saves).
template <class T>
inline void save_model(const DenseNetwork<T>& net, const std::string& dir)
{
    namespace fs = std::filesystem;
    net.validate();
    const fs::path target = fs::path(dir);
    if (target.empty()) throw invalid_argument("save_model: empty directory name");
    std::error_code ec;
    if (target.has_parent_path()) {
        fs::create_directories(target.parent_path(), ec);
        if (ec) throw io_error("save_model: cannot create '" + target.parent_path().string() + "': " + ec.message());
    }
    if (fs::exists(target) && !fs::is_directory(target))
        throw io_error("save_model: '" + dir + "' exists and is not a directory");
    try {
        detail::replace_directory(dir, "model.json", [&](const fs::path& tmp) {
            for (std::size_t l = 0; l < net.num_layers(); ++l) {
                const std::string w = "W" + std::to_string(l + 1) + ".npy";
                npy::save((tmp / w).string(), net.weights(l));
                detail::directory_step(w.c_str());
                if (net.options().bias) npy::save((tmp / ("b" + std::to_string(l + 1) + ".npy")).string(), net.bias(l));
            }
            detail::write_file_atomically((tmp / "model.json").string(),
                                          [&](std::ostream& out) { out << detail::model_json(net).dump(2) << '\n'; });
        });
    } catch (const io_error& e) {
        throw io_error(std::string("save_model: ") + e.what());
    }
}

}  // namespace sleepnet
