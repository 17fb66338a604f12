#include "hooks/command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "sys/process_io.hpp"

namespace templet {

namespace {
constexpr size_t kMaxOutput = 64 * 1024;
}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& extra_env) {
  CommandResult result;
  if (argv.empty()) {
    result.error = "empty command";
    return result;
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  pid_t pid;
  int rc = spawn_in_own_group(argv, -1, pipefd[1], pipefd[1], extra_env, &pid);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    result.error = argv[0] + ": " + std::strerror(rc);
    return result;
  }
  result.started = true;
  if (timeout.count() == 0) {
    close(pipefd[0]);
    // Not waited for; reap it in the background so it leaves no zombie.
    std::thread([pid] { waitpid(pid, nullptr, 0); }).detach();
    result.exit_code = 0;
    return result;
  }

  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool open = true;
  while (open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd pfd{pipefd[0], POLLIN, 0};
    int n = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t got = read(pipefd[0], buf, sizeof buf);
    if (got <= 0) {
      open = got < 0 && errno == EINTR;
      continue;
    }
    if (result.output.size() < kMaxOutput)
      result.output.append(buf, std::min<size_t>(got, kMaxOutput - result.output.size()));
  }
  close(pipefd[0]);
  if (result.timed_out) {
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return result;
  }
  int status = 0;
  // Output closed; wait for the exit, still bounded by the deadline.
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return result;
    }
    usleep(10000);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string describe_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    if (a.find_first_of(" \t\"'") != std::string::npos) {
      out += '"';
      for (char c : a) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    } else {
      out += a;
    }
  }
  return out;
}

}  // namespace templet
