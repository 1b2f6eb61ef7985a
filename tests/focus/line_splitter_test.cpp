#include "twofold/focus/line_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace twofold::focus {
namespace {

struct Collected {
    std::vector<std::string> lines;
    std::vector<std::size_t> overflows;
    LineSplitter splitter;
    explicit Collected(std::size_t max)
        : splitter(max, [this](std::string_view l) { lines.emplace_back(l); },
                   [this](std::size_t n) { overflows.push_back(n); }) {}
};

TEST(LineSplitter, JoinsLinesSplitAtEveryByte) {
    Collected c(64);
    const std::string stream = "first\nsecond line\n\nthird";
    for (const char byte : stream) c.splitter.feed(std::string_view(&byte, 1));
    EXPECT_EQ(c.lines, (std::vector<std::string>{"first", "second line", ""}));
    c.splitter.feed("\n");
    EXPECT_EQ(c.lines.back(), "third");
    EXPECT_TRUE(c.overflows.empty());
}

TEST(LineSplitter, SkipsAnOverlongLineAndResynchronisesAtItsNewline) {
    Collected c(8);
    c.splitter.feed("0123456789");
    c.splitter.feed("abc\nok\n");
    EXPECT_EQ(c.lines, (std::vector<std::string>{"ok"}));
    EXPECT_EQ(c.overflows, (std::vector<std::size_t>{13}));
}

TEST(LineSplitter, AcceptsALineOfExactlyTheLimit) {
    Collected c(4);
    c.splitter.feed("abcd\nabcde\n");
    EXPECT_EQ(c.lines, (std::vector<std::string>{"abcd"}));
    EXPECT_EQ(c.overflows.size(), 1U);
}

} // namespace
} // namespace twofold::focus
