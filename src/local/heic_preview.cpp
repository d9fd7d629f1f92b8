#include "local/heic_preview.hpp"

#include <libheif/heif.h>
#include <turbojpeg.h>

#include <cstdio>
#include <memory>
#include <vector>

namespace qr::local {
namespace fs = std::filesystem;

namespace {

constexpr long long max_pixels = 100'000'000;

struct ContextFree {
  void operator()(heif_context* c) const { heif_context_free(c); }
};
struct HandleFree {
  void operator()(heif_image_handle* h) const { heif_image_handle_release(h); }
};
struct ImageFree {
  void operator()(heif_image* i) const { heif_image_release(i); }
};
struct JpegFree {
  void operator()(void* j) const { tjDestroy(j); }
};

Result<void> heif_failed(std::string_view what, const heif_error& e) {
  return fail(ErrorCode::invalid_input, std::string(what) + ": " + (e.message ? e.message : "?"));
}

}  // namespace

Result<void> write_heic_preview(const fs::path& source, const fs::path& target) {
  std::unique_ptr<heif_context, ContextFree> context(heif_context_alloc());
  if (!context) return fail(ErrorCode::internal, "libheif: no context");
  if (auto e = heif_context_read_from_file(context.get(), source.c_str(), nullptr); e.code)
    return heif_failed("not a readable HEIF file", e);
  heif_image_handle* raw_handle = nullptr;
  if (auto e = heif_context_get_primary_image_handle(context.get(), &raw_handle); e.code)
    return heif_failed("no primary image", e);
  std::unique_ptr<heif_image_handle, HandleFree> handle(raw_handle);
  const int width = heif_image_handle_get_width(handle.get());
  const int height = heif_image_handle_get_height(handle.get());
  if (width <= 0 || height <= 0 || static_cast<long long>(width) * height > max_pixels)
    return fail(ErrorCode::invalid_input, "image of " + std::to_string(width) + "x" +
                                              std::to_string(height) + " pixels not previewed");

  // Decoded at full size (12 MP: 36 MB for a moment), then scaled down.
  heif_image* raw_image = nullptr;
  if (auto e = heif_decode_image(handle.get(), &raw_image, heif_colorspace_RGB,
                                 heif_chroma_interleaved_RGB, nullptr);
      e.code)
    return heif_failed("cannot decode", e);
  std::unique_ptr<heif_image, ImageFree> image(raw_image);
  const double scale =
      std::min(1.0, static_cast<double>(preview_max_side) / std::max(width, height));
  if (scale < 1.0) {
    heif_image* scaled = nullptr;
    const int w = std::max(1, static_cast<int>(width * scale));
    const int h = std::max(1, static_cast<int>(height * scale));
    if (auto e = heif_image_scale_image(image.get(), &scaled, w, h, nullptr); e.code)
      return heif_failed("cannot scale", e);
    image.reset(scaled);
  }
  int stride = 0;
  const std::uint8_t* pixels =
      heif_image_get_plane_readonly(image.get(), heif_channel_interleaved, &stride);
  const int w = heif_image_get_width(image.get(), heif_channel_interleaved);
  const int h = heif_image_get_height(image.get(), heif_channel_interleaved);
  if (!pixels || w <= 0 || h <= 0) return fail(ErrorCode::internal, "decoded image has no pixels");

  std::unique_ptr<void, JpegFree> jpeg(tjInitCompress());
  if (!jpeg) return fail(ErrorCode::internal, "libjpeg-turbo: no compressor");
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  if (tjCompress2(jpeg.get(), pixels, w, stride, h, TJPF_RGB, &out, &out_size, TJSAMP_420, 85,
                  TJFLAG_FASTDCT) != 0) {
    tjFree(out);
    return fail(ErrorCode::internal,
                std::string("JPEG encoding failed: ") + tjGetErrorStr2(jpeg.get()));
  }
  const fs::path temp = target.string() + ".part";
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  const bool written = file && std::fwrite(out, 1, out_size, file) == out_size;
  const bool closed = file && std::fclose(file) == 0;
  tjFree(out);
  std::error_code ec;
  if (!written || !closed) {
    fs::remove(temp, ec);
    return fail(ErrorCode::internal, "cannot write " + temp.string());
  }
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    return fail(ErrorCode::internal, "cannot name " + target.string());
  }
  return {};
}

}  // namespace qr::local
