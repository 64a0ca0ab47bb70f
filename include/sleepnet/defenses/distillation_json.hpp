#pragma once
// JSON of distillation options and results (ADL adapters of nlohmann::json):
// `nlohmann::json j = options;`, `nlohmann::json j = result;`.

#include <nlohmann/json.hpp>

#include "distillation.hpp"

namespace sleepnet {
namespace detail {

/// JSON of a TrainReport (kept in detail: nn/ may grow its own adapter).
inline nlohmann::json train_report_json(const TrainReport& r)
{
    return {{"epochs_completed", r.epochs_completed},
            {"batches", r.batches},
            {"final_epoch_loss", r.final_epoch_loss},
            {"stopped_early", r.stopped_early},
            {"seconds", r.seconds}};
}

inline nlohmann::json sgd_options_json(const SgdOptions& s)
{
    return {{"learning_rate", s.learning_rate}, {"momentum", s.momentum},
            {"batch_size", s.batch_size},       {"epochs", s.epochs},
            {"weight_decay", s.weight_decay},   {"shuffle", s.shuffle}};
}

}  // namespace detail

inline void to_json(nlohmann::json& j, const DistillationOptions& o)
{
    j = nlohmann::json{{"temperature", o.temperature},
                       {"teacher_sgd", detail::sgd_options_json(o.teacher_sgd)},
                       {"student_sgd", detail::sgd_options_json(o.student_sgd)},
                       {"hidden", to_string(o.network.hidden)},
                       {"output", to_string(o.network.output)},
                       {"bias", o.network.bias},
                       {"dropout", o.network.dropout},
                       {"dropout_mode", to_string(o.network.dropout_mode)},
                       {"student_sizes", o.student_sizes}};
}

template <class T>
inline void to_json(nlohmann::json& j, const DistillationResult<T>& r)
{
    j = nlohmann::json{{"temperature", r.temperature},
                       {"teacher_sizes", r.teacher.layer_sizes()},
                       {"student_sizes", r.student.layer_sizes()},
                       {"teacher", detail::train_report_json(r.teacher_report)},
                       {"student", detail::train_report_json(r.student_report)}};
}

}  // namespace sleepnet
