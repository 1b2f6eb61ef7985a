#include "twofold/messenger/key_store.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <spdlog/spdlog.h>
#include <system_error>

namespace twofold::messenger {
namespace {

Bytes read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<std::uint32_t> number(std::string_view s) {
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    if (ec != std::errc{} || end != s.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(v));
  }
  return out;
}

signal_buffer* buffer_of(const Bytes& b) { return signal_buffer_create(b.data(), b.size()); }

}  // namespace

KeyStore::KeyStore(const Provisioning& provisioning, std::filesystem::path dir)
    : provisioning_(provisioning), dir_(std::move(dir)) {
  for (const char* sub : {"sessions", "prekeys", "signed"}) {
    std::filesystem::create_directories(dir_ / sub);
    std::filesystem::permissions(dir_ / sub, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace);
  }
  load();
}

void KeyStore::load() {
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "sessions")) {
    // <hex of the bare JID>.<device id>
    const auto name = entry.path().filename().string();
    const auto dot = name.rfind('.');
    if (dot == std::string::npos) continue;
    const auto jid = unhex(std::string_view(name).substr(0, dot));
    const auto dev = number(std::string_view(name).substr(dot + 1));
    if (!jid || !dev) continue;
    sessions_[{*jid, static_cast<std::int32_t>(*dev)}] = read_file(entry.path());
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "prekeys")) {
    if (const auto id = number(entry.path().filename().string())) pre_keys_[*id] = read_file(entry.path());
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "signed")) {
    if (const auto id = number(entry.path().filename().string())) signed_pre_keys_[*id] = read_file(entry.path());
  }
}

void KeyStore::write_file(const std::filesystem::path& file, std::span<const std::uint8_t> data) const {
  // Write then rename: a power cut leaves the old record or the new one, never half of one.
  const auto tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, file);
}

KeyStore::Address KeyStore::address_of(const signal_protocol_address* a) {
  return {std::string(a->name, a->name_len), a->device_id};
}

std::filesystem::path KeyStore::session_file(const Address& a) const {
  const auto* p = reinterpret_cast<const std::uint8_t*>(a.first.data());
  return dir_ / "sessions" / (hex_encode({p, a.first.size()}) + "." + std::to_string(a.second));
}

void KeyStore::put_pre_key(std::uint32_t id, std::span<const std::uint8_t> record) {
  pre_keys_[id] = Bytes(record.begin(), record.end());
  write_file(dir_ / "prekeys" / std::to_string(id), record);
}

void KeyStore::put_signed_pre_key(std::uint32_t id, std::span<const std::uint8_t> record) {
  signed_pre_keys_[id] = Bytes(record.begin(), record.end());
  write_file(dir_ / "signed" / std::to_string(id), record);
}

void KeyStore::attach(signal_protocol_store_context* context) {
  const signal_protocol_session_store sessions{load_session, sub_device_sessions, store_session,
                                               contains_session, delete_session, delete_all_sessions,
                                               nullptr, this};
  const signal_protocol_pre_key_store pre{load_pre_key, store_pre_key, contains_pre_key, remove_pre_key,
                                          nullptr, this};
  const signal_protocol_signed_pre_key_store spk{load_signed_pre_key, store_signed_pre_key,
                                                 contains_signed_pre_key, remove_signed_pre_key, nullptr, this};
  const signal_protocol_identity_key_store identity{identity_key_pair, registration_id, save_identity,
                                                    is_trusted_identity, nullptr, this};
  const signal_protocol_sender_key_store sender{store_sender_key, load_sender_key, nullptr, this};
  signal_protocol_store_context_set_session_store(context, &sessions);
  signal_protocol_store_context_set_pre_key_store(context, &pre);
  signal_protocol_store_context_set_signed_pre_key_store(context, &spk);
  signal_protocol_store_context_set_identity_key_store(context, &identity);
  signal_protocol_store_context_set_sender_key_store(context, &sender);
}

int KeyStore::load_session(signal_buffer** record, signal_buffer** user_record, const signal_protocol_address* a, void* u) {
  auto& s = self(u);
  const auto it = s.sessions_.find(address_of(a));
  if (it == s.sessions_.end()) return 0;
  *record = buffer_of(it->second);
  *user_record = nullptr;
  return *record ? 1 : SG_ERR_NOMEM;
}

int KeyStore::sub_device_sessions(signal_int_list** sessions, const char* name, size_t name_len, void* u) {
  auto& s = self(u);
  const std::string jid(name, name_len);
  signal_int_list* list = signal_int_list_alloc();
  if (!list) return SG_ERR_NOMEM;
  int count = 0;
  for (const auto& [addr, _] : s.sessions_) {
    if (addr.first == jid) {
      signal_int_list_push_back(list, addr.second);
      ++count;
    }
  }
  *sessions = list;
  return count;
}

int KeyStore::store_session(const signal_protocol_address* a, uint8_t* record, size_t len, uint8_t*, size_t, void* u) {
  auto& s = self(u);
  const auto addr = address_of(a);
  s.sessions_[addr] = Bytes(record, record + len);
  try {
    s.write_file(s.session_file(addr), {record, len});
  } catch (const std::exception& e) {
    spdlog::error("messenger: {}", e.what());
    return SG_ERR_UNKNOWN;
  }
  return SG_SUCCESS;
}

int KeyStore::contains_session(const signal_protocol_address* a, void* u) {
  return self(u).sessions_.contains(address_of(a)) ? 1 : 0;
}

int KeyStore::delete_session(const signal_protocol_address* a, void* u) {
  auto& s = self(u);
  const auto addr = address_of(a);
  std::error_code ec;
  std::filesystem::remove(s.session_file(addr), ec);
  return s.sessions_.erase(addr) ? 1 : 0;
}

int KeyStore::delete_all_sessions(const char* name, size_t name_len, void* u) {
  auto& s = self(u);
  const std::string jid(name, name_len);
  int n = 0;
  for (auto it = s.sessions_.begin(); it != s.sessions_.end();) {
    if (it->first.first == jid) {
      std::error_code ec;
      std::filesystem::remove(s.session_file(it->first), ec);
      it = s.sessions_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

int KeyStore::load_pre_key(signal_buffer** record, uint32_t id, void* u) {
  auto& s = self(u);
  const auto it = s.pre_keys_.find(id);
  if (it == s.pre_keys_.end()) return SG_ERR_INVALID_KEY_ID;
  *record = buffer_of(it->second);
  return *record ? SG_SUCCESS : SG_ERR_NOMEM;
}

int KeyStore::store_pre_key(uint32_t id, uint8_t* record, size_t len, void* u) {
  try {
    self(u).put_pre_key(id, {record, len});
  } catch (const std::exception& e) {
    spdlog::error("messenger: {}", e.what());
    return SG_ERR_UNKNOWN;
  }
  return SG_SUCCESS;
}

int KeyStore::contains_pre_key(uint32_t id, void* u) { return self(u).pre_keys_.contains(id) ? 1 : 0; }

int KeyStore::remove_pre_key(uint32_t id, void* u) {
  auto& s = self(u);
  // A pre key is used once (X3DH): forget it on disk too, so a replayed PreKey message
  // cannot rebuild the session after a restart.
  std::error_code ec;
  std::filesystem::remove(s.dir_ / "prekeys" / std::to_string(id), ec);
  return s.pre_keys_.erase(id) ? SG_SUCCESS : SG_ERR_INVALID_KEY_ID;
}

int KeyStore::load_signed_pre_key(signal_buffer** record, uint32_t id, void* u) {
  auto& s = self(u);
  const auto it = s.signed_pre_keys_.find(id);
  if (it == s.signed_pre_keys_.end()) return SG_ERR_INVALID_KEY_ID;
  *record = buffer_of(it->second);
  return *record ? SG_SUCCESS : SG_ERR_NOMEM;
}

int KeyStore::store_signed_pre_key(uint32_t id, uint8_t* record, size_t len, void* u) {
  try {
    self(u).put_signed_pre_key(id, {record, len});
  } catch (const std::exception& e) {
    spdlog::error("messenger: {}", e.what());
    return SG_ERR_UNKNOWN;
  }
  return SG_SUCCESS;
}

int KeyStore::contains_signed_pre_key(uint32_t id, void* u) {
  return self(u).signed_pre_keys_.contains(id) ? 1 : 0;
}

int KeyStore::remove_signed_pre_key(uint32_t id, void* u) {
  auto& s = self(u);
  std::error_code ec;
  std::filesystem::remove(s.dir_ / "signed" / std::to_string(id), ec);
  return s.signed_pre_keys_.erase(id) ? SG_SUCCESS : SG_ERR_INVALID_KEY_ID;
}

int KeyStore::identity_key_pair(signal_buffer** public_data, signal_buffer** private_data, void* u) {
  auto& s = self(u);
  *public_data = buffer_of(s.provisioning_.identity_public);
  *private_data = buffer_of(s.provisioning_.identity_private);
  return (*public_data && *private_data) ? SG_SUCCESS : SG_ERR_NOMEM;
}

int KeyStore::registration_id(void* u, uint32_t* id) {
  *id = self(u).provisioning_.device_id;
  return SG_SUCCESS;
}

int KeyStore::save_identity(const signal_protocol_address*, uint8_t*, size_t, void*) {
  // Nothing to learn: the provisioning file is the only source of identities (trust is never
  // acquired on first use), and is_trusted_identity checks against it every time.
  return SG_SUCCESS;
}

int KeyStore::is_trusted_identity(const signal_protocol_address* a, uint8_t* key, size_t len, void* u) {
  auto& s = self(u);
  const auto addr = address_of(a);
  const auto jid = Jid::parse(addr.first);
  const ProvisionedDevice* d =
      (jid && addr.second > 0) ? s.provisioning_.device(*jid, static_cast<std::uint32_t>(addr.second)) : nullptr;
  const bool trusted = d && d->identity.size() == len && std::equal(d->identity.begin(), d->identity.end(), key);
  if (!trusted) {
    ++s.untrusted_refusals_;
    spdlog::warn("messenger: rejected identity of {} device {}: not the provisioned key", addr.first, addr.second);
  }
  return trusted ? 1 : 0;
}

int KeyStore::store_sender_key(const signal_protocol_sender_key_name*, uint8_t*, size_t, uint8_t*, size_t, void*) {
  // Sender keys are Signal's group scheme; OMEMO 0.3 and our fan-out groups never use them.
  return SG_ERR_INVAL;
}

int KeyStore::load_sender_key(signal_buffer**, signal_buffer**, const signal_protocol_sender_key_name*, void*) {
  return 0;  // no record (see store_sender_key)
}

}  // namespace twofold::messenger
