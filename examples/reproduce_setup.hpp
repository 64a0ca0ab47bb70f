#pragma once
// reproduce: what every stage reads (the plan, the data, the input bounds, the evaluated
// rows) and the networks the stages add.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include <sleepnet/attacks/common.hpp>
#include <sleepnet/data/load.hpp>
#include <sleepnet/nn/train.hpp>

#include "common.hpp"
#include "reproduce_plan.hpp"

namespace repro {

using T = float;
using Net = sleepnet::DenseNetwork<T>;
using Clock = std::chrono::steady_clock;

inline double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

inline sleepnet::matrix<T> rows_of(const sleepnet::matrix<T>& x, std::size_t n)
{
    return xt::view(x, xt::range(0, n), xt::all());
}
inline sleepnet::label_vector rows_of(const sleepnet::label_vector& y, std::size_t n)
{
    return xt::view(y, xt::range(0, n));
}

/// What every stage reads.
struct Setup {
    Plan plan;
    std::string out_dir;
    sleepnet::DataSplits<T> data;
    sleepnet::Bounds bounds;  ///< [0, 1] for images, the data's own range for feature vectors
    std::size_t side = 0;     ///< image side (images only)
    bool images = false;
    sleepnet::matrix<T> ex;  ///< the evaluated test rows
    sleepnet::label_vector ey;
    std::vector<std::size_t> sizes;  ///< layer sizes of every network
    examples::DatasetDefaults defaults;
    sleepnet::AttackLoss attack_loss = sleepnet::AttackLoss::network;  ///< FGSM's gradient (--fgsm-loss)
    /// Threads for the independent pieces of a stage (reproduce_parallel.hpp); outputs do not depend on it.
    unsigned workers = 1;
    /// The schedule of before issue 15 (pieces one after the other, Table 1's attacks in small
    /// chunks): the same outputs, slower; kept for bench/reproduce_stages and the tests.
    bool reference_schedule = false;

    bool patches() const { return plan.dataset == "patches"; }
};

/// The smallest range holding both splits (feature vectors).
inline sleepnet::Bounds data_bounds(const sleepnet::DataSplits<T>& d)
{
    sleepnet::Bounds b;
    b.lo = std::min(*std::min_element(d.train.x.begin(), d.train.x.end()),
                    *std::min_element(d.test.x.begin(), d.test.x.end()));
    b.hi = std::max(*std::max_element(d.train.x.begin(), d.train.x.end()),
                    *std::max_element(d.test.x.begin(), d.test.x.end()));
    if (!(b.hi > b.lo)) b.hi = b.lo + 1.0;
    return b;
}

/// Loads (or, for Patches, draws) the data and derives what the stages share.
inline Setup load_setup(Plan plan, const std::string& data_dir, const std::string& out_dir)
{
    Setup s;
    const std::string& ds = plan.dataset;
    if (ds == "patches") {
        sleepnet::default_engine e(plan.seed + s_data);
        sleepnet::PatchesOptions po;
        po.copies = plan.patches_copies;
        s.data = sleepnet::make_patches<T>(e, po);
        plan.finetune_replace = s.data.train.size() / 12;  // the authors' 5,000 of 60,000
    } else {
        s.data = sleepnet::load_dataset<T>(ds, data_dir, plan.seed + s_data);
    }
    auto& train = s.data.train;
    if (plan.train_limit > 0 && plan.train_limit < train.size()) {
        train.x = rows_of(train.x, plan.train_limit);
        train.y = rows_of(train.y, plan.train_limit);
    }
    const std::size_t n_eval =
        plan.eval_count == 0 ? s.data.test.size() : std::min(plan.eval_count, s.data.test.size());
    s.ex = rows_of(s.data.test.x, n_eval);
    s.ey = rows_of(s.data.test.y, n_eval);
    s.side = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(s.data.test.dim()))));
    s.images = s.side * s.side == s.data.test.dim() && ds != "features" && ds != "synthetic-features";
    if (!s.images) s.bounds = data_bounds(s.data);
    s.defaults = examples::defaults_for(ds);
    s.sizes = {train.dim()};
    for (auto h : s.defaults.hidden) s.sizes.push_back(h);
    s.sizes.push_back(train.classes);
    s.plan = std::move(plan);
    s.out_dir = out_dir;
    return s;
}

inline nlohmann::json to_json(const Setup& s)
{
    return {{"name", s.data.train.name},           {"train", s.data.train.size()},    {"test", s.data.test.size()},
            {"dim", s.data.train.dim()},           {"classes", s.data.train.classes}, {"evaluated", s.ex.shape()[0]},
            {"bounds", {s.bounds.lo, s.bounds.hi}}};
}

struct Network {
    std::string key;    ///< control, distilled, ft_fgsm, ...
    std::string title;  ///< for tables and plot legends
    Net net;
    nlohmann::json info;
};

/// The networks of a run, in the order the stages made them.
class Networks {
public:
    explicit Networks(const sleepnet::Dataset<T>& test) : test_(&test) {}

    /// Adds a network; its test accuracy goes into its info and onto stderr.
    void add(std::string key, std::string title, Net n, nlohmann::json info)
    {
        info["test_accuracy"] = sleepnet::accuracy(n, *test_);
        std::fprintf(stderr, "reproduce: %s: test accuracy %.4f\n", title.c_str(), info["test_accuracy"].get<double>());
        list_.push_back({std::move(key), std::move(title), std::move(n), std::move(info)});
    }
    const Network* find(const std::string& key) const
    {
        for (const auto& n : list_)
            if (n.key == key) return &n;
        return nullptr;
    }
    const Network& at(const std::string& key) const
    {
        const Network* n = find(key);
        if (!n) throw sleepnet::invalid_argument("reproduce: no network '" + key + "'");
        return *n;
    }
    const std::deque<Network>& list() const { return list_; }

private:
    const sleepnet::Dataset<T>* test_;
    std::deque<Network> list_;  ///< a deque: references to networks stay valid as stages add more
};

/// Seconds per stage (results.json "seconds").
class StageTimes {
public:
    /// Runs f() and records its wall time under `stage`.
    template <class F>
    auto time(const std::string& stage, F&& f)
    {
        const auto t0 = Clock::now();
        if constexpr (std::is_void_v<decltype(f())>) {
            f();
            json_[stage] = since(t0);
        } else {
            auto r = f();
            json_[stage] = since(t0);
            return r;
        }
    }
    nlohmann::json json() const { return json_; }

private:
    nlohmann::json json_ = nlohmann::json::object();
};

}  // namespace repro
