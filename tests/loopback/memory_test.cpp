// Guest pages, grants, grant and foreign mappings of the loopback machine.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "twofold/loopback/hypervisor.h"
#include "twofold/xen/error.h"

namespace twofold::loopback {
namespace {

using xen::Access;
using xen::XenError;

int errno_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const XenError& error) {
        return error.errno_value();
    }
    return 0;
}

class MemoryTest : public ::testing::Test {
protected:
    Hypervisor hv;
    xen::DomId guest = hv.create_domain("guest");
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    std::unique_ptr<xen::GrantMapper> mapper = dom0->open_grant_mapper();
};

TEST_F(MemoryTest, AllocatedPagesAreDistinctAndZeroed) {
    const auto gfns = hv.allocate_pages(guest, 2);
    ASSERT_EQ(gfns.size(), 2U);
    EXPECT_NE(gfns[0], gfns[1]);
    auto view = hv.frontend_view(guest, gfns[1]);
    ASSERT_EQ(view.size(), xen::kPageSize);
    for (const std::byte b : view.bytes()) {
        ASSERT_EQ(b, std::byte{0});
    }
}

TEST_F(MemoryTest, GrantMappingAliasesTheFrontendPage) {
    const auto gfn = hv.allocate_pages(guest, 1).at(0);
    const auto ref = hv.grant_access(guest, gfn, xen::kDom0, Access::ReadWrite);
    auto view = hv.frontend_view(guest, gfn);
    auto mapped = mapper->map(guest, std::span(&ref, 1), Access::ReadWrite);

    view.bytes()[10] = std::byte{0x5a};
    EXPECT_EQ(mapped.bytes()[10], std::byte{0x5a});
    mapped.bytes()[11] = std::byte{0xa5};
    EXPECT_EQ(view.bytes()[11], std::byte{0xa5});
    EXPECT_NE(view.bytes().data(), mapped.bytes().data());
}

TEST_F(MemoryTest, MultiPageGrantMapIsContiguousInRefOrder) {
    const auto gfns = hv.allocate_pages(guest, 3);
    // Granted in reverse order: the mapping follows the refs, not the frame numbers.
    const std::vector<xen::GrantRef> refs{hv.grant_access(guest, gfns[2], xen::kDom0, Access::ReadOnly),
                                          hv.grant_access(guest, gfns[0], xen::kDom0, Access::ReadOnly)};
    hv.frontend_view(guest, gfns[2]).bytes()[0] = std::byte{2};
    hv.frontend_view(guest, gfns[0]).bytes()[0] = std::byte{7};

    auto mapped = mapper->map(guest, refs, Access::ReadOnly);

    ASSERT_EQ(mapped.size(), 2 * xen::kPageSize);
    EXPECT_EQ(mapped.bytes()[0], std::byte{2});
    EXPECT_EQ(mapped.bytes()[xen::kPageSize], std::byte{7});
}

TEST_F(MemoryTest, MapOfUnknownRefFailsWithEinval) {
    const xen::GrantRef bogus = 12345;
    EXPECT_EQ(errno_of([&] { mapper->map(guest, std::span(&bogus, 1), Access::ReadOnly); }), EINVAL);
}

TEST_F(MemoryTest, MapOfRefGrantedToAnotherDomainFailsWithEperm) {
    const auto other = hv.create_domain("other");
    const auto gfn = hv.allocate_pages(guest, 1).at(0);
    const auto ref = hv.grant_access(guest, gfn, other, Access::ReadWrite);
    EXPECT_EQ(errno_of([&] { mapper->map(guest, std::span(&ref, 1), Access::ReadOnly); }), EPERM);
}

TEST_F(MemoryTest, WritableMapOfReadOnlyGrantFailsWithEperm) {
    const auto gfn = hv.allocate_pages(guest, 1).at(0);
    const auto ref = hv.grant_access(guest, gfn, xen::kDom0, Access::ReadOnly);
    EXPECT_EQ(errno_of([&] { mapper->map(guest, std::span(&ref, 1), Access::ReadWrite); }), EPERM);
}

TEST_F(MemoryTest, RefusedMultiPageMapLeavesNothingMapped) {
    const auto gfns = hv.allocate_pages(guest, 2);
    const std::vector<xen::GrantRef> refs{hv.grant_access(guest, gfns[0], xen::kDom0, Access::ReadWrite),
                                          hv.grant_access(guest, gfns[1], xen::kDom0, Access::ReadOnly)};
    EXPECT_EQ(errno_of([&] { mapper->map(guest, refs, Access::ReadWrite); }), EPERM);
    EXPECT_EQ(hv.live_grant_mappings(), 0U);
    EXPECT_TRUE(hv.end_access(guest, refs[0]));
}

TEST_F(MemoryTest, MapFromWrongOwnerDomainFails) {
    const auto other = hv.create_domain("other");
    const auto gfn = hv.allocate_pages(guest, 1).at(0);
    const auto ref = hv.grant_access(guest, gfn, xen::kDom0, Access::ReadWrite);
    // The reference is the guest's: the other domain has no such grant.
    EXPECT_EQ(errno_of([&] { mapper->map(other, std::span(&ref, 1), Access::ReadOnly); }), EINVAL);
}

TEST_F(MemoryTest, EmptyRefListIsRejected) {
    EXPECT_EQ(errno_of([&] { mapper->map(guest, {}, Access::ReadOnly); }), EINVAL);
}

TEST_F(MemoryTest, EndAccessRefusesWhileMappedAndSucceedsAfterUnmap) {
    const auto gfn = hv.allocate_pages(guest, 1).at(0);
    const auto ref = hv.grant_access(guest, gfn, xen::kDom0, Access::ReadWrite);
    auto mapped = mapper->map(guest, std::span(&ref, 1), Access::ReadWrite);
    EXPECT_FALSE(hv.end_access(guest, ref));
    mapped.reset();
    EXPECT_TRUE(hv.end_access(guest, ref));
}

TEST_F(MemoryTest, EndedGrantCannotBeMapped) {
    const auto gfn = hv.allocate_pages(guest, 1).at(0);
    const auto ref = hv.grant_access(guest, gfn, xen::kDom0, Access::ReadWrite);
    ASSERT_TRUE(hv.end_access(guest, ref));
    EXPECT_EQ(errno_of([&] { mapper->map(guest, std::span(&ref, 1), Access::ReadOnly); }), EINVAL);
}

TEST_F(MemoryTest, GrantOfUnallocatedFrameIsRejected) {
    EXPECT_EQ(errno_of([&] { hv.grant_access(guest, 1, xen::kDom0, Access::ReadOnly); }), EINVAL);
}

TEST_F(MemoryTest, MappingCountFollowsMappedPagesLifetime) {
    const auto gfn = hv.allocate_pages(guest, 1).at(0);
    const auto ref = hv.grant_access(guest, gfn, xen::kDom0, Access::ReadWrite);
    {
        auto first = mapper->map(guest, std::span(&ref, 1), Access::ReadWrite);
        auto moved = std::move(first);
        EXPECT_EQ(hv.live_grant_mappings(), 1U);
    }
    EXPECT_EQ(hv.live_grant_mappings(), 0U);
}

TEST_F(MemoryTest, MappingOutlivesDestroyedDomainAndStillReadsItsPage) {
    const auto gfn = hv.allocate_pages(guest, 1).at(0);
    const auto ref = hv.grant_access(guest, gfn, xen::kDom0, Access::ReadWrite);
    hv.frontend_view(guest, gfn).bytes()[0] = std::byte{42};
    auto mapped = mapper->map(guest, std::span(&ref, 1), Access::ReadWrite);

    hv.destroy_domain(guest);

    EXPECT_EQ(mapped.bytes()[0], std::byte{42});
    EXPECT_EQ(hv.live_grant_mappings(), 1U);
    mapped.reset();
    EXPECT_EQ(hv.live_grant_mappings(), 0U);
}

TEST_F(MemoryTest, MapFromDestroyedDomainFailsWithEsrch) {
    const auto gfn = hv.allocate_pages(guest, 1).at(0);
    const auto ref = hv.grant_access(guest, gfn, xen::kDom0, Access::ReadWrite);
    hv.destroy_domain(guest);
    EXPECT_EQ(errno_of([&] { mapper->map(guest, std::span(&ref, 1), Access::ReadOnly); }), ESRCH);
}

TEST_F(MemoryTest, ForeignMappingByDom0AliasesGuestFrames) {
    const auto gfns = hv.allocate_pages(guest, 2);
    hv.frontend_view(guest, gfns[1]).bytes()[5] = std::byte{9};
    auto foreign = dom0->open_foreign_memory();
    auto mapped = foreign->map(guest, gfns, Access::ReadOnly);
    ASSERT_EQ(mapped.size(), 2 * xen::kPageSize);
    EXPECT_EQ(mapped.bytes()[xen::kPageSize + 5], std::byte{9});
    EXPECT_EQ(hv.live_foreign_mappings(), 1U);
    mapped.reset();
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
}

TEST_F(MemoryTest, ForeignMappingByUnprivilegedDomainFailsWithEperm) {
    const auto other = hv.create_domain("other");
    const auto gfns = hv.allocate_pages(guest, 1);
    auto foreign = hv.platform(other)->open_foreign_memory();
    EXPECT_EQ(errno_of([&] { foreign->map(guest, gfns, Access::ReadOnly); }), EPERM);
    EXPECT_EQ(hv.live_foreign_mappings(), 0U);
}

TEST_F(MemoryTest, ForeignMappingOfUnallocatedFrameFailsWithEinval) {
    const xen::Gfn gfn = hv.allocate_pages(guest, 1).at(0) + 1;
    auto foreign = dom0->open_foreign_memory();
    EXPECT_EQ(errno_of([&] { foreign->map(guest, std::span(&gfn, 1), Access::ReadOnly); }), EINVAL);
}

TEST_F(MemoryTest, PageQuotaIsEnforced) {
    Hypervisor small(Limits{.max_pages_per_domain = 4});
    const auto domid = small.create_domain("small");
    small.allocate_pages(domid, 4);
    EXPECT_EQ(errno_of([&] { small.allocate_pages(domid, 1); }), ENOMEM);
}

TEST_F(MemoryTest, DestroyingDom0IsRefused) {
    EXPECT_EQ(errno_of([&] { hv.destroy_domain(xen::kDom0); }), EPERM);
}

TEST_F(MemoryTest, DomainIdsAreNotReused) {
    hv.destroy_domain(guest);
    EXPECT_FALSE(hv.domain_exists(guest));
    EXPECT_NE(hv.create_domain("again"), guest);
}

} // namespace
} // namespace twofold::loopback
