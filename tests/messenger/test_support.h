#pragma once
// Shared pieces of the messenger tests: a temp directory, a test organisation (CA, server
// certificate, identity keys, provisioning files) and a real prosody on 127.0.0.1.
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "twofold/messenger/client.h"
#include "twofold/messenger/omemo_device.h"
#include "twofold/messenger/provisioning.h"

namespace twofold::messenger::test {

inline constexpr const char* kDomain = "messages.test";

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs a command (argv, no shell), returns its exit status; stdout/stderr go to `log`.
int run_command(const std::vector<std::string>& argv, const std::filesystem::path& log);

struct Account {
  std::string local;
  std::uint32_t device;
  IdentityKeyPair identity;
  std::string password;
};

// A test organisation: accounts with identities, a CA, and provisioning files naming
// everyone else as a contact, plus groups.
class Organisation {
 public:
  explicit Organisation(const std::filesystem::path& dir);
  const Account& add_account(const std::string& local, std::uint32_t device);
  void add_group(const std::string& id, std::vector<std::string> locals) { groups_[id] = std::move(locals); }
  // The provisioning of `local`'s device; `device`/`identity` override (a rogue device of
  // the account that nobody else's file lists); `ca` overrides the CA file.
  Provisioning provisioning(const std::string& local, std::uint16_t port) const;
  std::string provisioning_toml(const std::string& local, std::uint16_t port) const;
  const Account& account(const std::string& local) const { return accounts_.at(local); }
  Account& mutable_account(const std::string& local) { return accounts_.at(local); }
  const std::filesystem::path& ca_file() const { return ca_; }
  const std::filesystem::path& dir() const { return dir_; }
  void make_ca(const std::filesystem::path& ca_key, const std::filesystem::path& ca_pem, const std::string& cn) const;

 private:
  std::filesystem::path dir_;
  std::filesystem::path ca_;
  std::map<std::string, Account> accounts_;
  std::vector<std::string> order_;
  std::map<std::string, std::vector<std::string>> groups_;
};

// prosody with the project's config template, its own data directory, accounts registered.
class Prosody {
 public:
  Prosody(const Organisation& org, const std::filesystem::path& dir);
  ~Prosody();
  Prosody(const Prosody&) = delete;
  Prosody& operator=(const Prosody&) = delete;
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_; }
  bool running() const { return pid_ > 0; }
  // Stops prosody and starts it again on the same port and data (a server reboot).
  void restart();

 private:
  std::filesystem::path dir_;
  std::filesystem::path data_;
  std::filesystem::path config_;
  std::uint16_t port_ = 0;
  int pid_ = -1;
  void start();
  void stop();
};

// Pumps every client until `done` or the timeout; returns done().
bool pump(const std::vector<Client*>& clients, const std::function<bool()>& done,
          std::chrono::milliseconds timeout = std::chrono::seconds(15));

// True if any file under `dir` contains `needle`.
bool tree_contains(const std::filesystem::path& dir, const std::string& needle);

}  // namespace twofold::messenger::test
