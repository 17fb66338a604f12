#include "renderer/template.hpp"

#include <pthread.h>

#include <exception>

namespace templet {

namespace {

// Deep enough for Go's 100000 nested {{template}} calls; only touched pages cost memory.
constexpr size_t kExecStackBytes = size_t{1} << 30;

// Runs `fn` on a thread with a kExecStackBytes stack and rethrows what it threw. With no thread
// to be had it runs on this stack, with its smaller depth.
template <typename Fn>
void on_large_stack(Fn& fn) {
  struct Call {
    Fn* fn;
    std::exception_ptr error;
  } call{&fn, nullptr};
  void* (*body)(void*) = [](void* arg) -> void* {
    auto* c = static_cast<Call*>(arg);
    try {
      (*c->fn)();
    } catch (...) {
      c->error = std::current_exception();
    }
    return nullptr;
  };
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kExecStackBytes);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, body, &call);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    body(&call);
  } else {
    pthread_join(thread, nullptr);
  }
  if (call.error) std::rethrow_exception(call.error);
}

}  // namespace

// Parsing recurses once per nesting level (up to the parser's bound of 1000), several frames a
// level; under sanitizer instrumentation that outgrows an 8 MiB stack, so it runs on the same
// large stack as execution.
Template::Template(std::string_view text, TemplateOptions options) : options_(std::move(options)) {
  ParseOptions po;
  po.name = options_.name;
  po.left_delim = options_.left_delim;
  po.right_delim = options_.right_delim;
  po.funcs = options_.funcs;
  auto run = [&] { trees_ = parse(text, po); };
  on_large_stack(run);
}

void Template::execute(std::string& out, const Value& dot, CallContext& ctx) const {
  execute(options_.name, out, dot, ctx);
}

void Template::execute(const std::string& name, std::string& out, const Value& dot,
                       CallContext& ctx) const {
  ExecOptions exec;
  exec.missing_key = options_.missing_key;
  exec.max_output = options_.max_output;
  exec.max_steps = options_.max_steps;
  auto run = [&] { templet::execute(trees_, name, dot, out, ctx, exec); };
  on_large_stack(run);
}

}  // namespace templet
