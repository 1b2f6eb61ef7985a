// The broker protocol's two parsers and the broker's dispatcher, without processes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "twofold/libvirt_broker/protocol.h"
#include "twofold/libvirt_broker/server.h"

namespace twofold::libvirt_broker {
namespace {

using manager::DomainInfo;
using manager::DomainState;
using nlohmann::json;

Request lookup(const std::string& name, std::uint64_t id = 7) { return Request{id, Op::Lookup, name}; }

std::string reply_with(std::uint64_t id, const json& result) {
    return json{{"v", 1}, {"id", id}, {"result", result}}.dump();
}

json info(const std::string& name, const std::string& state = "running", int id = 3) {
    return json{{"name", name}, {"state", state}, {"id", id}, {"persistent", true}};
}

std::string protocol_error(const Request& sent, const std::string& line) {
    try {
        (void)parse_reply(sent, line);
    } catch (const ProtocolError& e) {
        return e.what();
    }
    return "accepted";
}

TEST(BrokerProtocol, RequestRoundTripsForEveryOp) {
    for (const auto op : {Op::List, Op::Lookup, Op::Define, Op::Start, Op::StartPaused, Op::Resume, Op::Shutdown, Op::Destroy, Op::Undefine, Op::Xml, Op::Uuid}) {
        const Request sent{42, op, op == Op::List ? "" : op == Op::Define ? "<domain/>" : "secure"};
        const auto parsed = parse_request(encode_request(sent));
        ASSERT_TRUE(std::holds_alternative<Request>(parsed)) << to_string(op) << ": " << std::get<RequestProblem>(parsed).message;
        EXPECT_EQ(std::get<Request>(parsed).id, 42U);
        EXPECT_EQ(std::get<Request>(parsed).op, op);
        EXPECT_EQ(std::get<Request>(parsed).arg, sent.arg);
    }
}

TEST(BrokerProtocol, LookupReplyIsValidated) {
    const auto parsed = parse_reply(lookup("secure"), reply_with(7, info("secure", "paused", 5)));
    const auto& d = std::get<DomainInfo>(std::get<Result>(parsed));
    EXPECT_EQ(d.name, "secure");
    EXPECT_EQ(d.state, DomainState::Paused);
    EXPECT_EQ(d.id, 5);
    EXPECT_TRUE(d.persistent);
}

TEST(BrokerProtocol, ReplyForAnotherDomainIsRefused) {
    EXPECT_NE(protocol_error(lookup("secure"), reply_with(7, info("personal"))).find("another domain"), std::string::npos);
}

TEST(BrokerProtocol, WrongIdIsRefused) {
    EXPECT_NE(protocol_error(lookup("secure"), reply_with(8, info("secure"))).find("does not match"), std::string::npos);
}

TEST(BrokerProtocol, OutOfRangeAndUnknownValuesAreRefused) {
    EXPECT_NE(protocol_error(lookup("s"), reply_with(7, info("s", "zombie"))).find("unknown domain state"), std::string::npos);
    EXPECT_NE(protocol_error(lookup("s"), reply_with(7, info("s", "running", 0x7FF0))).find("out of range"), std::string::npos);
    EXPECT_NE(protocol_error(lookup("s"), reply_with(7, info("s", "running", -2))).find("out of range"), std::string::npos);
    auto extra = info("s");
    extra["evil"] = 1;
    EXPECT_NE(protocol_error(lookup("s"), reply_with(7, extra)).find("unknown domain field"), std::string::npos);
    EXPECT_NE(protocol_error(Request{7, Op::Uuid, "s"}, reply_with(7, "not-a-uuid")).find("UUID"), std::string::npos);
    EXPECT_NE(protocol_error(Request{7, Op::Start, "s"}, reply_with(7, 1)).find("null result"), std::string::npos);
    EXPECT_NE(protocol_error(Request{7, Op::List, ""}, reply_with(7, json::array({info("a\nb")}))).find("control characters"),
              std::string::npos);
}

TEST(BrokerProtocol, MalformedLinesAreRefused) {
    EXPECT_NE(protocol_error(lookup("s"), "not json").find("not a JSON object"), std::string::npos);
    EXPECT_NE(protocol_error(lookup("s"), "[1]").find("not a JSON object"), std::string::npos);
    EXPECT_NE(protocol_error(lookup("s"), R"({"v":2,"id":7,"result":null})").find("version"), std::string::npos);
    EXPECT_NE(protocol_error(lookup("s"), R"({"v":1,"id":7})").find("exactly one"), std::string::npos);
    EXPECT_NE(protocol_error(lookup("s"), std::string(kMaxLineBytes + 1, ' ')).find("exceeds"), std::string::npos);
}

TEST(BrokerProtocol, ListLongerThanTheLimitIsRefused) {
    json many = json::array();
    for (std::size_t i = 0; i <= kMaxDomains; ++i) {
        many.push_back(info("d" + std::to_string(i)));
    }
    EXPECT_NE(protocol_error(Request{7, Op::List, ""}, reply_with(7, many)).find("at most"), std::string::npos);
}

TEST(BrokerProtocol, ErrorReplyKeepsKindAndStripsControlCharacters) {
    const auto parsed =
        parse_reply(lookup("s"), R"({"v":1,"id":7,"error":{"kind":"libvirt","message":"bad\u001b[31m thing"}})");
    const auto& e = std::get<ReplyError>(parsed);
    EXPECT_EQ(e.kind, ErrorKind::Libvirt);
    EXPECT_EQ(e.message, "bad?[31m thing");
    EXPECT_NE(protocol_error(lookup("s"), R"({"v":1,"id":7,"error":{"kind":"weird","message":"x"}})").find("unknown error kind"),
              std::string::npos);
}

TEST(BrokerProtocol, BadRequestsGetAProblemWithTheIdWhenThereIsOne) {
    auto p = std::get<RequestProblem>(parse_request(R"({"v":1,"id":3,"op":"exec","name":"x"})"));
    EXPECT_EQ(p.id, 3U);
    EXPECT_NE(p.message.find("unknown op"), std::string::npos);
    p = std::get<RequestProblem>(parse_request(R"({"v":1,"op":"list"})"));
    EXPECT_FALSE(p.id.has_value());
    p = std::get<RequestProblem>(parse_request(R"({"v":1,"id":3,"op":"start","name":""})"));
    EXPECT_NE(p.message.find("needs a 'name'"), std::string::npos);
    p = std::get<RequestProblem>(parse_request(R"({"v":1,"id":3,"op":"list","name":"x"})"));
    EXPECT_NE(p.message.find("unknown field"), std::string::npos);
    p = std::get<RequestProblem>(parse_request(R"({"v":1,"id":-1,"op":"list"})"));
    EXPECT_FALSE(p.id.has_value());
    p = std::get<RequestProblem>(parse_request(R"({"v":1,"id":3,"op":"lookup","name":")" + std::string(kMaxNameBytes + 1, 'a') + "\"}"));
    EXPECT_NE(p.message.find("needs a 'name'"), std::string::npos);
}

// A DomainControl that knows one running domain.
class OneDomain : public manager::DomainControl {
public:
    std::vector<DomainInfo> list_domains() override { return {running()}; }
    std::optional<DomainInfo> find(const std::string& name) override {
        return name == "one" ? std::optional(running()) : std::nullopt;
    }
    DomainInfo define_xml(const std::string&) override { throw manager::LibvirtError("XML error: nope"); }
    void start(const std::string&) override {}
    void start_paused(const std::string&) override {}
    void resume(const std::string&) override {}
    void shutdown(const std::string&) override {}
    void destroy(const std::string&) override { throw manager::LibvirtError("cannot destroy"); }
    void undefine(const std::string&) override {}
    std::string xml(const std::string&) override { return "<domain>\xff</domain>"; } // invalid UTF-8
    std::string uuid(const std::string&) override { return "00000000-0000-0000-0000-000000000001"; }
    manager::DomainControlStatus status() const override { return {}; }

private:
    static DomainInfo running() { return DomainInfo{"one", DomainState::Running, 4, true}; }
};

TEST(BrokerServer, AnswersWhatTheClientParses) {
    OneDomain libvirt;
    const Request found = lookup("one", 1);
    EXPECT_EQ(std::get<DomainInfo>(std::get<Result>(parse_reply(found, serve(libvirt, encode_request(found))))).id, 4);
    const Request missing = lookup("two", 2);
    EXPECT_EQ(std::get<ReplyError>(parse_reply(missing, serve(libvirt, encode_request(missing)))).kind, ErrorKind::NoDomain);
    const Request destroy{3, Op::Destroy, "one"};
    const auto failed = std::get<ReplyError>(parse_reply(destroy, serve(libvirt, encode_request(destroy))));
    EXPECT_EQ(failed.kind, ErrorKind::Libvirt);
    EXPECT_EQ(failed.message, "cannot destroy");
    const Request xml{4, Op::Xml, "one"};
    EXPECT_EQ(std::get<std::string>(std::get<Result>(parse_reply(xml, serve(libvirt, encode_request(xml))))),
              "<domain>\xEF\xBF\xBD</domain>")
        << "invalid UTF-8 is replaced, not a crash";
}

TEST(BrokerServer, GarbageGetsARequestError) {
    OneDomain libvirt;
    const auto reply = json::parse(serve(libvirt, "\x01\x02 garbage"));
    EXPECT_EQ(reply["error"]["kind"], "request");
    EXPECT_TRUE(reply["id"].is_null());
}

} // namespace
} // namespace twofold::libvirt_broker
