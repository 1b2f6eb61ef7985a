// The owner <-> writer wire: what encodes parses back unchanged, and every malformed message
// either side could forge is refused with a reason.
#include <gtest/gtest.h>

#include "twofold/input/peer_wire.h"

namespace twofold::input::peer {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (const int v : values) out.push_back(static_cast<std::byte>(v));
    return out;
}

TEST(PeerWire, EveryMessageRoundTrips) {
    const Events events{{KeyEvent{30, true}, KeyEvent{30, false}, PositionEvent{799, 599, -2},
                         TouchEvent{TouchPhase::Down, 3, 10, 20}, TouchEvent{TouchPhase::Frame, 0, 0, 0}}};
    const auto parsed = parse_to_writer(encode(ToWriter{events}));
    ASSERT_TRUE(std::holds_alternative<ToWriter>(parsed));
    EXPECT_EQ(std::get<Events>(std::get<ToWriter>(parsed)), events);
    EXPECT_TRUE(std::holds_alternative<Sync>(std::get<ToWriter>(parse_to_writer(encode(ToWriter{Sync{}})))));
    EXPECT_EQ(std::get<State>(std::get<ToOwner>(parse_to_owner(encode(ToOwner{State{true}})))), State{true});
    EXPECT_EQ(std::get<State>(std::get<ToOwner>(parse_to_owner(encode(ToOwner{State{false}})))), State{false});
    EXPECT_TRUE(std::holds_alternative<Ready>(std::get<ToOwner>(parse_to_owner(encode(ToOwner{Ready{}})))));
}

TEST(PeerWire, MalformedMessagesToAWriterAreRefused) {
    auto key = encode(ToWriter{Events{{KeyEvent{30, true}}}});
    const std::vector<std::vector<std::byte>> bad{
        {},                                 // empty
        bytes({2, 0}),                      // sync with a trailing byte
        bytes({3, 1}),                      // an owner's message
        bytes({1, 0}),                      // no events
        bytes({1, 65}),                     // more than 64
        bytes({1, 2, 0, 1, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), // count 2, one event
    };
    for (const auto& message : bad) EXPECT_TRUE(std::holds_alternative<WireError>(parse_to_writer(message)));
    auto mutate = [&](std::size_t at, int value) {
        auto copy = key;
        copy[at] = static_cast<std::byte>(value);
        return std::holds_alternative<WireError>(parse_to_writer(copy));
    };
    EXPECT_TRUE(mutate(2, 7));    // unknown kind
    EXPECT_TRUE(mutate(3, 2));    // pressed neither 0 nor 1
    EXPECT_TRUE(mutate(4, 1));    // contact on a key
    EXPECT_TRUE(mutate(5, 1));    // padding
    EXPECT_TRUE(mutate(7, 0x10)); // code beyond KEY_MAX
    EXPECT_TRUE(mutate(9, 0x7f)); // a stray field on a key
    EXPECT_FALSE(mutate(6, 31));  // another key code is fine
}

TEST(PeerWire, TouchAndPositionFieldsAreBounded) {
    auto touch = encode(ToWriter{Events{{TouchEvent{TouchPhase::Motion, 1, 5, 5}}}});
    auto with = [&](std::size_t at, int value) {
        auto copy = touch;
        copy[at] = static_cast<std::byte>(value);
        return std::holds_alternative<WireError>(parse_to_writer(copy));
    };
    EXPECT_TRUE(with(3, 4));     // phase beyond Frame
    EXPECT_TRUE(with(4, 16));    // contact beyond kMaxContacts
    EXPECT_TRUE(with(9, 0x80));  // x negative
    EXPECT_TRUE(with(13, 0x01)); // y beyond the largest extent
    EXPECT_FALSE(with(4, 15));
    EXPECT_THROW((void)encode(ToWriter{Events{{KeyEvent{0x300, true}}}}), std::invalid_argument);
    EXPECT_THROW((void)encode(ToWriter{Events{}}), std::invalid_argument);
}

TEST(PeerWire, MalformedMessagesToTheOwnerAreRefused) {
    for (const auto& message : {bytes({}), bytes({3}), bytes({3, 2}), bytes({3, 1, 0}), bytes({4, 0}), bytes({1, 1}), bytes({2})}) {
        EXPECT_TRUE(std::holds_alternative<WireError>(parse_to_owner(message)));
    }
}

} // namespace
} // namespace twofold::input::peer
