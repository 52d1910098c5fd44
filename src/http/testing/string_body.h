#pragma once
// A request body held in memory, for tests that call handlers directly.

#include <algorithm>
#include <cstring>
#include <optional>
#include <span>
#include <string>

#include "http/message.h"

namespace glimmer::http::testing {

class StringBody final : public BodyReader {
 public:
  explicit StringBody(std::string data) : data_(std::move(data)) {}
  StatusOr<size_t> Read(std::span<std::byte> out) override {
    size_t n = std::min(out.size(), data_.size() - pos_);
    std::memcpy(out.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::optional<uint64_t> content_length() const override { return data_.size(); }
  bool chunked() const override { return false; }

 private:
  std::string data_;
  size_t pos_ = 0;
};

}  // namespace glimmer::http::testing
