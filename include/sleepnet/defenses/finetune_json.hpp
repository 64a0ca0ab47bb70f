#pragma once
// JSON of a fine-tuning report (ADL adapter of nlohmann::json): `nlohmann::json j = report;`
// writes replaced, epochs_completed, batches, final_epoch_loss, stopped_early, seconds.

#include <nlohmann/json.hpp>

#include "finetune.hpp"

namespace sleepnet {

inline void to_json(nlohmann::json& j, const FinetuneReport& r)
{
    j = nlohmann::json{{"replaced", r.rows.size()},
                       {"epochs_completed", r.train.epochs_completed},
                       {"batches", r.train.batches},
                       {"final_epoch_loss", r.train.final_epoch_loss},
                       {"stopped_early", r.train.stopped_early},
                       {"seconds", r.train.seconds}};
}

}  // namespace sleepnet
