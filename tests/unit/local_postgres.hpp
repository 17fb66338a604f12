// A throwaway PostgreSQL server for end-to-end tests, started from Debian's `postgresql`
// binaries (/usr/lib/postgresql/N/bin): initdb in a temporary directory, SSL with a self-signed
// certificate (so `sslmode: require` works), password logins only (scram-sha-256, also for the
// superuser), listening on 127.0.0.1 on a free port. initdb and postgres refuse to run as root,
// so under root (CI) every server-side program runs as `nobody`, the directory chowned to it.
// The server gets SIGQUIT if the test process dies, and is stopped and deleted with the object.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace templet::testing {

class LocalPostgres {
 public:
  // Empty when no PostgreSQL server binaries are installed (tests then skip).
  std::string bin_dir;
  // Why the server could not be started ("" once it runs).
  std::string error;
  int port = 0;
  const std::string admin_user = "postgres";
  std::string admin_password;

  // Starts the server and creates `databases`.
  explicit LocalPostgres(const std::vector<std::string>& databases = {}) {
    bin_dir = find_bin_dir();
    if (bin_dir.empty()) return;
    try {
      start(databases);
    } catch (const std::exception& e) {
      error = e.what();
      port = 0;
    }
  }
  ~LocalPostgres() {
    if (server_ > 0) {
      ::kill(server_, SIGQUIT);  // immediate shutdown: nothing here needs to survive
      if (!wait_for(server_, std::chrono::seconds(10))) {
        ::kill(server_, SIGKILL);
        ::waitpid(server_, nullptr, 0);
      }
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  LocalPostgres(const LocalPostgres&) = delete;
  LocalPostgres& operator=(const LocalPostgres&) = delete;

  std::string psql() const { return bin_dir + "/psql"; }

  // Runs `sql` through psql as the superuser on `db`: {exit status, stdout + stderr}.
  std::pair<int, std::string> sql(const std::string& sql,
                                  const std::string& db = "postgres") const {
    return capture({psql(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                    "-p", std::to_string(port), "-U", admin_user, "-d", db, "-c", sql},
                   {{"PGPASSWORD", admin_password}, {"PGCONNECT_TIMEOUT", "5"}});
  }

  // The superuser's connection settings, as the Vault emulator's `postgres` role config.
  nlohmann::json vault_conf() const {
    return {{"host", "127.0.0.1"},        {"port", port},         {"user", admin_user},
            {"password", admin_password}, {"dbname", "postgres"}, {"psql", psql()}};
  }

  // Runs argv (as this process's user) and returns {exit status, stdout + stderr}.
  static std::pair<int, std::string> capture(const std::vector<std::string>& argv,
                                             const std::map<std::string, std::string>& env) {
    int fds[2];
    if (::pipe(fds) != 0) return {-1, "pipe failed"};
    std::vector<std::string> args = argv, envs = inherited_env(env);
    std::vector<char*> a = c_strings(args), e = c_strings(envs);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execve(a[0], a.data(), e.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), out};
  }

 private:
  std::filesystem::path dir_;
  pid_t server_ = -1;
  bool as_other_user_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;

  // The newest /usr/lib/postgresql/N/bin holding initdb, postgres and psql.
  static std::string find_bin_dir() {
    std::string best;
    int best_version = -1;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const auto bin = e.path() / "bin";
      int version = std::atoi(e.path().filename().c_str());
      if (version > best_version && ::access((bin / "initdb").c_str(), X_OK) == 0 &&
          ::access((bin / "postgres").c_str(), X_OK) == 0 &&
          ::access((bin / "psql").c_str(), X_OK) == 0) {
        best = bin.string();
        best_version = version;
      }
    }
    return best;
  }

  static std::vector<std::string> inherited_env(const std::map<std::string, std::string>& set) {
    std::vector<std::string> out;
    for (char** e = environ; *e; ++e) {
      std::string s = *e;
      if (s.rfind("PG", 0) == 0 || set.count(s.substr(0, s.find('=')))) continue;
      out.push_back(s);
    }
    for (const auto& [k, v] : set) out.push_back(k + "=" + v);
    return out;
  }

  static std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
  }

  static bool wait_for(pid_t pid, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  static std::string tail(const std::filesystem::path& log) {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > 1500 ? s.substr(s.size() - 1500) : s;
  }

  // Starts argv as the server user with stdout and stderr in `log`, in dir_, with a minimal
  // environment. `tied`: the child gets SIGQUIT when this process dies.
  pid_t spawn(std::vector<std::string> argv, const std::filesystem::path& log, bool tied) {
    std::vector<std::string> envs = {"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=" + dir_.string()};
    std::vector<char*> a = c_strings(argv), e = c_strings(envs);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      if (::chdir(dir_.c_str()) != 0) ::_exit(126);
      if (as_other_user_ &&
          (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0))
        ::_exit(126);
      // Set after the user change, which clears it; and the parent may already be gone.
      if (tied && (::prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || ::getppid() != parent)) ::_exit(126);
      ::execve(a[0], a.data(), e.data());
      ::_exit(127);
    }
    if (as_other_user_) ::chown(log.c_str(), uid_, gid_);
    return pid;
  }

  void run_checked(const std::vector<std::string>& argv, const std::string& what) {
    const auto log = dir_ / (what + ".log");
    pid_t pid = spawn(argv, log, true);
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      throw std::runtime_error(what + " failed (status " + std::to_string(st) + "): " + tail(log));
  }

  void give_to_server_user(const std::filesystem::path& p) {
    if (as_other_user_ && ::chown(p.c_str(), uid_, gid_) != 0)
      throw std::runtime_error("cannot chown " + p.string());
  }

  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
  }

  static std::string random_password() {
    std::ifstream in("/dev/urandom", std::ios::binary);
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string out;
    for (int i = 0; i < 24; ++i) out.push_back(alphabet[static_cast<uint8_t>(in.get()) % 62]);
    return out;
  }

  // "ready" in line 8 of postmaster.pid: the server accepts connections (what pg_ctl -w reads).
  bool server_ready() const {
    std::ifstream in(dir_ / "data" / "postmaster.pid");
    std::string line;
    for (int i = 0; i < 8 && std::getline(in, line); ++i) {
    }
    return line.rfind("ready", 0) == 0;
  }

  void start(const std::vector<std::string>& databases) {
    using namespace std::chrono_literals;
    char tmpl[] = "/tmp/templet-pg-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("nobody");
      if (!pw) throw std::runtime_error("running as root and there is no user nobody");
      as_other_user_ = true;
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
    }
    give_to_server_user(dir_);
    admin_password = random_password();
    { std::ofstream(dir_ / "pw") << admin_password << "\n"; }
    ::chmod((dir_ / "pw").c_str(), 0600);
    give_to_server_user(dir_ / "pw");
    const std::string data = (dir_ / "data").string();
    run_checked(
        {bin_dir + "/initdb", "-D", data, "-U", admin_user, "--pwfile=" + (dir_ / "pw").string(),
         "--auth=scram-sha-256", "--no-locale", "-E", "UTF8", "--no-sync"},
        "initdb");
    if (::access("/usr/bin/openssl", X_OK) != 0)
      throw std::runtime_error("/usr/bin/openssl is missing (needed for the server certificate)");
    const std::string key = (dir_ / "server.key").string(), crt = (dir_ / "server.crt").string();
    run_checked({"/usr/bin/openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-subj", "/CN=localhost", "-days", "2", "-keyout",
                 key, "-out", crt},
                "openssl");
    // A port found free may be taken before postgres binds it: then try another.
    for (int attempt = 0; attempt < 5 && port == 0; ++attempt) {
      const int candidate = free_port();
      const auto log = dir_ / "postgres.log";
      server_ = spawn({bin_dir + "/postgres",
                       "-D",
                       data,
                       "-p",
                       std::to_string(candidate),
                       "-k",
                       dir_.string(),
                       "-c",
                       "listen_addresses=127.0.0.1",
                       "-c",
                       "fsync=off",
                       "-c",
                       "synchronous_commit=off",
                       "-c",
                       "full_page_writes=off",
                       "-c",
                       "ssl=on",
                       "-c",
                       "ssl_cert_file=" + crt,
                       "-c",
                       "ssl_key_file=" + key},
                      log, true);
      auto end = std::chrono::steady_clock::now() + 30s;
      while (std::chrono::steady_clock::now() < end) {
        if (server_ready()) {
          port = candidate;
          break;
        }
        if (::waitpid(server_, nullptr, WNOHANG) == server_) {
          server_ = -1;
          if (tail(log).find("could not bind") == std::string::npos)
            throw std::runtime_error("postgres exited: " + tail(log));
          break;
        }
        std::this_thread::sleep_for(50ms);
      }
      if (port == 0 && server_ > 0) throw std::runtime_error("postgres not ready: " + tail(log));
    }
    if (port == 0) throw std::runtime_error("postgres found no free port");
    for (const auto& db : databases) {
      auto [rc, out] = sql("CREATE DATABASE \"" + db + "\"");
      if (rc != 0) throw std::runtime_error("CREATE DATABASE " + db + ": " + out);
    }
  }
};

}  // namespace templet::testing
