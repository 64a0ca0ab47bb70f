// libFuzzer target: the "refit" object of sleep parameter files (snn/refit_json.hpp,
// refit_plan_from_string, what load_refit_plan runs on a file's text). A plan that reads is
// written again (to_json) and must read back the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include <sleepnet/snn/refit_json.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    fuzz::refusals_allowed([&] {
        const auto plan = sleepnet::refit_plan_from_string(fuzz::text(data, size), "fuzz");
        if (!plan) return;
        const nlohmann::json j = *plan;
        const auto again = sleepnet::refit_plan_from_string(nlohmann::json{{"refit", j}}.dump(), "again");
        fuzz::require(again.has_value() && nlohmann::json(*again) == j, "refit plan");
    });
    return 0;
}
