#pragma once
// Spike sources: what drives the input layer during sleep.
//
// A spike source is any type with
//   std::size_t size() const;                                   // input neurons
//   template <class Engine>
//   void spikes(std::size_t t, std::vector<std::uint32_t>& active, Engine& engine);
// that fills `active` with the indices (ascending) of the inputs spiking at step t
// (0-based). Sources may draw from the caller's engine; nothing else is random.
//
// Provided: PoissonSequence (the authors' choice: step t shows image t, in order),
// PoissonMean (the mean image at every step), RasterReplay (a recorded T x N raster).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"

namespace sleepnet {

/// P(input j spikes at a step) = rate_factor * dt * rate * x_j (authors: rate_factor = 2,
/// from `rand * (1/(dt*rate)) / 2 <= x`). The product must not exceed 1 for x <= max x.
struct PoissonOptions {
    double rate = 39.037119;  ///< maximal firing rate in Hz
    double dt = 0.001;        ///< step in seconds
    double rate_factor = 2.0;

    double probability_scale() const { return rate_factor * dt * rate; }
};

namespace detail {

inline void validate_poisson(const PoissonOptions& o, const char* who)
{
    check::finite_positive(who, "rate", o.rate);
    check::finite_positive(who, "dt", o.dt);
    check::finite_positive(who, "rate_factor", o.rate_factor);
}

/// Spike probabilities as 32-bit integer thresholds: input j spikes when a uniform 32-bit
/// draw u satisfies u < threshold[j], i.e. with probability threshold[j] / 2^32 (2^32
/// meaning always). Inputs with probability 0 are left out and draw nothing.
struct SpikeThresholds {
    std::vector<std::uint32_t> index;
    std::vector<std::uint64_t> threshold;
};

template <class T>
inline void spike_thresholds(const T* row, std::size_t n, double scale, const char* who, std::size_t row_index,
                             SpikeThresholds& out)
{
    out.index.clear();
    out.threshold.clear();
    for (std::size_t j = 0; j < n; ++j) {
        const double x = static_cast<double>(row[j]);
        if (x > 0.0 && x <= std::numeric_limits<double>::max()) {
            const double p = scale * x;
            if (p > 1.0 + 1e-12) {
                throw invalid_argument(std::string(who) + ": input " + std::to_string(row_index) + ", element " +
                                       std::to_string(j) + " = " + std::to_string(x) +
                                       " gives spike probability rate_factor * dt * rate * x = " + std::to_string(p) +
                                       " > 1");
            }
            out.index.push_back(static_cast<std::uint32_t>(j));
            out.threshold.push_back(static_cast<std::uint64_t>(std::min(1.0, p) * 4294967296.0));
        } else if (!(x == 0.0)) {
            throw invalid_argument(std::string(who) + ": input " + std::to_string(row_index) + ", element " +
                                   std::to_string(j) + " = " + std::to_string(x) +
                                   " (inputs must be finite and >= 0: they are spike rates)");
        }
    }
}

/// One Bernoulli draw per listed input; two draws share one 64-bit engine output.
template <class Engine>
inline void draw_spikes(const SpikeThresholds& s, std::vector<std::uint32_t>& active, Engine& engine)
{
    active.clear();
    const std::size_t n = s.index.size();
    std::size_t k = 0;
    for (; k + 1 < n; k += 2) {
        const std::uint64_t r = rng::bits64(engine);
        if ((r >> 32) < s.threshold[k]) active.push_back(s.index[k]);
        if ((r & 0xffffffffu) < s.threshold[k + 1]) active.push_back(s.index[k + 1]);
    }
    if (k < n && (rng::bits64(engine) >> 32) < s.threshold[k]) {
        active.push_back(s.index[k]);
    }
}

template <class T>
inline void check_nonempty(const matrix<T>& x, const char* who)
{
    if (x.shape()[0] == 0 || x.shape()[1] == 0) {
        throw invalid_argument(std::string(who) + ": empty input matrix " + shape_string(x));
    }
}

}  // namespace detail

/// Step t shows image t mod N (file order, no shuffle), each input an independent
/// Bernoulli draw with P = rate_factor * dt * rate * pixel. Inputs that are 0 never spike
/// and draw nothing. The source keeps a reference to `images`: they must outlive it.
/// Each image is checked (finite, >= 0, probability <= 1) when it is first shown; a bad
/// one throws invalid_argument (sleep then restores the weights it had changed).
template <class T>
class PoissonSequence {
public:
    PoissonSequence(const matrix<T>& images, PoissonOptions options)
        : PoissonSequence(images.data(), images.shape()[0], images.shape()[1], options)
    {
    }

    /// Over a row-major (rows x cols) buffer owned elsewhere (e.g. another trainer's data).
    PoissonSequence(const T* images, std::size_t rows, std::size_t cols, PoissonOptions options)
        : data_(images), rows_(rows), size_(cols), scale_(options.probability_scale())
    {
        if (images == nullptr || rows == 0 || cols == 0) {
            throw invalid_argument("PoissonSequence: empty input (" + std::to_string(rows) + " x " +
                                   std::to_string(cols) + ")");
        }
        detail::validate_poisson(options, "PoissonSequence");
    }

    std::size_t size() const { return size_; }
    std::size_t images() const { return rows_; }

    template <class Engine>
    void spikes(std::size_t t, std::vector<std::uint32_t>& active, Engine& engine)
    {
        // the same draws as detail::draw_spikes on spike_thresholds(row), without the lists
        const std::size_t row = t % rows_;
        const T* x = data_ + row * size_;
        active.clear();
        // branch-free compaction of the non-zero inputs (most pixels are 0), then the draws
        nonzero_.resize(size_ + 1);
        std::size_t count = 0;
        for (std::size_t j = 0; j < size_; ++j) {
            nonzero_[count] = static_cast<std::uint32_t>(j);
            count += x[j] != T(0) ? 1 : 0;
        }
        std::uint64_t bits = 0;
        bool low_half_left = false;
        for (std::size_t k = 0; k < count; ++k) {
            const std::size_t j = nonzero_[k];
            const T v = x[j];
            const double p = scale_ * static_cast<double>(v);
            if (!(v > T(0)) || !(p <= 1.0 + 1e-12)) {
                bad_input(row, j, static_cast<double>(v), p);
            }
            const auto threshold = static_cast<std::uint64_t>(std::min(1.0, p) * 4294967296.0);
            std::uint64_t u;
            if (low_half_left) {
                u = bits & 0xffffffffu;
                low_half_left = false;
            } else {
                bits = rng::bits64(engine);
                u = bits >> 32;
                low_half_left = true;
            }
            if (u < threshold) {
                active.push_back(static_cast<std::uint32_t>(j));
            }
        }
    }

private:
    const T* data_;
    std::size_t rows_;
    std::size_t size_;
    double scale_;
    std::vector<std::uint32_t> nonzero_;

    [[noreturn]] void bad_input(std::size_t row, std::size_t j, double v, double p) const
    {
        const std::string where = "PoissonSequence: input " + std::to_string(row) + ", element " + std::to_string(j) +
                                  " = " + std::to_string(v);
        if (std::isfinite(v) && v > 0.0) {
            throw invalid_argument(
                where + " gives spike probability rate_factor * dt * rate * x = " + std::to_string(p) + " > 1");
        }
        throw invalid_argument(where + " (inputs must be finite and >= 0: they are spike rates)");
    }
};

/// Every step shows the mean of the given images.
class PoissonMean {
public:
    template <class T>
    PoissonMean(const matrix<T>& images, PoissonOptions options) : size_(images.shape()[1])
    {
        detail::check_nonempty(images, "PoissonMean");
        detail::validate_poisson(options, "PoissonMean");
        std::vector<double> mean(size_, 0.0);
        const std::size_t n = images.shape()[0];
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < size_; ++j) {
                mean[j] += static_cast<double>(images(i, j));
            }
        }
        for (auto& m : mean) m /= static_cast<double>(n);
        detail::spike_thresholds(mean.data(), size_, options.probability_scale(), "PoissonMean", 0, probs_);
    }

    std::size_t size() const { return size_; }

    template <class Engine>
    void spikes(std::size_t, std::vector<std::uint32_t>& active, Engine& engine) const
    {
        detail::draw_spikes(probs_, active, engine);
    }

private:
    std::size_t size_;
    detail::SpikeThresholds probs_;
};

/// Replays a recorded raster: step t uses row t (T x N, non-zero = spike). The raster
/// must have at least as many rows as sleep has steps (checked by sleep()).
class RasterReplay {
public:
    template <class E>
    explicit RasterReplay(const E& raster)
    {
        const auto& r = raster;
        if (r.dimension() != 2 || r.shape()[0] == 0 || r.shape()[1] == 0) {
            throw invalid_argument("RasterReplay: the raster must be a non-empty (steps x inputs) matrix");
        }
        steps_ = r.shape()[0];
        size_ = r.shape()[1];
        offsets_.push_back(0);
        for (std::size_t t = 0; t < steps_; ++t) {
            for (std::size_t j = 0; j < size_; ++j) {
                if (r(t, j) != 0) index_.push_back(static_cast<std::uint32_t>(j));
            }
            offsets_.push_back(index_.size());
        }
    }

    std::size_t size() const { return size_; }
    std::size_t steps() const { return steps_; }

    template <class Engine>
    void spikes(std::size_t t, std::vector<std::uint32_t>& active, Engine&) const
    {
        if (t >= steps_) {
            throw invalid_argument("RasterReplay: step " + std::to_string(t) + " requested but the raster has only " +
                                   std::to_string(steps_) + " rows");
        }
        active.assign(index_.begin() + static_cast<std::ptrdiff_t>(offsets_[t]),
                      index_.begin() + static_cast<std::ptrdiff_t>(offsets_[t + 1]));
    }

private:
    std::size_t steps_ = 0;
    std::size_t size_ = 0;
    std::vector<std::uint32_t> index_;
    std::vector<std::size_t> offsets_;
};

/// Records any source's output as a (steps x inputs) uint8 raster, e.g. to replay the
/// same input in another implementation.
template <class Source, class Engine>
inline xt::xtensor<std::uint8_t, 2> record_raster(Source& source, std::size_t steps, Engine& engine)
{
    xt::xtensor<std::uint8_t, 2> r = xt::zeros<std::uint8_t>({steps, source.size()});
    std::vector<std::uint32_t> active;
    for (std::size_t t = 0; t < steps; ++t) {
        source.spikes(t, active, engine);
        for (auto j : active) r(t, j) = 1;
    }
    return r;
}

}  // namespace sleepnet
