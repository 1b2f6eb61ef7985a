#pragma once
// A validated XMPP address. The parser accepts the subset the organisation provisions:
// ASCII localpart@domain[/resource], no spaces or control characters, case-folded
// localpart and domain. A hostile `from` that does not fit is rejected, never "repaired".
#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace twofold::messenger {

inline constexpr std::size_t kMaxJidPart = 255;  // RFC 7622 bounds each part at 1023 bytes; ours are short

class Jid {
 public:
  Jid() = default;  // empty, for aggregates filled in after validation; parse() makes real ones
  static std::optional<Jid> parse(std::string_view untrusted);
  // Domain-only addresses (the server itself, e.g. an iq result from the account's host).
  static std::optional<Jid> parse_allowing_domain_only(std::string_view untrusted);

  const std::string& local() const { return local_; }
  const std::string& domain() const { return domain_; }
  const std::string& resource() const { return resource_; }
  std::string bare() const { return local_.empty() ? domain_ : local_ + "@" + domain_; }
  std::string full() const { return resource_.empty() ? bare() : bare() + "/" + resource_; }
  Jid bare_jid() const { return Jid{local_, domain_, {}}; }
  bool same_bare(const Jid& other) const { return local_ == other.local_ && domain_ == other.domain_; }

  auto operator<=>(const Jid&) const = default;

 private:
  Jid(std::string local, std::string domain, std::string resource)
      : local_(std::move(local)), domain_(std::move(domain)), resource_(std::move(resource)) {}
  static std::optional<Jid> parse_impl(std::string_view untrusted, bool domain_only_ok);

  std::string local_;
  std::string domain_;
  std::string resource_;
};

}  // namespace twofold::messenger
