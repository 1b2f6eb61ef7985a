// Records appended per second under each durability policy, against a baseline that does
// all the work except I/O (canonical JSON, two SHA-256, Ed25519 every 64 records) measured
// in the same run. The fsync figures depend on the disk: run it where the log will live.
//   audit_append_bench [--benchmark_filter=...]   (log files go to ./audit-bench-<pid>/)

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "twofold/audit/writer.h"

namespace {

using namespace twofold::audit;

// Discards bytes: the no-I/O baseline.
class NullFile final : public LogFile {
 public:
  Status append(std::string_view bytes) override {
    size_ += bytes.size();
    return {};
  }
  Status sync_data() override { return {}; }
  Status sync_all() override { return {}; }
  Status truncate(std::uint64_t size) override {
    size_ = size;
    return {};
  }
  Status preallocate(std::uint64_t) override { return {}; }
  [[nodiscard]] std::uint64_t size() const override { return size_; }

 private:
  std::uint64_t size_ = 0;
};

class NullStore final : public LogStore {
 public:
  Status list(std::vector<std::string>& out) override {
    out.clear();
    return {};
  }
  Status open_append(const std::string&, std::unique_ptr<LogFile>& out) override {
    out = std::make_unique<NullFile>();
    return {};
  }
  Status create(const std::string&, std::unique_ptr<LogFile>& out) override {
    out = std::make_unique<NullFile>();
    return {};
  }
  Status read(const std::string&, std::string& out) override {
    out.clear();
    return {};
  }
  Status file_size(const std::string&, std::uint64_t& out) override {
    out = 0;
    return {};
  }
  Status remove(const std::string&) override { return {}; }
  Status sync_directory() override { return {}; }
};

Event typical_event(std::int64_t n) {
  return Event{"modem.refuse", std::string("personal"),
               {{"command", "AT+CMGS"}, {"reason", "rule sms.premium denies 8xxx numbers"}, {"n", n}}};
}

void run_appends(benchmark::State& state, std::unique_ptr<LogStore> store, SyncPolicy sync) {
  WriterConfig config;
  config.checkpoint_every_records = 64;
  config.sync = sync;
  auto writer = Writer::open(std::move(store), SigningKey::generate(), config);
  std::int64_t n = 0;
  for (auto _ : state) {
    if (!writer->append(typical_event(++n)).ok()) {
      state.SkipWithError("append failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

std::filesystem::path scratch_dir(const std::string& name) {
  return std::filesystem::current_path() / ("audit-bench-" + std::to_string(::getpid())) / name;
}

void BM_AppendNoIo(benchmark::State& state) { run_appends(state, std::make_unique<NullStore>(), SyncPolicy::every_record); }

void BM_AppendFdatasyncEveryRecord(benchmark::State& state) {
  run_appends(state, std::make_unique<PosixLogStore>(scratch_dir("every")), SyncPolicy::every_record);
}

void BM_AppendSyncAtCheckpoint(benchmark::State& state) {
  run_appends(state, std::make_unique<PosixLogStore>(scratch_dir("checkpoint")), SyncPolicy::at_checkpoint);
}

// Keeps the console output and remembers each benchmark's records/s for the ratio lines.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      const auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rates_[run.benchmark_name()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // By name prefix: UseRealTime() appends "/real_time" to the reported name.
  [[nodiscard]] double rate(const std::string& name) const {
    const auto it = rates_.lower_bound(name);
    return it == rates_.end() || !it->first.starts_with(name) ? 0.0 : it->second;
  }

 private:
  std::map<std::string, double> rates_;
};

void print_ratio(const RatioReporter& reporter, const std::string& name, const std::string& baseline) {
  const double measured = reporter.rate(name);
  const double floor = reporter.rate(baseline);
  if (measured <= 0.0 || floor <= 0.0) return;  // filtered out on the command line
  std::cout << name << ": " << measured << " records/s, " << floor << " records/s without I/O, ratio "
            << measured / floor << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  // Wall-clock time: an fdatasync's cost is waiting for the disk, not CPU.
  benchmark::RegisterBenchmark("BM_AppendNoIo", BM_AppendNoIo)->UseRealTime();
  benchmark::RegisterBenchmark("BM_AppendFdatasyncEveryRecord", BM_AppendFdatasyncEveryRecord)->UseRealTime();
  benchmark::RegisterBenchmark("BM_AppendSyncAtCheckpoint", BM_AppendSyncAtCheckpoint)->UseRealTime();
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_ratio(reporter, "BM_AppendFdatasyncEveryRecord", "BM_AppendNoIo");
  print_ratio(reporter, "BM_AppendSyncAtCheckpoint", "BM_AppendNoIo");
  benchmark::Shutdown();
  std::error_code ignored;
  std::filesystem::remove_all(std::filesystem::current_path() / ("audit-bench-" + std::to_string(::getpid())), ignored);
  return 0;
}
