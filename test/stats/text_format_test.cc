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

}  // namespace
}  // namespace remora::stats
