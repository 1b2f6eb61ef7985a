// The simulated modem driven in-process: what a DTE sends, what the modem answers, what
// the control channel injects. Its output is checked with our own response parser.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "twofold/modem/at/response_stream.h"
#include "twofold/modem/at/sms.h"
#include "twofold/modem/sim/control.h"
#include "twofold/modem/sim/modem.h"
#include "twofold/modem/sim/sms_codec.h"

namespace twofold::modem::sim {
namespace {

class SimulatedModem : public ::testing::Test {
 protected:
  // Sends one chunk and returns everything the modem said in reply.
  std::string send(std::string_view bytes) {
    output_.clear();
    modem_.receive(bytes);
    return std::exchange(output_, {});
  }
  std::string take_output() { return std::exchange(output_, {}); }
  std::string control(std::string_view line) { return handle_control_line(modem_, line); }

  std::string output_;
  Modem modem_{[this](std::string_view bytes) { output_ += bytes; }, ModemOptions{.storage_capacity = 3}};
};

TEST_F(SimulatedModem, EchoesByDefault) {
  EXPECT_EQ(send("AT\r"), "AT\r\r\nOK\r\n");
}

TEST_F(SimulatedModem, Ate0StopsTheEcho) {
  send("ATE0\r");
  EXPECT_EQ(send("AT\r"), "\r\nOK\r\n");
}

TEST_F(SimulatedModem, IdentificationAnswersWithInformationLines) {
  send("ATE0\r");
  EXPECT_EQ(send("AT+CGMI;+CGSN\r"), "\r\nTwofold\r\n\r\n356938035643809\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, UnknownCommandIsErrorOrCmeErrorPerCmee) {
  send("ATE0\r");
  EXPECT_EQ(send("AT+NOPE\r"), "\r\nERROR\r\n");
  send("AT+CMEE=1\r");
  EXPECT_EQ(send("AT+NOPE\r"), "\r\n+CME ERROR: 4\r\n");
  send("AT+CMEE=2\r");
  EXPECT_EQ(send("AT+NOPE\r"), "\r\n+CME ERROR: operation not supported\r\n");
}

TEST_F(SimulatedModem, SyntaxErrorIsError) {
  send("ATE0\r");
  EXPECT_EQ(send("AT+CMGS=\"unterminated\r"), "\r\nERROR\r\n");
}

TEST_F(SimulatedModem, NumericResultCodesAfterV0) {
  send("ATE0V0\r");
  EXPECT_EQ(send("AT\r"), "0\r");
  EXPECT_EQ(send("AT+NOPE\r"), "4\r");
}

TEST_F(SimulatedModem, SRegisterSetThenRead) {
  send("ATE0\r");
  send("ATS0=2\r");
  EXPECT_EQ(send("ATS0?\r"), "\r\n002\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, RepeatRunsThePreviousLineAgain) {
  send("ATE0\r");
  send("AT+CSQ\r");
  EXPECT_EQ(send("A/"), "\r\n+CSQ: 21,99\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, CregReadShowsModeAndStatus) {
  send("ATE0\r");
  send("AT+CREG=2\r");
  EXPECT_EQ(send("AT+CREG?\r"), "\r\n+CREG: 2,1,\"00C3\",\"A1B2\"\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, RegistrationChangeSendsCregUrcWhenEnabled) {
  send("ATE0;+CREG=1\r");
  EXPECT_EQ(control("creg 2"), "OK");
  EXPECT_EQ(take_output(), "\r\n+CREG: 2\r\n");
}

TEST_F(SimulatedModem, RegistrationChangeIsSilentByDefault) {
  send("ATE0\r");
  EXPECT_EQ(control("creg 0"), "OK");
  EXPECT_EQ(take_output(), "");
}

TEST_F(SimulatedModem, CfunZeroDeregisters) {
  send("ATE0;+CREG=1\r");
  EXPECT_EQ(send("AT+CFUN=0\r"), "\r\n+CREG: 0\r\n\r\nOK\r\n");
  EXPECT_EQ(send("AT+COPS?\r"), "\r\n+COPS: 0\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, VoiceDialCreatesAnAlertingCall) {
  send("ATE0\r");
  EXPECT_EQ(send("ATD+4930123;\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CLCC\r"), "\r\n+CLCC: 1,0,3,0,0,\"+4930123\",145\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, RemoteAnswerMakesTheCallActive) {
  send("ATE0\rATD123;\r");
  EXPECT_EQ(control("answer"), "OK");
  EXPECT_EQ(send("AT+CLCC\r"), "\r\n+CLCC: 1,0,0,0,0,\"123\",129\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, RemoteHangupSendsNoCarrier) {
  send("ATE0\rATD123;\r");
  EXPECT_EQ(control("hangup"), "OK");
  EXPECT_EQ(take_output(), "\r\nNO CARRIER\r\n");
  EXPECT_EQ(send("AT+CLCC\r"), "\r\nOK\r\n");
}

TEST_F(SimulatedModem, RemoteBusySendsBusy) {
  send("ATE0\rATD123;\r");
  EXPECT_EQ(control("busy"), "OK");
  EXPECT_EQ(take_output(), "\r\nBUSY\r\n");
}

TEST_F(SimulatedModem, DataDialGetsNoCarrier) {
  send("ATE0\r");
  EXPECT_EQ(send("ATD*99#\r"), "\r\nNO CARRIER\r\n");
}

TEST_F(SimulatedModem, DialWhileUnregisteredGetsNoCarrier) {
  send("ATE0\r");
  control("creg 0");
  EXPECT_EQ(send("ATD123;\r"), "\r\nNO CARRIER\r\n");
}

TEST_F(SimulatedModem, IncomingCallRingsWithoutClipByDefault) {
  send("ATE0\r");
  EXPECT_EQ(control("call +4930999"), "OK");
  EXPECT_EQ(take_output(), "\r\nRING\r\n");
}

TEST_F(SimulatedModem, IncomingCallShowsClipWhenEnabled) {
  send("ATE0;+CLIP=1\r");
  control("call +4930999");
  EXPECT_EQ(take_output(), "\r\nRING\r\n\r\n+CLIP: \"+4930999\",145\r\n");
}

TEST_F(SimulatedModem, CrcTurnsRingIntoCring) {
  send("ATE0;+CRC=1\r");
  control("call 555");
  EXPECT_EQ(take_output(), "\r\n+CRING: VOICE\r\n");
}

TEST_F(SimulatedModem, RingRepeatsOnEachTickUntilAnswered) {
  send("ATE0\r");
  control("call 555");
  take_output();
  modem_.ring_tick();
  EXPECT_EQ(take_output(), "\r\nRING\r\n");
  EXPECT_EQ(send("ATA\r"), "\r\nOK\r\n");
  modem_.ring_tick();
  EXPECT_EQ(take_output(), "");
  EXPECT_EQ(send("AT+CLCC\r"), "\r\n+CLCC: 1,1,0,0,0,\"555\",129\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, S0AnswersAfterThatManyRings) {
  send("ATE0S0=2\r");
  control("call 555");
  modem_.ring_tick();
  modem_.ring_tick();
  EXPECT_EQ(send("AT+CLCC\r"), "\r\n+CLCC: 1,1,0,0,0,\"555\",129\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, AnswerWithoutIncomingCallIsNoCarrier) {
  send("ATE0\r");
  EXPECT_EQ(send("ATA\r"), "\r\nNO CARRIER\r\n");
}

TEST_F(SimulatedModem, TextSmsIsSentAfterPromptAndCtrlZ) {
  send("ATE0;+CMGF=1\r");
  EXPECT_EQ(send("AT+CMGS=\"+4912\"\r"), "\r\n> ");
  EXPECT_EQ(send("Hello\x1a"), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
  const auto sent = modem_.state()["sent"];
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["number"], "+4912");
  EXPECT_EQ(sent[0]["text"], "Hello");
}

TEST_F(SimulatedModem, EscCancelsTheSms) {
  send("ATE0;+CMGF=1\r");
  send("AT+CMGS=\"+4912\"\r");
  EXPECT_EQ(send("Hel\x1b"), "\r\nOK\r\n");
  EXPECT_TRUE(modem_.state()["sent"].empty());
}

// 27.005's example SMS-SUBMIT: "hellohello" to +46708251358.
constexpr std::string_view kSubmitPdu = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37";

TEST_F(SimulatedModem, PduSmsIsDecodedWhenSent) {
  send("ATE0\r");
  EXPECT_EQ(send("AT+CMGS=23\r"), "\r\n> ");
  EXPECT_EQ(send(std::string(kSubmitPdu) + "\x1a"), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
  const auto sent = modem_.state()["sent"];
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["number"], "+46708251358");
  EXPECT_EQ(sent[0]["text"], "hellohello");
}

TEST_F(SimulatedModem, PduWithWrongLengthIsCmsError) {
  send("ATE0;+CMEE=1\r");
  send("AT+CMGS=22\r");
  EXPECT_EQ(send(std::string(kSubmitPdu) + "\x1a"), "\r\n+CMS ERROR: 304\r\n");
}

TEST_F(SimulatedModem, IncomingSmsIsAnnouncedWithCmti) {
  send("ATE0\r");
  EXPECT_EQ(control("sms +4915 see you at 8"), "OK");
  EXPECT_EQ(take_output(), "\r\n+CMTI: \"SM\",1\r\n");
}

TEST_F(SimulatedModem, CmgrInTextModeShowsHeaderAndText) {
  send("ATE0;+CMGF=1\r");
  control("sms +4915 see you at 8");
  const std::string reply = send("AT+CMGR=1\r");
  EXPECT_TRUE(reply.starts_with("\r\n+CMGR: \"REC UNREAD\",\"+4915\",,\"")) << reply;
  EXPECT_TRUE(reply.ends_with("\"\r\nsee you at 8\r\n\r\nOK\r\n")) << reply;
  EXPECT_EQ(modem_.state()["messages"][0]["status"], "REC READ");
}

TEST_F(SimulatedModem, CmglListsOnlyTheRequestedStatus) {
  send("ATE0;+CMGF=1\r");
  control("sms 1 first");
  send("AT+CMGR=1\r");
  control("sms 2 second");
  const std::string reply = send("AT+CMGL=\"REC UNREAD\"\r");
  EXPECT_NE(reply.find("second"), std::string::npos);
  EXPECT_EQ(reply.find("first"), std::string::npos);
}

TEST_F(SimulatedModem, CmglInPduModeListsDeliverPdusOurParserAccepts) {
  send("ATE0\r");
  control("sms +4915 hi there");
  at::ResponseStream stream;
  stream.set_context({true, "+CMGL", {}, false});
  std::vector<at::ResponseLine> lines;
  stream.feed(send("AT+CMGL=4\r"), [&](at::ResponseEvent&& event) { lines.push_back(std::get<at::ResponseLine>(event)); });
  ASSERT_EQ(lines.size(), 2u);
  ASSERT_TRUE(lines[0].body.has_value());
  const std::size_t length = lines[0].fields.at(3).number;
  const auto pdu = at::parse_pdu_hex(*lines[0].body, length);
  ASSERT_TRUE(pdu.ok());
  EXPECT_EQ(pdu.value().tpdu[0] & 0x03, 0x00);  // SMS-DELIVER
  EXPECT_EQ(lines[1].final->code, at::FinalCode::kOk);
}

TEST_F(SimulatedModem, CmgdDeletesAndUnknownIndexIsCms321) {
  send("ATE0;+CMEE=1\r");
  control("sms 1 first");
  EXPECT_EQ(send("AT+CMGD=1\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CMGR=1\r"), "\r\n+CMS ERROR: 321\r\n");
}

TEST_F(SimulatedModem, CmgwStoresAnUnsentMessage) {
  send("ATE0;+CMGF=1\r");
  send("AT+CMGW=\"+4977\"\r");
  EXPECT_EQ(send("draft\x1a"), "\r\n+CMGW: 1\r\n\r\nOK\r\n");
  EXPECT_EQ(modem_.state()["messages"][0]["status"], "STO UNSENT");
}

TEST_F(SimulatedModem, CpmsCountsStoredMessages) {
  send("ATE0\r");
  control("sms 1 a");
  EXPECT_EQ(send("AT+CPMS=\"SM\"\r"), "\r\n+CPMS: 1,3,1,3,1,3\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, FullStorageRefusesIncomingSms) {
  control("sms 1 a");
  control("sms 1 b");
  control("sms 1 c");
  EXPECT_EQ(control("sms 1 d"), "ERROR memory full");
}

TEST_F(SimulatedModem, SilentModemNeitherEchoesNorAnswers) {
  control("silent on");
  EXPECT_EQ(send("AT\r"), "");
  control("silent off");
  EXPECT_EQ(send("AT\r"), "AT\r\r\nOK\r\n");
}

TEST_F(SimulatedModem, ResetRestoresDefaultsButKeepsStorage) {
  send("ATE0;+CMGF=1\r");
  control("sms 1 kept");
  EXPECT_EQ(control("reset"), "OK");
  EXPECT_EQ(send("AT+CMGF?\r"), "AT+CMGF?\r\r\n+CMGF: 0\r\n\r\nOK\r\n");
  EXPECT_EQ(modem_.state()["messages"].size(), 1u);
}

TEST_F(SimulatedModem, GarbageFloodGetsErrorsAndTheModemStillAnswers) {
  send("ATE0\r");
  std::string flood;
  for (int i = 0; i < 100000; ++i) flood.push_back(static_cast<char>((i * 7919) & 0xff));
  for (auto& c : flood) {
    if (c == '\x1a' || c == 'A' || c == 'a') c = '.';  // no accidental command or repeat
  }
  const std::string reply = send(flood + "\rAT+CSQ\r");
  EXPECT_TRUE(reply.ends_with("\r\n+CSQ: 21,99\r\n\r\nOK\r\n")) << reply.substr(reply.size() > 64 ? reply.size() - 64 : 0);
  EXPECT_EQ(reply.find("OK"), reply.size() - 4);  // no garbage line was accepted
}

TEST(ModemControl, UnknownVerbIsAnError) {
  Modem modem([](std::string_view) {});
  EXPECT_EQ(handle_control_line(modem, "dance"), "ERROR unknown command");
}

TEST(ModemControl, NumberWithLettersIsRefused) {
  Modem modem([](std::string_view) {});
  EXPECT_EQ(handle_control_line(modem, "call 12ab"), "ERROR bad number");
}

TEST(ModemControl, StateIsOneJsonLine) {
  Modem modem([](std::string_view) {});
  const std::string state = handle_control_line(modem, "state");
  EXPECT_EQ(state.find('\n'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(state)["registration"], 1);
}

TEST(SmsCodec, SeptetPackingRoundTrips) {
  const auto pdu = encode_submit("+4930", "Hi {there} @ 100$_", 7);
  const auto decoded = decode_submit(pdu);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->destination, "+4930");
  EXPECT_EQ(decoded->text, "Hi {there} @ 100$_");
  EXPECT_EQ(decoded->reference, 7);
}

TEST(SmsCodec, PackedHelloMatchesTheSpecExample) {
  EXPECT_EQ(hex(pack_septets(to_gsm7("hellohello"))), "E8329BFD4697D9EC37");
}

TEST(SmsCodec, DeliverIsNotASubmit) {
  EXPECT_FALSE(decode_submit(encode_deliver("+49", "x", "24/01/01,12:00:00+00")).has_value());
}

TEST(SmsCodec, TruncatedSubmitIsRejected) {
  auto pdu = encode_submit("+4930", "hello", 1);
  pdu.resize(pdu.size() - 2);
  EXPECT_FALSE(decode_submit(pdu).has_value());
}

// Issue 13: the SIM files a persona must not read are modelled, so the mediator's refusal
// of them is shown against something that would answer.
TEST_F(SimulatedModem, CrsmReadsTheSmsPhonebookAndLastDialledFiles) {
  send("ATE0\r");
  ASSERT_EQ(control("sms +4930111 secret"), "OK");
  const std::string sms = send("AT+CRSM=178,28476,1,4,176\r");
  EXPECT_TRUE(sms.starts_with("\r\n+CRSM: 144,0,\"03")) << sms;  // status 03: received, unread
  EXPECT_TRUE(send("AT+CRSM=178,28476,2,4,176\r").starts_with("\r\n+CRSM: 144,0,\"00FFFF"));  // free
  send("AT+CPBW=1,\"+4930222\",145,\"Bob\"\r");
  EXPECT_NE(send("AT+CRSM=178,28474,1,4,28\r").find("\"426F62FF"), std::string::npos);  // "Bob"
  send("ATD+4930333;\r");
  EXPECT_NE(send("AT+CRSM=178,28484,1,4,28\r").find("FF059194"), std::string::npos);  // 4930333, BCD
  EXPECT_EQ(send("AT+CRSM=176,12258,0,0,10\r"), "\r\n+CRSM: 144,0,\"98940000000000002143\"\r\n\r\nOK\r\n");
  EXPECT_EQ(modem_.state()["sim_file_reads"], 4);
}

TEST_F(SimulatedModem, CsimSelectsAndReadsARecord) {
  send("ATE0\r");
  ASSERT_EQ(control("sms +4930111 secret"), "OK");
  EXPECT_EQ(send("AT+CSIM=14,\"00A40004026F3C\"\r"), "\r\n+CSIM: 4,\"9000\"\r\n\r\nOK\r\n");
  const std::string record = send("AT+CSIM=10,\"00B2010400\"\r");
  EXPECT_TRUE(record.starts_with("\r\n+CSIM: 356,\"03")) << record;
}

TEST_F(SimulatedModem, CallForwardingByCcfcAndByMmiCode) {
  send("ATE0\r");
  EXPECT_EQ(send("AT+CCFC=0,3,\"+4930999\"\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CCFC=0,2\r"), "\r\n+CCFC: 1,1,\"+4930999\",145\r\n\r\nOK\r\n");
  EXPECT_EQ(send("ATD#21#;\r"), "\r\nOK\r\n");
  EXPECT_EQ(send("AT+CCFC=0,2\r"), "\r\n+CCFC: 0,1\r\n\r\nOK\r\n");
  EXPECT_EQ(send("ATD*21*004930888#;\r"), "\r\nOK\r\n");
  EXPECT_EQ(modem_.state()["forwarding"][0]["number"], "004930888");
  EXPECT_TRUE(modem_.state()["calls"].empty());
  EXPECT_EQ(send("ATD**04*1234*4321*4321#;\r"), "\r\nOK\r\n");
  EXPECT_EQ(modem_.state()["pin"], "4321");
}

TEST_F(SimulatedModem, WaitingCallIsAnnouncedWithCcwa) {
  send("ATE0\r");
  EXPECT_EQ(send("ATD+4930222;\r"), "\r\nOK\r\n");
  EXPECT_EQ(control("call +4930111"), "ERROR line busy");  // call waiting off
  send("AT+CCWA=1,1\r");
  EXPECT_EQ(control("call +4930111"), "OK");
  EXPECT_EQ(take_output(), "\r\n+CCWA: \"+4930111\",145,1\r\n");
  EXPECT_NE(send("AT+CLCC\r").find("+CLCC: 2,1,5,0,0,\"+4930111\",145"), std::string::npos);
}

TEST_F(SimulatedModem, CallIndicatorAfterCmer) {
  send("ATE0\r");
  send("AT+CMER=3,0,0,1\r");
  EXPECT_EQ(send("ATD+4930222;\r"), "\r\n+CIEV: 2,1\r\n\r\nOK\r\n");
  EXPECT_EQ(send("ATH\r"), "\r\n+CIEV: 2,0\r\n\r\nOK\r\n");
}

TEST_F(SimulatedModem, UssdRequestAndNetworkInitiatedUssd) {
  send("ATE0\r");
  EXPECT_EQ(send("AT+CUSD=1,\"*100#\",15\r"), "\r\n+CUSD: 0,\"Balance: 10.00 EUR\",15\r\n\r\nOK\r\n");
  EXPECT_EQ(control("ussd Your bundle ends today"), "OK");
  EXPECT_EQ(take_output(), "\r\n+CUSD: 1,\"Your bundle ends today\",15\r\n");
}

}  // namespace
}  // namespace twofold::modem::sim
