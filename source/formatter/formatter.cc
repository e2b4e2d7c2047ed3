// Text formats and header value formats: a compiled list of pieces appended in order.
#include "source/formatter/formatter.h"

#include <utility>
#include <vector>

#include "source/formatter/format_parser.h"
#include "source/formatter/substitution_format_string.h"

namespace remora::formatter {
namespace {

class TextFormatter : public Formatter {
 public:
  TextFormatter(std::vector<Piece> pieces, std::string missing)
      : pieces_(std::move(pieces)), missing_(std::move(missing)) {}

  void format(const http::StreamInfo& info, std::string& out) const override {
    appendPieces(pieces_, info, missing_, out);
  }

 private:
  std::vector<Piece> pieces_;
  std::string missing_;
};

absl::StatusOr<FormatterConstPtr> compile(const std::string& format, std::string missing) {
  auto pieces = parseFormat(format);
  if (!pieces.ok()) return pieces.status();
  return std::make_unique<TextFormatter>(*std::move(pieces), std::move(missing));
}

}  // namespace

absl::StatusOr<FormatterConstPtr> compileText(const std::string& format) {
  return compileText(format, FormatOptions{});
}

absl::StatusOr<FormatterConstPtr> compileText(const std::string& format,
                                              const FormatOptions& options) {
  return compile(format, options.omit_empty_values ? "" : "-");
}

absl::StatusOr<FormatterConstPtr> compileHeaderValue(const std::string& format) {
  return compile(format, "");
}

const std::string& defaultFormat() {
  static const std::string* format = new std::string(
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
      "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
      "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
      "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n");
  return *format;
}

}  // namespace remora::formatter
