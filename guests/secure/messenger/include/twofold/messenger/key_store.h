#pragma once
// libomemo-c's stores (sessions, pre keys, signed pre keys, identities), kept in memory and
// written through to files under a state directory (on the board: /data/messenger/omemo on
// the sealed volume). Trust decisions are the provisioning file's: an identity is trusted
// only if it is exactly the key listed for that account and device.
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <utility>

#include <signal_protocol.h>

#include "twofold/messenger/bytes.h"
#include "twofold/messenger/provisioning.h"

namespace twofold::messenger {

class KeyStore {
 public:
  KeyStore(const Provisioning& provisioning, std::filesystem::path dir);
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Registers the callbacks (user_data = this) with libomemo-c's store context.
  void attach(signal_protocol_store_context* context);

  bool has_pre_keys() const { return !pre_keys_.empty(); }
  void put_pre_key(std::uint32_t id, std::span<const std::uint8_t> record);
  void put_signed_pre_key(std::uint32_t id, std::span<const std::uint8_t> record);
  const std::map<std::uint32_t, Bytes>& pre_keys() const { return pre_keys_; }
  const std::map<std::uint32_t, Bytes>& signed_pre_keys() const { return signed_pre_keys_; }
  std::size_t untrusted_identity_refusals() const { return untrusted_refusals_; }

 private:
  using Address = std::pair<std::string, std::int32_t>;
  static Address address_of(const signal_protocol_address* a);
  static KeyStore& self(void* user_data) { return *static_cast<KeyStore*>(user_data); }
  std::filesystem::path session_file(const Address& a) const;
  void write_file(const std::filesystem::path& file, std::span<const std::uint8_t> data) const;
  void load();

  // libomemo-c callbacks
  static int load_session(signal_buffer** record, signal_buffer** user_record, const signal_protocol_address* a, void* u);
  static int sub_device_sessions(signal_int_list** sessions, const char* name, size_t name_len, void* u);
  static int store_session(const signal_protocol_address* a, uint8_t* record, size_t len, uint8_t*, size_t, void* u);
  static int contains_session(const signal_protocol_address* a, void* u);
  static int delete_session(const signal_protocol_address* a, void* u);
  static int delete_all_sessions(const char* name, size_t name_len, void* u);
  static int load_pre_key(signal_buffer** record, uint32_t id, void* u);
  static int store_pre_key(uint32_t id, uint8_t* record, size_t len, void* u);
  static int contains_pre_key(uint32_t id, void* u);
  static int remove_pre_key(uint32_t id, void* u);
  static int load_signed_pre_key(signal_buffer** record, uint32_t id, void* u);
  static int store_signed_pre_key(uint32_t id, uint8_t* record, size_t len, void* u);
  static int contains_signed_pre_key(uint32_t id, void* u);
  static int remove_signed_pre_key(uint32_t id, void* u);
  static int identity_key_pair(signal_buffer** public_data, signal_buffer** private_data, void* u);
  static int registration_id(void* u, uint32_t* id);
  static int save_identity(const signal_protocol_address* a, uint8_t* key, size_t len, void* u);
  static int is_trusted_identity(const signal_protocol_address* a, uint8_t* key, size_t len, void* u);
  static int store_sender_key(const signal_protocol_sender_key_name*, uint8_t*, size_t, uint8_t*, size_t, void*);
  static int load_sender_key(signal_buffer**, signal_buffer**, const signal_protocol_sender_key_name*, void*);

  const Provisioning& provisioning_;
  std::filesystem::path dir_;
  std::map<Address, Bytes> sessions_;
  std::map<std::uint32_t, Bytes> pre_keys_;
  std::map<std::uint32_t, Bytes> signed_pre_keys_;
  std::size_t untrusted_refusals_ = 0;
};

}  // namespace twofold::messenger
