// ConsulClient (see consul_client.hpp).
//
// Consul error bodies are plain text; they are shown (first line, shortened) since they carry no
// secrets, unlike request headers which hold the token.
#include "functions/live/consul_client.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "functions/helpers_internal.hpp"
#include "net/address.hpp"

namespace templet::live {

namespace {

// strings.TrimSpace of a token file or an error body.
std::string trimmed(std::string_view s) {
  return std::string(helpers::trim_space(s));
}

std::string first_line(const std::string& body) {
  std::string s = body.substr(0, body.find('\n'));
  s = trimmed(s);
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

}  // namespace

std::string consul_key_path(const std::string& key) {
  std::string out;
  size_t start = 0;
  while (start <= key.size()) {
    size_t slash = key.find('/', start);
    if (slash == std::string::npos) slash = key.size();
    if (start > 0) out += '/';
    out += url_escape(key.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

ConsulSettings ConsulSettings::from(const ConsulConfig& c,
                                    std::optional<Duration> block_query_wait) {
  ConsulSettings s;
  if (c.address && !c.address->empty()) s.address = normalize_address(*c.address);
  while (!s.address.empty() && s.address.back() == '/') s.address.pop_back();
  if (c.token) s.token = *c.token;
  if (c.token_file) s.token_file = *c.token_file;
  if (c.timeout) s.timeout = *c.timeout;
  if (block_query_wait) s.wait = *block_query_wait;
  return s;
}

ConsulClient::ConsulClient(ConsulSettings settings, std::shared_ptr<HttpPool> http)
    : settings_(std::move(settings)), http_(std::move(http)) {}

std::string ConsulClient::token() const {
  if (settings_.token_file.empty()) return settings_.token;
  std::ifstream in(settings_.token_file, std::ios::binary);
  if (!in) return settings_.token;
  std::stringstream ss;
  ss << in.rdbuf();
  return trimmed(ss.str());
}

std::string ConsulClient::local_node() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!local_node_.empty()) return local_node_;
  }
  HttpRequest req;
  req.url = settings_.address + "/v1/agent/self";
  req.timeout = request_timeout(0);
  std::string t = token();
  if (!t.empty()) req.headers.emplace_back("X-Consul-Token", t);
  HttpResponse resp = send(req);
  if (resp.status != 200)
    throw ConsulError("consul: " + describe_request_at("GET", req.url) + ": status 404", 404,
                      false);
  nlohmann::json j = nlohmann::json::parse(resp.body, nullptr, false);
  std::string name;
  if (j.is_object() && j.contains("Config") && j["Config"].is_object())
    name = j["Config"].value("NodeName", "");
  if (name.empty()) throw ConsulError("consul: /v1/agent/self has no Config.NodeName", 200, false);
  std::lock_guard<std::mutex> lock(mu_);
  local_node_ = name;
  return name;
}

std::string ConsulClient::request_target(const Dependency& d, std::uint64_t index) {
  std::string path;
  std::vector<std::string> q;
  auto add = [&q](const std::string& k, const std::string& v) {
    if (!v.empty()) q.push_back(k + "=" + url_escape(v));
  };
  switch (d.type) {
    case DepType::KvGet:
    case DepType::KvBlock:
      path = "/v1/kv/" + consul_key_path(d.target);
      break;
    case DepType::KvList:
      path = "/v1/kv/" + consul_key_path(d.target);
      q.push_back("recurse");
      break;
    case DepType::HealthService:
      // agent/health_endpoint.go: /v1/health/connect lists the Connect-capable instances
      // (proxies for the service, and native Connect services), in the same shape.
      path = (d.connect ? "/v1/health/connect/" : "/v1/health/service/") + url_escape(d.target);
      if (d.passing_only()) q.push_back("passing");
      add("tag", d.tag);
      add("near", d.near);
      add("peer", d.peer);
      add("sameness-group", d.sameness_group);
      break;
    case DepType::CatalogServices:
      path = "/v1/catalog/services";
      break;
    case DepType::CatalogNode:
      path = "/v1/catalog/node/" + url_escape(d.target.empty() ? local_node() : d.target);
      break;
    case DepType::CatalogNodes:
      path = "/v1/catalog/nodes";
      add("near", d.near);
      break;
    case DepType::CatalogDatacenters:
      // Consul's agent/catalog_endpoint.go CatalogDatacenters: no query options, no index.
      return "/v1/catalog/datacenters";
    case DepType::ConnectCARoots:
      // agent/agent_endpoint.go AgentConnectCARoots: the agent's cache, blocking on the index.
      path = "/v1/agent/connect/ca/roots";
      break;
    case DepType::ConnectLeaf:
      // AgentConnectCALeafCert: blocks until the certificate is renewed or the roots rotate.
      path = "/v1/agent/connect/ca/leaf/" + url_escape(d.target);
      break;
    case DepType::ConsulPartitions:
      // Enterprise's /v1/partitions lists without an index; polled (consul_partitions.go).
      return "/v1/partitions";
    case DepType::ConsulPeerings:
      path = "/v1/peerings";  // agent/peering_endpoint.go PeeringList: a blocking query
      break;
    case DepType::ExportedServices:
      path = "/v1/exported-services";
      break;
    case DepType::ImportedServices:
      path = "/v1/imported-services";
      break;
    default:
      throw FetchError(d.id + ": not a Consul dependency");
  }
  add("dc", d.dc);
  add("ns", d.ns);
  add("partition", d.partition);
  if (settings_.stale) q.push_back("stale");
  if (index > 0) {
    q.push_back("index=" + std::to_string(index));
    q.push_back("wait=" + std::to_string(settings_.wait.count()) + "ms");
  }
  std::string target = path;
  for (size_t i = 0; i < q.size(); ++i) target += (i == 0 ? "?" : "&") + q[i];
  return target;
}

ConsulError ConsulClient::transport_failure(const HttpRequest& req,
                                            const HttpTransportError& e) const {
  ConsulError err("consul: " + describe_request_at(req.method, req.url) + ": " + e.reason, 0, true);
  UrlParts u = split_url(req.url);
  err.cause = "consul " + u.scheme + "://" + u.host + (u.port.empty() ? "" : ":" + u.port) + ": " +
              e.reason;
  return err;
}

void ConsulClient::check(const HttpRequest& req, const HttpResponse& resp) const {
  if (resp.status == 200 || resp.status == 404) return;
  ConsulError err("consul: " + describe_request_at(req.method, req.url) + ": status " +
                      std::to_string(resp.status) +
                      (resp.body.empty() ? "" : ": " + first_line(resp.body)),
                  resp.status, false);
  err.retry_after = retry_after(resp);
  throw err;
}

HttpResponse ConsulClient::send(const HttpRequest& req) {
  HttpResponse resp;
  try {
    resp = http_->send(req);
  } catch (const HttpTransportError& e) {
    throw transport_failure(req, e);
  }
  check(req, resp);
  return resp;
}

HttpRequest ConsulClient::query_request(const Dependency& d, std::uint64_t index) {
  HttpRequest req;
  req.url = settings_.address + request_target(d, index);
  req.timeout = request_timeout(index);
  std::string t = token();
  if (!t.empty()) req.headers.emplace_back("X-Consul-Token", t);
  return req;
}

bool ConsulClient::runs_on_loop(const Dependency& d) const {
  // Polled answers are numbered by the synchronous query(), which the loop does not go through.
  if (!consul_dependency(d.type) || consul_polled(d.type) ||
      (d.type == DepType::CatalogNode && d.target.empty()))
    return false;
  HttpRequest probe;
  probe.url = settings_.address + "/";
  return http_->can_start(probe);
}

std::optional<std::uint64_t> ConsulClient::start_query(const Dependency& d, std::uint64_t index,
                                                       Done done) {
  if (!runs_on_loop(d)) return std::nullopt;
  HttpRequest req = query_request(d, index);
  if (!http_->can_start(req)) return std::nullopt;
  // Only what the errors name is kept: one of these waits per blocking query in flight.
  std::string url = req.url;
  return http_->start(std::move(req), [this, url = std::move(url), done = std::move(done)](
                                          HttpResponse* resp, HttpTransportError* failure) {
    HttpRequest sent;
    sent.url = url;
    try {
      if (failure) throw transport_failure(sent, *failure);
      check(sent, *resp);
      ConsulAnswer a = answer(std::move(*resp));
      done(&a, nullptr);
    } catch (ConsulError& e) {
      done(nullptr, &e);
    }
  });
}

ConsulAnswer ConsulClient::query(const Dependency& d, std::uint64_t index) {
  HttpRequest req = query_request(d, index);
  ConsulAnswer a = answer(send(req));
  // No index to block on: each answer is news to the watcher, which polls (consul-template
  // sleeps 15 s between fetches, and numbers each answer by the clock).
  if (consul_polled(d.type)) a.index = ++datacenters_polls_;
  if (d.type == DepType::CatalogDatacenters) {
    // With ignore_failing, keep the datacenters whose catalog answers a consistent read, as
    // consul-template asks each one for its services.
    if (d.id != "catalog.datacenters" && a.response.status == 200) {
      nlohmann::json all = nlohmann::json::parse(a.response.body, nullptr, false);
      nlohmann::json kept = nlohmann::json::array();
      if (all.is_array())
        for (const auto& dc : all) {
          if (!dc.is_string()) continue;
          HttpRequest probe = req;
          probe.url = settings_.address +
                      "/v1/catalog/services?dc=" + url_escape(dc.get<std::string>()) +
                      "&consistent";
          try {
            if (send(probe).status == 200) kept.push_back(dc);
          } catch (const ConsulError&) {
            // a failing datacenter is what ignore_failing leaves out
          }
        }
      a.response.body = kept.dump();
    }
  }
  return a;
}

ConsulAnswer ConsulClient::call(const std::string& method, const std::string& target,
                                const std::string& body, Ms timeout) {
  HttpRequest req;
  req.method = method;
  req.url = settings_.address + target;
  req.body = body;
  req.timeout = timeout;
  std::string t = token();
  if (!t.empty()) req.headers.emplace_back("X-Consul-Token", t);
  return answer(send(req));
}

ConsulAnswer ConsulClient::answer(HttpResponse resp) {
  std::uint64_t got = 1;
  if (const std::string* h = resp.header("x-consul-index")) {
    try {
      got = std::stoull(*h);
    } catch (const std::exception&) {
      got = 1;
    }
  }
  if (got < 1) got = 1;  // the server never sends 0; treat anything below 1 as 1
  return ConsulAnswer{Response{static_cast<int>(resp.status), std::move(resp.body)}, got};
}

}  // namespace templet::live
