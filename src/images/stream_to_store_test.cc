#include "images/stream_to_store.h"

#include <openssl/evp.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace glimmer::images {
namespace {

std::string Hex(const std::string& data, const EVP_MD* md) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, md, nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kHex[d[i] >> 4];
    out += kHex[d[i] & 15];
  }
  return out;
}

// Collects what is appended; optionally fails once `fail_after` bytes were written.
class MemoryWriter final : public store::Writer {
 public:
  Status Append(std::span<const std::byte> data) override {
    if (fail_after >= 0 && static_cast<int64_t>(data_.size() + data.size()) > fail_after) {
      return ResourceExhaustedError("Image storage media is full");
    }
    data_.append(reinterpret_cast<const char*>(data.data()), data.size());
    ++appends;
    return OkStatus();
  }
  StatusOr<std::string> Commit() override { return std::string("mem://x"); }
  void Abort() override { data_.clear(); }
  const std::string& data() const { return data_; }
  int64_t fail_after = -1;
  int appends = 0;

 private:
  std::string data_;
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 977) & 0xff);
  return s;
}

std::span<const std::byte> Bytes(const std::string& s, size_t off = 0, size_t n = std::string::npos) {
  n = std::min(n, s.size() - off);
  return {reinterpret_cast<const std::byte*>(s.data()) + off, n};
}

class StreamToStoreTest : public ::testing::Test {
 protected:
  platform::Executor pool_{"stream-test", 2};
};

TEST_F(StreamToStoreTest, SmallWritesAreGatheredIntoWholeBuffers) {
  const std::string data = Pattern(3 * 65536 + 1234);
  MemoryWriter w;
  StreamToStore::Options o;
  o.buffer_size = 65536;
  StreamToStore s(w, pool_, o);
  for (size_t off = 0; off < data.size(); off += 1000) ASSERT_TRUE(s.Write(Bytes(data, off, 1000)).ok());
  auto r = s.Finish();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(w.data(), data);
  EXPECT_EQ(w.appends, 4);  // three full buffers and the rest, not one append per write
  EXPECT_EQ(r->size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(r->md5_hex, Hex(data, EVP_md5()));
  EXPECT_EQ(r->sha512_hex, Hex(data, EVP_sha512()));
  EXPECT_EQ(r->format, "raw");
  EXPECT_TRUE(r->stream_failure.empty());
}

TEST_F(StreamToStoreTest, CallerFillsTheBufferDirectly) {
  const std::string data = Pattern(200000);
  MemoryWriter w;
  StreamToStore::Options o;
  o.buffer_size = 65536;
  o.size_hint = static_cast<int64_t>(data.size());
  StreamToStore s(w, pool_, o);
  size_t off = 0;
  while (off < data.size()) {
    std::span<std::byte> buf = s.Buffer();
    ASSERT_FALSE(buf.empty());
    const size_t n = std::min<size_t>({buf.size(), 7000, data.size() - off});
    std::memcpy(buf.data(), data.data() + off, n);
    ASSERT_TRUE(s.Commit(n).ok());
    off += n;
  }
  EXPECT_EQ(s.bytes(), static_cast<int64_t>(data.size()));
  auto r = s.Finish();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(w.data(), data);
  EXPECT_EQ(r->md5_hex, Hex(data, EVP_md5()));
}

TEST_F(StreamToStoreTest, EmptyStream) {
  MemoryWriter w;
  StreamToStore s(w, pool_, {});
  auto r = s.Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, 0);
  EXPECT_EQ(r->md5_hex, Hex("", EVP_md5()));
}

TEST_F(StreamToStoreTest, OverTheLimitFailsAtOnceNamingTheLimit) {
  const std::string data = Pattern(100000);
  MemoryWriter w;
  StreamToStore::Options o;
  o.buffer_size = 65536;
  o.max_bytes = 50000;
  o.image_size_cap = 50000;
  StreamToStore s(w, pool_, o);
  ASSERT_TRUE(s.Write(Bytes(data, 0, 40000)).ok());
  Status st = s.Write(Bytes(data, 40000, 20000));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("image size cap is 50000"), std::string::npos) << st.message();
  EXPECT_EQ(s.Finish().status().code(), StatusCode::kResourceExhausted);
  EXPECT_LE(w.data().size(), 50000u);

  MemoryWriter w2;
  o.image_size_cap = 1 << 30;  // the limit is the quota
  StreamToStore q(w2, pool_, o);
  st = q.Write(Bytes(data));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("image_size_total quota exceeded"), std::string::npos);
}

TEST_F(StreamToStoreTest, SizeMismatchAndWriterErrors) {
  const std::string data = Pattern(100000);
  MemoryWriter w;
  StreamToStore::Options o;
  o.buffer_size = 65536;
  o.size_hint = 99999;
  StreamToStore s(w, pool_, o);
  ASSERT_TRUE(s.Write(Bytes(data)).ok());
  auto r = s.Finish();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("Size mismatch"), std::string::npos);

  MemoryWriter full;
  full.fail_after = 70000;
  o.size_hint.reset();
  StreamToStore f(full, pool_, o);
  Status st;
  for (size_t off = 0; off < data.size() && st.ok(); off += 10000) {
    st = f.Write(Bytes(data, off, 10000));
  }
  auto fr = f.Finish();
  EXPECT_EQ(fr.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(fr.status().message().find("media is full"), std::string::npos);
}

TEST_F(StreamToStoreTest, CancelThenDestroy) {
  const std::string data = Pattern(300000);
  MemoryWriter w;
  StreamToStore::Options o;
  o.buffer_size = 65536;
  StreamToStore s(w, pool_, o);
  ASSERT_TRUE(s.Write(Bytes(data)).ok());
  s.Cancel();
  s.Cancel();
}

}  // namespace
}  // namespace glimmer::images
