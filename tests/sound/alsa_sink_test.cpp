// The ALSA sink on alsa-lib's "null" PCM (no sound card on the build machine): parameters set,
// frames taken without blocking, one stream per direction, a missing device named.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "twofold/sound/alsa_sink.h"

namespace twofold::sound {
namespace {

auto quiet() { return std::make_shared<spdlog::logger>("alsa", std::make_shared<spdlog::sinks::null_sink_mt>()); }

TEST(AlsaSink, NullDeviceTakesWholeFramesOfAnOpenedStream) {
    AlsaSink sink("null", "", quiet());
    auto stream = sink.open(StreamKey{"personal", {0, 0}}, Direction::Playback, PcmParams{48000, SampleFormat::S16Le, 2});
    ASSERT_NE(stream, nullptr);
    const std::vector<std::byte> frames(4096);
    EXPECT_EQ(stream->write(frames), frames.size());
}

TEST(AlsaSink, SecondStreamOfOneDirectionIsRefusedUntilTheFirstCloses) {
    AlsaSink sink("null", "", quiet());
    auto first = sink.open(StreamKey{"personal", {0, 0}}, Direction::Playback, PcmParams{48000, SampleFormat::S16Le, 2});
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(sink.open(StreamKey{"secure", {0, 0}}, Direction::Playback, PcmParams{48000, SampleFormat::S16Le, 2}), nullptr);
    first.reset();
    EXPECT_NE(sink.open(StreamKey{"secure", {0, 0}}, Direction::Playback, PcmParams{16000, SampleFormat::S16Le, 1}), nullptr);
}

TEST(AlsaSink, NoCaptureDeviceMeansNoCaptureStream) {
    AlsaSink sink("null", "", quiet());
    EXPECT_EQ(sink.open(StreamKey{"secure", {0, 1}}, Direction::Capture, PcmParams{16000, SampleFormat::S16Le, 1}), nullptr);
}

TEST(AlsaSink, DeviceThatDoesNotExistIsNamedInTheError) {
    try {
        AlsaSink sink("twofold-no-such-pcm", "", quiet());
        FAIL() << "opened a device that does not exist";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("twofold-no-such-pcm"), std::string::npos);
    }
}

} // namespace
} // namespace twofold::sound
