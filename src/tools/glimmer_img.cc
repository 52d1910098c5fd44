// glimmer-img: inspect, check and convert disk images without qemu-img (docs/formats.md).
//   glimmer-img info [-f FMT] [--output=human|json] [--max-virtual-size BYTES] FILE
//   glimmer-img check [-f FMT] [--output=human|json] [--max-virtual-size BYTES] FILE
//   glimmer-img convert [-f FMT] -O raw|qcow2 [-c] [-o compression_type=zlib|zstd,cluster_size=N]
//                       [-p] [-m THREADS] [--max-virtual-size BYTES] IN OUT
// Exit status: 0 success; check: 2 when the image fails a check (the check is named on stderr),
// 1 on usage or I/O errors; convert: 1 on any failure (the output file is removed).

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "formats/convert.h"
#include "formats/inspect.h"
#include "formats/source.h"
#include "platform/executor.h"

namespace {

using glimmer::Status;
namespace fmt = glimmer::formats;

std::string HumanSize(int64_t v) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double d = static_cast<double>(v);
  int u = 0;
  while (d >= 1024 && u < 6) {
    d /= 1024;
    ++u;
  }
  char buf[64];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.3g %s", d, units[u]);
  }
  return buf;
}

int64_t DiskUsage(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_blocks) * 512;
}

nlohmann::json DetailValue(const fmt::Detail& d) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, d.value);
}

nlohmann::json InfoJson(const std::string& path, const fmt::Inspection& info) {
  nlohmann::json j;
  j["filename"] = path;
  j["format"] = info.qemu_format;
  j["disk-format"] = info.format;
  if (info.virtual_size >= 0) j["virtual-size"] = info.virtual_size;
  j["actual-size"] = DiskUsage(path);
  if (info.cluster_size > 0) j["cluster-size"] = info.cluster_size;
  if (info.format == "qcow2") {
    bool dirty = false;
    for (const auto& d : info.details) {
      if (d.key == "dirty-flag") dirty = std::get<bool>(d.value);
    }
    j["dirty-flag"] = dirty;
  }
  if (!info.details.empty()) {
    nlohmann::json data = nlohmann::json::object();
    for (const auto& d : info.details) {
      if (d.key != "dirty-flag") data[d.key] = DetailValue(d);
    }
    j["format-specific"] = {{"type", info.qemu_format}, {"data", data}};
  }
  if (info.allocated_size >= 0) j["allocated-size"] = info.allocated_size;
  nlohmann::json safety = {{"safe", info.safe()}, {"deep-checked", info.deep_checked}};
  if (!info.safe()) {
    safety["check"] = info.verdict.check;
    safety["message"] = info.verdict.message;
  }
  j["safety"] = safety;
  return j;
}

void PrintHuman(const std::string& path, const fmt::Inspection& info) {
  std::cout << "image: " << path << "\n";
  std::cout << "file format: " << info.qemu_format;
  if (info.qemu_format != info.format) std::cout << " (disk_format " << info.format << ")";
  std::cout << "\n";
  if (info.virtual_size >= 0) {
    std::cout << "virtual size: " << HumanSize(info.virtual_size) << " (" << info.virtual_size
              << " bytes)\n";
  }
  std::cout << "disk size: " << HumanSize(std::max<int64_t>(0, DiskUsage(path))) << "\n";
  if (info.cluster_size > 0) std::cout << "cluster_size: " << info.cluster_size << "\n";
  if (!info.details.empty()) {
    std::cout << "Format specific information:\n";
    for (const auto& d : info.details) {
      auto v = DetailValue(d);
      std::cout << "    " << d.key << ": " << (v.is_string() ? v.get<std::string>() : v.dump())
                << "\n";
    }
  }
  if (info.safe()) {
    std::cout << "safety: ok" << (info.deep_checked ? " (all tables checked)" : "") << "\n";
  } else {
    std::cout << "safety: FAILED check '" << info.verdict.check << "': " << info.verdict.message
              << "\n";
  }
}

std::optional<fmt::Inspection> Load(const std::string& path, const fmt::Limits& limits,
                                    const std::string& format) {
  auto src = fmt::FileSource::Open(path);
  if (!src.ok()) {
    std::cerr << "glimmer-img: " << src.status().message() << "\n";
    return std::nullopt;
  }
  auto info = fmt::Inspect(**src, limits, format);
  if (!info.ok()) {
    std::cerr << "glimmer-img: " << path << ": " << info.status().message() << "\n";
    return std::nullopt;
  }
  return *info;
}

class Progress {
 public:
  explicit Progress(bool on) : on_(on), start_(std::chrono::steady_clock::now()) {}
  void Update(int64_t done, int64_t total) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    double secs = std::chrono::duration<double>(now - start_).count();
    int width = 40, fill = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(fill), '#');
    bar.resize(static_cast<size_t>(width), ' ');
    std::fprintf(
        stderr, "\r    [%s] %6.2f%%  %s/s", bar.c_str(), frac * 100,
        HumanSize(secs > 0 ? static_cast<int64_t>(static_cast<double>(done) / secs) : 0).c_str());
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "glimmer-img: inspect, check and convert disk images (qcow2, vmdk, vhd/vpc, vhdx, vdi, iso, "
      "raw)"};
  app.require_subcommand(1);
  fmt::Limits limits;
  std::string format, output = "human";

  auto* info_cmd = app.add_subcommand("info", "Show format, virtual size and the safety verdict");
  auto* check_cmd = app.add_subcommand("check", "Exit 0 only for a safe, consistent image");
  std::string file;
  for (auto* c : {info_cmd, check_cmd}) {
    c->add_option("-f,--format", format, "Input format (qemu or Glance name); default: detect");
    c->add_option("--output", output, "human or json")->check(CLI::IsMember({"human", "json"}));
    c->add_option("--max-virtual-size", limits.max_virtual_size,
                  "Largest accepted virtual size (bytes)");
    c->add_option("file", file, "Image file")->required();
  }

  auto* conv = app.add_subcommand("convert", "Convert an image to raw or qcow2");
  std::string out_format, in_path, out_path, opts;
  bool compress = false, progress = false;
  int threads = 0;
  conv->add_option("-f", format, "Input format; default: detect");
  conv->add_option("-O", out_format, "Output format: raw or qcow2")
      ->required()
      ->check(CLI::IsMember({"raw", "qcow2"}));
  conv->add_flag("-c", compress, "Compress (qcow2 output)");
  conv->add_option("-o", opts, "Output options: compression_type=zlib|zstd, cluster_size=BYTES");
  conv->add_flag("-p", progress, "Show progress");
  conv->add_option("-m", threads, "Worker threads (default: one per core)");
  conv->add_option("--max-virtual-size", limits.max_virtual_size,
                   "Largest accepted virtual size (bytes)");
  conv->add_option("input", in_path, "Input image")->required();
  conv->add_option("output", out_path, "Output file")->required();

  CLI11_PARSE(app, argc, argv);

  if (*info_cmd || *check_cmd) {
    auto info = Load(file, limits, format);
    if (!info) return 1;
    if (output == "json") {
      std::cout << InfoJson(file, *info).dump(4) << "\n";
    } else if (*info_cmd) {
      PrintHuman(file, *info);
    }
    if (*check_cmd) {
      if (!info->safe()) {
        std::cerr << "glimmer-img: " << file << ": check '" << info->verdict.check
                  << "' failed: " << info->verdict.message << "\n";
        return 2;
      }
      if (output != "json") {
        std::cout << "No errors were found on the image.\n";
        if (info->allocated_size >= 0 && info->virtual_size > 0) {
          std::printf("%lld/%lld bytes allocated (%.2f%%), format %s.\n",
                      static_cast<long long>(info->allocated_size),
                      static_cast<long long>(info->virtual_size),
                      100.0 * static_cast<double>(info->allocated_size) /
                          static_cast<double>(info->virtual_size),
                      info->format.c_str());
        }
      }
    }
    return 0;
  }

  // convert
  fmt::Qcow2WriteOptions q;
  if (compress) q.compression = fmt::Qcow2WriteOptions::Compression::kZlib;
  size_t pos = 0;
  while (pos < opts.size()) {
    size_t comma = opts.find(',', pos);
    std::string kv = opts.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? opts.size() : comma + 1;
    if (kv.empty()) continue;
    if (kv == "compression_type=zstd") {
      if (compress) q.compression = fmt::Qcow2WriteOptions::Compression::kZstd;
    } else if (kv == "compression_type=zlib") {
    } else if (kv.rfind("cluster_size=", 0) == 0) {
      long long cs = std::atoll(kv.c_str() + 13);
      int bits = 0;
      while (bits < 30 && (1ll << bits) < cs) ++bits;
      if ((1ll << bits) != cs || bits < 9 || bits > 21) {
        std::cerr << "glimmer-img: cluster_size must be a power of two between 512 and 2M\n";
        return 1;
      }
      q.cluster_bits = bits;
    } else {
      std::cerr << "glimmer-img: unknown option '" << kv << "'\n";
      return 1;
    }
  }
  if (compress && out_format != "qcow2") {
    std::cerr << "glimmer-img: -c needs -O qcow2\n";
    return 1;
  }
  auto src = fmt::FileSource::Open(in_path);
  if (!src.ok()) {
    std::cerr << "glimmer-img: " << src.status().message() << "\n";
    return 1;
  }
  auto sink = fmt::FileSink::Create(out_path);
  if (!sink.ok()) {
    std::cerr << "glimmer-img: " << sink.status().message() << "\n";
    return 1;
  }
  int n =
      threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  glimmer::platform::Executor exec("glimmer-img", n);
  Progress bar(progress);
  fmt::ConvertOptions co;
  co.limits = limits;
  co.format = format;
  co.executor = &exec;
  co.progress = [&](int64_t done, int64_t total) { bar.Update(done, total); };
  Status st = out_format == "raw" ? fmt::ConvertToRaw(**src, **sink, co)
                                  : fmt::ConvertToQcow2(**src, **sink, co, q);
  sink->reset();
  if (!st.ok()) {
    unlink(out_path.c_str());
    std::string check = fmt::FailedCheck(st);
    if (!check.empty()) {
      std::cerr << "glimmer-img: " << in_path << ": check '" << check
                << "' failed: " << st.message().substr(check.size() + 2) << "\n";
    } else {
      std::cerr << "glimmer-img: convert failed: " << st.message() << "\n";
    }
    return 1;
  }
  return 0;
}
