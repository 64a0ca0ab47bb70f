#pragma once
// ProgressBar: a ready-made callback drawing a progress bar on a stream the caller gives
// (the library never prints on its own). One object serves every routine with hooks:
//
//   routine                    hook                                  shows
//   train, adversarial_train   on_begin_epoch, on_batch (TrainInfo)  epoch k/n, batches, mean loss
//   sleep, sleep_with_source   on_step (SleepProgress)               steps, spikes of all layers
//   tune                       on_progress (TuneProgress)            candidates/budget, best value
//   pgd, pgd_minimal (APGD)    on_progress (PgdProgress)             runs, round, inputs unbroken
//   audit                      on_progress (AuditProgress)           a line per stage, then its bars
//   your own loop              update(done, total)                   done/total
//
//   sleepnet::ProgressBar bar(std::cerr, "sleep", {::isatty(2) != 0});
//   sleepnet::sleep(net, x, params, engine, bar);
//
// On a terminal (options.tty) the bar is redrawn in place; otherwise (a log file, CI) it
// writes a line each time the fraction done crosses another options.every_percent, and
// always one when done reaches total. No hook ever returns true: the bar never stops a run.
// The hooks take the progress types by template so that this header stays light; only
// the listed types match.

#include <chrono>
#include <cstdio>
#include <ostream>
#include <string>
#include <type_traits>

#include "../core/check.hpp"

namespace sleepnet {

struct TrainInfo;
struct SleepProgress;
struct TuneProgress;
struct PgdProgress;
struct AuditProgress;

struct ProgressBarOptions {
    bool tty = false;             ///< redraw in place with '\r' (a terminal); else one line per step of every_percent
    double every_percent = 10.0;  ///< not tty: a line each time done/total crosses a multiple of this, in (0, 100]
    double redraw_seconds = 0.1;  ///< tty: at least this long between redraws (the last one is always drawn)
    bool show_time = true;        ///< elapsed seconds and the estimate of those left
    std::size_t width = 30;       ///< characters of the bar

    void validate() const
    {
        check::in_range("ProgressBar", "every_percent", every_percent, 0.0, 100.0, check::Interval::open_closed);
        check::finite_nonnegative("ProgressBar", "redraw_seconds", redraw_seconds);
        check::positive("ProgressBar", "width", width);
    }
};

namespace detail {
template <class A, class B>
using if_same = std::enable_if_t<std::is_same<A, B>::value, int>;
}  // namespace detail

class ProgressBar {
public:
    /// Draws on `out` (kept by reference: it must outlive the bar); `label` starts each line.
    explicit ProgressBar(std::ostream& out, std::string label = "progress", ProgressBarOptions options = {})
        : out_(&out), label_(std::move(label)), title_(label_), options_(options)
    {
        options_.validate();
    }

    /// `done` of `total` units are done; `extra` ends the line. A smaller done or another
    /// total than the last call starts a new bar (clock and lines).
    void update(std::size_t done, std::size_t total, const std::string& extra = "")
    {
        if (started_ && (done < done_ || total != total_)) restart(title_);
        started_ = true;
        done_ = done;
        total_ = total;
        const bool final = done >= total;
        if (final && finished_) return;
        const auto now = std::chrono::steady_clock::now();
        const double frac = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
        if (!final && !due(now, frac)) return;
        finished_ = final;
        last_ = now;
        draw(frac, std::chrono::duration<double>(now - start_).count(), extra, final);
    }

    /// A new bar titled `title`: clock, fraction and lines start again.
    void restart(std::string title)
    {
        title_ = std::move(title);
        start_ = std::chrono::steady_clock::now();
        last_ = {};
        done_ = total_ = 0;
        bucket_ = 0;
        finished_ = started_ = false;
    }

    template <class I, detail::if_same<I, TrainInfo> = 0>
    void on_begin_epoch(const I& info)
    {
        restart(label_ + " epoch " + std::to_string(info.epoch + 1) + "/" + std::to_string(info.epochs));
    }
    template <class I, detail::if_same<I, TrainInfo> = 0>
    void on_batch(const I& info)
    {
        update(info.batch + 1, info.batches_per_epoch, "loss " + format("%.4f", info.epoch_loss));
    }

    template <class P, detail::if_same<P, SleepProgress> = 0>
    void on_step(const P& p)
    {
        unsigned long long spikes = 0;
        for (auto s : p.spikes) spikes += s;
        if (p.step <= 1) restart(label_);  // a new sleep run
        update(p.step, p.steps, "spikes " + std::to_string(spikes));
    }

    template <class P, detail::if_same<P, TuneProgress> = 0>
    void on_progress(const P& p)
    {
        std::string extra;
        if (p.best) {
            extra = "best " + std::string(p.best->feasible ? "feasible" : "infeasible") + " value " +
                    format("%.4g", p.best->value) + " acc " + format("%.4f", p.best->accuracy);
        }
        update(p.evaluated, p.budget, extra);
    }

    template <class P, detail::if_same<P, PgdProgress> = 0>
    void on_progress(const P& p)
    {
        if (p.round != round_) restart(title_);  // a new bisection round: a new bar
        round_ = p.round;
        update(p.run, p.runs,
               "round " + std::to_string(p.round) + ", unbroken " + std::to_string(p.unbroken) + "/" +
                   std::to_string(p.inputs));
    }

    /// A line naming the stage; the bars that follow are titled with it.
    template <class P, detail::if_same<P, AuditProgress> = 0>
    void on_progress(const P& p)
    {
        *out_ << label_ << ": stage " << p.index + 1 << "/" << p.stages << ": " << p.stage << '\n';
        out_->flush();
        restart(p.stage);
    }

private:
    /// Whether an unfinished bar at fraction frac is drawn now.
    bool due(std::chrono::steady_clock::time_point now, double frac)
    {
        if (options_.tty) return std::chrono::duration<double>(now - last_).count() >= options_.redraw_seconds;
        const auto bucket = static_cast<std::size_t>(frac * 100.0 / options_.every_percent);
        if (bucket <= bucket_) return false;
        bucket_ = bucket;
        return true;
    }

    void draw(double frac, double elapsed, const std::string& extra, bool final)
    {
        const auto filled = static_cast<std::size_t>(frac * static_cast<double>(options_.width));
        std::string bar(std::min(filled, options_.width), '#');
        bar.resize(options_.width, '.');
        *out_ << (options_.tty ? "\r" : "") << title_ << " [" << bar << "] " << format("%3.0f%%", frac * 100.0) << ' '
              << done_ << '/' << total_;
        if (options_.show_time) {
            const double eta = frac > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
            *out_ << ' ' << format("%.1fs", elapsed) << " eta " << format("%.1fs", eta);
        }
        if (!extra.empty()) *out_ << ' ' << extra;
        if (!options_.tty || final) *out_ << '\n';
        out_->flush();
    }

    static std::string format(const char* fmt, double v)
    {
        char buf[64];
        std::snprintf(buf, sizeof buf, fmt, v);
        return buf;
    }

    std::ostream* out_;
    std::string label_, title_;
    ProgressBarOptions options_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
    std::size_t done_ = 0, total_ = 0, bucket_ = 0, round_ = 0;
    bool finished_ = false, started_ = false;
};

}  // namespace sleepnet
