#include "probe.h"

#include <algorithm>
#include <charconv>
#include <memory>

namespace twofold::messenger::load {
namespace {

std::string_view attribute(xmpp_stanza_t* s, const char* name) {
  const char* v = xmpp_stanza_get_attribute(s, name);
  return v ? std::string_view(v) : std::string_view();
}

Rejection reject(RejectKind kind, std::string reason) { return Rejection{kind, std::move(reason)}; }

// Quotes at most 64 bytes of a hostile value into a log reason, non-printables as '?'.
std::string quoted(std::string_view v) {
  std::string out = "'";
  for (char c : v.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (v.size() > 64) out += "...";
  return out + "'";
}

}  // namespace

const char* to_string(RejectKind kind) {
  switch (kind) {
    case RejectKind::bounced: return "bounced";
    case RejectKind::malformed: return "malformed";
    case RejectKind::forged: return "forged";
    case RejectKind::misrouted: return "misrouted";
  }
  return "unknown";
}

std::string officer_bare_jid(const RunShape& shape, std::uint32_t index) {
  return shape.prefix + std::to_string(index) + "@" + shape.domain;
}

std::uint32_t peer_of(const RunShape& shape, std::uint32_t sender, std::uint32_t seq) {
  const std::uint64_t step = (seq % 2 == 0) ? 1 : 2;
  return static_cast<std::uint32_t>((sender + step) % shape.officers);
}

bool is_group_seq(const RunShape& shape, std::uint32_t seq) {
  return shape.unit_size >= 2 && shape.group_every > 0 && seq % shape.group_every == shape.group_every - 1;
}

std::uint32_t unit_of(const RunShape& shape, std::uint32_t officer) {
  return shape.unit_size ? officer / shape.unit_size : 0;
}

std::string unit_id(std::uint32_t unit) { return "unit-" + std::to_string(unit); }

std::vector<std::uint32_t> recipients_of(const RunShape& shape, std::uint32_t sender, std::uint32_t seq) {
  if (!is_group_seq(shape, seq)) return {peer_of(shape, sender, seq)};
  std::vector<std::uint32_t> members;
  const std::uint32_t first = unit_of(shape, sender) * shape.unit_size;
  for (std::uint32_t m = first; m < first + shape.unit_size && m < shape.officers; ++m)
    if (m != sender) members.push_back(m);
  return members;
}

std::uint64_t planned_deliveries(const RunShape& shape) {
  std::uint64_t total = 0;
  for (std::uint32_t seq = 0; seq < shape.messages_per_officer; ++seq)
    total += is_group_seq(shape, seq) ? shape.unit_size - 1 : 1;
  return total * shape.officers;
}

bool parse_decimal(std::string_view text, std::uint64_t max, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return false;
  out = value;
  return true;
}

std::optional<std::uint32_t> officer_index(const RunShape& shape, std::string_view jid) {
  if (const auto slash = jid.find('/'); slash != std::string_view::npos) jid = jid.substr(0, slash);
  const auto at = jid.find('@');
  if (at == std::string_view::npos || jid.substr(at + 1) != shape.domain) return std::nullopt;
  const std::string_view local = jid.substr(0, at);
  if (local.substr(0, shape.prefix.size()) != shape.prefix) return std::nullopt;
  const std::string_view digits = local.substr(shape.prefix.size());
  // "officer07" is not officer 7: one spelling per officer.
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  std::uint64_t index = 0;
  if (shape.officers == 0 || !parse_decimal(digits, shape.officers - 1, index)) return std::nullopt;
  return static_cast<std::uint32_t>(index);
}

ParsedProbe parse_probe(xmpp_stanza_t* stanza, const RunShape& shape, std::uint32_t receiver, std::int64_t now_ns) {
  if (!stanza || !xmpp_stanza_is_tag(stanza)) return reject(RejectKind::malformed, "not an element");
  const char* name = xmpp_stanza_get_name(stanza);
  if (!name || std::string_view(name) != "message") return reject(RejectKind::malformed, "not a message");
  const std::string_view type = attribute(stanza, "type");
  const std::string_view from = attribute(stanza, "from");
  if (type == "error") return reject(RejectKind::bounced, "error from " + quoted(from) + " id " + quoted(attribute(stanza, "id")));
  if (type != "chat") return reject(RejectKind::malformed, "type " + quoted(type));

  const auto sender = officer_index(shape, from);
  if (!sender) return reject(RejectKind::malformed, "from " + quoted(from) + " is no officer of the run");
  const auto to = officer_index(shape, attribute(stanza, "to"));
  if (!to || *to != receiver)
    return reject(RejectKind::misrouted, "to " + quoted(attribute(stanza, "to")) + " on officer " + std::to_string(receiver) + "'s connection");

  xmpp_stanza_t* probe = xmpp_stanza_get_child_by_name_and_ns(stanza, "probe", kProbeNamespace);
  if (!probe) return reject(RejectKind::malformed, "no probe element from " + quoted(from));
  std::uint64_t claimed = 0, seq = 0, sent = 0;
  if (!parse_decimal(attribute(probe, "sender"), shape.officers - 1, claimed))
    return reject(RejectKind::malformed, "probe sender " + quoted(attribute(probe, "sender")));
  if (claimed != *sender)
    return reject(RejectKind::forged, "probe claims sender " + std::to_string(claimed) + ", server says " + quoted(from));
  if (shape.messages_per_officer == 0 || !parse_decimal(attribute(probe, "seq"), shape.messages_per_officer - 1, seq))
    return reject(RejectKind::malformed, "probe seq " + quoted(attribute(probe, "seq")));
  const bool group = is_group_seq(shape, static_cast<std::uint32_t>(seq));
  const char* group_attr = xmpp_stanza_get_attribute(probe, "group");
  if (group != (group_attr != nullptr) || (group && unit_id(unit_of(shape, *sender)) != group_attr))
    return reject(RejectKind::malformed, "seq " + std::to_string(seq) + " with group " + quoted(group_attr ? group_attr : "(none)"));
  const auto recipients = recipients_of(shape, *sender, static_cast<std::uint32_t>(seq));
  if (std::find(recipients.begin(), recipients.end(), receiver) == recipients.end())
    return reject(RejectKind::misrouted, "seq " + std::to_string(seq) + " of officer " + std::to_string(*sender) + " is not for officer " + std::to_string(receiver));
  if (now_ns < shape.start_ns || !parse_decimal(attribute(probe, "sent"), static_cast<std::uint64_t>(now_ns), sent) ||
      static_cast<std::int64_t>(sent) < shape.start_ns)
    return reject(RejectKind::malformed, "probe sent " + quoted(attribute(probe, "sent")) + " outside the run");

  xmpp_stanza_t* body = xmpp_stanza_get_child_by_name(stanza, "body");
  // libstrophe's strings are freed with the allocator of the stanza's context.
  xmpp_ctx_t* ctx = xmpp_stanza_get_context(stanza);
  auto release = [ctx](char* p) { xmpp_free(ctx, p); };
  std::unique_ptr<char, decltype(release)> text(body ? xmpp_stanza_get_text(body) : nullptr, release);
  const std::string_view body_text = text ? std::string_view(text.get()) : std::string_view();
  if (body_text.size() != shape.body_bytes) return reject(RejectKind::malformed, "body of " + std::to_string(body_text.size()) + " bytes");
  for (char c : body_text)
    if (c != 'x') return reject(RejectKind::malformed, "body altered");

  return Probe{*sender, receiver, static_cast<std::uint32_t>(seq), static_cast<std::int64_t>(sent), group};
}

}  // namespace twofold::messenger::load
