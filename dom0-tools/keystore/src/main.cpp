// twofold-keystore: the board's TPM-sealed secrets and the secure persona's data volume.
// Run by rc.toolstack (measure) and by the manager (secure ...); an operator may run it on
// dom0's console. PINs come on a file descriptor, never on the command line or in a log.
#include "twofold/keystore/dom0_keys.h"
#include "twofold/keystore/keystore.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

namespace ks = twofold::keystore;

namespace {

constexpr std::size_t kMaxPinInput = 2 * (ks::kMaxPinBytes + 1);

int exit_code(ks::Outcome o) {
  switch (o) {
    case ks::Outcome::ok: return 0;
    case ks::Outcome::wrong_pin: return 3;
    case ks::Outcome::measurements_changed: return 4;
    case ks::Outcome::locked_out: return 5;
    case ks::Outcome::wiped: return 6;
    case ks::Outcome::not_provisioned: return 7;
    case ks::Outcome::invalid_pin: return 8;
  }
  return 1;
}

// Reads `count` newline-terminated PINs from fd; the bytes never pass through stdio buffers.
std::vector<ks::Secret> read_pins(int fd, std::size_t count) {
  std::vector<ks::Secret> pins;
  std::vector<std::uint8_t> line;
  std::uint8_t c = 0;
  std::size_t total = 0;
  while (pins.size() < count) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      pins.emplace_back(line);
      std::fill(line.begin(), line.end(), 0);
      line.clear();
      if (n <= 0) break;
      continue;
    }
    if (++total > kMaxPinInput) break;
    line.push_back(c);
  }
  std::fill(line.begin(), line.end(), 0);
  while (pins.size() < count) pins.emplace_back();
  return pins;
}

std::optional<ks::PcrSelection> parse_pcrs(const std::string& text) {
  std::vector<unsigned> v;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto comma = text.find(',', pos);
    const auto part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (part.empty() || part.size() > 2 || part.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    v.push_back(static_cast<unsigned>(std::stoul(part)));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return ks::PcrSelection::from(v);
}

ks::Digest sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 unavailable");
  }
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  ks::Digest d{};
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), d.data(), &len);
  return d;
}

std::string hex(std::span<const std::uint8_t> b) {
  std::string s;
  for (auto x : b) s += fmt::format("{:02x}", x);
  return s;
}

void print_report(const ks::Report& r, bool json) {
  if (json) {
    nlohmann::json j = {{"outcome", ks::to_string(r.outcome)},
                        {"attempts_left", r.attempts_left},
                        {"changed_pcrs", r.changed_pcrs},
                        {"detail", r.detail}};
    if (r.tpm_ms || r.kdf_ms) j["timings_ms"] = {{"tpm", r.tpm_ms}, {"kdf", r.kdf_ms}};
    std::cout << j.dump() << std::endl;
    return;
  }
  std::cout << fmt::format("{}: {}", ks::to_string(r.outcome), r.detail);
  if (r.outcome == ks::Outcome::wrong_pin || r.outcome == ks::Outcome::locked_out) {
    std::cout << fmt::format(" ({} tries left)", r.attempts_left);
  }
  if (!r.changed_pcrs.empty()) std::cout << fmt::format(" (PCR {} changed)", fmt::join(r.changed_pcrs, ","));
  std::cout << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"twofold-keystore: TPM-sealed secrets and the secure persona's data volume"};
  app.require_subcommand(1);
  std::string tcti = "device:/dev/tpmrm0";
  app.add_option("--tcti", tcti, "TPM transport (tpm2-tss TCTI)")->capture_default_str();

  auto* measure = app.add_subcommand("measure", "extend a PCR with the SHA-256 of each file, in order");
  unsigned pcr = 11;
  std::vector<std::string> files;
  measure->add_option("--pcr", pcr, "PCR to extend")->capture_default_str()->check(CLI::Range(0, 23));
  measure->add_option("files", files, "files to measure")->required();

  auto* tpm_shutdown = app.add_subcommand(
      "tpm-shutdown", "TPM2_Shutdown(CLEAR) before power-off, so the next boot charges no dictionary-attack failure");
  auto* dom0_key = app.add_subcommand(
      "dom0-key", "derive one of dom0's keys from its TPM-sealed secret into a file (dom0's tmpfs)");
  std::string key_state_dir = "/var/lib/twofold/keystore", key_pcrs_text = "8,9", purpose_text, key_out, key_public_out;
  dom0_key->add_option("--state-dir", key_state_dir, "where the sealed secrets live")->capture_default_str();
  dom0_key->add_option("--dom0-pcrs", key_pcrs_text, "PCRs dom0's own secret is sealed to")->capture_default_str();
  dom0_key->add_option("--purpose", purpose_text, "audit-signing (Ed25519 PEM) or modem-number (32 raw bytes)")
      ->required();
  dom0_key->add_option("--out", key_out, "the private key file (written 0600)")->required();
  dom0_key->add_option("--public-out", key_public_out, "audit-signing: the public key PEM (what verifiers pin)");

  auto* secure = app.add_subcommand("secure", "the secure persona's sealed data volume");
  secure->require_subcommand(1);
  std::string state_dir = "/var/lib/twofold/keystore";
  std::string volume, name = "twofold-secure-data", pcrs_text = "8,9,11", dom0_pcrs_text = "8,9";
  std::uint32_t retry_limit = 5, kdf_ms = 1000, kdf_kib = 65536, kdf_iterations = 0;
  int pin_fd = 0;
  bool json = false;
  secure->add_option("--state-dir", state_dir, "where the sealed secrets live")->capture_default_str();
  secure->add_option("--volume", volume, "the LUKS2 data volume (file or block device)")->required();
  secure->add_option("--name", name, "device-mapper name once unlocked")->capture_default_str();
  secure->add_option("--pcrs", pcrs_text, "PCRs the secret is sealed to")->capture_default_str();
  secure->add_option("--dom0-pcrs", dom0_pcrs_text, "PCRs dom0's own secret is sealed to")->capture_default_str();
  secure->add_option("--retry-limit", retry_limit, "wrong PINs in a row before crypto-erase")
      ->capture_default_str()->check(CLI::Range(1, 32));
  secure->add_option("--kdf-ms", kdf_ms, "argon2id time cost per keyslot (benchmarked)")->capture_default_str();
  secure->add_option("--kdf-memory-kib", kdf_kib, "argon2id memory cost")->capture_default_str();
  secure->add_option("--kdf-iterations", kdf_iterations, "fixed argon2id iterations, no benchmark (tests)");
  secure->add_option("--pin-fd", pin_fd, "read PIN lines from this descriptor")->capture_default_str();
  secure->add_flag("--json", json, "one JSON line for the manager");
  auto* status = secure->add_subcommand("status", "provisioned? unlocked? tries left? measurements?");
  auto* provision = secure->add_subcommand("provision", "first use: seal a new device secret to PIN + measurements, format the volume");
  auto* unlock = secure->add_subcommand("unlock", "check the PIN, open /dev/mapper/NAME");
  auto* verify = secure->add_subcommand("verify", "check the PIN and that it opens a keyslot; open nothing");
  auto* lock = secure->add_subcommand("lock", "close /dev/mapper/NAME");
  auto* change_pin = secure->add_subcommand("change-pin", "old PIN line, then new PIN line");
  auto* rotate = secure->add_subcommand("rotate", "new device secret and keyslot (volume key kept)");
  auto* wipe = secure->add_subcommand("wipe", "crypto-erase: evict the TPM key, destroy every keyslot");

  CLI11_PARSE(app, argc, argv);
  // tpm2-tss logs every TPM error response (a wrong PIN among them) to stderr; the outcome
  // is reported here instead.
  ::setenv("TSS2_LOG", "all+none", 0);

  try {
    ks::Tpm tpm(tcti);
    if (measure->parsed()) {
      for (const auto& f : files) {
        const auto d = sha256_file(f);
        tpm.extend(pcr, d);
        std::cout << fmt::format("PCR {} += sha256 {} {}", pcr, hex(d), f) << std::endl;
      }
      return 0;
    }
    if (tpm_shutdown->parsed()) {
      tpm.orderly_shutdown();
      std::cout << "TPM shut down in order" << std::endl;
      return 0;
    }
    if (dom0_key->parsed()) {
      const auto purpose = ks::parse_dom0_key_purpose(purpose_text);
      const auto key_pcrs = parse_pcrs(key_pcrs_text);
      if (!purpose || !key_pcrs) {
        std::cerr << "twofold-keystore: --purpose is audit-signing or modem-number; --dom0-pcrs takes PCR numbers 0-23\n";
        return 2;
      }
      const auto dom0 = ks::Dom0Secret::open_or_create(tpm, key_state_dir + "/dom0.sealed", *key_pcrs);
      ks::write_dom0_key(ks::derive_dom0_key(dom0, *purpose), key_out, key_public_out);
      std::cout << fmt::format("dom0 key {}: {}{}", purpose_text, key_out,
                               key_public_out.empty() ? "" : " (public key " + key_public_out + ")")
                << std::endl;
      return 0;
    }
    const auto pcrs = parse_pcrs(pcrs_text);
    const auto dom0_pcrs = parse_pcrs(dom0_pcrs_text);
    if (!pcrs || !dom0_pcrs) {
      std::cerr << "twofold-keystore: --pcrs/--dom0-pcrs take PCR numbers 0-23, e.g. 8,9,11\n";
      return 2;
    }
    const auto dom0 = ks::Dom0Secret::open_or_create(tpm, state_dir + "/dom0.sealed", *dom0_pcrs);
    ks::SecureVolumeConfig config{state_dir + "/secure-volume.sealed", volume, name, *pcrs,
                                  retry_limit, ks::KdfCost{kdf_ms, kdf_kib, 1, kdf_iterations}};
    ks::SecureVolume vol(tpm, dom0, config);
    if (status->parsed()) {
      const auto st = vol.status();
      if (json) {
        std::cout << nlohmann::json{{"provisioned", st.provisioned}, {"unlocked", st.unlocked},
                                    {"attempts_left", st.attempts_left},
                                    {"changed_pcrs", st.changed_pcrs}, {"detail", st.detail}}
                         .dump()
                  << std::endl;
      } else {
        std::cout << fmt::format("provisioned: {}\nunlocked: {}\ntries left: {}\n{}{}\n",
                                 st.provisioned ? "yes" : "no", st.unlocked ? "yes" : "no",
                                 st.attempts_left,
                                 st.changed_pcrs.empty() ? "" : fmt::format("changed PCRs: {}\n", fmt::join(st.changed_pcrs, ",")),
                                 st.detail);
      }
      return 0;
    }
    if (lock->parsed()) {
      vol.lock();
      print_report({ks::Outcome::ok, 0, {}, "locked"}, json);
      return 0;
    }
    if (wipe->parsed()) {
      vol.wipe();
      print_report({ks::Outcome::ok, 0, {}, "wiped: revocable key evicted, keyslots destroyed"}, json);
      return 0;
    }
    ks::Report r{};
    if (change_pin->parsed()) {
      auto pins = read_pins(pin_fd, 2);
      r = vol.change_pin(pins[0], pins[1]);
    } else {
      auto pins = read_pins(pin_fd, 1);
      if (provision->parsed()) r = vol.provision(pins[0]);
      else if (unlock->parsed()) r = vol.unlock(pins[0]);
      else if (verify->parsed()) r = vol.verify(pins[0]);
      else if (rotate->parsed()) r = vol.rotate(pins[0]);
    }
    print_report(r, json);
    return exit_code(r.outcome);
  } catch (const std::exception& e) {
    if (json) std::cout << nlohmann::json{{"outcome", "error"}, {"detail", e.what()}}.dump() << std::endl;
    std::cerr << "twofold-keystore: " << e.what() << "\n";
    return 1;
  }
}
