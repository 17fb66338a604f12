#include "renderer/template.hpp"

#include <pthread.h>

#include <exception>

namespace templet {

Template::Template(std::string_view text, TemplateOptions options) : options_(std::move(options)) {
  ParseOptions po;
  po.name = options_.name;
  po.left_delim = options_.left_delim;
  po.right_delim = options_.right_delim;
  po.funcs = options_.funcs;
  trees_ = parse(text, po);
}

void Template::execute(std::string& out, const Value& dot, CallContext& ctx) const {
  execute(options_.name, out, dot, ctx);
}

namespace {

// Deep enough for Go's 100000 nested {{template}} calls; only touched pages cost memory.
constexpr size_t kExecStackBytes = size_t{1} << 30;

struct Job {
  const TreeSet* trees;
  const std::string* name;
  const Value* dot;
  std::string* out;
  CallContext* ctx;
  ExecOptions options;
  std::exception_ptr error;
};

void* run_job(void* arg) {
  auto* job = static_cast<Job*>(arg);
  try {
    templet::execute(*job->trees, *job->name, *job->dot, *job->out, *job->ctx, job->options);
  } catch (...) {
    job->error = std::current_exception();
  }
  return nullptr;
}

}  // namespace

void Template::execute(const std::string& name, std::string& out, const Value& dot,
                       CallContext& ctx) const {
  ExecOptions exec;
  exec.missing_key = options_.missing_key;
  exec.max_output = options_.max_output;
  exec.max_steps = options_.max_steps;
  Job job{&trees_, &name, &dot, &out, &ctx, exec, nullptr};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kExecStackBytes);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, run_job, &job);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    run_job(&job);  // no thread to be had: run on this stack, with its smaller depth
  } else {
    pthread_join(thread, nullptr);
  }
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace templet
