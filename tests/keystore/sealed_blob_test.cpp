// The sealed-secret file is attacker-writable: every malformed shape is refused with a reason.
#include "twofold/keystore/sealed_blob.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace twofold::keystore {
namespace {

const char* kValid = R"({"format":"twofold-sealed-secret","version":1,"purpose":"secure-volume",
"parent":"revocable","pin":true,"pcrs":[8],"pcr_values":{"8":"%PCR%"},"parent_name":"%NAME%",
"public":"%PUB%","private":"0004deadbeef"})";

std::string hex(const std::vector<std::uint8_t>& b) {
  std::string s;
  for (auto x : b) {
    static const char* d = "0123456789abcdef";
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

// A marshalled TPM2B_PUBLIC like the one seal() makes (keyed hash, PIN-protected).
std::string public_area(std::uint32_t attributes) {
  std::vector<std::uint8_t> body = {0x00, 0x08, 0x00, 0x0b};  // keyedhash, sha256
  for (int s = 24; s >= 0; s -= 8) body.push_back(static_cast<std::uint8_t>(attributes >> s));
  body.push_back(0x00);
  body.push_back(0x20);
  for (int i = 0; i < 32; ++i) body.push_back(0xaa);  // authPolicy
  body.insert(body.end(), {0x00, 0x10, 0x00, 0x00});  // scheme NULL, unique size 0
  std::vector<std::uint8_t> out;
  out.reserve(body.size() + 2);
  out.push_back(static_cast<std::uint8_t>(body.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(body.size() & 0xff));
  for (auto b : body) out.push_back(b);
  return hex(out);
}

std::string valid(std::uint32_t attributes = 0x00000002 | 0x00000010 | 0x00000080) {
  std::string s = kValid;
  auto put = [&](const std::string& key, const std::string& value) {
    s.replace(s.find(key), key.size(), value);
  };
  put("%PCR%", std::string(64, '1'));
  put("%NAME%", "000b" + std::string(64, '2'));
  put("%PUB%", public_area(attributes));
  return s;
}

TEST(SealedBlobTest, ValidRoundTrips) {
  auto parsed = parse_sealed_blob(valid());
  ASSERT_TRUE(std::holds_alternative<SealedBlob>(parsed))
      << std::get<BlobError>(parsed).message;
  const auto& b = std::get<SealedBlob>(parsed);
  EXPECT_EQ(b.purpose, "secure-volume");
  EXPECT_EQ(b.parent, Parent::revocable);
  auto again = parse_sealed_blob(serialize_sealed_blob(b));
  ASSERT_TRUE(std::holds_alternative<SealedBlob>(again));
  EXPECT_EQ(std::get<SealedBlob>(again).object.public_area, b.object.public_area);
}

std::string error_of(const std::string& text) {
  auto parsed = parse_sealed_blob(text);
  return std::holds_alternative<BlobError>(parsed) ? std::get<BlobError>(parsed).message : "";
}

TEST(SealedBlobTest, RefusesEachMalformedShape) {
  auto edit = [](const std::function<void(nlohmann::json&)>& fn) {
    auto j = nlohmann::json::parse(valid());
    fn(j);
    return j.dump();
  };
  EXPECT_NE(error_of("not json"), "");
  EXPECT_NE(error_of("[]"), "");
  EXPECT_NE(error_of(std::string(20000, ' ')), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["format"] = "other"; })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["version"] = 2; })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["extra"] = 1; })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j.erase("private"); })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["purpose"] = "../etc"; })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["parent"] = "owner"; })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["pcrs"] = nlohmann::json::array({8, 8}); })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["pcrs"] = nlohmann::json::array({24}); })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["pcrs"] = nlohmann::json::array({-1}); })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["pcr_values"]["8"] = "zz"; })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["pcr_values"]["8"] = std::string(62, '1'); })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["public"] = j["public"].template get<std::string>() + "00"; })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["private"] = "0010dead"; })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["private"] = "0000"; })), "");
  EXPECT_NE(error_of(edit([](auto& j) { j["pin"] = false; })), "")  // attributes then say noDA
      << "a PIN-less claim on a DA-protected object";
  // A sealed object that is not fixed to this TPM (no fixedTPM) is not ours.
  EXPECT_NE(error_of(valid(0x00000010 | 0x00000080)), "");
}

}  // namespace
}  // namespace twofold::keystore
