// The C++ ring templates must match the C layout byte for byte: checked at compile time
// against the DEFINE_RING_TYPES macros for our test protocol and for real ones.
#include <cstddef>
#include <cstdint>

extern "C" {
#include <xen/io/blkif.h>
#include <xen/io/console.h>
#include <xen/io/displif.h>
#include <xen/io/fbif.h>
#include <xen/io/kbdif.h>
}

#include <gtest/gtest.h>

#include "test_support.h"
#include "twofold/rings/back_ring.h"
#include "twofold/rings/byte_ring.h"
#include "twofold/rings/event_ring.h"

namespace twofold::rings {
namespace {

using TestRing = BackRing<twofold_test_request, twofold_test_response>;
using BlkRing = BackRing<blkif_request, blkif_response>;
using DisplRing = BackRing<xendispl_req, xendispl_resp>;

// Header offsets are shared by every DEFINE_RING_TYPES ring.
static_assert(offsetof(twofold_test_sring, req_prod) == sring::kReqProd);
static_assert(offsetof(twofold_test_sring, req_event) == sring::kReqEvent);
static_assert(offsetof(twofold_test_sring, rsp_prod) == sring::kRspProd);
static_assert(offsetof(twofold_test_sring, rsp_event) == sring::kRspEvent);

static_assert(sizeof(TestRing::Entry) == sizeof(twofold_test_sring_entry));
static_assert(TestRing::kRingOffset == offsetof(twofold_test_sring, ring));
static_assert(TestRing::entries_for(4096) == __CONST_RING_SIZE(twofold_test, 4096));
static_assert(TestRing::entries_for(4 * 4096) == __CONST_RING_SIZE(twofold_test, 4 * 4096));

static_assert(sizeof(BlkRing::Entry) == sizeof(blkif_sring_entry));
static_assert(BlkRing::kRingOffset == offsetof(blkif_sring, ring));
static_assert(BlkRing::entries_for(4096) == __CONST_RING_SIZE(blkif, 4096));
static_assert(BlkRing::entries_for(4096) == 32);

// displif negotiates multi-page rings through its own page order; check several orders.
static_assert(sizeof(DisplRing::Entry) == sizeof(xen_displif_sring_entry));
static_assert(DisplRing::kRingOffset == offsetof(xen_displif_sring, ring));
static_assert(DisplRing::entries_for(4096) == __CONST_RING_SIZE(xen_displif, 4096));
static_assert(DisplRing::entries_for(2 * 4096) == __CONST_RING_SIZE(xen_displif, 2 * 4096));
static_assert(DisplRing::entries_for(16 * 4096) == __CONST_RING_SIZE(xen_displif, 16 * 4096));

static_assert(ConsoleRing::kInterfaceSize == sizeof(xencons_interface));
static_assert(ConsoleRing::kOut.data_size == sizeof(xencons_interface::out));
static_assert(kFbOutRing.slot_count == XENFB_OUT_RING_LEN && kFbInRing.slot_count == XENFB_IN_RING_LEN);
static_assert(kKbdInRing.slot_count == XENKBD_IN_RING_LEN && kKbdInRing.ring_offset == XENKBD_IN_RING_OFFS);

TEST(RingLayout, BackRingSizeMatchesCMacroForEachPageOrder) {
    for (std::size_t pages : {1U, 2U, 4U, 8U}) {
        test::SharedPages shared(pages);
        const BackRing<twofold_test_request, twofold_test_response> ring(shared.bytes());
        twofold_test_back_ring_t c_ring{};
        BACK_RING_INIT(&c_ring, reinterpret_cast<twofold_test_sring_t*>(shared.bytes().data()), pages * test::kPage);
        EXPECT_EQ(ring.size(), RING_SIZE(&c_ring)) << pages << " pages";
    }
}

TEST(RingLayout, MappingTooSmallForOneEntryIsRejected) {
    test::SharedPages shared(1);
    EXPECT_THROW(TestRing(shared.bytes().first(64)), std::invalid_argument);
}

TEST(RingLayout, EventTypeOfWrongSizeIsRejected) {
    test::SharedPages shared(1);
    EXPECT_THROW(EventConsumer<std::uint64_t>(shared.bytes(), kFbOutRing), std::invalid_argument);
}

} // namespace
} // namespace twofold::rings
