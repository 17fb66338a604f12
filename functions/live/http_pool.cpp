// HttpPool: borrow, send, give back (see http_pool.hpp).
//
// A client whose request threw is still returned: both transports start clean on the next one.
#include "functions/live/http_pool.hpp"

namespace templet::live {

HttpResponse HttpPool::send(const HttpRequest& request) {
  std::unique_ptr<HttpClient> client;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!client) client = factory_();
  struct GiveBack {
    HttpPool* pool;
    std::unique_ptr<HttpClient>* c;
    ~GiveBack() {
      std::lock_guard<std::mutex> lock(pool->mu_);
      pool->idle_.push_back(std::move(*c));
    }
  } give_back{this, &client};
  return client->send(request);
}

}  // namespace templet::live

namespace templet::live {

bool HttpPool::can_start(const HttpRequest& request) const {
  return async_ && plain_http_suffices(request.url);
}

std::uint64_t HttpPool::start(HttpRequest request, AsyncHttpClient::Done done) {
  return async_->start(std::move(request), std::move(done));
}

void HttpPool::cancel(std::uint64_t id) {
  if (async_) async_->cancel(id);
}

void HttpPool::drain() {
  if (async_) async_->drain();
}

}  // namespace templet::live
