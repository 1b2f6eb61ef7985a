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

std::optional<std::string> flask_label_for_kind(std::string_view kind) {
    // One FLASK type per persona kind; user and role are the policy's only ones.
    if (kind == "personal") {
        return std::string("system_u:system_r:personal_t");
    }
    if (kind == "secure") {
        return std::string("system_u:system_r:secure_t");
    }
    return std::nullopt;
}

namespace {

std::string checked_label(const PersonaSpec& p) {
    const auto label = flask_label_for_kind(p.kind);
    if (!label) {
        throw PersonaLabelError(fmt::format("persona '{}': kind '{}' has no FLASK label; refused", p.name, p.kind));
    }
    if (!p.seclabel.empty() && p.seclabel != *label) {
        throw PersonaLabelError(fmt::format("persona '{}' of kind '{}' asks for FLASK label '{}', its kind's is '{}'; refused",
                                            p.name, p.kind, p.seclabel, *label));
    }
    return *label;
}

} // namespace

std::string make_domain_xml(const PersonaSpec& p, const DomainFlavor& flavor, const std::string& uuid) {
    // Checked before anything else, so a refused persona never reaches libvirt.
    const std::string label = checked_label(p);
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
        if (d.block) {
            xml += fmt::format("    <disk type='block' device='disk'>\n{}      <source dev='{}'/>\n      <target dev='{}' bus='xen'/>\n{}    </disk>\n",
                               driver, xml_escape(d.source), xml_escape(d.target), d.readonly ? "      <readonly/>\n" : "");
            continue;
        }
        xml += fmt::format("    <disk type='file' device='disk'>\n{}      <source file='{}'/>\n      <target dev='{}' bus='xen'/>\n{}    </disk>\n",
                           driver, xml_escape(d.source), xml_escape(d.target), d.readonly ? "      <readonly/>\n" : "");
    }
    // Under Xen the interface is a PV vif served by dom0's netback (no emulated NIC: dom0 runs
    // no QEMU); the script is dom0's own, like the block one.
    for (const auto& n : p.networks) {
        xml += fmt::format("    <interface type='bridge'>\n      <source bridge='{}'/>\n", xml_escape(n.bridge));
        if (!n.mac.empty()) {
            xml += fmt::format("      <mac address='{}'/>\n", xml_escape(n.mac));
        }
        if (flavor.domain_type == "xen") {
            xml += fmt::format("      <script path='{}'/>\n", kVifHotplugScript);
        }
        xml += "    </interface>\n";
    }
    xml += "    <console type='pty'>\n      <target type='xen' port='0'/>\n    </console>\n";
    xml += "  </devices>\n";
    // libvirt's libxl driver passes a static label to Xen (libxl_flask_context_to_sid) when
    // it creates the domain; relabel='no': there is nothing on disk to relabel.
    xml += fmt::format("  <seclabel type='static' model='xen' relabel='no'>\n    <label>{}</label>\n  </seclabel>\n",
                       xml_escape(label));
    xml += "</domain>\n";
    return xml;
}

std::string encrypted_volume_node(std::string_view persona, std::string_view target) {
    return fmt::format("/dev/mapper/twofold-{}-{}", persona, target);
}

} // namespace twofold::manager
