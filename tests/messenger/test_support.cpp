#include "test_support.h"

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace twofold::messenger::test {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

int spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot run " + argv[0]);
  return pid;
}

std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool port_open(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "twofold-msg-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int run_command(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  const int pid = spawn(argv, log);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void Organisation::make_ca(const std::filesystem::path& ca_key, const std::filesystem::path& ca_pem,
                           const std::string& cn) const {
  const auto log = dir_ / "openssl.log";
  if (run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                   "-keyout", ca_key.string(), "-out", ca_pem.string(), "-days", "2", "-subj", "/CN=" + cn},
                  log) != 0) {
    throw std::runtime_error("openssl: cannot make the test CA");
  }
}

Organisation::Organisation(const std::filesystem::path& dir) : dir_(dir), ca_(dir / "org-ca.pem") {
  const auto log = dir_ / "openssl.log";
  make_ca(dir_ / "org-ca.key", ca_, "Test Organisation CA");
  std::ofstream(dir_ / "san.ext") << "subjectAltName=DNS:" << kDomain << "\n";
  const bool ok =
      run_command({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                   (dir_ / "server.key").string(), "-out", (dir_ / "server.csr").string(), "-subj",
                   std::string("/CN=") + kDomain}, log) == 0 &&
      run_command({"openssl", "x509", "-req", "-in", (dir_ / "server.csr").string(), "-CA", ca_.string(), "-CAkey",
                   (dir_ / "org-ca.key").string(), "-CAcreateserial", "-out", (dir_ / "server.pem").string(),
                   "-days", "2", "-extfile", (dir_ / "san.ext").string()}, log) == 0;
  if (!ok) throw std::runtime_error("openssl: cannot make the server certificate");
}

const Account& Organisation::add_account(const std::string& local, std::uint32_t device) {
  order_.push_back(local);
  std::ofstream(dir_ / "accounts", std::ios::app) << local << " pw-" << local << "-secret\n";
  return accounts_[local] = Account{local, device, generate_identity_key_pair(), "pw-" + local + "-secret"};
}

std::string Organisation::provisioning_toml(const std::string& local, std::uint16_t port) const {
  const auto& me = accounts_.at(local);
  std::ostringstream t;
  t << "[account]\njid = \"" << local << "@" << kDomain << "\"\npassword = \"" << me.password
    << "\"\ndevice_id = " << me.device << "\nidentity_public = \"" << base64_encode(me.identity.public_key)
    << "\"\nidentity_private = \"" << base64_encode(me.identity.private_key) << "\"\n\n[server]\nhost = \"127.0.0.1\"\nport = "
    << port << "\ndomain = \"" << kDomain << "\"\nca = \"" << ca_.string() << "\"\n";
  for (const auto& other : order_) {
    if (other == local) continue;
    const auto& a = accounts_.at(other);
    t << "\n[[contact]]\njid = \"" << other << "@" << kDomain << "\"\ndevices = [ { id = " << a.device
      << ", identity = \"" << base64_encode(a.identity.public_key) << "\" } ]\n";
  }
  for (const auto& [id, members] : groups_) {
    t << "\n[[group]]\nid = \"" << id << "\"\nmembers = [";
    for (const auto& m : members) t << "\"" << m << "@" << kDomain << "\", ";
    t << "]\n";
  }
  return t.str();
}

Provisioning Organisation::provisioning(const std::string& local, std::uint16_t port) const {
  auto parsed = parse_provisioning(provisioning_toml(local, port), dir_);
  if (const auto* e = std::get_if<ProvisioningError>(&parsed)) throw std::runtime_error("provisioning: " + e->reason);
  return std::get<Provisioning>(parsed);
}

Prosody::Prosody(const Organisation& org, const std::filesystem::path& dir)
    : dir_(dir), data_(dir / "data"), config_(dir / "prosody.cfg.lua"), port_(free_port()) {
  std::filesystem::create_directories(data_);
  std::filesystem::create_directories(dir_ / "certs");
  std::string cfg = slurp(TWOFOLD_PROSODY_TEMPLATE);
  replace_all(cfg, "@DOMAIN@", kDomain);
  replace_all(cfg, "@PORT@", std::to_string(port_));
  replace_all(cfg, "@INTERFACE@", "127.0.0.1");
  replace_all(cfg, "@DATA@", data_.string());
  replace_all(cfg, "@CERTDIR@", (dir_ / "certs").string());
  replace_all(cfg, "@CERT@", (org.dir() / "server.pem").string());
  replace_all(cfg, "@KEY@", (org.dir() / "server.key").string());
  replace_all(cfg, "@PIDFILE@", (dir_ / "prosody.pid").string());
  replace_all(cfg, "@LOG@", (dir_ / "prosody.log").string());
  std::ofstream(config_) << cfg;
  const auto log = dir_ / "prosodyctl.log";
  // Accounts: the organisation's step, with prosodyctl as an administrator would.
  std::ifstream names(org.dir() / "accounts");
  std::string local;
  std::string password;
  while (names >> local >> password) {
    if (run_command({"prosodyctl", "--config", config_.string(), "register", local, kDomain, password}, log) != 0) {
      throw std::runtime_error("prosodyctl register " + local + " failed (see " + log.string() + ")");
    }
  }
  start();
}

void Prosody::start() {
  pid_ = spawn({"prosody", "--config", config_.string(), "-F"}, dir_ / "prosody.out");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!port_open(port_)) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("prosody did not open its port");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Prosody::stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

void Prosody::restart() {
  stop();
  start();
}

Prosody::~Prosody() { stop(); }

bool pump(const std::vector<Client*>& clients, const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    for (auto* c : clients) c->run_once(std::chrono::milliseconds(5));
  }
  return true;
}

bool tree_contains(const std::filesystem::path& dir, const std::string& needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && slurp(entry.path()).find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace twofold::messenger::test
