// Specifies the /stats renderings (text, JSON, Prometheus) and the filter/usedonly/type selection.
#include <catch2/catch.hpp>

#include "source/stats/text_format.h"

namespace remora::stats {
namespace {

// A small store: a tagged cluster counter pair, an untagged counter, and gauges.
std::vector<Store::Entry> sampleSnapshot(Store& store) {
  store.counter("cluster.backend.upstream_cx_total").inc(3);
  store.counter("cluster.api.upstream_cx_total").inc(7);
  store.counter("listener_manager.listener_added").inc(2);
  store.counter("http.ingress.rq_total");  // Never incremented.
  store.gauge("cluster.backend.upstream_cx_active").set(1);
  store.gauge("server.live").set(1);
  return store.snapshot();
}

std::vector<Store::Entry> select(const Store& store, StatsQuery query) {
  auto selected = selectStats(store.snapshot(), query);
  REQUIRE(selected.ok());
  return *selected;
}

std::vector<std::string> names(const std::vector<Store::Entry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.name);
  return out;
}

TEST_CASE("text format lists every stat as name: value sorted by name", "[stats]") {
  Store store;
  CHECK(renderText(sampleSnapshot(store)) ==
        "cluster.api.upstream_cx_total: 7\n"
        "cluster.backend.upstream_cx_active: 1\n"
        "cluster.backend.upstream_cx_total: 3\n"
        "http.ingress.rq_total: 0\n"
        "listener_manager.listener_added: 2\n"
        "server.live: 1\n");
}

TEST_CASE("text format of an empty store is empty", "[stats]") {
  CHECK(renderText({}).empty());
  CHECK(renderJson({}) == R"({"stats":[]})");
  CHECK(renderPrometheus({}).empty());
}

TEST_CASE("negative gauges and large counters render exactly", "[stats]") {
  Store store;
  store.gauge("g").set(-5);
  store.counter("c").inc(UINT64_MAX);
  CHECK(renderText(store.snapshot()) == "c: 18446744073709551615\ng: -5\n");
}

TEST_CASE("json format is Envoy's stats array of name and numeric value", "[stats]") {
  Store store;
  store.counter("a.b").inc(2);
  store.gauge("z\"q").set(-1);
  CHECK(renderJson(store.snapshot()) ==
        R"({"stats":[{"name":"a.b","value":2},{"name":"z\"q","value":-1}]})");
}

TEST_CASE("prometheus format groups by tag-extracted name with cluster tags", "[stats]") {
  Store store;
  CHECK(renderPrometheus(sampleSnapshot(store)) ==
        "# TYPE envoy_cluster_upstream_cx_total counter\n"
        "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"api\"} 7\n"
        "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"backend\"} 3\n"
        "\n"
        "# TYPE envoy_http_ingress_rq_total counter\n"
        "envoy_http_ingress_rq_total{} 0\n"
        "\n"
        "# TYPE envoy_listener_manager_listener_added counter\n"
        "envoy_listener_manager_listener_added{} 2\n"
        "\n"
        "# TYPE envoy_cluster_upstream_cx_active gauge\n"
        "envoy_cluster_upstream_cx_active{envoy_cluster_name=\"backend\"} 1\n"
        "\n"
        "# TYPE envoy_server_live gauge\n"
        "envoy_server_live{} 1\n"
        "\n");
}

TEST_CASE(
    "prometheus names replace every char outside letters digits and underscore with underscore",
    "[stats]") {
  CHECK(prometheusMetricName("http.ingress-1.downstream:rq") ==
        "envoy_http_ingress_1_downstream_rq");
  Store store;
  store.counter("cluster.my-svc.port:80.upstream_rq").inc();
  CHECK(renderPrometheus(store.snapshot()) ==
        "# TYPE envoy_cluster_port_80_upstream_rq counter\n"
        "envoy_cluster_port_80_upstream_rq{envoy_cluster_name=\"my-svc\"} 1\n\n");
}

TEST_CASE("prometheus label values escape backslash and quote", "[stats]") {
  Store store;
  store.counter("cluster.a\"b\\c.x").inc();
  CHECK(renderPrometheus(store.snapshot()) ==
        "# TYPE envoy_cluster_x counter\n"
        "envoy_cluster_x{envoy_cluster_name=\"a\\\"b\\\\c\"} 1\n\n");
}

TEST_CASE("cluster tag is the first component after cluster.", "[stats]") {
  const TaggedName tagged = extractTags("cluster.backend.circuit_breakers.default.cx_open");
  CHECK(tagged.tag_extracted_name == "cluster.circuit_breakers.default.cx_open");
  REQUIRE(tagged.tags.size() == 1);
  CHECK(tagged.tags[0].first == "envoy.cluster_name");
  CHECK(tagged.tags[0].second == "backend");
}

TEST_CASE("names outside cluster.<name>.<stat> carry no tags", "[stats]") {
  for (const char* name : {"cluster_manager.active_clusters", "cluster.only_name",
                           "listener.127.0.0.1_80.downstream_cx_total", "http.ingress.rq_total"}) {
    const TaggedName tagged = extractTags(name);
    CHECK(tagged.tag_extracted_name == name);
    CHECK(tagged.tags.empty());
  }
}

TEST_CASE("filter keeps stats whose name matches the regex anywhere", "[stats]") {
  Store store;
  sampleSnapshot(store);
  CHECK(names(select(store, {.filter = "upstream_cx"})) ==
        std::vector<std::string>{"cluster.api.upstream_cx_total",
                                 "cluster.backend.upstream_cx_active",
                                 "cluster.backend.upstream_cx_total"});
  CHECK(names(select(store, {.filter = "^server\\."})) == std::vector<std::string>{"server.live"});
  CHECK(select(store, {.filter = "nomatch"}).empty());
}

TEST_CASE("an invalid filter regex is an InvalidArgument error", "[stats]") {
  Store store;
  const auto selected = selectStats(sampleSnapshot(store), {.filter = "cluster.(("});
  REQUIRE_FALSE(selected.ok());
  CHECK(selected.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(selected.status().message()), Catch::Contains("Invalid re2 regex"));
}

TEST_CASE("usedonly drops untouched stats but keeps a gauge set back to zero", "[stats]") {
  Store store;
  store.counter("c.used").inc();
  store.counter("c.unused");
  store.gauge("g.unused");
  store.gauge("g.back_to_zero").inc();
  store.gauge("g.back_to_zero").dec();
  CHECK(names(select(store, {.used_only = true})) ==
        std::vector<std::string>{"c.used", "g.back_to_zero"});
}

TEST_CASE("type selects counters or gauges", "[stats]") {
  Store store;
  sampleSnapshot(store);
  CHECK(names(select(store, {.type = StatTypeFilter::kGauges})) ==
        std::vector<std::string>{"cluster.backend.upstream_cx_active", "server.live"});
  CHECK(select(store, {.type = StatTypeFilter::kCounters}).size() == 4);
}

TEST_CASE("filter and usedonly combine", "[stats]") {
  Store store;
  sampleSnapshot(store);
  CHECK(names(select(store, {.used_only = true, .filter = "^(http|server)"})) ==
        std::vector<std::string>{"server.live"});
}

TEST_CASE("text format prints histograms after counters and gauges with each quantile twice",
          "[stats]") {
  Store store;
  store.histogram("cluster.backend.upstream_rq_time").record(7);
  store.counter("z.count").inc();
  CHECK(renderText(store.snapshot(), store.histogramSnapshot()) ==
        "z.count: 1\n"
        "cluster.backend.upstream_rq_time: P0(7,7) P25(7,7) P50(7,7) P75(7,7) P90(7,7) P95(7,7) "
        "P99(7,7) P99.5(7,7) P99.9(7,7) P100(7,7)\n");
}

TEST_CASE("text format quantiles are plain decimals", "[stats]") {
  Store store;
  for (uint64_t v : {1, 2}) store.histogram("h").record(v);
  // 1 is in (0.5, 1], narrowed to [1, 1]; 2 in (1, 5], narrowed to (1, 2].
  CHECK(renderText({}, store.histogramSnapshot()) ==
        "h: P0(1,1) P25(1,1) P50(1,1) P75(1.5,1.5) P90(1.8,1.8) P95(1.9,1.9) P99(1.98,1.98) "
        "P99.5(1.99,1.99) P99.9(1.998,1.998) P100(2,2)\n");
}

TEST_CASE("text format says No recorded values for a histogram never recorded into", "[stats]") {
  Store store;
  store.histogram("h");
  CHECK(renderText({}, store.histogramSnapshot()) == "h: No recorded values\n");
}

TEST_CASE("json format appends histograms with supported and computed quantiles", "[stats]") {
  Store store;
  store.counter("c").inc();
  store.histogram("h").record(7);
  const std::string seven = R"({"interval":7,"cumulative":7})";
  std::string values = seven;
  for (int i = 1; i < 10; ++i) values += "," + seven;
  CHECK(renderJson(store.snapshot(), store.histogramSnapshot()) ==
        R"({"stats":[{"name":"c","value":1},{"histograms":{"supported_quantiles":)"
        R"([0,25,50,75,90,95,99,99.5,99.9,100],"computed_quantiles":[{"name":"h","values":[)" +
            values + "]}]}}]}");
}

TEST_CASE("json format writes null quantiles for a histogram never recorded into", "[stats]") {
  Store store;
  store.histogram("h");
  const std::string null = R"({"interval":null,"cumulative":null})";
  std::string values = null;
  for (int i = 1; i < 10; ++i) values += "," + null;
  CHECK(renderJson({}, store.histogramSnapshot()) ==
        R"({"stats":[{"histograms":{"supported_quantiles":)"
        R"([0,25,50,75,90,95,99,99.5,99.9,100],"computed_quantiles":[{"name":"h","values":[)" +
            values + "]}]}}]}");
}

TEST_CASE("prometheus format writes cumulative buckets then sum and count for histograms",
          "[stats]") {
  Store store;
  store.histogram("cluster.backend.upstream_rq_time").record(7);
  store.gauge("server.live").set(1);
  const std::string m = "envoy_cluster_upstream_rq_time";
  const std::string tag = "envoy_cluster_name=\"backend\"";
  std::string buckets;
  for (const char* le : {"0.5", "1", "5"}) {
    buckets += m + "_bucket{" + tag + ",le=\"" + le + "\"} 0\n";
  }
  for (const char* le : {"10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000",
                         "30000", "60000", "300000", "600000", "1800000", "3600000", "+Inf"}) {
    buckets += m + "_bucket{" + tag + ",le=\"" + le + "\"} 1\n";
  }
  CHECK(renderPrometheus(store.snapshot(), store.histogramSnapshot()) ==
        "# TYPE envoy_server_live gauge\n"
        "envoy_server_live{} 1\n"
        "\n"
        "# TYPE envoy_cluster_upstream_rq_time histogram\n" +
            buckets + m + "_sum{" + tag + "} 7\n" + m + "_count{" + tag + "} 1\n\n");
}

TEST_CASE("prometheus histogram without tags labels buckets with le alone", "[stats]") {
  Store store;
  store.histogram("xds.apply_ms").record(3);
  const std::string out = renderPrometheus({}, store.histogramSnapshot());
  CHECK_THAT(out, Catch::StartsWith("# TYPE envoy_xds_apply_ms histogram\n"
                                    "envoy_xds_apply_ms_bucket{le=\"0.5\"} 0\n"));
  CHECK_THAT(out, Catch::EndsWith("envoy_xds_apply_ms_bucket{le=\"+Inf\"} 1\n"
                                  "envoy_xds_apply_ms_sum{} 3\n"
                                  "envoy_xds_apply_ms_count{} 1\n\n"));
}

TEST_CASE("usedonly filter and type select histograms too", "[stats]") {
  Store store;
  store.histogram("a.used_ms").record(1);
  store.histogram("b.unused_ms");
  store.counter("c.count").inc();
  const auto histogramNames = [&](StatsQuery query) {
    auto selected = selectHistograms(store.histogramSnapshot(), query);
    REQUIRE(selected.ok());
    std::vector<std::string> out;
    for (const auto& h : *selected) out.push_back(h.name);
    return out;
  };
  CHECK(histogramNames({}) == std::vector<std::string>{"a.used_ms", "b.unused_ms"});
  CHECK(histogramNames({.used_only = true}) == std::vector<std::string>{"a.used_ms"});
  CHECK(histogramNames({.filter = "^b"}) == std::vector<std::string>{"b.unused_ms"});
  CHECK(histogramNames({.type = StatTypeFilter::kCounters}).empty());
  CHECK(histogramNames({.type = StatTypeFilter::kHistograms}).size() == 2);
  CHECK(select(store, {.type = StatTypeFilter::kHistograms}).empty());
  CHECK_FALSE(selectHistograms(store.histogramSnapshot(), {.filter = "(("}).ok());
}

}  // namespace
}  // namespace remora::stats
