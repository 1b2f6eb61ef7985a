#pragma once
// The simulated modem itself: an AT state machine with no I/O. Bytes from the DTE go in
// through receive(); everything the modem says goes out through the Output callback, so
// the same object runs behind a pty, a unix socket, stdio or a unit test.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "twofold/modem/at/command_stream.h"

namespace twofold::modem::sim {

struct ModemOptions {
  std::size_t storage_capacity = 20;  // SIM message slots ("SM")
  std::size_t phonebook_capacity = 50;  // SIM phonebook entries ("SM")
  std::string operator_name = "Twofold Net";
  std::string own_smsc = "+491720000000";
  bool call_waiting = false;     // the network's call-waiting service at start (+CCWA=,1)
  bool indicators = false;       // +CMER=3,0,0,1 at start: +CIEV call indicator
  std::string fixed_timestamp{};  // non-empty: every <scts> (tests that compare runs)
};

enum class CallState : std::uint8_t { kActive = 0, kHeld = 1, kDialing = 2, kAlerting = 3, kIncoming = 4, kWaiting = 5 };
enum class MessageStatus : std::uint8_t { kRecUnread = 0, kRecRead = 1, kStoUnsent = 2, kStoSent = 3 };

struct Call {
  int id = 1;
  bool incoming = false;
  CallState state = CallState::kDialing;
  std::string number;
  std::string called_line;  // which of the subscription's lines was called (+CDIP), if known
};

struct PhonebookEntry {
  int index = 1;
  std::string number;
  std::uint32_t type = 129;
  std::string text;
};

struct Message {
  int index = 1;
  MessageStatus status = MessageStatus::kRecUnread;
  std::string number;
  std::string text;
  std::string timestamp;  // "yy/MM/dd,hh:mm:ss+zz"
};

struct SentMessage {
  std::string number;
  std::string text;
  std::string pdu;  // hex TPDU when sent in PDU mode
  int reference = 0;
};

class Modem {
 public:
  using Output = std::function<void(std::string_view)>;

  explicit Modem(Output output, ModemOptions options = {});

  // DTE side.
  void receive(std::string_view bytes);

  // Network side (the control channel). Each returns an error text or nullopt.
  std::optional<std::string> incoming_call(std::string_view number, std::string_view called_line = {});
  std::optional<std::string> remote_answer();
  std::optional<std::string> remote_busy();
  std::optional<std::string> remote_hangup();
  // The caller of a ringing call gives up and the modem says nothing (seen on real modems:
  // no NO CARRIER for an unanswered call): the ringing just stops.
  std::optional<std::string> remote_abandon();
  std::optional<std::string> incoming_sms(std::string_view number, std::string_view text);
  // Network-initiated USSD (27.007 §7.15): +CUSD: 1,"<text>",15.
  std::optional<std::string> incoming_ussd(std::string_view text);
  std::optional<std::string> set_registration(int status);
  std::optional<std::string> set_signal(int rssi);
  void set_silent(bool silent) { silent_ = silent; }
  // Power cycle: settings back to defaults, calls dropped, SIM storage kept.
  void reset();
  // Periodic tick from the runtime: repeats RING for a waiting call, auto-answers per S0.
  void ring_tick();

  nlohmann::json state() const;

 private:
  struct Reply;  // what one command produced
  void emit(std::string_view bytes);
  void execute_line(const at::CommandLineEvent& line);
  Reply execute(const at::Command& command);
  Reply execute_basic(const at::Command& command);
  Reply execute_s_register(const at::Command& command);
  Reply execute_dial(const at::Command& command);
  Reply execute_extended(const at::Command& command);
  Reply execute_sms(const at::Command& command);
  Reply execute_phonebook(const at::Command& command);
  // +CRSM / +CSIM over EF_SMS, EF_ADN, EF_LND and a few transparent files (sim_files.h).
  Reply execute_sim(const at::Command& command);
  // +CCFC, +CCWA, +CUSD, +CMER, +CHLD and MMI dial strings (22.030).
  Reply execute_supplementary(const at::Command& command);
  Reply execute_mmi(std::string_view code);
  std::optional<std::vector<std::uint8_t>> sim_record(std::uint32_t file, std::uint32_t record) const;
  // +CIEV: 2,<call> when the call indicator changes (only after +CMER=...,1).
  void note_indicators();
  void hang_up_all_but_waiting();
  void finish_body(std::optional<std::string> text, std::optional<std::vector<std::uint8_t>> tpdu);
  void send_final(std::string_view verbose, int numeric);
  void send_error(std::optional<int> cme, bool sms);
  void send_info(const std::vector<std::string>& lines);
  void send_urc(const std::vector<std::string>& lines);
  std::string crlf() const;
  void announce_registration();
  int effective_registration() const;
  std::string list_entry(const Message& message, bool with_index) const;
  std::optional<std::size_t> find_message(int index) const;
  int free_index() const;
  void defaults();

  Output output_;
  ModemOptions options_;
  at::CommandStream stream_;

  // Settings (reset by ATZ / reset()).
  bool echo_ = true;
  bool verbose_ = true;
  bool quiet_ = false;
  int cmee_ = 0;
  int creg_mode_ = 0;
  bool clip_ = false;
  bool crc_ = false;
  bool cdip_ = false;
  bool text_mode_ = false;
  int cnmi_mt_ = 1;
  int cfun_ = 1;
  std::string charset_ = "IRA";
  std::array<int, 256> s_registers_{};

  // Network and storage.
  int network_registration_ = 1;
  int rssi_ = 21;
  bool silent_ = false;
  std::vector<Call> calls_;
  int rings_ = 0;
  std::vector<Message> messages_;
  std::vector<SentMessage> sent_;
  std::vector<PhonebookEntry> phonebook_;  // kept across reset(), like SIM storage
  int next_reference_ = 0;
  std::vector<std::string> dialled_;       // EF_LND, most recent first
  std::vector<std::pair<int, std::string>> forwarding_;  // +CCFC <reason>, number (registered)
  bool call_waiting_ = false;              // the network's call-waiting service (+CCWA=,1)
  int ccwa_n_ = 0;                         // +CCWA URC presentation
  int cmer_ind_ = 0;                       // +CMER <ind>
  bool call_indicator_ = false;            // last +CIEV call value
  std::string pin_ = "1234";
  std::vector<std::string> ussd_sent_;
  std::optional<std::uint32_t> csim_selected_;  // the file a +CSIM SELECT chose
  std::uint64_t sim_file_reads_ = 0;       // +CRSM / +CSIM reads of EF_SMS, EF_ADN, EF_LND

  // SMS body in progress: +CMGS (send) or +CMGW (write) and its destination.
  struct PendingSms {
    bool write = false;
    std::string number;
  };
  std::optional<PendingSms> pending_sms_;
  std::string last_line_;  // for A/
  std::uint64_t lines_received_ = 0;
};

}  // namespace twofold::modem::sim
