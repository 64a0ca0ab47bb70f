#pragma once
// Shared bits of the example programs: the progress bar on stderr, JSON result files,
// per-data-set defaults (paper Table 2), precision dispatch and the refit flags.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <sleepnet/attacks/common.hpp>
#include <sleepnet/attacks/common_json.hpp>
#include <sleepnet/callbacks/progress_bar.hpp>
#include <sleepnet/core/atomic_file.hpp>
#include <sleepnet/core/json.hpp>
#include <sleepnet/nn/train.hpp>
#include <sleepnet/snn/refit.hpp>
#include <sleepnet/snn/refit_json.hpp>

#include "outputs.hpp"

namespace examples {

/// Paper Table 2: the control network of each data set.
struct DatasetDefaults {
    std::vector<std::size_t> hidden;
    double dropout;
    std::size_t epochs;
};

inline DatasetDefaults defaults_for(const std::string& dataset)
{
    if (dataset == "patches") return {{}, 0.0, 1};
    if (dataset == "features" || dataset == "synthetic-features") return {{350, 300}, 0.25, 100};
    return {{1200, 1200}, 0.2, 2};  // mnist, fashion
}

/// The library's ProgressBar on stderr: redrawn in place on a terminal, a line every 10%
/// otherwise (CI logs).
inline sleepnet::ProgressBar progress_bar(std::string label)
{
    sleepnet::ProgressBarOptions o;
    o.tty = ::isatty(2) != 0;
    return sleepnet::ProgressBar(std::cerr, std::move(label), o);
}

/// Writes j to `path` atomically, creating its missing parent directories.
inline void write_json(const std::string& path, const nlohmann::json& j)
{
    make_parent_directories(path);
    sleepnet::detail::write_file_atomically(path, [&](std::ostream& out) { out << j.dump(2) << '\n'; });
}

/// Saves a program's main output (save(), e.g. a save_model call) and its optional --json
/// summary `j` together: the JSON is written in full under a temporary name first and moved
/// into place only after save() succeeded, so a failure of either leaves neither new file.
/// A JSON inside `replaced_dir` (the directory save() replaces as a whole, which would take
/// the staged file with it) is written after save(), as before.
template <class Save>
inline void save_with_json(const std::string& json_path, const nlohmann::json& j, const std::string& replaced_dir,
                           Save&& save)
{
    if (!json_path.empty() && !replaced_dir.empty() && is_inside(json_path, replaced_dir)) {
        save();
        write_json(json_path, j);
        return;
    }
    std::optional<StagedFile> staged;
    if (!json_path.empty()) staged.emplace(json_path, j.dump(2) + '\n');
    save();
    if (staged) staged->commit();
}

/// Runs `body.template operator()<T>()` with T = float or double according to `dtype`.
template <class Body>
inline int with_precision(const std::string& dtype, Body&& body)
{
    if (dtype == "float64") return body(double{});
    if (dtype == "float32") return body(float{});
    throw sleepnet::invalid_argument("unknown dtype '" + dtype + "' (expected float32 or float64)");
}

/// Runs main_body and turns sleepnet errors into a message and exit code 1.
template <class F>
inline int guarded(const char* program, F&& main_body)
{
    try {
        return main_body();
    } catch (const std::exception& e) {
        std::cerr << program << ": error: " << e.what() << '\n';
        return 1;
    }
}

/// j["rows"], j["attempted"], j["successes"]: one row per sample of an attack result,
/// indices shifted by `offset` (the first test input attacked).
template <class Result>
inline void attack_rows(nlohmann::json& j, const Result& r, std::size_t offset)
{
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& s : r.samples) {
        nlohmann::json row = s;
        row["index"] = s.index + offset;
        rows.push_back(row);
    }
    j["rows"] = rows;
    j["attempted"] = r.attempted();
    j["successes"] = r.successes();
}

/// The refit flags of sleep and tune: --refit, --no-refit (sleep only) and the overrides
/// --refit-epochs, --refit-frozen and --refit-lr, each of which implies --refit (0 = not given).
struct RefitFlags {
    bool refit = false, no_refit = false;
    std::size_t epochs = 0, frozen = 0;
    double lr = 0.0;

    bool overridden() const { return epochs > 0 || frozen > 0 || lr > 0.0; }
    /// --refit or an override.
    bool requested() const { return refit || overridden(); }
};

/// The program's wording of the refit flags.
struct RefitFlagsHelp {
    std::string refit;           ///< help of --refit
    std::string no_refit;        ///< help of --no-refit; empty: the program has no --no-refit
    bool show_defaults = false;  ///< name the library's defaults in the overrides' help
};

/// Adds --refit, --no-refit (when help.no_refit is set) and the overrides, in this order.
inline void add_refit_flags(CLI::App& app, RefitFlags& f, const RefitFlagsHelp& help)
{
    auto implies = [&](const char* what, const char* fallback) {
        return std::string("refit: ") + what + " (" +
               (help.show_defaults ? std::string("default ") + fallback + "; " : "") + "implies --refit)";
    };
    app.add_flag("--refit", f.refit, help.refit);
    if (!help.no_refit.empty()) app.add_flag("--no-refit", f.no_refit, help.no_refit);
    app.add_option("--refit-epochs", f.epochs, implies("epochs", "2"));
    app.add_option("--refit-frozen", f.frozen, implies("leading layers kept frozen", "1"));
    app.add_option("--refit-lr", f.lr, implies("learning rate", "0.05"));
}

/// The refit the flags ask for on top of `base` (e.g. a parameter file's): none with
/// --no-refit, the library's defaults (seed 1) when only the flags ask for one, with the
/// overrides applied. Not validated.
inline std::optional<sleepnet::RefitPlan> refit_plan(const RefitFlags& f,
                                                     std::optional<sleepnet::RefitPlan> base = std::nullopt)
{
    if (f.no_refit && f.requested())
        throw sleepnet::invalid_argument(
            "--no-refit contradicts --refit / --refit-epochs / --refit-frozen / --refit-lr");
    if (f.no_refit) return std::nullopt;
    if (f.requested() && !base) base = sleepnet::RefitPlan{};
    if (base) {
        if (f.epochs > 0) base->options.sgd.epochs = f.epochs;
        if (f.frozen > 0) base->options.sgd.frozen_layers = f.frozen;
        if (f.lr > 0.0) base->options.sgd.learning_rate = f.lr;
    }
    return base;
}

}  // namespace examples
