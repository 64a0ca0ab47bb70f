// libFuzzer target: sleep parameter files (snn/sleep_json.hpp, sleep_params_from_string,
// what load_sleep_params runs on a file's text). Parameters that read are written again
// (to_json) and must read back the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include <sleepnet/snn/sleep_json.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    fuzz::refusals_allowed([&] {
        const sleepnet::SleepParams p = sleepnet::sleep_params_from_string(fuzz::text(data, size), "fuzz");
        const nlohmann::json j = p;
        const sleepnet::SleepParams q = sleepnet::sleep_params_from_string(j.dump(), "again");
        fuzz::require(nlohmann::json(q) == j, "sleep parameters");
    });
    return 0;
}
