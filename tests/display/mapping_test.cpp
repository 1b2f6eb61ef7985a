// The framebuffer is mapped read-only from the assigned domid, through the guest's two-level
// page directory, and every mapping is released on every path (loopback leak counters).
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "twofold/display/guest_framebuffer.h"
#include "twofold/loopback/hypervisor.h"

namespace twofold::display {
namespace {

constexpr std::uint32_t kWidth = 64;
constexpr std::uint32_t kHeight = 48;

// A guest that lays out its framebuffer as Linux xen-fbfront does.
struct SimulatedGuest {
    SimulatedGuest(loopback::Hypervisor& hv, const char* name) : domid(hv.create_domain(name)) {
        geometry.width = kWidth;
        geometry.height = kHeight;
        geometry.line_length = kWidth * 4;
        geometry.mem_length = std::size_t{geometry.line_length} * kHeight;
        geometry.frame_count = (geometry.mem_length + 4095) / 4096;
        geometry.directory_page_count = 1;
        frames = hv.allocate_pages(domid, geometry.frame_count);
        directory_page = hv.allocate_pages(domid, 1).front();
        geometry.directory[0] = directory_page;
        write_directory(hv, frames);
    }
    void write_directory(loopback::Hypervisor& hv, const std::vector<xen::Gfn>& entries) const {
        auto view = hv.frontend_view(domid, directory_page);
        std::memcpy(view.bytes().data(), entries.data(), entries.size() * sizeof(xen::Gfn));
    }
    xen::DomId domid;
    FramebufferGeometry geometry;
    std::vector<xen::Gfn> frames;
    xen::Gfn directory_page{};
};

class MappingTest : public ::testing::Test {
protected:
    loopback::Hypervisor hv;
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    std::unique_ptr<xen::ForeignMemory> foreign = dom0->open_foreign_memory();
};

TEST_F(MappingTest, MapsThePixelsTheDirectoryNames) {
    SimulatedGuest guest(hv, "personal");
    {
        auto view = hv.frontend_view(guest.domid, guest.frames);
        const std::uint32_t pixel = 0x00ABCDEF;
        std::memcpy(view.bytes().data() + (std::size_t{47} * kWidth + 63) * 4, &pixel, 4);
    }
    auto fb = map_guest_framebuffer(*foreign, guest.domid, guest.geometry);
    ASSERT_TRUE(fb) << fb.error().message;
    std::uint32_t seen = 0;
    std::memcpy(&seen, fb.value().pixels().data() + (std::size_t{47} * kWidth + 63) * 4, 4);
    EXPECT_EQ(seen, 0x00ABCDEFU);
    EXPECT_EQ(fb.value().pixels().size(), guest.geometry.mem_length);
    // The directory was unmapped once copied; only the framebuffer stays.
    EXPECT_EQ(hv.live_foreign_mappings(), 1U);
}

TEST_F(MappingTest, ReleasesTheMappingWhenTheFramebufferGoes) {
    SimulatedGuest guest(hv, "personal");
    {
        auto fb = map_guest_framebuffer(*foreign, guest.domid, guest.geometry);
        ASSERT_TRUE(fb);
        EXPECT_EQ(hv.live_foreign_mappings(), 1U);
    }
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
}

TEST_F(MappingTest, DirectoryNamingFramesTheGuestDoesNotOwnIsRefusedWithoutLeak) {
    SimulatedGuest guest(hv, "personal");
    auto entries = guest.frames;
    entries.back() = guest.frames.back() + 5000; // beyond the guest's memory
    guest.write_directory(hv, entries);
    const auto fb = map_guest_framebuffer(*foreign, guest.domid, guest.geometry);
    ASSERT_FALSE(fb);
    EXPECT_NE(fb.error().message.find("mapping the framebuffer failed"), std::string::npos);
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
}

TEST_F(MappingTest, OtherGuestsFrameNumbersResolveInTheAssignedDomainOnly) {
    // Frame numbers are guest-physical: copying the victim's numbers names the attacker's own
    // pages, because we map only from the domid the toolstack assigned.
    SimulatedGuest victim(hv, "secure");
    SimulatedGuest attacker(hv, "personal");
    {
        auto view = hv.frontend_view(victim.domid, victim.frames);
        std::memset(view.bytes().data(), 0x77, view.size());
    }
    attacker.write_directory(hv, victim.frames);
    const auto fb = map_guest_framebuffer(*foreign, attacker.domid, attacker.geometry);
    ASSERT_TRUE(fb) << fb.error().message;
    for (std::byte b : fb.value().pixels()) ASSERT_NE(b, std::byte{0x77});
}

TEST_F(MappingTest, DirectoryPageNotOwnedIsRefusedWithoutLeak) {
    SimulatedGuest victim(hv, "secure");
    SimulatedGuest attacker(hv, "personal");
    attacker.geometry.directory[0] = victim.directory_page + 1000;
    EXPECT_FALSE(map_guest_framebuffer(*foreign, attacker.domid, attacker.geometry));
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
}

TEST_F(MappingTest, ZeroFrameInTheDirectoryIsRefusedWithoutLeak) {
    SimulatedGuest guest(hv, "personal");
    auto entries = guest.frames;
    entries[2] = 0;
    guest.write_directory(hv, entries);
    const auto fb = map_guest_framebuffer(*foreign, guest.domid, guest.geometry);
    ASSERT_FALSE(fb);
    EXPECT_NE(fb.error().message.find("frame 2"), std::string::npos);
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
}

TEST_F(MappingTest, RewritingTheDirectoryAfterMappingChangesNothing) {
    SimulatedGuest guest(hv, "personal");
    auto fb = map_guest_framebuffer(*foreign, guest.domid, guest.geometry);
    ASSERT_TRUE(fb);
    guest.write_directory(hv, std::vector<xen::Gfn>(guest.frames.size(), 0));
    {
        auto view = hv.frontend_view(guest.domid, guest.frames);
        view.bytes()[0] = std::byte{0x5A};
    }
    EXPECT_EQ(fb.value().pixels()[0], std::byte{0x5A});
}

TEST_F(MappingTest, GuestDestroyedWhileMappedKeepsPagesUntilRelease) {
    SimulatedGuest guest(hv, "personal");
    {
        auto fb = map_guest_framebuffer(*foreign, guest.domid, guest.geometry);
        ASSERT_TRUE(fb);
        hv.destroy_domain(guest.domid);
        // Reading a dead guest's pages is harmless (Xen keeps them while mapped).
        EXPECT_EQ(fb.value().pixels()[100], std::byte{0});
        EXPECT_EQ(hv.live_foreign_mappings(), 1U);
    }
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
}

TEST_F(MappingTest, DestroyedGuestCannotBeMapped) {
    SimulatedGuest guest(hv, "personal");
    hv.destroy_domain(guest.domid);
    EXPECT_FALSE(map_guest_framebuffer(*foreign, guest.domid, guest.geometry));
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
}

using MappingDeathTest = MappingTest;
TEST_F(MappingDeathTest, TheMappingIsReadOnly) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    SimulatedGuest guest(hv, "personal");
    auto fb = map_guest_framebuffer(*foreign, guest.domid, guest.geometry);
    ASSERT_TRUE(fb);
    auto* writable = const_cast<std::byte*>(fb.value().pixels().data());
    EXPECT_DEATH({ *static_cast<volatile std::byte*>(writable) = std::byte{1}; }, "");
}

} // namespace
} // namespace twofold::display
