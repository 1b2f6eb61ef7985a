#include "twofold/manager/control_protocol.h"

#include <gtest/gtest.h>

namespace twofold::manager::control {
namespace {

ProtocolError expect_error(std::string_view line) {
    auto parsed = parse_request(line);
    EXPECT_TRUE(std::holds_alternative<ProtocolError>(parsed)) << line;
    return std::holds_alternative<ProtocolError>(parsed) ? std::get<ProtocolError>(parsed) : ProtocolError{};
}

Request expect_request(std::string_view line) {
    auto parsed = parse_request(line);
    EXPECT_TRUE(std::holds_alternative<Request>(parsed)) << line;
    return std::holds_alternative<Request>(parsed) ? std::get<Request>(parsed) : Request{};
}

TEST(ControlProtocol, StatusRequestParses) {
    const auto r = expect_request(R"({"version":1,"id":3,"command":"status"})");
    EXPECT_EQ(r.id, 3);
    EXPECT_TRUE(std::holds_alternative<StatusRequest>(r.command));
}

TEST(ControlProtocol, SwitchWithoutPersonaIsToggle) {
    const auto r = expect_request(R"({"version":1,"id":1,"command":"switch"})");
    ASSERT_TRUE(std::holds_alternative<SwitchRequest>(r.command));
    EXPECT_FALSE(std::get<SwitchRequest>(r.command).persona.has_value());
}

TEST(ControlProtocol, RestartNeedsPersona) {
    EXPECT_EQ(expect_error(R"({"version":1,"id":1,"command":"restart"})").code, "bad-request");
    const auto r = expect_request(R"({"version":1,"id":1,"command":"restart","args":{"persona":"secure"}})");
    ASSERT_TRUE(std::holds_alternative<LifecycleRequest>(r.command));
    EXPECT_EQ(std::get<LifecycleRequest>(r.command).action, LifecycleAction::Restart);
}

TEST(ControlProtocol, VolumeUnlockCarriesOnlyAPin) {
    const auto r = expect_request(R"({"version":1,"id":1,"command":"volume-unlock","args":{"persona":"secure","pin":"2468"}})");
    ASSERT_TRUE(std::holds_alternative<VolumeRequest>(r.command));
    const auto& v = std::get<VolumeRequest>(r.command);
    EXPECT_EQ(v.action, VolumeAction::Unlock);
    EXPECT_EQ(v.pin, "2468");
    EXPECT_TRUE(v.new_pin.empty());
    // Round trip through the client's encoder.
    const auto again = expect_request(make_request(1, r.command));
    EXPECT_EQ(std::get<VolumeRequest>(again.command).pin, "2468");
}

TEST(ControlProtocol, VolumeRequestsRefuseBadPins) {
    const std::string head = R"({"version":1,"id":1,"command":)";
    EXPECT_EQ(expect_error(head + R"("volume-unlock","args":{"persona":"secure"}})").code, "bad-request");
    EXPECT_EQ(expect_error(head + R"("volume-unlock","args":{"persona":"secure","pin":""}})").code, "bad-request");
    EXPECT_EQ(expect_error(head + R"("volume-unlock","args":{"persona":"secure","pin":"12\n34"}})").code, "bad-request");
    EXPECT_EQ(expect_error(head + R"("volume-unlock","args":{"persona":"secure","pin":")" + std::string(257, '1') + R"("}})").code,
              "bad-request");
    EXPECT_EQ(expect_error(head + R"("volume-unlock","args":{"persona":"secure","pin":1234}})").code, "bad-request");
    EXPECT_EQ(expect_error(head + R"("volume-lock","args":{"persona":"secure","pin":"1"}})").code, "bad-request");
    EXPECT_EQ(expect_error(head + R"("volume-unlock","args":{"persona":"secure","pin":"1","new_pin":"2"}})").code, "bad-request");
    EXPECT_EQ(expect_error(head + R"("volume-change-pin","args":{"persona":"secure","pin":"1"}})").code, "bad-request");
    EXPECT_EQ(expect_error(head + R"("volume-wipe","args":{}})").code, "bad-request");
    const auto ok = expect_request(head + R"("volume-change-pin","args":{"persona":"secure","pin":"1","new_pin":"2"}})");
    EXPECT_EQ(std::get<VolumeRequest>(ok.command).new_pin, "2");
}

TEST(ControlProtocol, InvalidJsonIsBadJson) { EXPECT_EQ(expect_error("{not json").code, "bad-json"); }

TEST(ControlProtocol, NonObjectIsBadRequest) { EXPECT_EQ(expect_error("[1,2]").code, "bad-request"); }

TEST(ControlProtocol, WrongVersionIsRefusedAndEchoesId) {
    const auto e = expect_error(R"({"version":2,"id":9,"command":"status"})");
    EXPECT_EQ(e.code, "bad-version");
    EXPECT_EQ(e.id, std::optional<std::int64_t>(9));
}

TEST(ControlProtocol, MissingIdIsBadRequest) {
    EXPECT_EQ(expect_error(R"({"version":1,"command":"status"})").code, "bad-request");
}

TEST(ControlProtocol, UnknownFieldIsNamed) {
    const auto e = expect_error(R"({"version":1,"id":1,"command":"status","extra":true})");
    EXPECT_NE(e.message.find("extra"), std::string::npos);
}

TEST(ControlProtocol, UnknownCommandListsKnownOnes) {
    const auto e = expect_error(R"({"version":1,"id":1,"command":"reboot"})");
    EXPECT_EQ(e.code, "unknown-command");
    EXPECT_NE(e.message.find("status"), std::string::npos);
}

TEST(ControlProtocol, PersonaNameWithPathCharactersIsRefused) {
    EXPECT_EQ(expect_error(R"({"version":1,"id":1,"command":"start","args":{"persona":"../secure"}})").code, "bad-request");
    EXPECT_EQ(expect_error(R"({"version":1,"id":1,"command":"start","args":{"persona":7}})").code, "bad-request");
}

TEST(ControlProtocol, OversizedLineIsRefusedBeforeParsing) {
    const std::string huge(kMaxRequestBytes + 1, ' ');
    EXPECT_EQ(expect_error(huge).code, "too-large");
}

TEST(ControlProtocol, MadeRequestRoundTrips) {
    const auto line = make_request(5, LifecycleRequest{LifecycleAction::Stop, "personal"});
    const auto r = expect_request(line.substr(0, line.size() - 1));
    EXPECT_EQ(r.id, 5);
    ASSERT_TRUE(std::holds_alternative<LifecycleRequest>(r.command));
    EXPECT_EQ(std::get<LifecycleRequest>(r.command).persona, "personal");
}

TEST(ControlProtocol, ErrorResponseCarriesCodeAndNullIdWhenUnknown) {
    const auto doc = nlohmann::json::parse(make_error_response({"bad-json", "x", std::nullopt}));
    EXPECT_FALSE(doc["ok"].get<bool>());
    EXPECT_TRUE(doc["id"].is_null());
    EXPECT_EQ(doc["error"]["code"], "bad-json");
}

TEST(ControlProtocol, ShutdownParsesAndRoundTrips) {
    const auto parsed = parse_request(make_request(4, ShutdownRequest{}));
    ASSERT_TRUE(std::holds_alternative<Request>(parsed));
    EXPECT_TRUE(std::holds_alternative<ShutdownRequest>(std::get<Request>(parsed).command));
}

TEST(ControlProtocol, ShutdownWithArgumentsIsRefused) {
    const auto parsed = parse_request(R"({"version":1,"id":4,"command":"shutdown","args":{"now":true}})");
    ASSERT_TRUE(std::holds_alternative<ProtocolError>(parsed));
    EXPECT_EQ(std::get<ProtocolError>(parsed).code, "bad-request");
}

} // namespace
} // namespace twofold::manager::control
