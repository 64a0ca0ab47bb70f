#pragma once
// Shared scaffolding of the documentation snippets (docs/snippets/*.cpp).
//
// Every C++ code block of README.md and docs/*.md is copied verbatim into one of the
// page files beside this header, between `// snippet-begin <doc>` and `// snippet-end`
// (cmake/check_doc_snippets.cmake, CTest case docs_snippets_sync, checks the copies
// against the Markdown). The page files give each fragment what it needs around it: a
// function whose parameters are the variables the fragment uses (`net`, `data`,
// `engine`, `x`, `y`, ...), or a struct for a block of member declarations.
//
// Fragments that are cheap on the Patches data (binary images, networks of a few
// thousand weights) run as doctest cases (CTest case docs_snippets_run); the others
// (MNIST files, the authors' 784-1200-1200-10 network) are compiled only, in functions
// that are never called. Where a block declares a library function, a static_assert
// beside it compares the documented signature with the library's. All page files form one translation unit (a unity
// build, tests/cases_docs.cmake), so the library is compiled once for all snippets:
// each page keeps its names in its own namespace.
//
// To add a snippet: put the block into the page file of its Markdown file (a new
// function in the page's namespace, the block between the markers, unindented or
// indented as a whole), and call it from a TEST_CASE if it is cheap.

// clang-format off
#include <sleepnet/sleepnet.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <type_traits>
#include <vector>

namespace doc_snippets {

/// R(Args...) of a pointer to a function or to a member function (without the class), so
/// a documented member declaration can be compared with the library's declaration.
template <class F>
struct signature;
template <class R, class... A>
struct signature<R (*)(A...)> {
    using type = R(A...);
};
template <class R, class C, class... A>
struct signature<R (C::*)(A...)> {
    using type = R(A...);
};
template <class R, class C, class... A>
struct signature<R (C::*)(A...) const> {
    using type = R(A...) const;
};
template <class F, class G>
inline constexpr bool same_signature = std::is_same_v<typename signature<F>::type, typename signature<G>::type>;

/// The Patches splits: one image per class (side x side pixels), repeated `copies` times
/// in the training set. Defaults: the paper's four 10x10 images.
inline sleepnet::DataSplits<float> patches_data(std::uint64_t seed = 1, std::size_t copies = 25,
                                                std::size_t side = 10, std::size_t classes = 4)
{
    sleepnet::default_engine engine(seed);
    sleepnet::PatchesOptions o;
    o.copies = copies;
    o.side = side;
    o.classes = classes;
    return sleepnet::make_patches<float>(engine, o);
}

/// Patches with ten classes (12x12 images), for snippets written for MNIST's ten digits.
inline sleepnet::DataSplits<float> patches10_data(std::uint64_t seed = 1)
{
    return patches_data(seed, 25, 12, 10);
}

/// A Patches network with the given layer sizes (default: the paper's one-layer 100 -> 4),
/// the authors' options, trained for a few epochs with MSE.
inline sleepnet::DenseNetwork<float> patches_network(const sleepnet::DataSplits<float>& data,
                                                     std::vector<std::size_t> sizes = {100, 4},
                                                     std::uint64_t seed = 1)
{
    sleepnet::default_engine engine(seed);
    sleepnet::DenseNetwork<float> net(sizes, sleepnet::NetworkOptions{});
    net.initialize(sleepnet::Init::uniform(0.1), engine);
    sleepnet::SgdOptions sgd;
    sgd.epochs = 20;
    sgd.batch_size = 10;
    sleepnet::train(net, data.train, sleepnet::MseLoss{}, sgd, engine);
    return net;
}

}  // namespace doc_snippets
// clang-format on
