#pragma once
// Class-incremental task splits of a labelled data set, and rehearsal buffers (the
// continual-learning setting of Tadros et al., Nature Communications 2022, "Sleep-like
// unsupervised replay reduces catastrophic forgetting"; continual/continual.hpp).
//
//   ClassTaskOptions o;                 // classes_per_task 2: {0,1}, {2,3}, ... in class order
//   o.max_per_task = 5000;              // the release: the first 5,000 images of each task
//   TaskSplit split = class_tasks(train.y, train.classes, o, engine);
//   TaskSplit test_split = class_tasks(test.y, split.classes);   // the same classes, all rows
//
// A task's rows are indices into the data set in data set order (the release takes
// `find(tasks == i)(1:5000)`: no shuffle); the cap keeps the first max_per_task of them.
// With shuffle_classes, the class order is drawn from the caller's engine (nothing else is
// random here).
//
// Rehearsal buffers (RehearsalRule), the rows added to task i's training rows:
// - per_task (ours, the default): ceil(fraction * rows) of each earlier task's (capped)
//   rows, drawn task by task: every earlier task is represented in proportion.
// - release (MNIST/run_sleep_with_replay.m of the SRC release): N = every row of the
//   earlier tasks' classes (not only the capped ones), round(N * fraction) to the nearest
//   multiple of 100 (MATLAB's round(x, -2), halves away from zero; at most N), drawn at
//   random from all of them together (`inds2(randperm(...))(1:num_replayed_examples)`).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/enum_names.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"

namespace sleepnet {

enum class RehearsalRule {
    per_task,  ///< ceil(fraction * rows) of each earlier task's rows (rehearsal_buffer)
    release    ///< round(fraction * all rows of the earlier classes, -2) from all of them (release_rehearsal_buffer)
};

template <>
struct EnumNames<RehearsalRule> {
    static constexpr const char* kind = "rehearsal rule";
    static constexpr EnumName<RehearsalRule> table[] = {{RehearsalRule::per_task, "per-task"},
                                                        {RehearsalRule::release, "release"}};
};

struct ClassTaskOptions {
    std::size_t classes_per_task = 2;
    bool shuffle_classes = false;  ///< random class order (from the engine), else 0, 1, 2, ...
    std::size_t max_per_task = 0;  ///< rows kept per task, first in data set order (0 = all)
};

/// The tasks of a class-incremental split: task k holds classes[k] and rows[k].
struct TaskSplit {
    std::vector<std::vector<std::size_t>> classes;
    std::vector<std::vector<std::size_t>> rows;

    std::size_t tasks() const { return classes.size(); }
    /// The rows of tasks first .. last (inclusive), concatenated task by task.
    std::vector<std::size_t> rows_of(std::size_t first, std::size_t last) const
    {
        if (first > last || last >= rows.size())
            throw invalid_argument("TaskSplit: tasks " + std::to_string(first) + ".." + std::to_string(last) + " of " +
                                   std::to_string(rows.size()));
        std::vector<std::size_t> out;
        for (std::size_t k = first; k <= last; ++k) out.insert(out.end(), rows[k].begin(), rows[k].end());
        return out;
    }
};

/// The rows of each class group, in data set order, the first `cap` of each group (0: all).
/// A group without rows is an error naming its classes.
inline TaskSplit class_tasks(const label_vector& y, const std::vector<std::vector<std::size_t>>& groups,
                             std::size_t cap = 0)
{
    if (groups.empty()) throw invalid_argument("class_tasks: no task");
    std::vector<long> task_of;
    for (std::size_t k = 0; k < groups.size(); ++k) {
        if (groups[k].empty()) throw invalid_argument("class_tasks: task " + std::to_string(k) + " has no class");
        for (std::size_t c : groups[k]) {
            if (c >= task_of.size()) task_of.resize(c + 1, -1);
            if (task_of[c] >= 0)
                throw invalid_argument("class_tasks: class " + std::to_string(c) + " is in tasks " +
                                       std::to_string(task_of[c]) + " and " + std::to_string(k));
            task_of[c] = static_cast<long>(k);
        }
    }
    TaskSplit split{groups, std::vector<std::vector<std::size_t>>(groups.size())};
    for (std::size_t i = 0; i < y.size(); ++i) {
        const std::size_t c = y(i);
        if (c >= task_of.size() || task_of[c] < 0) continue;  // a class in no task
        auto& rows = split.rows[static_cast<std::size_t>(task_of[c])];
        if (cap == 0 || rows.size() < cap) rows.push_back(i);
    }
    for (std::size_t k = 0; k < groups.size(); ++k) {
        if (split.rows[k].empty()) {
            std::string names;
            for (std::size_t c : groups[k]) names += (names.empty() ? "" : ", ") + std::to_string(c);
            throw invalid_argument("class_tasks: task " + std::to_string(k) + " (classes " + names +
                                   ") has no rows in the data");
        }
    }
    return split;
}

/// Classes 0 .. classes-1 in groups of o.classes_per_task (in order, or shuffled with
/// `engine`), then class_tasks(y, groups, o.max_per_task). classes must be a multiple of
/// classes_per_task.
template <class Engine>
inline TaskSplit class_tasks(const label_vector& y, std::size_t classes, const ClassTaskOptions& o, Engine& engine)
{
    if (o.classes_per_task == 0 || classes == 0 || classes % o.classes_per_task != 0)
        throw invalid_argument("class_tasks: " + std::to_string(classes) + " classes do not split into tasks of " +
                               std::to_string(o.classes_per_task));
    std::vector<std::size_t> order(classes);
    for (std::size_t c = 0; c < classes; ++c) order[c] = c;
    if (o.shuffle_classes) rng::shuffle(order.begin(), order.end(), engine);
    std::vector<std::vector<std::size_t>> groups;
    for (std::size_t c = 0; c < classes; c += o.classes_per_task)
        groups.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(c),
                            order.begin() + static_cast<std::ptrdiff_t>(c + o.classes_per_task));
    return class_tasks(y, groups, o.max_per_task);
}

/// A rehearsal buffer: from each of tasks 0 .. last, ceil(fraction * its rows) of its rows
/// drawn without replacement with `engine` (in the order drawn), task by task. fraction in
/// [0, 1]; 0 gives an empty buffer.
template <class Engine>
inline std::vector<std::size_t> rehearsal_buffer(const TaskSplit& split, std::size_t last, double fraction,
                                                 Engine& engine)
{
    if (!(fraction >= 0.0 && fraction <= 1.0))
        throw invalid_argument("rehearsal_buffer: fraction must lie in [0, 1], got " + std::to_string(fraction));
    if (last >= split.tasks())
        throw invalid_argument("rehearsal_buffer: task " + std::to_string(last) + " of " +
                               std::to_string(split.tasks()));
    std::vector<std::size_t> out;
    for (std::size_t k = 0; k <= last; ++k) {
        std::vector<std::size_t> rows = split.rows[k];
        const auto n = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(rows.size()) - 1e-9));
        for (std::size_t i = 0; i < n; ++i) {  // partial Fisher-Yates
            const std::size_t j = i + static_cast<std::size_t>(rng::below(engine, rows.size() - i));
            std::swap(rows[i], rows[j]);
            out.push_back(rows[i]);
        }
    }
    return out;
}

/// Every row of `y` whose class belongs to tasks 0 .. last of `split`, in data set order
/// (uncapped: also the rows past a task's max_per_task).
inline std::vector<std::size_t> class_rows(const label_vector& y, const TaskSplit& split, std::size_t last)
{
    if (last >= split.tasks())
        throw invalid_argument("class_rows: task " + std::to_string(last) + " of " + std::to_string(split.tasks()));
    std::vector<char> seen;
    for (std::size_t k = 0; k <= last; ++k)
        for (std::size_t c : split.classes[k]) {
            if (c >= seen.size()) seen.resize(c + 1, 0);
            seen[c] = 1;
        }
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < y.size(); ++i)
        if (y(i) < seen.size() && seen[y(i)]) rows.push_back(i);
    return rows;
}

/// The release's buffer size for `available` rows: fraction * available rounded to the
/// nearest multiple of `multiple` (halves away from zero, as MATLAB's round(x, -2) for
/// multiple 100), at most `available`.
inline std::size_t release_buffer_size(std::size_t available, double fraction, std::size_t multiple = 100)
{
    if (!(fraction >= 0.0 && fraction <= 1.0))
        throw invalid_argument("release_buffer_size: fraction must lie in [0, 1], got " + std::to_string(fraction));
    if (multiple == 0) throw invalid_argument("release_buffer_size: multiple must be > 0");
    const double m = static_cast<double>(multiple);
    const auto n = static_cast<std::size_t>(std::round(fraction * static_cast<double>(available) / m)) * multiple;
    return std::min(n, available);
}

/// The release's rehearsal buffer before task last + 1: release_buffer_size(N, fraction)
/// rows drawn without replacement (in the order drawn) from the N rows of `y` whose class
/// belongs to tasks 0 .. last (class_rows), all tasks together.
template <class Engine>
inline std::vector<std::size_t> release_rehearsal_buffer(const label_vector& y, const TaskSplit& split,
                                                         std::size_t last, double fraction, Engine& engine)
{
    std::vector<std::size_t> rows = class_rows(y, split, last);
    const std::size_t n = release_buffer_size(rows.size(), fraction);
    for (std::size_t i = 0; i < n; ++i) {  // partial Fisher-Yates
        const std::size_t j = i + static_cast<std::size_t>(rng::below(engine, rows.size() - i));
        std::swap(rows[i], rows[j]);
    }
    rows.resize(n);
    return rows;
}

}  // namespace sleepnet
