// Test doubles for the live data layer: a scripted HttpClient that records every request.
//
// Routes are keyed "METHOD /path" (query string ignored); each route answers from a queue whose
// last answer repeats until a new one is scripted. Status 0 scripts a transport failure.
// Unknown routes answer 599.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "functions/live/http_pool.hpp"
#include "net/http_client.hpp"

namespace templet::live::test {

inline std::string path_of(const std::string& url) {
  std::string p = url;
  auto scheme = p.find("://");
  if (scheme != std::string::npos) p = p.substr(p.find('/', scheme + 3));
  return p;
}

class FakeHttp {
 public:
  struct Call {
    std::string method, target;  // target: path and query
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout;
    std::string header(const std::string& name) const {
      for (const auto& [k, v] : headers)
        if (k == name) return v;
      return "";
    }
  };

  void on(const std::string& method, const std::string& path, long status, std::string body,
          std::map<std::string, std::string> headers = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    Route& route = routes_[method + " " + path];
    if (route.served_last && route.queue.size() == 1) route.queue.clear();
    route.served_last = false;
    route.queue.push_back(std::move(r));
  }
  void clear(const std::string& method, const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    routes_.erase(method + " " + path);
  }

  // Runs inside every request, e.g. to advance a fake clock by how long a slow server took.
  std::function<void()> during_send;

  HttpResponse send(const HttpRequest& req) {
    if (during_send) during_send();
    std::lock_guard<std::mutex> lock(mu_);
    std::string target = path_of(req.url);
    calls_.push_back(Call{req.method, target, req.headers, req.body, req.timeout});
    std::string path = target.substr(0, target.find('?'));
    auto it = routes_.find(req.method + " " + path);
    if (it == routes_.end() || it->second.queue.empty()) {
      HttpResponse r;
      r.status = 599;
      r.body = "no route for " + req.method + " " + path;
      return r;
    }
    HttpResponse r = it->second.queue.front();
    if (it->second.queue.size() > 1)
      it->second.queue.pop_front();
    else
      it->second.served_last = true;
    if (r.status == 0) {
      HttpTransportError e(req.method + " " + path + ": connection refused", "connection refused");
      e.refused = true;
      throw e;
    }
    return r;
  }

  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  // Calls whose "METHOD path" (query ignored) matches.
  std::vector<Call> calls_to(const std::string& method, const std::string& path) const {
    std::vector<Call> out;
    for (const auto& c : calls())
      if (c.method == method && c.target.substr(0, c.target.find('?')) == path) out.push_back(c);
    return out;
  }
  void reset_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.clear();
  }

  std::shared_ptr<HttpPool> pool() {
    return std::make_shared<HttpPool>([this] { return std::make_unique<Client>(this); });
  }

 private:
  struct Client : HttpClient {
    explicit Client(FakeHttp* f) : fake(f) {}
    HttpResponse send(const HttpRequest& r) override { return fake->send(r); }
    FakeHttp* fake;
  };
  mutable std::mutex mu_;
  struct Route {
    std::deque<HttpResponse> queue;
    bool served_last = false;
  };
  std::map<std::string, Route> routes_;
  std::vector<Call> calls_;
};

// A Vault mounts answer for `path` with KV `version`.
inline std::string mounts_body(const std::string& path, const std::string& type,
                               const std::string& version) {
  return R"({"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,"data":{"path":")" +
         path + R"(","type":")" + type + R"(","options":{"version":")" + version +
         R"("}},"wrap_info":null,"warnings":null,"auth":null})";
}

}  // namespace templet::live::test
