#include "twofold/manager/domain_xml.h"

#include <fmt/format.h>

namespace twofold::manager {

std::string xml_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string make_domain_xml(const PersonaSpec& p, const DomainFlavor& flavor, const std::string& uuid) {
    std::string xml = fmt::format("<domain type='{}'>\n  <name>{}</name>\n", xml_escape(flavor.domain_type), xml_escape(p.name));
    if (!uuid.empty()) {
        xml += fmt::format("  <uuid>{}</uuid>\n", xml_escape(uuid));
    }
    xml += fmt::format("  <metadata>\n    <twofold:persona xmlns:twofold='{}' kind='{}'/>\n  </metadata>\n",
                       kMetadataNamespace, xml_escape(p.kind));
    xml += fmt::format("  <memory unit='MiB'>{}</memory>\n  <vcpu>{}</vcpu>\n", p.memory_mib, p.vcpus);
    xml += "  <os>\n";
    if (flavor.machine.empty()) {
        xml += fmt::format("    <type arch='{}'>xen</type>\n", xml_escape(flavor.arch));
    } else {
        xml += fmt::format("    <type arch='{}' machine='{}'>xen</type>\n", xml_escape(flavor.arch), xml_escape(flavor.machine));
    }
    if (!p.kernel.empty()) {
        xml += fmt::format("    <kernel>{}</kernel>\n", xml_escape(p.kernel));
    }
    if (!p.initrd.empty()) {
        xml += fmt::format("    <initrd>{}</initrd>\n", xml_escape(p.initrd));
    }
    if (!p.cmdline.empty()) {
        xml += fmt::format("    <cmdline>{}</cmdline>\n", xml_escape(p.cmdline));
    }
    xml += "  </os>\n";
    // The manager, not libvirt, decides about restarts (per policy, with backoff and audit),
    // so libvirt only tears a stopped or crashed domain down.
    xml += "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n";
    xml += "  <devices>\n";
    // Under Xen, libxl would serve a file-backed disk through QEMU's qdisk unless told to use
    // the kernel's blkback on a loop device; dom0 runs no QEMU.
    const char* driver = flavor.domain_type == "xen" ? "      <driver name='phy'/>\n" : "";
    for (const auto& d : p.disks) {
        xml += fmt::format("    <disk type='file' device='disk'>\n{}      <source file='{}'/>\n      <target dev='{}' bus='xen'/>\n{}    </disk>\n",
                           driver, xml_escape(d.source), xml_escape(d.target), d.readonly ? "      <readonly/>\n" : "");
    }
    xml += "    <console type='pty'>\n      <target type='xen' port='0'/>\n    </console>\n";
    xml += "  </devices>\n</domain>\n";
    return xml;
}

} // namespace twofold::manager
