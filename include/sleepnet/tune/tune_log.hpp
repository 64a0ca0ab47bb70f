#pragma once
// The sleep parameter search's JSON-lines log (tune/search.hpp): the first line describes
// the search ("kind": "tune"), then one line per evaluated candidate ("kind": "candidate"),
// each flushed as it is written. TuneCandidate is what a candidate line records.
//
// Resuming: an existing log is read back, checked against the new search's description,
// rewritten without a torn last line (interrupted write), and appended to; the search
// takes the logged evaluations instead of recomputing them.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/atomic_file.hpp"
#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../snn/sleep.hpp"
#include "../snn/sleep_json.hpp"

namespace sleepnet {

struct TuneCandidate {
    std::size_t index = 0;       ///< 0-based evaluation order
    std::size_t generation = 0;  ///< GA generation (random search: 0)
    std::vector<double> genes;
    SleepParams params;                                       ///< alpha empty (relative to normalization)
    double accuracy = 0.0;                                    ///< validation accuracy after sleep
    double value = std::numeric_limits<double>::quiet_NaN();  ///< objective (feasible candidates only)
    bool feasible = false;
    std::vector<std::uint64_t> spikes;  ///< per simulated layer
    double seconds = 0.0;
    std::string error;      ///< why the candidate failed (non-finite weights), else empty
    bool from_log = false;  ///< taken from a resumed log, not evaluated in this run
};

/// Objective values in the log: numbers, "inf" / "-inf" (a median over inputs that mostly
/// resist is +inf, and must rank as such on resume), null for NaN.
inline nlohmann::json tune_value_json(double v)
{
    if (std::isnan(v)) return nullptr;
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}

/// A candidate as its log line.
inline void to_json(nlohmann::json& j, const TuneCandidate& c)
{
    j = nlohmann::json::object();
    j["kind"] = "candidate";
    j["index"] = c.index;
    j["generation"] = c.generation;
    j["genes"] = c.genes;
    j["params"] = c.params;
    j["accuracy"] = c.accuracy;
    j["value"] = tune_value_json(c.value);
    j["feasible"] = c.feasible;
    j["spikes"] = c.spikes;
    j["seconds"] = c.seconds;
    if (!c.error.empty()) j["error"] = c.error;
}

namespace detail {

/// Reads back a value written by tune_value_json (also "nan"); anything else is a format_error.
inline double tune_json_double(const nlohmann::json& v)
{
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
        const auto s = v.get<std::string>();
        if (s == "inf") return std::numeric_limits<double>::infinity();
        if (s == "-inf") return -std::numeric_limits<double>::infinity();
        if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    }
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    throw format_error("tune log: expected a number, got " + v.dump());
}

/// Parses a candidate line (marked from_log); `where` names the line in errors.
inline TuneCandidate tune_candidate_from_json(const nlohmann::json& j, const std::string& where)
{
    try {
        TuneCandidate c;
        c.index = json_integer<std::size_t, format_error>(j.at("index"), "index", where);
        c.generation = json_integer<std::size_t, format_error>(j.at("generation"), "generation", where);
        c.genes = j.at("genes").get<std::vector<double>>();
        c.params = sleep_params_from_json(j.at("params"));
        c.accuracy = j.at("accuracy").get<double>();
        c.value = tune_json_double(j.at("value"));
        c.feasible = j.at("feasible").get<bool>();
        c.spikes = json_integers<std::uint64_t, format_error>(j.at("spikes"), "spikes", where);
        c.seconds = j.at("seconds").get<double>();
        if (j.contains("error")) c.error = j.at("error").get<std::string>();
        c.from_log = true;
        return c;
    } catch (const nlohmann::json::exception& e) {
        throw format_error(where + ": malformed candidate line (" + e.what() + ")");
    }
}

/// A log as read back: its search description and its candidates in index order.
struct TuneLogContents {
    nlohmann::json header;
    std::vector<TuneCandidate> candidates;
};

/// Reads the text of a log; a last line without its newline (torn write) is dropped; errors
/// name `path`.
inline TuneLogContents read_tune_log_text(const std::string& text, const std::string& path)
{
    TuneLogContents log;
    std::size_t pos = 0, line_no = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) break;  // torn last line
        const std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        if (line.empty()) continue;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            throw format_error(path + ": line " + std::to_string(line_no) + " is not JSON (" + e.what() + ")");
        }
        const std::string where = path + ": line " + std::to_string(line_no);
        if (!j.is_object() || !j.contains("kind")) throw format_error(where + ": no \"kind\"");
        if (j["kind"] == "tune") {
            if (line_no != 1) throw format_error(where + ": search description must be the first line");
            log.header = j;
        } else if (j["kind"] == "candidate") {
            if (log.header.is_null()) throw format_error(where + ": candidate before the search description");
            log.candidates.push_back(tune_candidate_from_json(j, where));
            if (log.candidates.back().index != log.candidates.size() - 1)
                throw format_error(where + ": candidate index " + std::to_string(log.candidates.back().index) +
                                   ", expected " + std::to_string(log.candidates.size() - 1));
        } else {
            throw format_error(where + ": unknown kind " + j["kind"].dump());
        }
    }
    if (log.header.is_null()) throw format_error(path + ": no search description line");
    return log;
}

/// Reads a log (read_tune_log_text on the file's text).
inline TuneLogContents read_tune_log(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("tune: cannot open log '" + path + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    return read_tune_log_text(ss.str(), path);
}

/// The log of a running search: resumes or starts the file, hands back logged candidates, appends new ones.
class TuneLog {
public:
    /// Opens `path` ("" = no log): continues an existing one (if `resume`) whose header matches on `same_search`.
    TuneLog(const std::string& path, bool resume, const nlohmann::json& header,
            const std::vector<std::string>& same_search)
        : path_(path)
    {
        if (path_.empty()) return;
        if (resume && static_cast<bool>(std::ifstream(path_)))
            continue_log(header, same_search);
        else
            start_log(header);
        if (!out_) throw io_error("tune: cannot write log '" + path_ + "'");
    }

    /// A log kept by another process: hands back `logged` (as read there), writes nothing.
    explicit TuneLog(std::vector<TuneCandidate> logged) : logged_(std::move(logged)) {}

    /// The candidates read back from the log (resume), in index order.
    const std::vector<TuneCandidate>& logged() const { return logged_; }

    /// Replaces c by the logged candidate c.index, if any (its genes must be c's); true if it did.
    bool take_logged(TuneCandidate& c) const
    {
        if (c.index >= logged_.size()) return false;
        if (logged_[c.index].genes != c.genes)
            throw invalid_argument("tune: log '" + path_ + "' candidate " + std::to_string(c.index) +
                                   " has other genes than this search draws (different seed or initial genomes?)");
        c = logged_[c.index];
        return true;
    }

    /// Appends the candidate's line and flushes it (nothing without a log).
    void append(const TuneCandidate& c)
    {
        if (!out_.is_open()) return;
        out_ << nlohmann::json(c).dump() << '\n' << std::flush;
        if (!out_) throw io_error("tune: writing log '" + path_ + "' failed");
    }

private:
    /// Resumes: checks the old description, keeps its candidates, rewrites it, opens it for appending.
    void continue_log(const nlohmann::json& header, const std::vector<std::string>& same_search)
    {
        auto old = read_tune_log(path_);
        const auto version = [](const nlohmann::json& h) {
            return h.contains("format_version") ? h.at("format_version").dump() : std::string("none");
        };
        if (version(old.header) != version(header))
            throw invalid_argument("tune: log '" + path_ + "' has format version " + version(old.header) +
                                   ", this search writes version " + version(header) +
                                   " (since version 2 the log records fingerprints of the candidates' engines, "
                                   "not seeds), so it cannot be resumed; remove it or choose another log");
        for (const auto& key : same_search) {
            const bool a = old.header.contains(key), b = header.contains(key);
            if (a != b || (a && old.header.at(key) != header.at(key)))
                throw invalid_argument("tune: log '" + path_ + "' was written by a different search ('" + key +
                                       "' differs); remove it or choose another log");
        }
        logged_ = std::move(old.candidates);
        rewrite(old.header);
        out_.open(path_, std::ios::binary | std::ios::app);
    }

    /// Replaces the file by `header` and the kept candidates (drops a torn tail), atomically.
    void rewrite(const nlohmann::json& header) const
    {
        std::string text = header.dump() + '\n';
        for (const auto& c : logged_) text += nlohmann::json(c).dump() + '\n';
        try {
            write_file_atomically(path_, [&](std::ostream& out) { out << text; });
        } catch (const io_error&) {
            throw io_error("tune: cannot rewrite log '" + path_ + "'");
        }
    }

    /// Starts a new log: truncates the file and writes the search description.
    void start_log(const nlohmann::json& header)
    {
        out_.open(path_, std::ios::binary | std::ios::trunc);
        if (out_) out_ << header.dump() << '\n' << std::flush;
    }

    std::string path_;
    std::vector<TuneCandidate> logged_;
    std::ofstream out_;
};

}  // namespace detail
}  // namespace sleepnet
