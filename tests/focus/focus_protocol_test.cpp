#include "twofold/focus/focus_protocol.h"

#include <gtest/gtest.h>

namespace twofold::focus {
namespace {

template <class T, class P>
T expect_parsed(const P& parsed) {
    if (const auto* e = std::get_if<ParseError>(&parsed)) {
        ADD_FAILURE() << e->message;
        return T{};
    }
    return std::get<T>(std::get<0>(parsed));
}

template <class P>
std::string expect_error(const P& parsed) {
    if (const auto* e = std::get_if<ParseError>(&parsed)) return e->message;
    ADD_FAILURE() << "parsed, expected an error";
    return {};
}

TEST(FocusProtocol, FocusOrderRoundTrips) {
    const auto line = format(ToBackend{Focus{"secure", 7}});
    const auto focus = expect_parsed<Focus>(parse_to_backend(line));
    EXPECT_EQ(focus.persona, "secure");
    EXPECT_EQ(focus.epoch, 7U);
}

// The first phase of a switch: input goes to nobody. Only an explicit null means that; a
// missing persona stays an error, so a truncated order can never be read as "nobody".
TEST(FocusProtocol, FocusToNobodyRoundTripsAsNull) {
    const auto line = format(ToBackend{Focus{std::nullopt, 8}});
    EXPECT_NE(line.find(R"("persona":null)"), std::string::npos) << line;
    const auto focus = expect_parsed<Focus>(parse_to_backend(line));
    EXPECT_EQ(focus.persona, std::nullopt);
    EXPECT_EQ(focus.epoch, 8U);
    EXPECT_NE(expect_error(parse_to_backend(R"({"type":"focus","epoch":1})")).find("persona"), std::string::npos);
    EXPECT_NE(expect_error(parse_to_backend(R"({"type":"focus","persona":false,"epoch":1})")).find("null for nobody"),
              std::string::npos);
    EXPECT_NE(expect_error(parse_to_backend(R"({"type":"focus","persona":"","epoch":1})")).find("persona"),
              std::string::npos);
}

TEST(FocusProtocol, HelloRoundTripsWithItsHolders) {
    const auto line = format(ToManager{Hello{"display", {Holder::Display, Holder::Input}}});
    const auto hello = expect_parsed<Hello>(parse_to_manager(line));
    EXPECT_EQ(hello.backend, "display");
    ASSERT_EQ(hello.holds.size(), 2U);
    EXPECT_EQ(hello.holds[0], Holder::Display);
    EXPECT_EQ(hello.holds[1], Holder::Input);
}

TEST(FocusProtocol, AckAndRefuseRoundTrip) {
    EXPECT_EQ(expect_parsed<Ack>(parse_to_manager(format(ToManager{Ack{42}}))).epoch, 42U);
    const auto refuse = expect_parsed<Refuse>(parse_to_manager(format(ToManager{Refuse{3, "no frame yet"}})));
    EXPECT_EQ(refuse.epoch, 3U);
    EXPECT_EQ(refuse.reason, "no frame yet");
}

TEST(FocusProtocol, AuditEventRoundTripsWithScalarFields) {
    const auto line = format(ToManager{AuditEvent{"modem.dial", {{"persona", "secure"}, {"allowed", true}}}});
    const auto event = expect_parsed<AuditEvent>(parse_to_manager(line));
    EXPECT_EQ(event.event, "modem.dial");
    EXPECT_EQ(event.fields.at("persona"), "secure");
    EXPECT_EQ(event.fields.at("allowed"), true);
}

TEST(FocusProtocol, InvalidUtf8InAReasonIsReplacedNotThrown) {
    const std::string guest_bytes = "bad \xff\xfe bytes";
    const auto line = format(ToManager{Refuse{1, guest_bytes}});
    const auto refuse = expect_parsed<Refuse>(parse_to_manager(line));
    EXPECT_NE(refuse.reason, guest_bytes);
    EXPECT_EQ(refuse.reason.rfind("bad ", 0), 0U);
}

TEST(FocusProtocol, RefusesWhatIsNotAMessage) {
    EXPECT_NE(expect_error(parse_to_backend("")).find("JSON"), std::string::npos);
    EXPECT_NE(expect_error(parse_to_backend("[1]")).find("object"), std::string::npos);
    EXPECT_NE(expect_error(parse_to_backend(R"({"epoch":1})")).find("type"), std::string::npos);
    EXPECT_NE(expect_error(parse_to_backend(R"({"type":"ack","epoch":1})")).find("unknown message type"), std::string::npos);
    EXPECT_NE(expect_error(parse_to_manager(R"({"type":"focus","persona":"a","epoch":1})")).find("unknown message type"),
              std::string::npos);
}

TEST(FocusProtocol, RefusesBadFocusFields) {
    EXPECT_NE(expect_error(parse_to_backend(R"({"type":"focus","persona":"Secure","epoch":1})")).find("valid name"),
              std::string::npos);
    EXPECT_NE(expect_error(parse_to_backend(R"({"type":"focus","persona":"secure","epoch":-1})")).find("epoch"),
              std::string::npos);
    EXPECT_NE(expect_error(parse_to_backend(R"({"type":"focus","persona":"secure"})")).find("epoch"), std::string::npos);
    EXPECT_NE(expect_error(parse_to_backend(R"({"type":"focus","persona":"secure","epoch":1,"x":2})")).find("'x'"),
              std::string::npos);
}

TEST(FocusProtocol, RefusesBadHellos) {
    EXPECT_NE(expect_error(parse_to_manager(R"({"type":"hello","version":2,"backend":"display","holds":[]})")).find("version"),
              std::string::npos);
    EXPECT_NE(expect_error(parse_to_manager(R"({"type":"hello","version":1,"backend":"display","holds":["screen"]})"))
                  .find("unknown holder"),
              std::string::npos);
    EXPECT_NE(expect_error(parse_to_manager(R"({"type":"hello","version":1,"backend":"display","holds":["input","input"]})"))
                  .find("twice"),
              std::string::npos);
    EXPECT_NE(expect_error(parse_to_manager(R"({"type":"hello","version":1,"backend":"../x","holds":[]})")).find("valid name"),
              std::string::npos);
}

TEST(FocusProtocol, RefusesStructuredOrOversizedAuditFields) {
    EXPECT_NE(expect_error(parse_to_manager(R"({"type":"audit","event":"modem.dial","fields":{"a":{"b":1}}})")).find("scalar"),
              std::string::npos);
    EXPECT_NE(expect_error(parse_to_manager(R"({"type":"audit","event":"modem..dial"})")).find("dotted"), std::string::npos);
    nlohmann::json many = nlohmann::json::object();
    for (int i = 0; i < 17; ++i) many["f" + std::to_string(i)] = i;
    const auto line = nlohmann::json{{"type", "audit"}, {"event", "modem.dial"}, {"fields", many}}.dump();
    EXPECT_NE(expect_error(parse_to_manager(line)).find("at most"), std::string::npos);
}

TEST(FocusProtocol, RefusesOverlongLinesUnparsed) {
    const std::string line(kMaxLineBytes + 1, ' ');
    EXPECT_NE(expect_error(parse_to_manager(line)).find("exceeds"), std::string::npos);
}

} // namespace
} // namespace twofold::focus

// dom0's PIN prompt on the link (issue 15).
namespace twofold::focus {
namespace {

std::string error_of(const Parsed<ToBackend>& p) { return std::holds_alternative<ParseError>(p) ? std::get<ParseError>(p).message : ""; }
std::string error_of(const Parsed<ToManager>& p) { return std::holds_alternative<ParseError>(p) ? std::get<ParseError>(p).message : ""; }

TEST(FocusPrompt, AFocusOrderWithAPromptRoundTrips) {
    const auto line = format(ToBackend{Focus{"secure", 9, PromptView{3, "WRONG PIN - 3 TRIES LEFT"}}});
    const auto parsed = parse_to_backend(line);
    ASSERT_TRUE(std::holds_alternative<ToBackend>(parsed)) << error_of(parsed);
    const auto& focus = std::get<Focus>(std::get<ToBackend>(parsed));
    EXPECT_EQ(focus.persona, "secure");
    ASSERT_TRUE(focus.prompt);
    EXPECT_EQ(*focus.prompt, (PromptView{3, "WRONG PIN - 3 TRIES LEFT"}));
    EXPECT_FALSE(std::get<Focus>(std::get<ToBackend>(parse_to_backend(format(ToBackend{Focus{"secure", 1}})))).prompt);
}

TEST(FocusPrompt, ARedrawRoundTrips) {
    const auto parsed = parse_to_backend(format(ToBackend{PromptUpdate{9, PromptView{4, ""}}}));
    ASSERT_TRUE(std::holds_alternative<ToBackend>(parsed)) << error_of(parsed);
    const auto& update = std::get<PromptUpdate>(std::get<ToBackend>(parsed));
    EXPECT_EQ(update.epoch, 9u);
    EXPECT_EQ(update.view.dots, 4u);
}

TEST(FocusPrompt, MalformedPromptsAreRefused) {
    EXPECT_NE(error_of(parse_to_backend(R"({"type":"focus","persona":null,"epoch":1,"prompt":{"dots":0,"message":""}})")).find("persona"), std::string::npos);
    EXPECT_NE(error_of(parse_to_backend(R"({"type":"focus","persona":"secure","epoch":1,"prompt":{"dots":33,"message":""}})")).find("dots"), std::string::npos);
    EXPECT_NE(error_of(parse_to_backend(R"({"type":"focus","persona":"secure","epoch":1,"prompt":{"dots":1,"message":"lower"}})")).find("message"), std::string::npos);
    EXPECT_NE(error_of(parse_to_backend(R"({"type":"focus","persona":"secure","epoch":1,"prompt":{"dots":1,"message":"","x":1}})")).find("'x'"), std::string::npos);
    EXPECT_NE(error_of(parse_to_backend(R"({"type":"focus","persona":"secure","epoch":1,"prompt":[]})")).find("object"), std::string::npos);
    EXPECT_NE(error_of(parse_to_backend(R"({"type":"prompt","epoch":1,"dots":-1,"message":""})")).find("dots"), std::string::npos);
    EXPECT_NE(error_of(parse_to_backend(std::string(R"({"type":"prompt","epoch":1,"dots":1,"message":")") + std::string(41, 'A') + "\"}")).find("message"), std::string::npos);
}

TEST(FocusPrompt, EveryPromptKeyRoundTripsAndNothingElseIsOne) {
    for (int k = 0; k <= static_cast<int>(PromptKey::Cancel); ++k) {
        const auto key = static_cast<PromptKey>(k);
        const auto parsed = parse_to_manager(format(ToManager{PromptKeyPress{key}}));
        ASSERT_TRUE(std::holds_alternative<ToManager>(parsed)) << error_of(parsed);
        EXPECT_EQ(std::get<PromptKeyPress>(std::get<ToManager>(parsed)).key, key);
    }
    EXPECT_EQ(digit_of(PromptKey::D7), '7');
    EXPECT_FALSE(is_digit(PromptKey::Enter));
    for (const char* bad : {R"({"type":"prompt-key","key":"a"})", R"({"type":"prompt-key","key":7})", R"({"type":"prompt-key"})",
                            R"({"type":"prompt-key","key":"10"})", R"({"type":"prompt-key","key":"1","code":2})"}) {
        EXPECT_FALSE(error_of(parse_to_manager(bad)).empty()) << bad;
    }
}

TEST(FocusPrompt, ARefusedKeyIsNeverEchoedInTheError) {
    const auto message = error_of(parse_to_manager(R"({"type":"prompt-key","key":"98765"})"));
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find("98765"), std::string::npos);
}

} // namespace
} // namespace twofold::focus

// A background persona's content-free notice (issue 17, item 4).
namespace twofold::focus {
namespace {

std::string notice_error(const Parsed<ToBackend>& p) {
    return std::holds_alternative<ParseError>(p) ? std::get<ParseError>(p).message : "";
}

TEST(FocusNotice, BothMarksRoundTrip) {
    for (const bool mark : {true, false}) {
        const auto parsed = parse_to_backend(format(ToBackend{Notice{"secure", mark}}));
        ASSERT_TRUE(std::holds_alternative<ToBackend>(parsed)) << notice_error(parsed);
        EXPECT_EQ(std::get<Notice>(std::get<ToBackend>(parsed)), (Notice{"secure", mark}));
    }
}

TEST(FocusNotice, MalformedNoticesAreRefused) {
    for (const char* bad : {R"({"type":"notice","persona":"secure"})", R"({"type":"notice","persona":"secure","mark":1})",
                            R"({"type":"notice","persona":"Secure","mark":true})", R"({"type":"notice","mark":true})",
                            R"({"type":"notice","persona":null,"mark":true})",
                            R"({"type":"notice","persona":"secure","mark":true,"text":"hello"})"}) {
        EXPECT_FALSE(notice_error(parse_to_backend(bad)).empty()) << bad;
    }
}

} // namespace
} // namespace twofold::focus
