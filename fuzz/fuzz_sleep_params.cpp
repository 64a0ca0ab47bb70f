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
    fuzz::json_round_trip(
        [](const std::string& t, const char* origin) { return sleepnet::sleep_params_from_string(t, origin); },
        fuzz::text(data, size), "sleep parameters");
    return 0;
}
