#pragma once
// MaskedMean: the spike source of Sleep Replay Consolidation (Tadros et al., Nature
// Communications 2022; the release's utils/create_masked_input.m). Every step shows the
// mean image of the given images with everything outside one random square window set
// to 0; the window is drawn afresh each step. With per-class means, each step first
// draws a class (uniformly among the classes present) and shows that class's mean.
//
//   MaskedMean source(x_seen, PoissonOptions{239.515363, 0.001, 2.0}, MaskedMeanOptions{});
//   sleep_with_source(net, source, x_seen, params, engine);
//
// The release keeps `mean(x_pos : x_pos + 10, y_pos : y_pos + 10)` with x_pos, y_pos drawn
// from 1 .. 28 - 10: inclusive ranges, so an 11 x 11 window whose corner takes 18
// positions per axis. MaskedMeanOptions{} is that rule (window 11 on 28 x 28 images).
// Per step, in this order: the class (per-class means only), the window's top row and
// left column (rng::below), then one 32-bit draw per non-zero pixel of the window in
// ascending pixel order, two per 64-bit engine output (as PoissonMean draws).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "../core/tensor.hpp"
#include "spike_source.hpp"

namespace sleepnet {

struct MaskedMeanOptions {
    std::size_t rows = 28, cols = 28;  ///< image shape (row-major pixels)
    std::size_t window = 11;           ///< side of the square kept each step (the release: 11)
    bool per_class = false;            ///< a class's mean per step instead of the mean of all

    void validate(std::size_t inputs) const
    {
        const std::string who = "MaskedMeanOptions";
        check::positive(who, "rows", rows);
        check::positive(who, "cols", cols);
        check::positive(who, "window", window);
        if (rows * cols != inputs)
            throw invalid_argument(who + ": rows x cols = " + std::to_string(rows * cols) + " but the images have " +
                                   std::to_string(inputs) + " inputs");
        if (window > rows || window > cols)
            throw invalid_argument(who + ": window " + std::to_string(window) + " does not fit " +
                                   std::to_string(rows) + " x " + std::to_string(cols) + " images");
    }
};

class MaskedMean {
public:
    /// The mean of all rows of `images`.
    template <class T>
    MaskedMean(const matrix<T>& images, PoissonOptions poisson, MaskedMeanOptions options)
        : MaskedMean(images, label_vector(label_vector::shape_type{images.shape()[0]}, 0), poisson, options)
    {
    }

    /// Per-class means when options.per_class (labels[i] is row i's class), else the mean of all.
    template <class T>
    MaskedMean(const matrix<T>& images, const label_vector& labels, PoissonOptions poisson, MaskedMeanOptions options)
        : options_(options), size_(images.shape()[1])
    {
        detail::check_nonempty(images, "MaskedMean");
        detail::validate_poisson(poisson, "MaskedMean");
        options.validate(size_);
        if (labels.size() != images.shape()[0])
            throw invalid_argument("MaskedMean: " + std::to_string(images.shape()[0]) + " images but " +
                                   std::to_string(labels.size()) + " labels");
        for (const auto& mean : class_means(images, labels))
            thresholds_.push_back(pixel_thresholds(mean, poisson.probability_scale()));
    }

    std::size_t size() const { return size_; }
    std::size_t means() const { return thresholds_.size(); }  ///< 1, or the classes present

    template <class Engine>
    void spikes(std::size_t, std::vector<std::uint32_t>& active, Engine& engine)
    {
        const std::size_t m = thresholds_.size() == 1 ? 0 : rng::below(engine, thresholds_.size());
        const std::size_t w = options_.window;
        const auto r0 = static_cast<std::size_t>(rng::below(engine, options_.rows - w + 1));
        const auto c0 = static_cast<std::size_t>(rng::below(engine, options_.cols - w + 1));
        window_.index.clear();
        window_.threshold.clear();
        const auto& th = thresholds_[m];
        for (std::size_t r = r0; r < r0 + w; ++r)
            for (std::size_t c = c0; c < c0 + w; ++c) {
                const std::size_t j = r * options_.cols + c;
                if (th[j] == 0) continue;
                window_.index.push_back(static_cast<std::uint32_t>(j));
                window_.threshold.push_back(th[j]);
            }
        detail::draw_spikes(window_, active, engine);
    }

private:
    /// The mean image of each class present (ascending class), or of all rows.
    template <class T>
    std::vector<std::vector<double>> class_means(const matrix<T>& images, const label_vector& labels) const
    {
        std::vector<std::vector<double>> sum;
        std::vector<std::size_t> count, slot;
        for (std::size_t i = 0; i < labels.size(); ++i) {
            const std::size_t c = options_.per_class ? labels(i) : 0;
            if (c >= slot.size()) slot.resize(c + 1, 0);
            if (c >= count.size()) count.resize(c + 1, 0);
            if (c >= sum.size()) sum.resize(c + 1, std::vector<double>(size_, 0.0));
            for (std::size_t j = 0; j < size_; ++j) sum[c][j] += static_cast<double>(images(i, j));
            ++count[c];
        }
        std::vector<std::vector<double>> out;
        for (std::size_t c = 0; c < sum.size(); ++c) {
            if (count[c] == 0) continue;
            for (auto& v : sum[c]) v /= static_cast<double>(count[c]);
            out.push_back(std::move(sum[c]));
        }
        return out;
    }

    /// 32-bit spike thresholds of every pixel (0: never spikes), checked as PoissonMean checks.
    std::vector<std::uint64_t> pixel_thresholds(const std::vector<double>& mean, double scale) const
    {
        detail::SpikeThresholds s;
        detail::spike_thresholds(mean.data(), size_, scale, "MaskedMean", 0, s);
        std::vector<std::uint64_t> th(size_, 0);
        for (std::size_t k = 0; k < s.index.size(); ++k) th[s.index[k]] = s.threshold[k];
        return th;
    }

    MaskedMeanOptions options_;
    std::size_t size_;
    std::vector<std::vector<std::uint64_t>> thresholds_;
    detail::SpikeThresholds window_;
};

}  // namespace sleepnet
