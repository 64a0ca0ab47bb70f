#pragma once
// The paper's "Patches" toy set (Tadros et al., ICLR 2020, section 4.3 and appendix 8.2):
// four binary 10x10 images, one per class, each with 25 bright pixels (1.0) and 75 dark
// (0.0), whose bright pixels overlap so the classes are not separable by any single pixel.
//
// Layout used here (the paper does not publish its pixel positions), drawn from the
// caller's engine and therefore deterministic per seed:
//   * a core of `overlap` (15) pixels is bright in EVERY image;
//   * each image adds `bright - overlap` (10) pixels of its own, bright in no other image;
//   * all remaining pixels (100 - 15 - 4 * 10 = 45) are dark in every image.
// So "a 15 pixel overlap" means: every pair of images shares exactly 15 bright pixels, and
// these are the same 15 pixels for all pairs (the intersection of all four images). This
// matches the paper's analysis, where "overlapping pixels" carry no class information and
// their ideal weights are near zero, while each class is told apart by its own ON pixels.
//
// Draw order (fixed, so a seed always gives the same images): a Fisher-Yates shuffle
// (rng::shuffle) of the pixel indices 0 .. side*side-1; the first `overlap` shuffled pixels
// form the core, the next `bright - overlap` belong to class 0, the next to class 1, and
// so on. Pixel p is at row p / side, column p % side of the image (row-major).

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xtensor.hpp>

#include "sleepnet/core/error.hpp"
#include "sleepnet/core/rng.hpp"
#include "sleepnet/core/tensor.hpp"
#include "sleepnet/data/dataset.hpp"

namespace sleepnet {

struct PatchesOptions {
    std::size_t side = 10;     ///< images are side x side
    std::size_t classes = 4;   ///< one image per class
    std::size_t bright = 25;   ///< bright pixels per image
    std::size_t overlap = 15;  ///< bright pixels shared by all images
    std::size_t copies = 1;    ///< the training set repeats the images this many times
};

/// The images alone: a classes x (side*side) matrix of 0 / 1, row k is class k.
template <class T = float, class Engine>
inline matrix<T> make_patches_images(Engine& engine, const PatchesOptions& opt = {})
{
    const std::string where = "make_patches: ";
    detail::require(opt.side > 0 && opt.side <= 4096,
                    where + "option 'side' = " + std::to_string(opt.side) + " is outside [1, 4096]");
    detail::require(opt.classes > 0, where + "option 'classes' is 0");
    detail::require(opt.bright > 0, where + "option 'bright' is 0");
    detail::require(opt.overlap <= opt.bright, where + "option 'overlap' = " + std::to_string(opt.overlap) +
                                                   " exceeds 'bright' = " + std::to_string(opt.bright));
    detail::require(opt.overlap < opt.bright || opt.classes == 1,
                    where + "option 'overlap' = 'bright' = " + std::to_string(opt.bright) +
                        " would make all images identical");
    const std::size_t pixels = opt.side * opt.side;
    const std::size_t own = opt.bright - opt.overlap;
    detail::require(opt.overlap + opt.classes * own <= pixels,
                    where + "overlap " + std::to_string(opt.overlap) + " + classes " + std::to_string(opt.classes) +
                        " x own pixels " + std::to_string(own) + " exceeds the " + std::to_string(pixels) +
                        " pixels of a " + std::to_string(opt.side) + "x" + std::to_string(opt.side) + " image");

    std::vector<std::size_t> order(pixels);
    for (std::size_t p = 0; p < pixels; ++p) {
        order[p] = p;
    }
    rng::shuffle(order.begin(), order.end(), engine);

    matrix<T> images = xt::zeros<T>({opt.classes, pixels});
    for (std::size_t k = 0; k < opt.classes; ++k) {
        for (std::size_t i = 0; i < opt.overlap; ++i) {
            images(k, order[i]) = T(1);
        }
        const std::size_t first = opt.overlap + k * own;
        for (std::size_t i = first; i < first + own; ++i) {
            images(k, order[i]) = T(1);
        }
    }
    return images;
}

/// Patches as train / test splits: train holds the images `copies` times (classes
/// 0 .. classes-1 in order, repeated), test holds each image once. The paper tests on
/// distorted versions of the test images (see the distort/ headers).
template <class T = float, class Engine>
inline DataSplits<T> make_patches(Engine& engine, const PatchesOptions& opt = {})
{
    detail::require(opt.copies > 0, "make_patches: option 'copies' is 0");
    const matrix<T> images = make_patches_images<T>(engine, opt);
    const std::size_t pixels = images.shape(1);

    DataSplits<T> out;
    out.test.x = images;
    out.test.y = label_vector(label_vector::shape_type{opt.classes});
    for (std::size_t k = 0; k < opt.classes; ++k) {
        out.test.y(k) = k;
    }
    out.train.x = matrix<T>({opt.classes * opt.copies, pixels});
    out.train.y = label_vector(label_vector::shape_type{opt.classes * opt.copies});
    for (std::size_t c = 0; c < opt.copies; ++c) {
        for (std::size_t k = 0; k < opt.classes; ++k) {
            const std::size_t row = c * opt.classes + k;
            std::copy(images.data() + k * pixels, images.data() + (k + 1) * pixels, out.train.x.data() + row * pixels);
            out.train.y(row) = k;
        }
    }
    out.train.classes = out.test.classes = opt.classes;
    out.train.name = out.test.name = "patches";
    return out;
}

}  // namespace sleepnet
