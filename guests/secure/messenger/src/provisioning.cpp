#include "twofold/messenger/provisioning.h"

#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace twofold::messenger {
namespace {

struct Fail {
  std::string reason;
};

template <typename T>
T required(const toml::node_view<const toml::node>& node, const std::string& what) {
  const auto value = node.value<T>();
  if (!value) throw Fail{what + " is missing or has the wrong type"};
  return *value;
}

Jid required_jid(const toml::node_view<const toml::node>& node, const std::string& what) {
  const auto text = required<std::string>(node, what);
  auto jid = Jid::parse(text);
  if (!jid || !jid->resource().empty()) throw Fail{what + " is not a bare JID: '" + text + "'"};
  return *jid;
}

Bytes required_key(const toml::node_view<const toml::node>& node, const std::string& what,
                   std::size_t size) {
  const auto text = required<std::string>(node, what);
  auto bytes = base64_decode(text, size);
  if (!bytes || bytes->size() != size) {
    throw Fail{what + " must be base64 of " + std::to_string(size) + " bytes"};
  }
  if (size == kIdentityPublicSize && (*bytes)[0] != 0x05) {
    throw Fail{what + " is not a Curve25519 public key (first byte must be 0x05)"};
  }
  return *bytes;
}

std::uint32_t required_device_id(const toml::node_view<const toml::node>& node, const std::string& what) {
  const auto id = required<std::int64_t>(node, what);
  if (id < 1 || id > kMaxDeviceId) throw Fail{what + " must be in 1.." + std::to_string(kMaxDeviceId)};
  return static_cast<std::uint32_t>(id);
}

std::string bounded_string(const toml::node_view<const toml::node>& node, const std::string& what,
                           std::size_t max, bool optional_value = false) {
  if (optional_value && !node) return {};
  auto text = required<std::string>(node, what);
  if (text.empty() || text.size() > max) {
    throw Fail{what + " must be 1.." + std::to_string(max) + " characters"};
  }
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20) throw Fail{what + " has a control character"};
  }
  return text;
}

Provisioning parse_table(const toml::table& root, const std::filesystem::path& base_dir) {
  Provisioning p;
  const toml::node_view<const toml::node> doc{static_cast<const toml::node*>(&root)};
  p.account = required_jid(doc["account"]["jid"], "account.jid");
  p.password = bounded_string(doc["account"]["password"], "account.password", kMaxPassword);
  p.device_id = required_device_id(doc["account"]["device_id"], "account.device_id");
  p.identity_public = required_key(doc["account"]["identity_public"], "account.identity_public",
                                   kIdentityPublicSize);
  p.identity_private = required_key(doc["account"]["identity_private"], "account.identity_private",
                                    kIdentityPrivateSize);

  p.server_host = bounded_string(doc["server"]["host"], "server.host", kMaxJidPart);
  const auto port = required<std::int64_t>(doc["server"]["port"], "server.port");
  if (port < 1 || port > 65535) throw Fail{"server.port must be in 1..65535"};
  p.server_port = static_cast<std::uint16_t>(port);
  p.server_domain = bounded_string(doc["server"]["domain"], "server.domain", kMaxJidPart);
  if (p.server_domain != p.account.domain()) {
    throw Fail{"server.domain '" + p.server_domain + "' is not the account's domain '" +
               p.account.domain() + "'"};
  }
  const std::filesystem::path ca = bounded_string(doc["server"]["ca"], "server.ca", 4096);
  p.ca_file = ca.is_absolute() ? ca : base_dir / ca;

  std::set<Jid> seen;
  seen.insert(p.account);
  if (const auto* contacts = root["contact"].as_array()) {
    if (contacts->size() > kMaxContacts) throw Fail{"more than " + std::to_string(kMaxContacts) + " contacts"};
    for (std::size_t i = 0; i < contacts->size(); ++i) {
      const std::string where = "contact[" + std::to_string(i) + "]";
      const toml::node_view<const toml::node> c{&(*contacts)[i]};
      Contact contact{required_jid(c["jid"], where + ".jid"), {}, {}};
      contact.name = bounded_string(c["name"], where + ".name", kMaxDisplayName, true);
      if (contact.name.empty()) contact.name = contact.jid.local();
      if (!seen.insert(contact.jid).second) throw Fail{where + ".jid is listed twice (or is this account)"};
      const auto* devices = c["devices"].as_array();
      if (!devices || devices->empty() || devices->size() > kMaxDevicesPerContact) {
        throw Fail{where + ".devices must list 1.." + std::to_string(kMaxDevicesPerContact) + " devices"};
      }
      std::set<std::uint32_t> ids;
      for (std::size_t d = 0; d < devices->size(); ++d) {
        const std::string dwhere = where + ".devices[" + std::to_string(d) + "]";
        const toml::node_view<const toml::node> dev{&(*devices)[d]};
        ProvisionedDevice device{required_device_id(dev["id"], dwhere + ".id"),
                                 required_key(dev["identity"], dwhere + ".identity", kIdentityPublicSize)};
        if (!ids.insert(device.id).second) throw Fail{dwhere + ".id is listed twice"};
        contact.devices.push_back(std::move(device));
      }
      p.contacts.push_back(std::move(contact));
    }
  }

  if (const auto* groups = root["group"].as_array()) {
    if (groups->size() > kMaxGroups) throw Fail{"more than " + std::to_string(kMaxGroups) + " groups"};
    std::set<std::string> ids;
    for (std::size_t i = 0; i < groups->size(); ++i) {
      const std::string where = "group[" + std::to_string(i) + "]";
      const toml::node_view<const toml::node> g{&(*groups)[i]};
      Group group;
      group.id = required<std::string>(g["id"], where + ".id");
      if (!valid_group_id(group.id)) throw Fail{where + ".id must be 1..32 of [a-z0-9-]"};
      if (!ids.insert(group.id).second) throw Fail{where + ".id is listed twice"};
      group.name = bounded_string(g["name"], where + ".name", kMaxDisplayName, true);
      if (group.name.empty()) group.name = group.id;
      const auto* members = g["members"].as_array();
      if (!members || members->empty() || members->size() > kMaxGroupMembers) {
        throw Fail{where + ".members must list 1.." + std::to_string(kMaxGroupMembers) + " contacts"};
      }
      std::set<Jid> in_group;
      for (std::size_t m = 0; m < members->size(); ++m) {
        const std::string mwhere = where + ".members[" + std::to_string(m) + "]";
        auto member = required_jid(toml::node_view<const toml::node>{&(*members)[m]}, mwhere);
        if (member == p.account) continue;  // a member list may name everyone, this device included
        if (!p.contact(member)) throw Fail{mwhere + " '" + member.bare() + "' is not a contact"};
        if (!in_group.insert(member).second) throw Fail{mwhere + " is listed twice"};
        group.members.push_back(std::move(member));
      }
      if (group.members.empty()) throw Fail{where + " has no member besides this account"};
      p.groups.push_back(std::move(group));
    }
  }
  return p;
}

}  // namespace

bool valid_group_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxGroupId) return false;
  for (const char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

const Contact* Provisioning::contact(const Jid& bare) const {
  for (const auto& c : contacts) {
    if (c.jid.same_bare(bare)) return &c;
  }
  return nullptr;
}

const ProvisionedDevice* Provisioning::device(const Jid& bare, std::uint32_t id) const {
  const auto* c = contact(bare);
  if (!c) return nullptr;
  for (const auto& d : c->devices) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

const Group* Provisioning::group(std::string_view id) const {
  for (const auto& g : groups) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

std::variant<Provisioning, ProvisioningError> parse_provisioning(std::string_view toml_text,
                                                                 const std::filesystem::path& base_dir) {
  auto parsed = toml::parse(toml_text);
  if (!parsed) {
    return ProvisioningError{"not TOML: " + std::string(parsed.error().description())};
  }
  try {
    return parse_table(parsed.table(), base_dir);
  } catch (const Fail& f) {
    return ProvisioningError{f.reason};
  }
}

std::variant<Provisioning, ProvisioningError> load_provisioning(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return ProvisioningError{"cannot read " + file.string()};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_provisioning(text.str(), std::filesystem::absolute(file).parent_path());
}

}  // namespace twofold::messenger
