// Present cost on a 1080x2400 XRGB8888 screen: a full guest frame and a dirty rectangle,
// each beside a plain memcpy of the same bytes measured in the same run (the limit).
// Goal: full-frame present within 1.2x of memcpy.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "twofold/display/compositor.h"
#include "twofold/display/output.h"
#include "twofold/xen/mapped_pages.h"

namespace {

using namespace twofold::display;

constexpr std::uint32_t kScreenW = 1080;
constexpr std::uint32_t kScreenH = 2400;
constexpr std::uint32_t kContentH = kScreenH - kDefaultStripHeight;
constexpr std::uint32_t kRectW = 256;
constexpr std::uint32_t kRectH = 256;
constexpr double kGoalRatio = 1.2;

FramebufferGeometry content_geometry() {
    FramebufferGeometry geometry;
    geometry.width = kScreenW;
    geometry.height = kContentH;
    geometry.line_length = kScreenW * kBytesPerPixel;
    geometry.mem_length = std::size_t{geometry.line_length} * kContentH;
    geometry.frame_count = (geometry.mem_length + 4095) / 4096;
    geometry.directory_page_count = (geometry.frame_count + kFramesPerDirectoryPage - 1) / kFramesPerDirectoryPage;
    return geometry;
}

struct Setup {
    FramebufferGeometry geometry = content_geometry();
    std::vector<std::byte> guest = std::vector<std::byte>(geometry.mem_length, std::byte{0x42});
    GuestFramebuffer framebuffer{twofold::xen::MappedPages(guest, [](std::span<std::byte>) {}), geometry};
    HeadlessTarget target{kScreenW, kScreenH};
    Compositor compositor{target};
    PersonaId persona = compositor.add_persona({"bench", Trust::Personal});
    Setup() {
        compositor.set_source(persona, framebuffer);
        compositor.switch_to(persona);
        compositor.present();
    }
};

void BM_Memcpy_FullFrame(benchmark::State& state) {
    const std::size_t bytes = std::size_t{kScreenW} * kContentH * kBytesPerPixel;
    std::vector<std::byte> src(bytes, std::byte{0x42});
    std::vector<std::byte> dst(std::size_t{kScreenW} * kScreenH * kBytesPerPixel);
    for (auto _ : state) {
        std::memcpy(dst.data() + std::size_t{kScreenW} * kDefaultStripHeight * 4, src.data(), bytes);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

void BM_Present_FullFrame(benchmark::State& state) {
    Setup setup;
    for (auto _ : state) {
        setup.compositor.mark_dirty(setup.persona, Rect{0, 0, kScreenW, kContentH});
        benchmark::DoNotOptimize(setup.compositor.present());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * setup.geometry.mem_length));
}

void BM_Memcpy_Rect(benchmark::State& state) {
    const std::size_t stride = std::size_t{kScreenW} * 4;
    std::vector<std::byte> src(stride * kContentH, std::byte{0x42});
    std::vector<std::byte> dst(stride * kScreenH);
    for (auto _ : state) {
        for (std::uint32_t row = 0; row < kRectH; ++row) {
            std::memcpy(dst.data() + (kDefaultStripHeight + 100 + row) * stride + 100 * 4,
                        src.data() + (100 + row) * stride + 100 * 4, std::size_t{kRectW} * 4);
        }
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kRectW * kRectH * 4));
}

void BM_Present_Rect(benchmark::State& state) {
    Setup setup;
    for (auto _ : state) {
        setup.compositor.mark_dirty(setup.persona, Rect{100, 100, kRectW, kRectH});
        benchmark::DoNotOptimize(setup.compositor.present());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kRectW * kRectH * 4));
}

// What the DRM and fbdev targets add per frame: the composed damage copied from the screen
// into the scan-out buffer (a dumb buffer or the fbdev mapping; here plain memory with the
// pitch virtio-gpu gives, width*4). Guest -> screen -> scan-out: two copies per pixel.
class ScanoutTarget final : public DisplayTarget {
public:
    ScanoutTarget() : screen_(kScreenW, kScreenH), buffer_(layout_.size) {}
    Screen& screen() noexcept override { return screen_; }
    void present(const Rect& damage) override {
        copy_to_buffer(screen_, damage, buffer_, layout_);
        benchmark::DoNotOptimize(buffer_.data());
    }

private:
    Screen screen_;
    BufferLayout layout_{kScreenW, kScreenH, std::size_t{kScreenW} * 4, std::size_t{kScreenW} * 4 * kScreenH};
    std::vector<std::byte> buffer_;
};

void BM_PresentToScanout_FullFrame(benchmark::State& state) {
    const FramebufferGeometry geometry = content_geometry();
    std::vector<std::byte> guest(geometry.mem_length, std::byte{0x42});
    GuestFramebuffer framebuffer{twofold::xen::MappedPages(guest, [](std::span<std::byte>) {}), geometry};
    ScanoutTarget target;
    Compositor compositor{target};
    const PersonaId persona = compositor.add_persona({"bench", Trust::Personal});
    compositor.set_source(persona, framebuffer);
    compositor.switch_to(persona);
    compositor.present();
    for (auto _ : state) {
        compositor.mark_dirty(persona, Rect{0, 0, kScreenW, kContentH});
        benchmark::DoNotOptimize(compositor.present());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * geometry.mem_length));
}

// A switch: new indicator, clear, full blit of the other persona, one present.
void BM_Present_Switch(benchmark::State& state) {
    Setup setup;
    const PersonaId other = setup.compositor.add_persona({"secure", Trust::Secure});
    setup.compositor.set_source(other, setup.framebuffer);
    bool flip = false;
    for (auto _ : state) {
        setup.compositor.switch_to(flip ? setup.persona : other);
        flip = !flip;
        benchmark::DoNotOptimize(setup.compositor.present());
        benchmark::ClobberMemory();
    }
}

BENCHMARK(BM_Memcpy_FullFrame)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Present_FullFrame)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PresentToScanout_FullFrame)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Memcpy_Rect)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Present_Rect)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Present_Switch)->Unit(benchmark::kMicrosecond);

class CollectingReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            if (run.run_type == Run::RT_Iteration && run.repetitions <= 1) {
                record(run);
            } else if (run.aggregate_name == "median") {
                record(run);
            }
        }
    }
    // Real time, or CPU time (steadier on a loaded machine: other processes' time excluded).
    [[nodiscard]] std::optional<double> time(const std::string& name, bool cpu = false) const {
        const auto& times = cpu ? cpu_times_ : times_;
        const auto it = times.find(name);
        if (it == times.end()) return std::nullopt;
        return it->second;
    }

private:
    void record(const Run& run) {
        times_[run.run_name.function_name] = run.GetAdjustedRealTime();
        cpu_times_[run.run_name.function_name] = run.GetAdjustedCPUTime();
    }
    std::map<std::string, double> times_;
    std::map<std::string, double> cpu_times_;
};

void print_ratio(const CollectingReporter& reporter, const char* what, const char* present, const char* memcpy_name,
                 bool goal) {
    const auto p = reporter.time(present);
    const auto m = reporter.time(memcpy_name);
    const auto pc = reporter.time(present, true);
    const auto mc = reporter.time(memcpy_name, true);
    if (!p || !m || !pc || !mc || *m <= 0 || *mc <= 0) {
        std::printf("present/memcpy ratio (%s): not measured\n", what);
        return;
    }
    const double ratio = *p / *m;
    std::printf("present/memcpy ratio (%s): %.2fx real (present %.1f us, memcpy %.1f us), %.2fx CPU (%.1f us, %.1f us)",
                what, ratio, *p, *m, *pc / *mc, *pc, *mc);
    if (goal) std::printf(" (goal <= %.1fx)%s", kGoalRatio, ratio <= kGoalRatio ? "" : "  ABOVE GOAL");
    std::printf("\n");
}

// Switch latency from the command (switch_to) to the frame with the new indicator and the
// new persona's whole frame handed to the target, over many switches: p50/p99.
void print_switch_latency() {
    Setup setup;
    const PersonaId other = setup.compositor.add_persona({"secure", Trust::Secure});
    setup.compositor.set_source(other, setup.framebuffer);
    constexpr int kSwitches = 200;
    std::vector<double> micros;
    micros.reserve(kSwitches);
    for (int i = 0; i < kSwitches; ++i) {
        const auto start = std::chrono::steady_clock::now();
        setup.compositor.switch_to(i % 2 ? setup.persona : other, static_cast<std::uint64_t>(i));
        const bool presented = setup.compositor.present();
        const auto done = setup.compositor.take_presented_switch();
        const auto end = std::chrono::steady_clock::now();
        if (!presented || !done) {
            std::printf("switch latency: switch %d not presented\n", i);
            return;
        }
        micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    std::sort(micros.begin(), micros.end());
    const double p50 = micros[micros.size() / 2];
    const double p99 = micros[micros.size() * 99 / 100];
    std::printf("switch latency (command to presented frame, %d switches): p50 %.0f us, p99 %.0f us (goal p99 <= 16667 us)%s\n",
                kSwitches, p50, p99, p99 <= 16667.0 ? "" : "  ABOVE GOAL");
}

} // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    CollectingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    print_ratio(reporter, "full frame 1080x2352 of 1080x2400", "BM_Present_FullFrame", "BM_Memcpy_FullFrame", true);
    print_ratio(reporter, "full frame into a scan-out buffer (DRM/fbdev targets)", "BM_PresentToScanout_FullFrame",
                "BM_Memcpy_FullFrame", false);
    print_ratio(reporter, "dirty rectangle 256x256", "BM_Present_Rect", "BM_Memcpy_Rect", false);
    if (const auto s = reporter.time("BM_Present_Switch")) {
        std::printf("switch compose+present (indicator, clear, full blit): %.1f us (60 Hz frame: 16667 us)\n", *s);
    }
    print_switch_latency();
    return 0;
}
