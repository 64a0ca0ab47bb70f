// libFuzzer target: the parameter search's JSON-lines log (tune/tune_log.hpp,
// read_tune_log_text, what read_tune_log runs on a file's text). A log that reads is
// written again (its header line, then each candidate's line as TuneLog writes them) and
// must read back the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include <sleepnet/tune/tune_log.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    fuzz::refusals_allowed([&] {
        const auto log = sleepnet::detail::read_tune_log_text(fuzz::text(data, size), "fuzz");
        std::string text = log.header.dump() + '\n';
        for (const auto& c : log.candidates) text += nlohmann::json(c).dump() + '\n';
        const auto again = sleepnet::detail::read_tune_log_text(text, "again");
        fuzz::require(again.header == log.header, "tune log header");
        fuzz::require(again.candidates.size() == log.candidates.size(), "tune log candidates");
        for (std::size_t i = 0; i < log.candidates.size(); ++i) {
            fuzz::require(nlohmann::json(again.candidates[i]) == nlohmann::json(log.candidates[i]), "tune log line");
        }
    });
    return 0;
}
