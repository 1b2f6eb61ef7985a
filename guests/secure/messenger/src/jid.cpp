#include "twofold/messenger/jid.h"

namespace twofold::messenger {
namespace {

// Characters RFC 7622 forbids in a localpart, plus everything outside printable ASCII.
bool valid_local_char(char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '"': case '&': case '\'': case '/': case ':': case '<': case '>': case '@':
      return false;
    default:
      return true;
  }
}

bool valid_domain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

bool valid_resource_char(char c) { return c > 0x20 && c < 0x7f; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

template <typename Pred>
bool all_of(std::string_view s, Pred pred) {
  for (const char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

}  // namespace

std::optional<Jid> Jid::parse(std::string_view untrusted) { return parse_impl(untrusted, false); }

std::optional<Jid> Jid::parse_allowing_domain_only(std::string_view untrusted) {
  return parse_impl(untrusted, true);
}

std::optional<Jid> Jid::parse_impl(std::string_view untrusted, bool domain_only_ok) {
  std::string_view rest = untrusted;
  std::string_view resource;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    resource = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (resource.empty() || resource.size() > kMaxJidPart || !all_of(resource, valid_resource_char)) {
      return std::nullopt;
    }
  }
  std::string_view local;
  std::string_view domain = rest;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    local = rest.substr(0, at);
    domain = rest.substr(at + 1);
    if (local.empty() || local.size() > kMaxJidPart || !all_of(local, valid_local_char)) {
      return std::nullopt;
    }
  } else if (!domain_only_ok) {
    return std::nullopt;
  }
  if (domain.empty() || domain.size() > kMaxJidPart || !all_of(domain, valid_domain_char) ||
      domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  return Jid{lower(local), lower(domain), std::string(resource)};
}

}  // namespace twofold::messenger
