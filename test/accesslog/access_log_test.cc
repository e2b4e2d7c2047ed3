// Specification of access logs: building them from YAML, the lines they write (text, JSON, default
// format), filters, errors with field paths, and AccessLogFiles' buffering: shared files, the
// flush thread, no lost lines under concurrent writers, and bounded queues that count drops.
#include "source/accesslog/access_log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "source/config/yaml_to_proto.h"
#include "source/http/header_map.h"

namespace remora::accesslog {
namespace {

using namespace std::chrono_literals;

// A fresh directory under /tmp, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/remora-accesslog-XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    dir_ = name;
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& file) const { return dir_ + "/" + file; }

 private:
  std::string dir_;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(readFile(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The access_log list of a Listener given as YAML, with $DIR replaced by `dir`.
struct Built {
  absl::StatusOr<std::vector<AccessLogConstSharedPtr>> logs;
  const AccessLog& only() const {
    REQUIRE(logs.ok());
    REQUIRE(logs->size() == 1);
    return *(*logs)[0];
  }
};

Built build(const std::string& yaml, AccessLogFiles& files, const TempDir* dir = nullptr) {
  envoy::config::listener::v3::Listener listener;
  config::ParseReport report;
  const std::string text =
      dir == nullptr ? yaml : absl::StrReplaceAll(yaml, {{"$DIR", dir->path("")}});
  absl::Status status = config::parseYaml(text, listener, report);
  INFO(status.ToString());
  REQUIRE(status.ok());
  return Built{buildAccessLogs(listener.access_log(), "listener.access_log", files)};
}

std::string errorOf(const std::string& yaml) {
  AccessLogFiles files;
  Built b = build(yaml, files);
  REQUIRE_FALSE(b.logs.ok());
  CHECK(b.logs.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(b.logs.status().message());
}

std::string fileLog(const std::string& file, const std::string& format_yaml = "",
                    const std::string& filter_yaml = "") {
  std::string yaml = absl::StrCat(
      "access_log:\n- name: envoy.access_loggers.file\n",
      filter_yaml.empty() ? "" : "  filter: " + filter_yaml + "\n",
      "  typed_config:\n"
      "    '@type': type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n"
      "    path: $DIR",
      file, "\n");
  if (!format_yaml.empty()) absl::StrAppend(&yaml, "    log_format: ", format_yaml, "\n");
  return yaml;
}

struct Request {
  http::HeaderMap request_headers;
  http::StreamInfo info;
  Request() {
    request_headers.add(":method", "GET");
    request_headers.add(":path", "/hello");
    request_headers.add(":authority", "example.com");
    request_headers.add("user-agent", "curl/8.0");
    request_headers.add("x-request-id", "id-1");
    info.start_time = std::chrono::system_clock::time_point(1460751420s) + 310ms;
    info.start_steady = http::StreamInfo::Clock::now();
    info.last_downstream_tx_byte = info.start_steady + 25ms;
    info.response_code = 200;
    info.bytes_received = 0;
    info.bytes_sent = 5;
    info.protocol = "HTTP/1.1";
    info.upstream_host = *network::Address::fromIpPort("127.0.0.1", 8080);
    info.request_headers = &request_headers;
  }
};

// Polls until the file has `lines` lines or two seconds pass.
std::vector<std::string> waitForLines(const std::string& path, size_t lines) {
  auto deadline = std::chrono::steady_clock::now() + 2s;
  std::vector<std::string> got = readLines(path);
  while (got.size() < lines && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
    got = readLines(path);
  }
  return got;
}

TEST_CASE("a file access log writes its text format to the file", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  Built b = build(fileLog("a.log",
                          "{text_format_source: {inline_string: \"%REQ(:METHOD)% %REQ(:PATH)% "
                          "%RESPONSE_CODE% %DURATION%\\n\"}}"),
                  files, &dir);
  Request r;
  b.only().log(r.info);
  files.flush();
  CHECK(readFile(dir.path("a.log")) == "GET /hello 200 25\n");
}

TEST_CASE("a file access log without log_format uses Envoy's default format", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  Built b = build(fileLog("a.log"), files, &dir);
  Request r;
  b.only().log(r.info);
  files.flush();
  CHECK(readFile(dir.path("a.log")) ==
        "[2016-04-15T20:17:00.310Z] \"GET /hello HTTP/1.1\" 200 - 0 5 25 - \"-\" \"curl/8.0\" "
        "\"id-1\" \"example.com\" \"127.0.0.1:8080\"\n");
}

TEST_CASE("a json_format access log writes one JSON object per line", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  Built b = build(fileLog("a.json",
                          "{json_format: {code: '%RESPONSE_CODE%', path: '%REQ(:PATH)%', "
                          "host: '%UPSTREAM_CLUSTER%'}}"),
                  files, &dir);
  Request r;
  b.only().log(r.info);
  r.info.response_code = 503;
  b.only().log(r.info);
  files.flush();
  CHECK(readLines(dir.path("a.json")) ==
        std::vector<std::string>{"{\"code\":200,\"host\":null,\"path\":\"/hello\"}",
                                 "{\"code\":503,\"host\":null,\"path\":\"/hello\"}"});
}

TEST_CASE("omit_empty_values in log_format leaves out missing JSON values", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  Built b = build(fileLog("a.json",
                          "{json_format: {code: '%RESPONSE_CODE%', host: "
                          "'%UPSTREAM_CLUSTER%'}, omit_empty_values: true}"),
                  files, &dir);
  Request r;
  b.only().log(r.info);
  files.flush();
  CHECK(readFile(dir.path("a.json")) == "{\"code\":200}\n");
}

TEST_CASE("every entry of the access_log list is built", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  std::string yaml = fileLog("a.log", "{text_format_source: {inline_string: \"a\\n\"}}");
  yaml += fileLog("b.log", "{text_format_source: {inline_string: \"b\\n\"}}").substr(12);
  Built b = build(yaml, files, &dir);
  REQUIRE(b.logs.ok());
  REQUIRE(b.logs->size() == 2);
  Request r;
  for (const auto& log : *b.logs) log->log(r.info);
  files.flush();
  CHECK(readFile(dir.path("a.log")) == "a\n");
  CHECK(readFile(dir.path("b.log")) == "b\n");
}

TEST_CASE("an empty access_log list builds no loggers", "[accesslog]") {
  AccessLogFiles files;
  Built b = build("name: l", files);
  REQUIRE(b.logs.ok());
  CHECK(b.logs->empty());
}

TEST_CASE("access logs on one path share one open file across config versions", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  const std::string yaml =
      fileLog("a.log", "{text_format_source: {inline_string: \"%PROTOCOL%\\n\"}}");
  Built v1 = build(yaml, files, &dir);
  Built v2 = build(yaml, files, &dir);
  auto first = files.open(dir.path("a.log"));
  auto second = files.open(dir.path("a.log"));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->get() == second->get());
  Request r;
  v1.only().log(r.info);
  v2.only().log(r.info);
  files.flush();
  CHECK(readLines(dir.path("a.log")) == std::vector<std::string>{"HTTP/1.1", "HTTP/1.1"});
}

TEST_CASE("an existing log file is appended to", "[accesslog]") {
  TempDir dir;
  std::ofstream(dir.path("a.log")) << "earlier line\n";
  AccessLogFiles files;
  Built b = build(fileLog("a.log", "{text_format_source: {inline_string: \"new line\\n\"}}"), files,
                  &dir);
  Request r;
  b.only().log(r.info);
  files.flush();
  CHECK(readFile(dir.path("a.log")) == "earlier line\nnew line\n");
}

TEST_CASE("a missing log file is created", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  Built b = build(fileLog("new.log"), files, &dir);
  REQUIRE(b.logs.ok());
  CHECK(std::filesystem::exists(dir.path("new.log")));
}

TEST_CASE("stdout and stderr access logs write to their file descriptors", "[accesslog]") {
  TempDir dir;
  std::ofstream(dir.path("out")).flush();
  std::ofstream(dir.path("err")).flush();
  AccessLogFiles::Options options;
  options.stdout_fd = ::open(dir.path("out").c_str(), O_WRONLY | O_APPEND);
  options.stderr_fd = ::open(dir.path("err").c_str(), O_WRONLY | O_APPEND);
  REQUIRE(options.stdout_fd >= 0);
  REQUIRE(options.stderr_fd >= 0);
  {
    AccessLogFiles files(options);
    Built b = build(
        "access_log:\n"
        "- typed_config:\n"
        "    '@type': "
        "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog\n"
        "    log_format: {text_format_source: {inline_string: \"out %RESPONSE_CODE%\\n\"}}\n"
        "- typed_config:\n"
        "    '@type': "
        "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog\n"
        "    log_format: {json_format: {err: '%RESPONSE_CODE%'}}\n",
        files);
    REQUIRE(b.logs.ok());
    Request r;
    for (const auto& log : *b.logs) log->log(r.info);
    files.flush();
    CHECK(files.open("/dev/stdout")->get() == files.stdoutFile().get());
    CHECK(files.open("/dev/stderr")->get() == files.stderrFile().get());
  }
  CHECK(readFile(dir.path("out")) == "out 200\n");
  CHECK(readFile(dir.path("err")) == "{\"err\":200}\n");
  ::close(options.stdout_fd);
  ::close(options.stderr_fd);
}

TEST_CASE("status_code_filter logs only requests whose code compares true", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  Built b = build(fileLog("a.log", "{text_format_source: {inline_string: \"%RESPONSE_CODE%\\n\"}}",
                          "{status_code_filter: {comparison: {op: GE, value: {default_value: 500, "
                          "runtime_key: access_log.min_status}}}}"),
                  files, &dir);
  Request r;
  for (uint32_t code : {200, 499, 500, 503}) {
    r.info.response_code = code;
    b.only().log(r.info);
  }
  files.flush();
  CHECK(readLines(dir.path("a.log")) == std::vector<std::string>{"500", "503"});
}

TEST_CASE("status_code_filter EQ and LE compare as Envoy does", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  Built eq =
      build(fileLog("eq.log", "{text_format_source: {inline_string: \"%RESPONSE_CODE%\\n\"}}",
                    "{status_code_filter: {comparison: {op: EQ, value: {default_value: "
                    "404}}}}"),
            files, &dir);
  Built le =
      build(fileLog("le.log", "{text_format_source: {inline_string: \"%RESPONSE_CODE%\\n\"}}",
                    "{status_code_filter: {comparison: {op: LE, value: {default_value: "
                    "404}}}}"),
            files, &dir);
  Request r;
  for (uint32_t code : {200, 404, 503}) {
    r.info.response_code = code;
    eq.only().log(r.info);
    le.only().log(r.info);
  }
  files.flush();
  CHECK(readLines(dir.path("eq.log")) == std::vector<std::string>{"404"});
  CHECK(readLines(dir.path("le.log")) == std::vector<std::string>{"200", "404"});
}

TEST_CASE("duration_filter compares the request duration in milliseconds", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  Built b = build(fileLog("a.log", "{text_format_source: {inline_string: \"%DURATION%\\n\"}}",
                          "{duration_filter: {comparison: {op: GE, value: {default_value: 100}}}}"),
                  files, &dir);
  Request r;
  for (auto d : {5ms, 99ms, 100ms, 2500ms}) {
    r.info.last_downstream_tx_byte = r.info.start_steady + d;
    b.only().log(r.info);
  }
  files.flush();
  CHECK(readLines(dir.path("a.log")) == std::vector<std::string>{"100", "2500"});
}

TEST_CASE("not_health_check_filter logs every request", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  Built b = build(fileLog("a.log", "{text_format_source: {inline_string: \"x\\n\"}}",
                          "{not_health_check_filter: {}}"),
                  files, &dir);
  Request r;
  b.only().log(r.info);
  files.flush();
  CHECK(readFile(dir.path("a.log")) == "x\n");
}

TEST_CASE("and_filter needs every filter and or_filter any filter", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  const std::string format = "{text_format_source: {inline_string: \"%RESPONSE_CODE%\\n\"}}";
  Built and_log =
      build(fileLog("and.log", format,
                    "{and_filter: {filters: [{status_code_filter: {comparison: {op: GE, value: "
                    "{default_value: 400}}}}, {status_code_filter: {comparison: {op: LE, value: "
                    "{default_value: 499}}}}]}}"),
            files, &dir);
  Built or_log =
      build(fileLog("or.log", format,
                    "{or_filter: {filters: [{status_code_filter: {comparison: {op: EQ, value: "
                    "{default_value: 200}}}}, {status_code_filter: {comparison: {op: GE, value: "
                    "{default_value: 500}}}}]}}"),
            files, &dir);
  Request r;
  for (uint32_t code : {200, 404, 503}) {
    r.info.response_code = code;
    and_log.only().log(r.info);
    or_log.only().log(r.info);
  }
  files.flush();
  CHECK(readLines(dir.path("and.log")) == std::vector<std::string>{"404"});
  CHECK(readLines(dir.path("or.log")) == std::vector<std::string>{"200", "503"});
}

TEST_CASE("response_flag_filter logs requests with a listed flag or any flag", "[accesslog]") {
  TempDir dir;
  AccessLogFiles files;
  const std::string format = "{text_format_source: {inline_string: \"%RESPONSE_FLAGS%\\n\"}}";
  Built listed = build(fileLog("listed.log", format, "{response_flag_filter: {flags: [UH, URX]}}"),
                       files, &dir);
  Built any = build(fileLog("any.log", format, "{response_flag_filter: {}}"), files, &dir);
  Request r;
  for (uint32_t flags :
       {0u, uint32_t{http::kUpstreamConnectionFailure}, uint32_t{http::kNoHealthyUpstream}}) {
    r.info.response_flags = flags;
    listed.only().log(r.info);
    any.only().log(r.info);
  }
  files.flush();
  CHECK(readLines(dir.path("listed.log")) == std::vector<std::string>{"UH"});
  CHECK(readLines(dir.path("any.log")) == std::vector<std::string>{"UF", "UH"});
}

TEST_CASE("an unknown response flag is an error naming it", "[accesslog]") {
  TempDir dir;
  CHECK(
      errorOf(absl::StrReplaceAll(fileLog("a.log", "", "{response_flag_filter: {flags: [UH, XX]}}"),
                                  {{"$DIR", "/tmp/"}})) ==
      "listener.access_log[0].filter.response_flag_filter.flags[1]: unknown response flag \"XX\"");
}

TEST_CASE("an unsupported filter is an error naming its path", "[accesslog]") {
  CHECK(errorOf(absl::StrReplaceAll(
            fileLog("a.log", "", "{header_filter: {header: {name: x-debug, present_match: true}}}"),
            {{"$DIR", "/tmp/"}})) == "listener.access_log[0].filter.header_filter: not supported");
  CHECK(errorOf(absl::StrReplaceAll(fileLog("a.log", "", "{runtime_filter: {runtime_key: k}}"),
                                    {{"$DIR", "/tmp/"}})) ==
        "listener.access_log[0].filter.runtime_filter: not supported");
}

TEST_CASE("an unsupported filter inside and_filter is named by its full path", "[accesslog]") {
  CHECK(errorOf(absl::StrReplaceAll(
            fileLog("a.log", "",
                    "{and_filter: {filters: [{not_health_check_filter: {}}, {traceable_filter: "
                    "{}}]}}"),
            {{"$DIR", "/tmp/"}})) ==
        "listener.access_log[0].filter.and_filter.filters[1].traceable_filter: not supported");
}

TEST_CASE("a filter with nothing set is an error", "[accesslog]") {
  CHECK(errorOf(absl::StrReplaceAll(fileLog("a.log", "", "{}"), {{"$DIR", "/tmp/"}})) ==
        "listener.access_log[0].filter: no filter is set");
}

TEST_CASE("an access log without typed_config is an error", "[accesslog]") {
  CHECK(errorOf("access_log:\n- name: envoy.access_loggers.file\n") ==
        "listener.access_log[0].typed_config: required (a FileAccessLog, StdoutAccessLog or "
        "StderrAccessLog)");
}

TEST_CASE("an access logger type Remora lacks is an error naming the type", "[accesslog]") {
  CHECK(errorOf("access_log:\n- typed_config:\n    '@type': "
                "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog\n"
                "- typed_config:\n    '@type': "
                "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n") ==
        "listener.access_log[1].typed_config: access logger type "
        "'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' is not supported "
        "(use FileAccessLog, StdoutAccessLog or StderrAccessLog)");
}

TEST_CASE("a file access log without a path is an error", "[accesslog]") {
  CHECK(errorOf("access_log:\n- typed_config:\n    '@type': "
                "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n") ==
        "listener.access_log[0].typed_config.path: must not be empty");
}

TEST_CASE("a log file that cannot be opened is an error naming the path field", "[accesslog]") {
  CHECK(errorOf("access_log:\n- typed_config:\n    '@type': "
                "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n"
                "    path: /nonexistent-dir/a.log\n") ==
        "listener.access_log[0].typed_config.path: cannot open '/nonexistent-dir/a.log': No such "
        "file or directory");
}

TEST_CASE("a bad log_format is an error naming the format field", "[accesslog]") {
  CHECK(errorOf(
            absl::StrReplaceAll(fileLog("a.log", "{text_format_source: {inline_string: '%NOPE%'}}"),
                                {{"$DIR", "/tmp/"}})) ==
        "listener.access_log[0].typed_config.log_format.text_format_source.inline_string: unknown "
        "command operator %NOPE%");
  CHECK(errorOf(absl::StrReplaceAll(fileLog("a.log", "{json_format: {a: {b: '%REQ%'}}}"),
                                    {{"$DIR", "/tmp/"}})) ==
        "listener.access_log[0].typed_config.log_format.json_format[\"a\"][\"b\"]: %REQ% needs a "
        "header name, e.g. %REQ(x-request-id)%");
}

TEST_CASE("the flush thread writes lines within its interval without a flush call",
          "[accesslog][files]") {
  TempDir dir;
  AccessLogFiles::Options options;
  options.flush_interval = 20ms;
  AccessLogFiles files(options);
  auto file = files.open(dir.path("a.log"));
  REQUIRE(file.ok());
  (*file)->write("one\n");
  CHECK(waitForLines(dir.path("a.log"), 1) == std::vector<std::string>{"one"});
}

TEST_CASE("a buffer passing the flush threshold wakes the flush thread early",
          "[accesslog][files]") {
  TempDir dir;
  AccessLogFiles::Options options;
  options.flush_interval = std::chrono::hours(1);
  options.flush_threshold_bytes = 100;
  AccessLogFiles files(options);
  auto file = files.open(dir.path("a.log"));
  REQUIRE(file.ok());
  const std::string line(49, 'x');
  (*file)->write(line + "\n");
  (*file)->write(line + "\n");
  CHECK(waitForLines(dir.path("a.log"), 2).size() == 2);
}

TEST_CASE("shutdown writes every queued line", "[accesslog][files]") {
  TempDir dir;
  {
    AccessLogFiles::Options options;
    options.flush_interval = std::chrono::hours(1);
    AccessLogFiles files(options);
    auto file = files.open(dir.path("a.log"));
    REQUIRE(file.ok());
    for (int i = 0; i < 100; ++i) (*file)->write(absl::StrCat(i, "\n"));
  }
  CHECK(readLines(dir.path("a.log")).size() == 100);
}

TEST_CASE("lines queued after shutdown are written when their file is released",
          "[accesslog][files]") {
  TempDir dir;
  std::shared_ptr<LogFile> kept;
  {
    AccessLogFiles files;
    auto file = files.open(dir.path("a.log"));
    REQUIRE(file.ok());
    kept = *file;
    files.shutdown();
    kept->write("late\n");
  }
  kept.reset();
  CHECK(readFile(dir.path("a.log")) == "late\n");
}

// The tests tagged [files] use no protobuf code, so they also run under TSan: the distro's
// libprotobuf is not built with TSan, and protobuf's headers change layouts under it.
TEST_CASE("concurrent writers on many threads lose no lines", "[accesslog][files]") {
  TempDir dir;
  AccessLogFiles::Options options;
  options.flush_interval = 5ms;
  options.flush_threshold_bytes = 4096;
  AccessLogFiles files(options);
  auto format = formatter::compileText("%REQ(X-REQUEST-ID)% %RESPONSE_CODE% %REQ(:PATH)%\n");
  REQUIRE(format.ok());
  auto file = files.open(dir.path("a.log"));
  REQUIRE(file.ok());
  AccessLogConstSharedPtr shared = makeAccessLog(nullptr, *std::move(format), *file);
  const AccessLog& log = *shared;
  constexpr int kThreads = 8;
  constexpr int kLinesPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      Request r;
      for (int i = 0; i < kLinesPerThread; ++i) {
        r.request_headers.set("x-request-id", absl::StrCat(t, "-", i));
        log.log(r.info);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  files.flush();
  std::vector<std::string> lines = readLines(dir.path("a.log"));
  CHECK(files.droppedLines() == 0);
  REQUIRE(lines.size() == kThreads * kLinesPerThread);
  std::set<std::string> ids;
  size_t torn = 0;  // Lines not of the form "<id> 200 /hello": interleaved or cut writes.
  for (const std::string& line : lines) {
    const auto space = line.find(' ');
    if (space == std::string::npos || line.substr(space) != " 200 /hello") ++torn;
    ids.insert(line.substr(0, space));
  }
  CHECK(torn == 0);
  CHECK(ids.size() == kThreads * kLinesPerThread);
}

TEST_CASE("lines beyond a file's queue limit are dropped and counted", "[accesslog][files]") {
  TempDir dir;
  AccessLogFiles::Options options;
  options.flush_interval = std::chrono::hours(1);
  options.flush_threshold_bytes = 1 << 30;
  options.max_buffered_bytes = 1000;
  AccessLogFiles files(options);
  auto file = files.open(dir.path("a.log"));
  REQUIRE(file.ok());
  const std::string line = std::string(99, 'x') + "\n";
  for (int i = 0; i < 25; ++i) (*file)->write(line);
  CHECK((*file)->droppedLines() == 15);
  CHECK(files.droppedLines() == 15);
  CHECK((*file)->bufferedBytes() == 1000);
  files.flush();
  CHECK(readLines(dir.path("a.log")).size() == 10);
  CHECK((*file)->bufferedBytes() == 0);
  (*file)->write(line);
  files.flush();
  CHECK(readLines(dir.path("a.log")).size() == 11);
  CHECK(files.droppedLines() == 15);
}

TEST_CASE("lines a failed write loses are counted as dropped", "[accesslog][files]") {
  AccessLogFiles files;
  auto file = files.open("/dev/full");
  REQUIRE(file.ok());
  (*file)->write("a\nb\n");
  (*file)->write("c\n");
  files.flush();
  CHECK((*file)->droppedLines() == 3);
}

}  // namespace
}  // namespace remora::accesslog
