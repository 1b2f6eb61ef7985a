// MappedPages and BoundPort: every mapping / port is released exactly once, whatever path.
#include <gtest/gtest.h>

#include <array>
#include <stdexcept>
#include <vector>

#include "twofold/xen/error.h"
#include "twofold/xen/event_channel.h"
#include "twofold/xen/mapped_pages.h"

namespace twofold::xen {
namespace {

class MappedPagesTest : public ::testing::Test {
protected:
    std::array<std::byte, 16> first{};
    std::array<std::byte, 32> second{};
    std::vector<std::byte*> released;

    MappedPages make(std::span<std::byte> bytes) {
        return MappedPages(bytes, [this](std::span<std::byte> mapped) { released.push_back(mapped.data()); });
    }
};

TEST_F(MappedPagesTest, DestructionReleasesOnceWithTheMappedBytes) {
    { const auto pages = make(first); }
    ASSERT_EQ(released.size(), 1U);
    EXPECT_EQ(released[0], first.data());
}

TEST_F(MappedPagesTest, ResetReleasesOnceAndEmpties) {
    auto pages = make(first);
    pages.reset();
    EXPECT_TRUE(pages.empty());
    pages.reset();
    EXPECT_EQ(released.size(), 1U);
}

TEST_F(MappedPagesTest, MoveConstructionTransfersOwnership) {
    auto source = make(first);
    {
        const MappedPages target(std::move(source));
        EXPECT_EQ(target.size(), first.size());
        EXPECT_TRUE(released.empty());
    }
    EXPECT_EQ(released.size(), 1U);
    source.reset();
    EXPECT_EQ(released.size(), 1U);
}

TEST_F(MappedPagesTest, MoveAssignmentReleasesTheOverwrittenMapping) {
    auto target = make(first);
    auto source = make(second);
    target = std::move(source);
    ASSERT_EQ(released.size(), 1U);
    EXPECT_EQ(released[0], first.data());
    EXPECT_EQ(target.bytes().data(), second.data());
    target.reset();
    EXPECT_EQ(released.size(), 2U);
}

TEST_F(MappedPagesTest, ThrowingReleaserDoesNotEscapeDestructor) {
    int calls = 0;
    EXPECT_NO_THROW({
        const MappedPages pages(first, [&](std::span<std::byte>) {
            ++calls;
            throw XenError(EINVAL, "unmap");
        });
    });
    EXPECT_EQ(calls, 1);
}

TEST_F(MappedPagesTest, DefaultIsEmptyAndReleasesNothing) {
    MappedPages pages;
    EXPECT_TRUE(pages.empty());
    pages.reset();
    EXPECT_TRUE(released.empty());
}

// Records unbinds; the rest of the interface is not exercised by BoundPort.
class RecordingChannel final : public EventChannel {
public:
    std::vector<Port> unbound;
    std::vector<Port> notified;
    bool fail_unbind = false;

    Port bind_interdomain(DomId, Port) override { return 1; }
    Port bind_unbound(DomId) override { return 1; }
    void unbind(Port local) override {
        unbound.push_back(local);
        if (fail_unbind) {
            throw XenError(ENOTCONN, "xenevtchn_unbind");
        }
    }
    void notify(Port local) override { notified.push_back(local); }
    [[nodiscard]] int fd() const override { return -1; }
    std::optional<Port> pending() override { return std::nullopt; }
    void unmask(Port) override {}
};

TEST(BoundPortTest, DestructionUnbindsOnce) {
    RecordingChannel channel;
    { const BoundPort port(channel, 5); }
    EXPECT_EQ(channel.unbound, std::vector<Port>{5});
}

TEST(BoundPortTest, MoveTransfersTheBinding) {
    RecordingChannel channel;
    BoundPort source(channel, 5);
    {
        const BoundPort target(std::move(source));
        EXPECT_FALSE(source.bound());
        EXPECT_TRUE(target.bound());
        EXPECT_EQ(target.port(), 5U);
    }
    source.reset();
    EXPECT_EQ(channel.unbound, std::vector<Port>{5});
}

TEST(BoundPortTest, MoveAssignmentUnbindsTheOverwrittenPort) {
    RecordingChannel channel;
    BoundPort target(channel, 5);
    BoundPort source(channel, 6);
    target = std::move(source);
    EXPECT_EQ(channel.unbound, std::vector<Port>{5});
    target.reset();
    EXPECT_EQ(channel.unbound, (std::vector<Port>{5, 6}));
}

TEST(BoundPortTest, NotifyForwardsOnlyWhileBound) {
    RecordingChannel channel;
    BoundPort port(channel, 3);
    port.notify();
    port.reset();
    port.notify();
    EXPECT_EQ(channel.notified, std::vector<Port>{3});
}

TEST(BoundPortTest, FailingUnbindIsSwallowedAndNotRetried) {
    RecordingChannel channel;
    channel.fail_unbind = true;
    {
        BoundPort port(channel, 4);
        EXPECT_NO_THROW(port.reset());
        EXPECT_FALSE(port.bound());
    }
    EXPECT_EQ(channel.unbound, std::vector<Port>{4});
}

TEST(XenErrorTest, CarriesErrnoAndOperation) {
    const XenError error(EACCES, "xs_read /x");
    EXPECT_EQ(error.errno_value(), EACCES);
    EXPECT_NE(std::string(error.what()).find("xs_read /x"), std::string::npos);
}

} // namespace
} // namespace twofold::xen
