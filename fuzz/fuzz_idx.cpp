// libFuzzer target: IDX files, raw and gzip (data/idx.hpp), as images and as labels. A
// raw input that reads is also gzipped here and must read the same (the gzip path against
// the raw one).
#include <cstddef>
#include <cstdint>
#include <string>

#include <zlib.h>

#include <sleepnet/data/idx.hpp>

#include "fuzz_common.hpp"

namespace {

/// `bytes` as a gzip stream (zlib's deflate with the gzip wrapper).
std::string gzip(const std::string& bytes)
{
    z_stream z{};
    fuzz::require(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
    std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(bytes.size());
    z.next_out = reinterpret_cast<Bytef*>(&out[0]);
    z.avail_out = static_cast<uInt>(out.size());
    fuzz::require(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

bool is_gzip(const std::string& s) { return s.size() >= 2 && s[0] == '\x1f' && s[1] == '\x8b'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace sleepnet;
    const std::string bytes = fuzz::text(data, size);
    const ReadLimits limits = fuzz::limits();
    fuzz::refusals_allowed([&] {
        const matrix<float> x = idx::read_images_memory<float>(bytes.data(), bytes.size(), "fuzz", limits);
        if (!is_gzip(bytes)) {
            const std::string gz = gzip(bytes);
            fuzz::require(idx::read_images_memory<float>(gz.data(), gz.size(), "fuzz", limits) == x, "images gzip");
        }
    });
    fuzz::refusals_allowed([&] {
        const label_vector y = idx::read_labels_memory(bytes.data(), bytes.size(), "fuzz", 10, limits);
        if (!is_gzip(bytes)) {
            const std::string gz = gzip(bytes);
            fuzz::require(idx::read_labels_memory(gz.data(), gz.size(), "fuzz", 10, limits) == y, "labels gzip");
        }
    });
    return 0;
}
