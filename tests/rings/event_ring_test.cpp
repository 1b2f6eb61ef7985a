// Event rings of vfb (fbif.h) and vkbd (kbdif.h).
#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" {
#include <xen/io/displif.h>
#include <xen/io/fbif.h>
#include <xen/io/kbdif.h>
}

#include <gtest/gtest.h>

#include "test_support.h"
#include "twofold/rings/event_ring.h"

namespace twofold::rings {
namespace {

constexpr std::size_t kUnlimited = 1000;

// The guest side of the vfb out ring, as the Linux xenfb driver writes it.
void guest_push_update(const test::SharedPages& shared, std::int32_t x, std::int32_t y) {
    const std::uint32_t prod = shared.read_word(kFbOutRing.prod_offset);
    xenfb_out_event event{};
    event.update.type = XENFB_TYPE_UPDATE;
    event.update.x = x;
    event.update.y = y;
    event.update.width = 16;
    event.update.height = 8;
    const std::size_t at = kFbOutRing.ring_offset + (prod % kFbOutRing.slot_count) * kFbOutRing.slot_size;
    copy_to_shared(shared.bytes().subspan(at, sizeof event), std::as_bytes(std::span{&event, 1}));
    shared.write_word(kFbOutRing.prod_offset, prod + 1);
}

auto collect_x(std::vector<std::int32_t>& xs) {
    return [&xs](const xenfb_out_event& event) noexcept { xs.push_back(event.update.x); };
}

TEST(FbOutRing, ConsumesUpdatesInOrder) {
    test::SharedPages shared(1);
    EventConsumer<xenfb_out_event> ring(shared.bytes(), kFbOutRing);
    guest_push_update(shared, 1, 2);
    guest_push_update(shared, 3, 4);
    std::vector<std::int32_t> xs;

    const auto result = ring.process(kUnlimited, collect_x(xs));

    EXPECT_EQ(result.processed, 2U);
    EXPECT_FALSE(result.more_pending);
    EXPECT_EQ(xs, (std::vector<std::int32_t>{1, 3}));
    EXPECT_EQ(shared.read_word(kFbOutRing.cons_offset), 2U);
}

TEST(FbOutRing, SlotIndexIsModuloTheNonPowerOfTwoLength) {
    test::SharedPages shared(1);
    // Start one before the last slot: events land in slots 50 and 0 (XENFB_OUT_RING_LEN 51).
    shared.write_word(kFbOutRing.cons_offset, 50);
    shared.write_word(kFbOutRing.prod_offset, 50);
    EventConsumer<xenfb_out_event> ring(shared.bytes(), kFbOutRing);
    guest_push_update(shared, 7, 0);
    guest_push_update(shared, 8, 0);
    std::vector<std::int32_t> xs;

    (void)ring.process(kUnlimited, collect_x(xs));

    EXPECT_EQ(xs, (std::vector<std::int32_t>{7, 8}));
}

TEST(FbOutRing, BudgetBoundsTheWorkAndReportsMorePending) {
    test::SharedPages shared(1);
    EventConsumer<xenfb_out_event> ring(shared.bytes(), kFbOutRing);
    for (std::int32_t x = 0; x < 5; ++x) {
        guest_push_update(shared, x, 0);
    }
    std::vector<std::int32_t> xs;

    const auto result = ring.process(2, collect_x(xs));

    EXPECT_EQ(result.processed, 2U);
    EXPECT_TRUE(result.more_pending);
}

TEST(FbOutRing, OverflowingProducerFaults) {
    test::SharedPages shared(1);
    EventConsumer<xenfb_out_event> ring(shared.bytes(), kFbOutRing);
    shared.write_word(kFbOutRing.prod_offset, XENFB_OUT_RING_LEN + 1);
    std::vector<std::int32_t> xs;

    const auto result = ring.process(kUnlimited, collect_x(xs));

    EXPECT_EQ(result.fault, RingFault::producer_overflow);
    EXPECT_TRUE(xs.empty());
}

TEST(FbOutRing, FaultIsFinal) {
    test::SharedPages shared(1);
    EventConsumer<xenfb_out_event> ring(shared.bytes(), kFbOutRing);
    shared.write_word(kFbOutRing.prod_offset, 0xFFFFFFFFU);
    std::vector<std::int32_t> xs;
    ASSERT_TRUE(ring.process(kUnlimited, collect_x(xs)).fault.has_value());
    shared.write_word(kFbOutRing.prod_offset, 1);

    EXPECT_EQ(ring.process(kUnlimited, collect_x(xs)).fault, RingFault::producer_overflow);
    EXPECT_TRUE(xs.empty());
}

TEST(FbOutRing, FaultOnOneRingLeavesAnotherWorking) {
    test::SharedPages bad_page(1);
    test::SharedPages good_page(1);
    EventConsumer<xenfb_out_event> bad(bad_page.bytes(), kFbOutRing);
    EventConsumer<xenfb_out_event> good(good_page.bytes(), kFbOutRing);
    bad_page.write_word(kFbOutRing.prod_offset, 1000);
    guest_push_update(good_page, 42, 0);
    std::vector<std::int32_t> xs;

    ASSERT_TRUE(bad.process(kUnlimited, collect_x(xs)).fault.has_value());
    EXPECT_EQ(good.process(kUnlimited, collect_x(xs)).processed, 1U);
    EXPECT_EQ(xs, (std::vector<std::int32_t>{42}));
}

auto key_event(std::uint32_t keycode) {
    return [keycode](xenkbd_in_event& event) noexcept {
        event.key.type = XENKBD_TYPE_KEY;
        event.key.pressed = 1;
        event.key.keycode = keycode;
    };
}

TEST(KbdInRing, PushedEventIsPublishedWithZeroedPadding) {
    test::SharedPages shared(1, std::byte{0xAA});
    shared.write_word(kKbdInRing.cons_offset, 0);
    shared.write_word(kKbdInRing.prod_offset, 0);
    EventProducer<xenkbd_in_event> ring(shared.bytes(), kKbdInRing);

    ASSERT_EQ(ring.push(key_event(30)), PushStatus::pushed);

    EXPECT_EQ(shared.read_word(kKbdInRing.prod_offset), 1U);
    const auto slot = shared.bytes().subspan(kKbdInRing.ring_offset, kKbdInRing.slot_size);
    xenkbd_in_event expected;
    std::memset(&expected, 0, sizeof expected);
    key_event(30)(expected);
    EXPECT_EQ(std::memcmp(slot.data(), &expected, sizeof expected), 0);
    EXPECT_EQ(slot[1], std::byte{1}); // pressed
    EXPECT_EQ(slot[2], std::byte{0}); // padding before keycode
    EXPECT_EQ(slot[39], std::byte{0}); // unused tail of the slot
}

TEST(KbdInRing, FullRingIsReportedAndNothingIsOverwritten) {
    test::SharedPages shared(1);
    EventProducer<xenkbd_in_event> ring(shared.bytes(), kKbdInRing);
    for (std::uint32_t i = 0; i < kKbdInRing.slot_count; ++i) {
        ASSERT_EQ(ring.push(key_event(i)), PushStatus::pushed);
    }

    const auto status = ring.push(key_event(999));

    EXPECT_EQ(status, PushStatus::full);
    EXPECT_EQ(shared.read_word(kKbdInRing.prod_offset), kKbdInRing.slot_count);
    xenkbd_in_event first{};
    copy_from_shared(std::as_writable_bytes(std::span{&first, 1}), shared.bytes().subspan(kKbdInRing.ring_offset, 40));
    EXPECT_EQ(first.key.keycode, 0U);
}

TEST(KbdInRing, PushResumesAfterTheGuestConsumes) {
    test::SharedPages shared(1);
    EventProducer<xenkbd_in_event> ring(shared.bytes(), kKbdInRing);
    for (std::uint32_t i = 0; i < kKbdInRing.slot_count; ++i) {
        ASSERT_EQ(ring.push(key_event(i)), PushStatus::pushed);
    }
    shared.write_word(kKbdInRing.cons_offset, 1);

    EXPECT_EQ(ring.push(key_event(7)), PushStatus::pushed);
}

TEST(KbdInRing, ConsumerAheadOfProducerFaults) {
    test::SharedPages shared(1);
    EventProducer<xenkbd_in_event> ring(shared.bytes(), kKbdInRing);
    shared.write_word(kKbdInRing.cons_offset, 3);

    EXPECT_EQ(ring.push(key_event(1)), PushStatus::fault);
    EXPECT_EQ(ring.fault(), RingFault::consumer_overrun);
}

TEST(KbdInRing, MultiTouchEventKeepsItsFields) {
    test::SharedPages shared(1);
    EventProducer<xenkbd_in_event> ring(shared.bytes(), kKbdInRing);

    ASSERT_EQ(ring.push([](xenkbd_in_event& event) noexcept {
                  event.mtouch.type = XENKBD_TYPE_MTOUCH;
                  event.mtouch.event_type = XENKBD_MT_EV_DOWN;
                  event.mtouch.contact_id = 3;
                  event.mtouch.u.pos.abs_x = 640;
                  event.mtouch.u.pos.abs_y = 480;
              }),
              PushStatus::pushed);

    xenkbd_in_event got{};
    copy_from_shared(std::as_writable_bytes(std::span{&got, 1}), shared.bytes().subspan(kKbdInRing.ring_offset, 40));
    EXPECT_EQ(got.mtouch.contact_id, 3U);
    EXPECT_EQ(got.mtouch.u.pos.abs_x, 640);
    EXPECT_EQ(got.mtouch.u.pos.abs_y, 480);
}

TEST(FbInRing, RefreshPeriodIsPublished) {
    test::SharedPages shared(1);
    EventProducer<xenfb_in_event> ring(shared.bytes(), kFbInRing);

    ASSERT_EQ(ring.push([](xenfb_in_event& event) noexcept {
                  event.refresh_period.type = XENFB_TYPE_REFRESH_PERIOD;
                  event.refresh_period.period = 16;
              }),
              PushStatus::pushed);

    xenfb_in_event got{};
    copy_from_shared(std::as_writable_bytes(std::span{&got, 1}), shared.bytes().subspan(XENFB_IN_RING_OFFS, 40));
    EXPECT_EQ(got.refresh_period.period, 16U);
    EXPECT_EQ(shared.read_word(kFbInRing.prod_offset), 1U);
}

TEST(DisplEventRing, PageFlipEventLandsInTheLastSlotThenWraps) {
    test::SharedPages shared(1);
    // Both indices at the last slot (62 of 63): the next two events go to slots 62 and 0.
    shared.write_word(kDisplEventRing.cons_offset, XENDISPL_IN_RING_LEN - 1);
    shared.write_word(kDisplEventRing.prod_offset, XENDISPL_IN_RING_LEN - 1);
    EventProducer<xendispl_evt> ring(shared.bytes(), kDisplEventRing);
    const auto flip = [](std::uint64_t fb_cookie) {
        return [fb_cookie](xendispl_evt& event) noexcept {
            event.type = XENDISPL_EVT_PG_FLIP;
            event.op.pg_flip.fb_cookie = fb_cookie;
        };
    };

    ASSERT_EQ(ring.push(flip(0xAB)), PushStatus::pushed);
    ASSERT_EQ(ring.push(flip(0xCD)), PushStatus::pushed);

    xendispl_evt last{};
    xendispl_evt first{};
    copy_from_shared(std::as_writable_bytes(std::span{&last, 1}),
                     shared.bytes().subspan(XENDISPL_IN_RING_OFFS + (XENDISPL_IN_RING_LEN - 1) * sizeof(xendispl_evt), sizeof last));
    copy_from_shared(std::as_writable_bytes(std::span{&first, 1}), shared.bytes().subspan(XENDISPL_IN_RING_OFFS, sizeof first));
    EXPECT_EQ(last.op.pg_flip.fb_cookie, 0xABU);
    EXPECT_EQ(first.op.pg_flip.fb_cookie, 0xCDU);
}

} // namespace
} // namespace twofold::rings
