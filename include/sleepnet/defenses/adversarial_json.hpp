#pragma once
// JSON of adversarial-training options (ADL adapter of nlohmann::json):
// `nlohmann::json j = options;` writes the values training uses (steps and step_size as
// attack_steps() and effective_step_size() resolve them), so it is a record, not a file
// to read back.

#include <nlohmann/json.hpp>

#include "adversarial.hpp"

namespace sleepnet {

inline void to_json(nlohmann::json& j, const AdversarialTrainingOptions& o)
{
    j = nlohmann::json{{"method", to_string(o.method)},
                       {"epsilon", o.epsilon},
                       {"steps", o.attack_steps()},
                       {"step_size", o.effective_step_size()},
                       {"clean_fraction", o.clean_fraction},
                       {"attack_loss", to_string(o.attack_loss)},
                       {"bounds", {o.bounds.lo, o.bounds.hi}},
                       {"random_start", o.random_start}};
}

}  // namespace sleepnet
