#include "twofold/keystore/sealed_blob.h"

#include <fcntl.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <system_error>

namespace twofold::keystore {
namespace {

using nlohmann::json;

constexpr std::string_view kFormat = "twofold-sealed-secret";
constexpr int kVersion = 1;
constexpr std::size_t kMaxHexBytes = 4096;  // a marshalled TPM2B_PUBLIC/PRIVATE is < 1 KiB
constexpr std::size_t kMaxPurpose = 32;

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 0xf];
  }
  return s;
}

std::optional<Bytes> from_hex(std::string_view s, std::size_t max_bytes) {
  if (s.size() % 2 != 0 || s.size() / 2 > max_bytes) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  Bytes out(s.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(s[2 * i]);
    const int lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

struct Fail {
  std::string message;
};

const json& field(const json& obj, const char* name, json::value_t type) {
  const auto it = obj.find(name);
  if (it == obj.end()) throw Fail{fmt::format("missing field '{}'", name)};
  const bool ok = it->type() == type ||
                  (type == json::value_t::number_unsigned && it->is_number_unsigned());
  if (!ok) throw Fail{fmt::format("field '{}' has the wrong type", name)};
  return *it;
}

Bytes hex_field(const json& obj, const char* name, std::size_t max_bytes) {
  auto b = from_hex(field(obj, name, json::value_t::string).get_ref<const std::string&>(),
                    max_bytes);
  if (!b) throw Fail{fmt::format("field '{}' is not lower-case hex of at most {} bytes", name,
                                 max_bytes)};
  return *b;
}

// The public area must be the object seal() makes: anything else (a key that signs or
// decrypts, an object without fixedTPM, another name algorithm) is not ours.
void check_public_area(const Bytes& bytes, bool pin) {
  TPM2B_PUBLIC pub{};
  size_t off = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(bytes.data(), bytes.size(), &off, &pub) != TSS2_RC_SUCCESS ||
      off != bytes.size()) {
    throw Fail{"'public' is not exactly one TPM2B_PUBLIC"};
  }
  const auto& a = pub.publicArea;
  if (a.type != TPM2_ALG_KEYEDHASH || a.nameAlg != TPM2_ALG_SHA256) {
    throw Fail{"'public' is not a SHA-256 keyed-hash object"};
  }
  const TPMA_OBJECT want = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                           TPMA_OBJECT_ADMINWITHPOLICY | (pin ? 0 : TPMA_OBJECT_NODA);
  if (a.objectAttributes != want) throw Fail{"'public' has unexpected object attributes"};
  if (a.authPolicy.size != 32) throw Fail{"'public' has no SHA-256 policy"};
  if (a.parameters.keyedHashDetail.scheme.scheme != TPM2_ALG_NULL) {
    throw Fail{"'public' is a keyed-hash key, not a sealed object"};
  }
}

void check_private_area(const Bytes& bytes) {
  TPM2B_PRIVATE priv{};
  size_t off = 0;
  if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(bytes.data(), bytes.size(), &off, &priv) !=
          TSS2_RC_SUCCESS ||
      off != bytes.size() || priv.size == 0) {
    throw Fail{"'private' is not exactly one non-empty TPM2B_PRIVATE"};
  }
}

SealedBlob parse(std::string_view text) {
  if (text.size() > kMaxBlobFileBytes) throw Fail{"file larger than 16 KiB"};
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) throw Fail{"not a JSON object"};
  static constexpr const char* kFields[] = {"format", "version", "purpose",    "parent",
                                            "pin",    "pcrs",    "pcr_values", "parent_name",
                                            "public", "private"};
  for (const auto& [key, value] : doc.items()) {
    (void)value;
    if (std::find(std::begin(kFields), std::end(kFields), key) == std::end(kFields)) {
      throw Fail{fmt::format("unknown field '{}'", key)};
    }
  }
  if (field(doc, "format", json::value_t::string) != kFormat) throw Fail{"not a twofold sealed secret"};
  if (field(doc, "version", json::value_t::number_unsigned) != kVersion) {
    throw Fail{"unsupported version"};
  }
  SealedBlob blob;
  blob.purpose = field(doc, "purpose", json::value_t::string).get<std::string>();
  if (blob.purpose.empty() || blob.purpose.size() > kMaxPurpose ||
      blob.purpose.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    throw Fail{"'purpose' must be 1-32 of [a-z0-9-]"};
  }
  const auto& parent = field(doc, "parent", json::value_t::string).get_ref<const std::string&>();
  if (parent == "storage-root") blob.parent = Parent::storage_root;
  else if (parent == "revocable") blob.parent = Parent::revocable;
  else throw Fail{"'parent' must be storage-root or revocable"};
  blob.pin = field(doc, "pin", json::value_t::boolean).get<bool>();

  const auto& pcrs = field(doc, "pcrs", json::value_t::array);
  std::vector<unsigned> indices;
  for (const auto& p : pcrs) {
    if (!p.is_number_unsigned() || p.get<std::uint64_t>() > PcrSelection::kMaxPcr ||
        indices.size() > PcrSelection::kMaxPcr) {
      throw Fail{"'pcrs' must list PCR indices 0-23"};
    }
    indices.push_back(p.get<unsigned>());
  }
  auto sel = PcrSelection::from(indices);
  if (!sel) throw Fail{"'pcrs' must be a non-empty set without repeats"};
  blob.pcrs = *sel;

  const auto& values = field(doc, "pcr_values", json::value_t::object);
  if (values.size() != blob.pcrs.indices().size()) throw Fail{"'pcr_values' must match 'pcrs'"};
  for (unsigned i : blob.pcrs.indices()) {
    const auto b = hex_field(values, std::to_string(i).c_str(), 32);
    if (b.size() != 32) throw Fail{"a PCR value is not 32 bytes"};
    Digest d{};
    std::copy(b.begin(), b.end(), d.begin());
    blob.pcr_values[i] = d;
  }
  blob.parent_name = hex_field(doc, "parent_name", 68);  // TPM2B_NAME: alg + digest
  if (blob.parent_name.size() != 34) throw Fail{"'parent_name' is not a SHA-256 name"};
  blob.object.public_area = hex_field(doc, "public", kMaxHexBytes);
  blob.object.private_area = hex_field(doc, "private", kMaxHexBytes);
  check_public_area(blob.object.public_area, blob.pin);
  check_private_area(blob.object.private_area);
  return blob;
}

}  // namespace

std::variant<SealedBlob, BlobError> parse_sealed_blob(std::string_view untrusted_text) {
  try {
    return parse(untrusted_text);
  } catch (const Fail& f) {
    return BlobError{f.message};
  } catch (const json::exception& e) {
    return BlobError{fmt::format("malformed: {}", e.what())};
  }
}

std::string serialize_sealed_blob(const SealedBlob& blob) {
  json values = json::object();
  for (const auto& [i, d] : blob.pcr_values) values[std::to_string(i)] = to_hex(d);
  json doc = {
      {"format", kFormat},
      {"version", kVersion},
      {"purpose", blob.purpose},
      {"parent", blob.parent == Parent::storage_root ? "storage-root" : "revocable"},
      {"pin", blob.pin},
      {"pcrs", blob.pcrs.indices()},
      {"pcr_values", values},
      {"parent_name", to_hex(blob.parent_name)},
      {"public", to_hex(blob.object.public_area)},
      {"private", to_hex(blob.object.private_area)},
  };
  return doc.dump(2) + "\n";
}

void write_file_durably(const std::string& path, std::string_view contents) {
  const std::filesystem::path target(path);
  const std::string tmp = path + ".tmp";
  auto fail = [&](const char* what) {
    throw std::system_error(errno, std::generic_category(), fmt::format("{} {}", what, tmp));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot create");
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("cannot fsync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename");
  const auto dir = target.has_parent_path() ? target.parent_path().string() : std::string(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace twofold::keystore
