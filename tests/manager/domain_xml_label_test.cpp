// The FLASK label each persona is started with (policy/xsm): derived from its kind, and a
// persona whose requested label is not its kind's is refused before libvirt sees it.
#include "twofold/manager/domain_xml.h"
#include "twofold/manager/libvirt.h"
#include "twofold/manager/reconcile.h"

#include <gtest/gtest.h>

#include <libvirt/virterror.h>

namespace twofold::manager {
namespace {

PersonaSpec persona(const std::string& name, const std::string& kind) {
    return PersonaSpec{name, kind, 256, 1, "/k", "/i", "console=hvc0", {}, {}, {}};
}

TEST(DomainXmlLabel, PersonalPersonaRunsAsPersonalType) {
    const auto xml = make_domain_xml(persona("personal", "personal"), DomainFlavor::xen_arm());
    EXPECT_NE(xml.find("<seclabel type='static' model='xen' relabel='no'>"), std::string::npos);
    EXPECT_NE(xml.find("<label>system_u:system_r:personal_t</label>"), std::string::npos);
    EXPECT_EQ(xml.find("secure_t"), std::string::npos);
}

TEST(DomainXmlLabel, SecurePersonaRunsAsSecureType) {
    const auto xml = make_domain_xml(persona("secure", "secure"), DomainFlavor::xen_arm());
    EXPECT_NE(xml.find("<label>system_u:system_r:secure_t</label>"), std::string::npos);
    EXPECT_EQ(xml.find("personal_t"), std::string::npos);
}

TEST(DomainXmlLabel, ExplicitLabelEqualToKindsLabelIsAccepted) {
    auto p = persona("secure", "secure");
    p.seclabel = "system_u:system_r:secure_t";
    EXPECT_NE(make_domain_xml(p, DomainFlavor::xen_arm()).find("<label>system_u:system_r:secure_t</label>"), std::string::npos);
}

TEST(DomainXmlLabel, PersonalPersonaAskingForSecureLabelIsRefused) {
    auto p = persona("personal", "personal");
    p.seclabel = "system_u:system_r:secure_t";
    EXPECT_THROW(make_domain_xml(p, DomainFlavor::xen_arm()), PersonaLabelError);
}

TEST(DomainXmlLabel, SecurePersonaAskingForPersonalLabelIsRefused) {
    auto p = persona("secure", "secure");
    p.seclabel = "system_u:system_r:personal_t";
    EXPECT_THROW(make_domain_xml(p, DomainFlavor::xen_arm()), PersonaLabelError);
}

TEST(DomainXmlLabel, PersonaAskingForManagementDomainLabelIsRefused) {
    auto p = persona("personal", "personal");
    p.seclabel = "system_u:system_r:dom0_t";
    EXPECT_THROW(make_domain_xml(p, DomainFlavor::xen_arm()), PersonaLabelError);
}

TEST(DomainXmlLabel, LabelWithMarkupIsRefusedNotEscapedIntoTheXml) {
    auto p = persona("personal", "personal");
    p.seclabel = "system_u:system_r:personal_t</label><label>system_u:system_r:secure_t";
    EXPECT_THROW(make_domain_xml(p, DomainFlavor::xen_arm()), PersonaLabelError);
}

TEST(DomainXmlLabel, UnknownKindIsRefused) {
    EXPECT_THROW(make_domain_xml(persona("x", "driver"), DomainFlavor::xen_arm()), PersonaLabelError);
    EXPECT_FALSE(flask_label_for_kind("").has_value());
}

void quiet(void*, virErrorPtr) {}

// Through libvirt's real parser (test driver): the label survives definition, and a
// mislabelled persona fails alone, is never defined, and does not stop the other one.
class ReconcileLabelTest : public ::testing::Test {
protected:
    void SetUp() override { virSetErrorFunc(nullptr, quiet); }
    LibvirtConnection libvirt_{"test:///default"};
};

TEST_F(ReconcileLabelTest, LibvirtKeepsThePersonasLabel) {
    const auto report = reconcile({persona("lbl-secure", "secure")}, libvirt_, DomainFlavor::test_driver());
    ASSERT_TRUE(report.ok()) << report.personas[0].detail;
    const auto d = libvirt_.lookup("lbl-secure");
    ASSERT_TRUE(d.has_value());
    EXPECT_NE(d->xml().find("<label>system_u:system_r:secure_t</label>"), std::string::npos) << d->xml();
}

TEST_F(ReconcileLabelTest, MislabelledPersonaIsRefusedAndTheOtherStillStarts) {
    auto wrong = persona("lbl-wrong", "personal");
    wrong.seclabel = "system_u:system_r:secure_t";
    const auto report = reconcile({wrong, persona("lbl-ok", "secure")}, libvirt_, DomainFlavor::test_driver());
    EXPECT_FALSE(report.ok());
    EXPECT_EQ(report.personas[0].action, ReconcileAction::Failed);
    EXPECT_NE(report.personas[0].detail.find("refused"), std::string::npos) << report.personas[0].detail;
    EXPECT_FALSE(libvirt_.lookup("lbl-wrong").has_value()) << "a refused persona must never be defined";
    EXPECT_EQ(report.personas[1].action, ReconcileAction::DefinedAndStarted);
}

} // namespace
} // namespace twofold::manager
