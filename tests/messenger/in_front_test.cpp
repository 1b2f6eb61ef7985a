// The messenger's view of "am I on screen" (docs/messaging.md, "Read markers"), over xenstore's
// wire protocol: dom0's node is watched and read; a missing node counts as in front; values
// other than "0"/"1" and frames beyond the protocol's bound change nothing.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "twofold/messenger/in_front.h"

namespace twofold::messenger {
namespace {

struct Frame {
  std::uint32_t type = 0, req_id = 0, tx_id = 0;
  std::string payload;
};

std::string encode(std::uint32_t type, std::uint32_t req_id, const std::string& payload) {
  const std::uint32_t h[4] = {type, req_id, 0, static_cast<std::uint32_t>(payload.size())};
  return std::string(reinterpret_cast<const char*>(h), sizeof h) + payload;
}

Frame decode(const std::string& bytes) {
  Frame f;
  EXPECT_GE(bytes.size(), 16u);
  if (bytes.size() < 16) return f;
  std::uint32_t h[4];
  std::memcpy(h, bytes.data(), sizeof h);
  f.type = h[0], f.req_id = h[1], f.tx_id = h[2];
  EXPECT_EQ(bytes.size(), 16u + h[3]);
  f.payload = bytes.substr(16);
  return f;
}

const std::string kEvent = std::string("twofold/foreground\0twofold-in-front\0", 36);

TEST(InFrontState, WatchesThenReadsOnEveryEvent) {
  InFrontState s;
  const Frame watch = decode(s.start());
  EXPECT_EQ(watch.type, 4u);
  EXPECT_EQ(watch.payload, kEvent);
  EXPECT_TRUE(s.in_front()) << "until dom0 says otherwise";
  EXPECT_EQ(s.feed(encode(4, watch.req_id, std::string("OK\0", 3))), "");
  const Frame read = decode(s.feed(encode(15, 0, kEvent)));
  EXPECT_EQ(read.type, 2u);
  EXPECT_EQ(read.payload, std::string("twofold/foreground\0", 19));
  EXPECT_EQ(s.feed(encode(2, read.req_id, "0")), "");
  EXPECT_FALSE(s.in_front());
  const Frame again = decode(s.feed(encode(15, 0, kEvent)));
  EXPECT_EQ(s.feed(encode(2, again.req_id, "1")), "");
  EXPECT_TRUE(s.in_front());
}

TEST(InFrontState, AMissingNodeIsInFront) {
  InFrontState s;
  (void)s.start();
  const Frame read = decode(s.feed(encode(15, 0, kEvent)));
  (void)s.feed(encode(2, read.req_id, "0"));
  ASSERT_FALSE(s.in_front());
  const Frame again = decode(s.feed(encode(15, 0, kEvent)));
  (void)s.feed(encode(16, again.req_id, std::string("ENOENT\0", 7)));
  EXPECT_TRUE(s.in_front());
}

TEST(InFrontState, FramesSplitAnywhereAreReassembled) {
  InFrontState s;
  (void)s.start();
  const std::string bytes = encode(15, 0, kEvent);
  std::string out;
  for (char c : bytes) out += s.feed(std::string(1, c));
  const Frame read = decode(out);
  const std::string reply = encode(2, read.req_id, "0");
  (void)s.feed(reply.substr(0, 7));
  EXPECT_TRUE(s.in_front());
  (void)s.feed(reply.substr(7));
  EXPECT_FALSE(s.in_front());
}

TEST(InFrontState, JunkValuesUnaskedAnswersAndOtherTokensChangeNothing) {
  InFrontState s;
  (void)s.start();
  EXPECT_EQ(s.feed(encode(15, 0, std::string("twofold/foreground\0someone-else\0", 32))), "");
  EXPECT_EQ(s.feed(encode(2, 99, "0")), "") << "an answer to no read of ours";
  EXPECT_TRUE(s.in_front());
  const Frame read = decode(s.feed(encode(15, 0, kEvent)));
  EXPECT_EQ(s.feed(encode(15, 0, kEvent)), "") << "one read in flight at a time";
  (void)s.feed(encode(2, read.req_id, "0\n"));
  EXPECT_TRUE(s.in_front());
  EXPECT_EQ(s.refused(), 1u);
}

TEST(InFrontState, AFrameBeyondTheBoundBreaksTheStream) {
  InFrontState s;
  (void)s.start();
  const std::uint32_t h[4] = {15, 0, 0, 4097};
  EXPECT_EQ(s.feed(std::string(reinterpret_cast<const char*>(h), sizeof h)), "");
  EXPECT_TRUE(s.broken());
  EXPECT_EQ(s.feed(encode(15, 0, kEvent)), "") << "nothing is parsed after";
  EXPECT_TRUE(s.in_front());
}

// The watch on a socket, dom0's xenstored played by the test.
TEST(InFrontWatch, FollowsTheNodeOverAStream) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  InFrontWatch watch(fds[0]);
  const auto take = [&] {
    char buf[4200];
    const auto n = read(fds[1], buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  };
  const auto put = [&](const std::string& bytes) {
    ASSERT_EQ(write(fds[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  };
  EXPECT_EQ(decode(take()).type, 4u);
  put(encode(15, 0, kEvent));
  EXPECT_FALSE(watch.poll()) << "no answer yet";
  const Frame read = decode(take());
  ASSERT_EQ(read.type, 2u);
  put(encode(2, read.req_id, "0"));
  EXPECT_TRUE(watch.poll());
  EXPECT_FALSE(watch.in_front());
  EXPECT_FALSE(watch.poll()) << "nothing new";
  close(fds[1]);
}

TEST(InFrontWatch, NoDeviceMeansNoWatch) {
  EXPECT_EQ(InFrontWatch::open("/nonexistent/xenbus"), nullptr);
}

}  // namespace
}  // namespace twofold::messenger
