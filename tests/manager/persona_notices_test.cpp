// A persona's content-free notice node (the strip mark, docs/messaging.md), on the loopback
// xenstore: the guest's value is parsed into a counter; only a counter that moved forward is
// a notice; junk, rewrites and counters going backwards are not.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "twofold/loopback/hypervisor.h"
#include "twofold/manager/persona_notices.h"

namespace twofold::manager {
namespace {

TEST(NoticeCounter, DecimalCountersOnly) {
    EXPECT_EQ(parse_notice_counter("1"), 1U);
    EXPECT_EQ(parse_notice_counter("42\n"), 42U);
    EXPECT_EQ(parse_notice_counter("18446744073709551615"), UINT64_MAX);
    for (const char* bad : {"", "\n", "-1", "+1", " 1", "1 ", "1\n\n", "0x10", "1e3", "18446744073709551616",
                            "000000000000000000001", "secure: hello"}) {
        EXPECT_FALSE(parse_notice_counter(bad)) << bad;
    }
    EXPECT_FALSE(parse_notice_counter(std::string_view("7\0", 2)));
}

class PersonaNoticesTest : public ::testing::Test {
protected:
    loopback::Hypervisor hv;
    xen::DomId personal = hv.create_domain("personal");
    xen::DomId secure = hv.create_domain("secure");
    std::unique_ptr<xen::XenStore> dom0 = hv.platform(xen::kDom0)->open_xenstore();
    std::unique_ptr<xen::XenStore> secure_store = hv.platform(secure)->open_xenstore();
    std::unique_ptr<xen::XenStore> personal_store = hv.platform(personal)->open_xenstore();
    boost::asio::io_context io;
    std::vector<std::string> noticed;
    PersonaNotices notices{io, *dom0, [this](const std::string& p) { noticed.push_back(p); }};

    static std::string node(xen::DomId domid) { return "/local/domain/" + std::to_string(domid) + "/data/twofold-notice"; }
    void settle() {
        io.restart();
        io.run_for(std::chrono::milliseconds(100));
    }
};

TEST_F(PersonaNoticesTest, ACounterMovingForwardIsANotice) {
    notices.watch("secure", secure);
    notices.watch("personal", personal);
    settle(); // the watches' first events are no notice
    EXPECT_TRUE(noticed.empty());
    secure_store->write(node(secure), "1");
    settle();
    EXPECT_EQ(noticed, std::vector<std::string>{"secure"});
    secure_store->write(node(secure), "2\n");
    settle();
    EXPECT_EQ(noticed, (std::vector<std::string>{"secure", "secure"}));
}

TEST_F(PersonaNoticesTest, AValueFoundAtWatchIsTheBaseline) {
    secure_store->write(node(secure), "5");
    notices.watch("secure", secure);
    settle();
    EXPECT_TRUE(noticed.empty());
    secure_store->write(node(secure), "5"); // rewritten, not moved
    settle();
    EXPECT_TRUE(noticed.empty());
    secure_store->write(node(secure), "6");
    settle();
    EXPECT_EQ(noticed.size(), 1U);
}

TEST_F(PersonaNoticesTest, JunkAndBackwardsCountersAreRefusedNotNoticed) {
    notices.watch("secure", secure);
    secure_store->write(node(secure), "3");
    settle();
    ASSERT_EQ(noticed.size(), 1U);
    for (const std::string& junk : std::vector<std::string>{"hello officer", "2", "-4", std::string(100, '9')}) {
        secure_store->write(node(secure), junk);
        settle();
    }
    EXPECT_EQ(noticed.size(), 1U);
    EXPECT_GE(notices.refused(), 4U);
    secure_store->write(node(secure), "4"); // still the last good counter's successor
    settle();
    EXPECT_EQ(noticed.size(), 2U);
}

TEST_F(PersonaNoticesTest, ANodeElsewhereOrOfAForgottenPersonaIsNoNotice) {
    notices.watch("secure", secure);
    settle();
    personal_store->write(node(personal), "1"); // personal is not watched here
    secure_store->write("/local/domain/" + std::to_string(secure) + "/data/other", "1");
    settle();
    EXPECT_TRUE(noticed.empty());
    notices.forget("secure");
    secure_store->write(node(secure), "9");
    settle();
    EXPECT_TRUE(noticed.empty());
}

TEST_F(PersonaNoticesTest, AFloodIsReadOncePerBatch) {
    notices.watch("secure", secure);
    settle();
    for (int i = 1; i <= 500; ++i) secure_store->write(node(secure), std::to_string(i));
    settle();
    EXPECT_GE(noticed.size(), 1U);
    EXPECT_LE(noticed.size(), 500U);
    secure_store->write(node(secure), "501");
    settle();
    EXPECT_EQ(noticed.back(), "secure");
}

} // namespace
} // namespace twofold::manager
