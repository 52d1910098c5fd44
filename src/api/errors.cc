#include "api/errors.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/markup.h"

namespace glimmer::api {
namespace {

struct StatusInfo {
  int code;
  std::string_view title;
  std::string_view explanation;
};

// webob.exc titles and default explanations (whitespace-normalised, as webob does at import).
constexpr StatusInfo kStatuses[] = {
    {400, "Bad Request",
     "The server could not comply with the request since it is either malformed or otherwise "
     "incorrect."},
    {401, "Unauthorized",
     "This server could not verify that you are authorized to access the document you "
     "requested. Either you supplied the wrong credentials (e.g., bad password), or your "
     "browser does not understand how to supply the credentials required."},
    {403, "Forbidden", "Access was denied to this resource."},
    {404, "Not Found", "The resource could not be found."},
    {405, "Method Not Allowed", ""},
    {406, "Not Acceptable", ""},
    {408, "Request Timeout",
     "The server has waited too long for the request to be sent by the client."},
    {409, "Conflict", "There was a conflict when trying to complete your request."},
    {410, "Gone", "This resource is no longer available. No forwarding address is given."},
    {411, "Length Required", "Content-Length header required."},
    {412, "Precondition Failed", "Request precondition failed."},
    {413, "Request Entity Too Large", "The body of your request was too large for this server."},
    {414, "Request-URI Too Long", "The request URI was too long for this server."},
    {415, "Unsupported Media Type", ""},
    {416, "Request Range Not Satisfiable", "The Range requested is not available."},
    {429, "Too Many Requests", "The client has sent too many requests in a given amount of time"},
    {431, "Request Header Fields Too Large", "The request header fields were too large"},
    {500, "Internal Server Error",
     "The server has either erred or is incapable of performing the requested operation."},
    {501, "Not Implemented", ""},
    {502, "Bad Gateway", "Bad gateway."},
    {503, "Service Unavailable",
     "The server is currently unavailable. Please try again at a later time."},
    {504, "Gateway Timeout", "The gateway has timed out."},
};

const StatusInfo* Find(int status) {
  for (const StatusInfo& info : kStatuses) {
    if (info.code == status) return &info;
  }
  return nullptr;
}

// ---- Accept negotiation (webob.acceptparse.AcceptValidHeader.acceptable_offers) ----

struct MediaRange {
  std::string type;     // lower case
  std::string subtype;  // lower case
  bool has_params = false;
  double q = 1.0;
};

bool IsTchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

class AcceptParser {
 public:
  explicit AcceptParser(std::string_view s) : s_(s) {}

  // nullopt when the header does not match RFC 7231's grammar.
  std::optional<std::vector<MediaRange>> Parse() {
    std::vector<MediaRange> ranges;
    if (s_.empty()) return ranges;
    if (Peek() == ',') {
      ++pos_;
    } else if (!Element(ranges)) {
      return std::nullopt;
    }
    while (pos_ < s_.size()) {
      SkipOws();
      if (Peek() != ',') return std::nullopt;
      ++pos_;
      size_t after_comma = pos_;
      SkipOws();
      if (!Element(ranges)) pos_ = after_comma;
    }
    return ranges;
  }

 private:
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void SkipOws() {
    while (Peek() == ' ' || Peek() == '\t') ++pos_;
  }
  bool Token(std::string* out) {
    size_t start = pos_;
    while (pos_ < s_.size() && IsTchar(s_[pos_])) ++pos_;
    if (out) out->assign(s_.substr(start, pos_ - start));
    return pos_ > start;
  }
  bool QuotedString() {
    if (Peek() != '"') return false;
    ++pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return false;
        pos_ += 2;
        continue;
      }
      if (c != '\t' && static_cast<unsigned char>(c) < 0x20) return false;
      if (c == 0x7f) return false;
      ++pos_;
    }
    return false;
  }
  bool TokenOrQuoted() { return Token(nullptr) || QuotedString(); }
  bool QValue(double* q) {
    size_t start = pos_;
    if (Peek() == '0') {
      ++pos_;
      if (Peek() == '.') {
        ++pos_;
        for (int i = 0; i < 3 && std::isdigit(static_cast<unsigned char>(Peek())); ++i) ++pos_;
      }
    } else if (Peek() == '1') {
      ++pos_;
      if (Peek() == '.') {
        ++pos_;
        for (int i = 0; i < 3 && Peek() == '0'; ++i) ++pos_;
      }
    } else {
      return false;
    }
    *q = std::stod(std::string(s_.substr(start, pos_ - start)));
    return true;
  }
  // media-range [weight *accept-ext]
  bool Element(std::vector<MediaRange>& ranges) {
    size_t start = pos_;
    MediaRange range;
    if (!Token(&range.type) || Peek() != '/') return Fail(start);
    ++pos_;
    if (!Token(&range.subtype)) return Fail(start);
    for (char& c : range.type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : range.subtype) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    bool weighted = false;
    while (true) {
      size_t save = pos_;
      SkipOws();
      if (Peek() != ';') {
        pos_ = save;
        break;
      }
      ++pos_;
      SkipOws();
      if (!weighted && (Peek() == 'q' || Peek() == 'Q') && pos_ + 1 < s_.size() &&
          s_[pos_ + 1] == '=') {
        pos_ += 2;
        if (!QValue(&range.q)) return Fail(start);
        weighted = true;
        continue;
      }
      if (!Token(nullptr)) return Fail(start);
      if (Peek() == '=') {
        ++pos_;
        if (!TokenOrQuoted()) return Fail(start);
      } else if (!weighted) {
        return Fail(start);  // media type parameters need a value; accept-ext may omit it
      }
      if (!weighted) range.has_params = true;
    }
    ranges.push_back(std::move(range));
    return true;
  }
  bool Fail(size_t start) {
    pos_ = start;
    return false;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

enum class Format { kHtml, kJson, kPlain };

Format ChooseFormat(const http::Request& req) {
  std::optional<std::string_view> accept = req.headers.Get("Accept");
  std::optional<std::vector<MediaRange>> ranges = AcceptParser(accept.value_or("")).Parse();
  if (!ranges.has_value()) return Format::kHtml;  // invalid header: every offer acceptable
  struct Offer {
    std::string_view type, subtype;
    Format format;
    double q = 0;
    int specificity = 0;
  };
  Offer offers[] = {{"text", "html", Format::kHtml}, {"application", "json", Format::kJson}};
  for (Offer& offer : offers) {
    for (const MediaRange& r : *ranges) {
      int specificity = 0;
      if (r.type == offer.type && r.subtype == offer.subtype) {
        if (r.has_params) continue;
        specificity = 3;
      } else if (r.subtype == "*" && r.type == offer.type) {
        specificity = 2;
      } else if (r.type == "*" && r.subtype == "*") {
        specificity = 1;
      } else {
        continue;
      }
      if (specificity <= offer.specificity) continue;
      offer.specificity = specificity;
      offer.q = r.q;
    }
  }
  const Offer* best = nullptr;
  for (const Offer& offer : offers) {
    if (offer.specificity == 0 || offer.q <= 0) continue;
    if (best == nullptr || offer.q > best->q) best = &offer;
  }
  return best ? best->format : Format::kPlain;
}

// ---- Rendering ----


// Python json.dumps of a str (ensure_ascii=True).
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  auto hex4 = [&out](uint32_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xf];
  };
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0xfffd;
    size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else {
      int extra = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
      if (extra > 0 && i + static_cast<size_t>(extra) < s.size()) {
        uint32_t v = c & (0x3f >> extra);
        bool ok = true;
        for (int k = 1; ok && k <= extra; ++k) {
          unsigned char cc = static_cast<unsigned char>(s[i + k]);
          ok = (cc & 0xc0) == 0x80;
          v = (v << 6) | (cc & 0x3f);
        }
        if (ok && v <= 0x10ffff) {
          cp = v;
          len = static_cast<size_t>(extra) + 1;
        }
      }
    }
    i += len;
    switch (cp) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (cp < 0x20 || cp > 0x7e) {
      if (cp >= 0x10000) {
        cp -= 0x10000;
        hex4(0xd800 + (cp >> 10));
        hex4(0xdc00 + (cp & 0x3ff));
      } else {
        hex4(cp);
      }
    } else {
      out += static_cast<char>(cp);
    }
  }
  out += '"';
  return out;
}

bool StartsWithBrCaseInsensitive(std::string_view s, size_t i) {
  return i + 2 < s.size() && s[i] == '<' && (s[i + 1] == 'b' || s[i + 1] == 'B') &&
         (s[i + 2] == 'r' || s[i + 2] == 'R');
}

// webob.exc.strip_tags.
std::string StripTags(std::string_view in) {
  std::string s;
  for (char c : in) {
    if (c == '\n') {
      s += ' ';
    } else if (c != '\r') {
      s += c;
    }
  }
  // <br.*?> → newline
  std::string t;
  for (size_t i = 0; i < s.size();) {
    if (StartsWithBrCaseInsensitive(s, i)) {
      size_t close = s.find('>', i + 3);
      if (close != std::string::npos) {
        t += '\n';
        i = close + 1;
        continue;
      }
    }
    t += s[i++];
  }
  // <!-- and --> removed
  std::string u;
  for (size_t i = 0; i < t.size();) {
    if (t.compare(i, 4, "<!--") == 0) {
      i += 4;
    } else if (t.compare(i, 3, "-->") == 0) {
      i += 3;
    } else {
      u += t[i++];
    }
  }
  // <.*?> removed
  std::string out;
  for (size_t i = 0; i < u.size();) {
    if (u[i] == '<') {
      size_t close = u.find('>', i + 1);
      if (close != std::string::npos) {
        i = close + 1;
        continue;
      }
    }
    out += u[i++];
  }
  return out;
}

enum class Template { kDefault, kExplanationOnly };

struct ErrorSpec {
  int status;
  std::string explanation;
  std::string detail;
  Template tmpl = Template::kDefault;
};

// webob _make_body: `escape` applies to every substituted value.
template <typename Escape>
std::string MakeBody(const ErrorSpec& spec, const http::Request& req, Escape escape) {
  if (spec.tmpl == Template::kExplanationOnly) return escape(spec.explanation);
  auto header_or_placeholder = [&](std::string_view name, std::string_view placeholder) {
    std::optional<std::string_view> v = req.headers.Get(name);
    return v.has_value() ? escape(*v) : std::string(placeholder);
  };
  switch (spec.status) {
    case 405:
      return "The method " + escape(req.method) +
             " is not allowed for this resource. <br /><br />\n" + escape(spec.detail);
    case 406:
      return "The resource could not be generated that was acceptable to your browser\n"
             "(content of type " +
             header_or_placeholder("Accept", "${HTTP_ACCEPT}") + ". <br /><br />\n" +
             escape(spec.detail);
    case 415:
      return "The request media type " + header_or_placeholder("Content-Type", "${CONTENT_TYPE}") +
             " is not supported by this server.\n<br /><br />\n" + escape(spec.detail);
    case 501:
      return "\nThe request method " + escape(req.method) +
             " is not implemented for this server. <br /><br />\n" + escape(spec.detail);
    default:
      return escape(spec.explanation) + "<br /><br />\n" + escape(spec.detail) + "\n\n";
  }
}

http::Response Render(ErrorSpec spec, const http::Request& req) {
  // Templates that ignore ${explanation}: what callers pass is webob's detail.
  if (spec.tmpl == Template::kDefault &&
      (spec.status == 405 || spec.status == 406 || spec.status == 415 || spec.status == 501) &&
      spec.detail.empty()) {
    spec.detail = std::move(spec.explanation);
    spec.explanation.clear();
  }
  if (spec.explanation.empty() && spec.tmpl == Template::kDefault) {
    spec.explanation = std::string(DefaultExplanation(spec.status));
  }
  const std::string status_line =
      std::to_string(spec.status) + " " + std::string(ReasonPhrase(spec.status));
  http::Response resp;
  resp.status = spec.status;
  auto no_escape = [](std::string_view v) { return std::string(v); };
  switch (ChooseFormat(req)) {
    case Format::kHtml:
      resp.headers.Set("Content-Type", "text/html; charset=UTF-8");
      resp.body = "<html>\n <head>\n  <title>" + status_line +
                  "</title>\n </head>\n <body>\n  <h1>" + status_line + "</h1>\n  " +
                  MakeBody(spec, req, EscapeMarkup) + "\n </body>\n</html>";
      break;
    case Format::kJson:
      resp.headers.Set("Content-Type", "application/json");
      resp.body = "{\"message\": " + JsonString(MakeBody(spec, req, no_escape)) +
                  ", \"code\": " + JsonString(status_line) +
                  ", \"title\": " + JsonString(ReasonPhrase(spec.status)) + "}";
      break;
    case Format::kPlain:
      resp.headers.Set("Content-Type", "text/plain; charset=UTF-8");
      resp.body = status_line + "\n\n" + StripTags(MakeBody(spec, req, no_escape));
      break;
  }
  return resp;
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  const StatusInfo* info = Find(status);
  return info ? info->title : "Unknown Status";
}

std::string_view DefaultExplanation(int status) {
  const StatusInfo* info = Find(status);
  return info ? info->explanation : "";
}

http::Response ErrorResponse(int status, std::string_view explanation, const http::Request& req) {
  return Render({status, std::string(explanation), ""}, req);
}

http::Response ErrorResponse(int status, std::string_view explanation, std::string_view detail,
                             const http::Request& req) {
  return Render({status, std::string(explanation), std::string(detail)}, req);
}

http::Response MethodNotAllowedResponse(std::string_view allow, const http::Request& req,
                                        std::string_view explanation) {
  http::Response resp =
      explanation.empty()
          ? Render({405, "", ""}, req)
          : Render({405, std::string(explanation), "", Template::kExplanationOnly}, req);
  resp.headers.Set("Allow", std::string(allow));
  return resp;
}

http::Response UnauthorizedResponse(std::string_view auth_uri, const http::Request& req,
                                    std::string_view explanation) {
  http::Response resp = Render({401, std::string(explanation), ""}, req);
  if (!auth_uri.empty()) {
    resp.headers.Set("WWW-Authenticate", "Keystone uri=\"" + std::string(auth_uri) + "\"");
  }
  return resp;
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kGone:
      return 410;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kUnsupportedMedia:
      return 415;
    case StatusCode::kOutOfRange:
      return 416;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kCancelled:  // the client went away; nobody reads this but the log
      return 400;
    case StatusCode::kDeadlineExceeded:  // the client was too slow
      return 408;
    case StatusCode::kOk:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

http::Response ErrorFromStatus(const Status& status, const http::Request& req,
                               std::string_view auth_uri) {
  const int code = HttpStatusFor(status.code());
  if (code == 500) return ErrorResponse(500, "", req);
  if (code == 401) return UnauthorizedResponse(auth_uri, req, status.message());
  return ErrorResponse(code, status.message(), req);
}

}  // namespace glimmer::api
