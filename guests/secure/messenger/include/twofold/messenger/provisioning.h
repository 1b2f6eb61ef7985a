#pragma once
// The organisation's provisioning file (docs/messaging.md, "Provisioning file"): who this
// device is, where the server is, and the only peers and device identities it trusts.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "twofold/messenger/bytes.h"
#include "twofold/messenger/jid.h"

namespace twofold::messenger {

inline constexpr std::size_t kMaxContacts = 256;
inline constexpr std::size_t kMaxDevicesPerContact = 16;
inline constexpr std::size_t kMaxGroups = 64;
inline constexpr std::size_t kMaxGroupMembers = 256;
inline constexpr std::size_t kMaxGroupId = 32;
inline constexpr std::size_t kMaxDisplayName = 64;
inline constexpr std::size_t kMaxPassword = 256;
inline constexpr std::size_t kIdentityPublicSize = 33;   // 0x05 (Curve25519 type) + 32 bytes
inline constexpr std::size_t kIdentityPrivateSize = 32;
// OMEMO device ids are Signal registration ids: 1 .. 2^31-1.
inline constexpr std::uint32_t kMaxDeviceId = 0x7fffffff;

struct ProvisionedDevice {
  std::uint32_t id = 0;
  Bytes identity;  // kIdentityPublicSize bytes
};

struct Contact {
  Jid jid;
  std::string name;
  std::vector<ProvisionedDevice> devices;
};

struct Group {
  std::string id;
  std::string name;
  std::vector<Jid> members;  // bare JIDs, each a contact (this account is implicit)
};

struct Provisioning {
  Jid account;  // bare
  std::string password;
  std::uint32_t device_id = 0;
  Bytes identity_public;
  Bytes identity_private;
  std::string server_host;
  std::uint16_t server_port = 5222;
  std::string server_domain;
  std::filesystem::path ca_file;  // absolute after load
  std::vector<Contact> contacts;
  std::vector<Group> groups;

  const Contact* contact(const Jid& bare) const;
  const ProvisionedDevice* device(const Jid& bare, std::uint32_t device_id) const;
  const Group* group(std::string_view id) const;
};

struct ProvisioningError {
  std::string reason;
};

// Loads and validates the whole file; any bad value refuses it (with the first reason).
std::variant<Provisioning, ProvisioningError> load_provisioning(const std::filesystem::path& file);
std::variant<Provisioning, ProvisioningError> parse_provisioning(std::string_view toml_text,
                                                                 const std::filesystem::path& base_dir);

bool valid_group_id(std::string_view id);

}  // namespace twofold::messenger
