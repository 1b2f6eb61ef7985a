#include <gtest/gtest.h>

#include "twofold/display/persona_map.h"
#include "twofold/loopback/hypervisor.h"

namespace twofold::display {
namespace {

class PersonaMapTest : public ::testing::Test {
protected:
    loopback::Hypervisor hv;
    std::unique_ptr<xen::Platform> dom0 = hv.platform(xen::kDom0);
    std::unique_ptr<xen::XenStore> store = dom0->open_xenstore();
    HeadlessTarget target{100, 100};
    Compositor compositor{target, 10};
    PersonaMap map{compositor, {{"personal", {"personal", Trust::Personal}}, {"secure", {"secure", Trust::Secure}}}};
};

TEST_F(PersonaMapTest, FindsThePersonaByTheToolstacksDomainName) {
    const auto personal = hv.create_domain("personal");
    const auto secure = hv.create_domain("secure");
    EXPECT_EQ(map.for_domain(*store, personal), map.by_name("personal"));
    EXPECT_EQ(map.for_domain(*store, secure), map.by_name("secure"));
    EXPECT_NE(map.by_name("personal"), map.by_name("secure"));
}

TEST_F(PersonaMapTest, UnknownOrGoneDomainsGetNoPersona) {
    const auto stranger = hv.create_domain("personal2");
    EXPECT_FALSE(map.for_domain(*store, stranger));
    const auto gone = hv.create_domain("secure");
    hv.destroy_domain(gone);
    EXPECT_FALSE(map.for_domain(*store, gone));
    EXPECT_FALSE(map.for_domain(*store, 4000));
}

TEST_F(PersonaMapTest, RefusesDuplicateOrEmptyNames) {
    EXPECT_THROW(PersonaMap(compositor, {{"a", {}}, {"a", {}}}), std::invalid_argument);
    EXPECT_THROW(PersonaMap(compositor, {{"", {}}}), std::invalid_argument);
}

TEST(PersonaOption, ParsesNameAndTrust) {
    const auto secure = parse_persona_option("bank:secure");
    ASSERT_TRUE(secure);
    EXPECT_EQ(secure.value().domain_name, "bank");
    EXPECT_EQ(secure.value().label.trust, Trust::Secure);
    EXPECT_EQ(parse_persona_option("daily:personal").value().label.trust, Trust::Personal);
    EXPECT_FALSE(parse_persona_option("daily"));
    EXPECT_FALSE(parse_persona_option(":secure"));
    EXPECT_FALSE(parse_persona_option("daily:trusted"));
}

} // namespace
} // namespace twofold::display
