#pragma once
// reproduce: several independently trained controls (--seeds N), shards of them (--shard
// i/N, e.g. a job array) and reading their directories back for the aggregate (--merge).
//
// Seed run i (0-based) uses the base seed `--seed + i * seed_stride` and writes
// OUT/seed-<its base seed>/ exactly as `reproduce --seed <its base seed> --out
// OUT/seed-<...>` would. The stride is larger than every stage offset (plan.hpp), so no
// two seed runs share an engine seed. A seed directory is complete once its results.json
// exists (it is written last, atomically).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <sleepnet/core/error.hpp>
#include <sleepnet/core/json.hpp>

#include "reproduce_plan.hpp"

namespace repro {

/// Seed run i uses base seed `seed + i * seed_stride`.
constexpr std::uint64_t seed_stride = 100;
static_assert(s_strong < seed_stride, "a seed run's stage seeds must not reach the next seed run's");

inline std::uint64_t seed_of(std::uint64_t base, std::size_t i) { return base + i * seed_stride; }

inline std::string seed_dir_name(std::uint64_t seed) { return "seed-" + std::to_string(seed); }

/// --shard i/N: this process runs the seed runs whose index % N == i.
struct Shard {
    std::size_t index = 0;
    std::size_t count = 1;
};

inline Shard parse_shard(const std::string& text)
{
    const auto bad = [&] {
        return sleepnet::invalid_argument("--shard must be i/N with 0 <= i < N (e.g. 0/3), got '" + text + "'");
    };
    const auto slash = text.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) throw bad();
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    if (a.find_first_not_of("0123456789") != std::string::npos ||
        b.find_first_not_of("0123456789") != std::string::npos)
        throw bad();
    Shard s;
    try {
        s.index = std::stoul(a);
        s.count = std::stoul(b);
    } catch (const std::exception&) {
        throw bad();
    }
    if (s.count == 0 || s.index >= s.count) throw bad();
    return s;
}

/// The indices of the seed runs of a shard.
inline std::vector<std::size_t> shard_indices(std::size_t seeds, const Shard& sh)
{
    std::vector<std::size_t> r;
    for (std::size_t i = sh.index; i < seeds; i += sh.count) r.push_back(i);
    return r;
}

/// What must be the same in every seed directory of a merge: the plan (the seed aside),
/// the Table 1 notes (they name FGSM's gradient) and where the sleep parameters came from.
struct RunConfig {
    nlohmann::json plan;  ///< from the merge's own options
    nlohmann::json notes;
    std::string sleep_origin;
};

/// Where a run's sleep parameters came from ("file PATH" or "preset NAME"), before a search
/// refined them and without the " + refit" that a refitting file adds.
inline std::string sleep_origin(const nlohmann::json& results)
{
    const auto& sl = results.at("networks").at("sleep");
    if (sl.contains("tune")) return sl.at("tune").at("started_from").get<std::string>();
    std::string src = sl.at("params_source").get<std::string>();
    const std::string refit = " + refit";
    if (src.size() > refit.size() && src.compare(src.size() - refit.size(), refit.size(), refit) == 0)
        src.resize(src.size() - refit.size());
    return src;
}

/// "" if a == b, else the first key path where they differ and both values.
inline std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& path = "")
{
    if (a.is_object() && b.is_object()) {
        for (auto it = a.begin(); it != a.end(); ++it) {
            const std::string p = path.empty() ? it.key() : path + "." + it.key();
            if (!b.contains(it.key())) return p + ": " + it.value().dump() + " there, absent here";
            const std::string d = first_difference(it.value(), b.at(it.key()), p);
            if (!d.empty()) return d;
        }
        for (auto it = b.begin(); it != b.end(); ++it)
            if (!a.contains(it.key()))
                return (path.empty() ? it.key() : path + "." + it.key()) + ": absent there, " + it.value().dump() +
                       " here";
        return "";
    }
    if (a == b) return "";
    return (path.empty() ? std::string("value") : path) + ": " + a.dump() + " there, " + b.dump() + " here";
}

inline nlohmann::json plan_without(nlohmann::json plan, std::initializer_list<const char*> keys)
{
    for (const char* k : keys) plan.erase(k);
    return plan;
}

/// Reads and checks one seed directory's results.json.
inline nlohmann::json load_seed_run(const std::string& out_dir, std::uint64_t seed, std::size_t i, std::size_t n)
{
    namespace fs = std::filesystem;
    const std::string dir = out_dir + "/" + seed_dir_name(seed);
    const std::string what = "reproduce --merge: seed run " + std::to_string(i) + " of " + std::to_string(n) +
                             " (seed " + std::to_string(seed) + ", " + dir + ")";
    if (!fs::is_directory(dir))
        throw sleepnet::invalid_argument(what + " is missing: run it first (e.g. --shard " + std::to_string(i) + "/" +
                                         std::to_string(n) + ")");
    const std::string path = dir + "/results.json";
    if (!fs::exists(path))
        throw sleepnet::invalid_argument(what + " is incomplete: no results.json (the run did not finish)");
    nlohmann::json j;
    try {
        std::ifstream in(path);
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw sleepnet::invalid_argument(what + ": results.json does not parse: " + e.what());
    }
    for (const char* k : {"plan", "data", "table1", "checks", "table1_notes", "curves", "networks"})
        if (!j.contains(k)) throw sleepnet::invalid_argument(what + " is incomplete: results.json has no '" + k + "'");
    const auto got = sleepnet::detail::json_get<std::uint64_t>(j.at("plan"), "seed", 0, what + ": results.json plan");
    if (got != seed)
        throw sleepnet::invalid_argument(what + ": results.json says seed " + std::to_string(got) + ", expected " +
                                         std::to_string(seed));
    return j;
}

/// Every seed run's results.json, checked against `cfg` and against each other; throws
/// naming the directory and the first difference.
inline std::vector<nlohmann::json> load_seed_runs(const std::string& out_dir, std::uint64_t base, std::size_t n,
                                                  const RunConfig& cfg)
{
    std::vector<nlohmann::json> runs;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t seed = seed_of(base, i);
        auto j = load_seed_run(out_dir, seed, i, n);
        const std::string dir = out_dir + "/" + seed_dir_name(seed);
        const auto fail = [&](const std::string& what, const std::string& diff) {
            return sleepnet::invalid_argument("reproduce --merge: " + dir + " was made with a different " + what +
                                              " (" + diff + "); merge only runs of the same options");
        };
        // the plan's finetune_replace is set from the data once loaded: compared between seeds only
        const auto mine = plan_without(j.at("plan"), {"seed", "finetune_replace"});
        std::string d = first_difference(mine, plan_without(cfg.plan, {"seed", "finetune_replace"}));
        if (!d.empty()) throw fail("plan", d);
        if (!(d = first_difference(j.at("table1_notes"), cfg.notes)).empty()) throw fail("FGSM loss", d);
        if (sleep_origin(j) != cfg.sleep_origin)
            throw fail("sleep parameter source", "'" + sleep_origin(j) + "' there, '" + cfg.sleep_origin + "' here");
        if (!runs.empty()) {
            const auto& r0 = runs.front();
            if (!(d = first_difference(plan_without(j.at("plan"), {"seed"}), plan_without(r0.at("plan"), {"seed"})))
                     .empty())
                throw fail("plan than seed run 0", d);
            if (!(d = first_difference(j.at("data"), r0.at("data"))).empty()) throw fail("data than seed run 0", d);
        }
        runs.push_back(std::move(j));
    }
    return runs;
}

}  // namespace repro
