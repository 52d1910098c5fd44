#include "common/time.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace glimmer {
namespace {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ReadInt(std::string_view s, size_t& pos, size_t digits, int& out) {
  if (pos + digits > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = s[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  pos += digits;
  out = v;
  return true;
}

}  // namespace

std::string FormatIsoSeconds(UnixMicros t) {
  std::time_t secs = static_cast<std::time_t>(t / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string FormatIsoMicros(UnixMicros t) {
  std::time_t secs = static_cast<std::time_t>(t / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(t % 1000000));
  return buf;
}

std::optional<UnixMicros> ParseIso8601(std::string_view s) {
  size_t p = 0;
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!ReadInt(s, p, 4, y) || p >= s.size() || s[p++] != '-') return std::nullopt;
  if (!ReadInt(s, p, 2, mo) || p >= s.size() || s[p++] != '-') return std::nullopt;
  if (!ReadInt(s, p, 2, d)) return std::nullopt;
  int64_t micros = 0;
  if (p < s.size() && (s[p] == 'T' || s[p] == 't' || s[p] == ' ')) {
    ++p;
    if (!ReadInt(s, p, 2, h) || p >= s.size() || s[p++] != ':') return std::nullopt;
    if (!ReadInt(s, p, 2, mi)) return std::nullopt;
    if (p < s.size() && s[p] == ':') {
      ++p;
      if (!ReadInt(s, p, 2, sec)) return std::nullopt;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        int64_t scale = 100000;
        size_t start = p;
        while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
          if (scale > 0) micros += (s[p] - '0') * scale;
          scale /= 10;
          ++p;
        }
        if (p == start) return std::nullopt;
      }
    }
  }
  int64_t offset_secs = 0;
  if (p < s.size()) {
    if (s[p] == 'Z' || s[p] == 'z') {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      int sign = s[p] == '-' ? -1 : 1;
      ++p;
      int oh, om = 0;
      if (!ReadInt(s, p, 2, oh)) return std::nullopt;
      if (p < s.size() && s[p] == ':') ++p;
      if (p < s.size() && !ReadInt(s, p, 2, om)) return std::nullopt;
      if (oh > 23 || om > 59) return std::nullopt;
      offset_secs = sign * (oh * 3600 + om * 60);
    }
  }
  if (p != s.size()) return std::nullopt;
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || sec > 60) {
    return std::nullopt;
  }
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return std::nullopt;
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_secs;
  return secs * 1000000 + micros;
}

}  // namespace glimmer
