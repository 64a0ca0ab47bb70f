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
// load_model_memory reads the same files from memory (ModelFiles) through the same checks.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/atomic_dir.hpp"
#include "../core/atomic_file.hpp"
#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../core/read_limits.hpp"
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

/// The files of a model directory held in memory (load_model_memory): the text of
/// model.json and the bytes of the .npy files by name ("W1.npy", "b1.npy", ...).
struct ModelFiles {
    std::string model_json;
    std::map<std::string, std::string> npy;
};

namespace detail {

inline std::string model_json_path(const std::string& dir)
{
    return (std::filesystem::path(dir) / "model.json").string();
}

/// Where the loaders find the .npy files of a model: the directory `dir` ...
struct model_directory {
    std::string dir;

    std::string path(const std::string& file) const { return (std::filesystem::path(dir) / file).string(); }
    bool has(const std::string& file) const { return std::filesystem::exists(path(file)); }
    npy::Header header(const std::string& file) const { return npy::read_header(path(file)); }
    template <class T, std::size_t N>
    xt::xtensor<T, N> load(const std::string& file, const ReadLimits& limits) const
    {
        return npy::load<T, N>(path(file), limits);
    }
};

/// ... or files in memory, named in errors as if they were in a directory `dir`.
struct model_memory {
    const ModelFiles& files;
    std::string dir;

    std::string path(const std::string& file) const { return (std::filesystem::path(dir) / file).string(); }
    bool has(const std::string& file) const { return files.npy.count(file) > 0; }
    npy::Header header(const std::string& file) const
    {
        const std::string& bytes = files.npy.at(file);
        return npy::read_header_memory(bytes.data(), bytes.size(), path(file));
    }
    template <class T, std::size_t N>
    xt::xtensor<T, N> load(const std::string& file, const ReadLimits& limits) const
    {
        const std::string& bytes = files.npy.at(file);
        return npy::load_memory<T, N>(bytes.data(), bytes.size(), path(file), limits);
    }
};

/// model.json's text as JSON (read as a stream: what follows the first value is ignored).
inline nlohmann::json parse_model_json(const std::string& text, const std::string& file)
{
    nlohmann::json j;
    std::istringstream in(text);
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw format_error(file + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) {
        throw format_error(file + ": expected a JSON object");
    }
    return j;
}

/// The keys of model.json (all but "dtype" when it is absent) into a ModelInfo.
inline ModelInfo model_info_fields(const nlohmann::json& j, const std::string& file)
{
    if (!j.contains("format_version")) {
        throw format_error(file + ": missing 'format_version'");
    }
    const int version = json_get<int, format_error>(j, "format_version", 0, file);
    if (version != model_format_version) {
        throw format_error(file + ": unknown format_version " + std::to_string(version) + " (this sleepnet reads " +
                           std::to_string(model_format_version) + ")");
    }
    const std::string format = json_get<std::string, format_error>(j, "format", "sleepnet-model", file);
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
        const auto v = json_integer<std::int64_t, format_error>(s, "layer_sizes", file);
        if (v <= 0) {
            throw format_error(file + ": 'layer_sizes' entries must be positive, got " + std::to_string(v));
        }
        info.layer_sizes.push_back(static_cast<std::size_t>(v));
    }
    // absent: the defaults of NetworkOptions (relu, relu, scale_at_test)
    info.options.hidden = Activation::relu;
    info.options.output = Activation::relu;
    info.options.dropout_mode = DropoutMode::scale_at_test;
    json_read_enum<Activation, format_error>(j, "hidden_activation", info.options.hidden, file);
    json_read_enum<Activation, format_error>(j, "output_activation", info.options.output, file);
    json_read_enum<DropoutMode, format_error>(j, "dropout_mode", info.options.dropout_mode, file);
    info.options.bias = json_get<bool, format_error>(j, "bias", false, file);
    info.options.dropout = json_get<double, format_error>(j, "dropout", 0.0, file);
    if (!(info.options.dropout >= 0.0 && info.options.dropout < 1.0)) {
        throw format_error(file + ": 'dropout' must be in [0, 1), got " + std::to_string(info.options.dropout));
    }
    info.dtype = json_get<std::string, format_error>(j, "dtype", "", file);
    return info;
}

/// Reads and validates the text of model.json of the model `dir` whose files `src` holds.
template <class Source>
inline ModelInfo model_info_from(const std::string& text, const Source& src, const std::string& dir)
{
    const std::string file = model_json_path(dir);
    ModelInfo info = model_info_fields(parse_model_json(text, file), file);
    if (info.dtype.empty()) {
        // not stated: the precision of the first weight file decides
        if (!src.has("W1.npy")) {
            throw io_error("model '" + dir + "': missing weight file '" + src.path("W1.npy") + "'");
        }
        const auto header = src.header("W1.npy");
        info.dtype = header.kind == 'f' && header.itemsize == 8 ? "float64" : "float32";
    }
    if (info.dtype != "float32" && info.dtype != "float64") {
        throw format_error(file + ": 'dtype' must be 'float32' or 'float64', got '" + info.dtype + "'");
    }
    return info;
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
    std::ostringstream text;
    text << in.rdbuf();
    return detail::model_info_from(text.str(), detail::model_directory{dir}, dir);
}

/// read_model_info on files in memory, named in errors as if they were in a directory `dir`.
inline ModelInfo read_model_info_memory(const ModelFiles& files, const std::string& dir = "<memory>")
{
    return detail::model_info_from(files.model_json, detail::model_memory{files, dir}, dir);
}

namespace detail {

/// Every W<l>.npy exists and its header states the shape model.json implies (out, in):
/// layer by layer, the size model.json implies against the cap, then the header alone (whose
/// data size is checked against the file's size), so a model.json with huge layer sizes is
/// refused before anything of that size is allocated.
template <class Source>
inline void check_weight_headers(const Source& src, const std::string& dir, const ModelInfo& info,
                                 const ReadLimits& limits)
{
    for (std::size_t l = 0; l + 1 < info.layer_sizes.size(); ++l) {
        const std::string w = "W" + std::to_string(l + 1) + ".npy", wfile = src.path(w);
        check_element_cap({info.layer_sizes[l + 1], info.layer_sizes[l]}, limits,
                          model_json_path(dir) + ": 'layer_sizes' give " + w);
        if (!src.has(w)) throw io_error("model '" + dir + "': missing weight file '" + wfile + "'");
        const auto h = src.header(w);
        const std::size_t out = info.layer_sizes[l + 1], in = info.layer_sizes[l];
        if (h.shape.size() != 2 || h.shape[0] != out || h.shape[1] != in) {
            std::string shape;
            for (auto d : h.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
            throw format_error("model file '" + wfile + "' has shape (" + shape + "), model.json says (" +
                               std::to_string(out) + ", " + std::to_string(in) + ") (out x in)");
        }
    }
}

template <class A>
inline void check_finite_file(const A& a, const std::string& file)
{
    for (auto v : a) {
        if (!std::isfinite(static_cast<double>(v))) {
            throw numeric_error("model file '" + file + "' contains non-finite values");
        }
    }
}

/// Reads layer l's weights (and bias) from src into net, checking shapes and values.
template <class T, class Source>
inline void load_layer(DenseNetwork<T>& net, std::size_t l, const Source& src, const std::string& dir,
                       const ModelInfo& info, const ReadLimits& limits)
{
    const std::string w = "W" + std::to_string(l + 1) + ".npy", wfile = src.path(w);
    if (!src.has(w)) {
        throw io_error("model '" + dir + "': missing weight file '" + wfile + "'");
    }
    auto weights = src.template load<T, 2>(w, limits);
    const std::size_t out = info.layer_sizes[l + 1];
    const std::size_t in = info.layer_sizes[l];
    if (weights.shape()[0] != out || weights.shape()[1] != in) {
        throw format_error("model file '" + wfile + "' has shape " + shape_string(weights) + ", model.json says (" +
                           std::to_string(out) + ", " + std::to_string(in) + ") (out x in)");
    }
    check_finite_file(weights, wfile);
    net.weights(l) = std::move(weights);
    if (info.options.bias) {
        const std::string b = "b" + std::to_string(l + 1) + ".npy", bfile = src.path(b);
        if (!src.has(b)) {
            throw io_error("model '" + dir + "': 'bias' is true but '" + bfile + "' is missing");
        }
        auto bias = src.template load<T, 1>(b, limits);
        if (bias.shape()[0] != out) {
            throw format_error("model file '" + bfile + "' has shape " + shape_string(bias) + ", expected (" +
                               std::to_string(out) + ",)");
        }
        check_finite_file(bias, bfile);
        net.bias(l) = std::move(bias);
    }
}

/// The network of the model `dir` (model.json already read into info) from src's files.
template <class T, class Source>
inline DenseNetwork<T> load_model_from(const Source& src, const std::string& dir, const ModelInfo& info,
                                       const ReadLimits& limits)
{
    check_weight_headers(src, dir, info, limits);  // before the network allocates its layers
    DenseNetwork<T> net(info.layer_sizes, info.options);
    for (std::size_t l = 0; l < net.num_layers(); ++l) load_layer(net, l, src, dir, info, limits);
    // a leftover weight file beyond the stated layers means model.json and the files disagree
    const std::string extra = "W" + std::to_string(net.num_layers() + 1) + ".npy";
    if (src.has(extra)) {
        throw format_error("model '" + dir + "': found '" + src.path(extra) + "' but model.json states " +
                           std::to_string(net.num_layers()) + " weight layers");
    }
    return net;
}

}  // namespace detail

/// Loads a model directory into a DenseNetwork<T> (weights converted to T). Missing
/// files, wrong shapes and non-finite values are errors naming the file; a weight matrix of
/// more than limits.max_elements elements is a limit_error (from model.json, before
/// anything is read).
template <class T = float>
inline DenseNetwork<T> load_model(const std::string& dir, const ReadLimits& limits = {})
{
    const ModelInfo info = read_model_info(dir);
    return detail::load_model_from<T>(detail::model_directory{dir}, dir, info, limits);
}

/// load_model on files in memory (the same checks and messages), named in errors as if
/// they were in a directory `dir`.
template <class T = float>
inline DenseNetwork<T> load_model_memory(const ModelFiles& files, const std::string& dir = "<memory>",
                                         const ReadLimits& limits = {})
{
    const ModelInfo info = read_model_info_memory(files, dir);
    return detail::load_model_from<T>(detail::model_memory{files, dir}, dir, info, limits);
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
