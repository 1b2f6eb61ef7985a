#pragma once
// Reads one directory's nodes through the validated parsers, so that every error names the
// node it came from ("<path>: why"). Node names are our constants, never guest strings.
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "twofold/xen/error.h"
#include "twofold/xen/xenstore.h"
#include "twofold/xenbus/result.h"

namespace twofold::xenbus {

class NodeReader {
public:
    NodeReader(xen::XenStore& store, std::string directory) : store_(&store), directory_(std::move(directory)) {}

    [[nodiscard]] const std::string& directory() const noexcept { return directory_; }
    [[nodiscard]] std::string path_of(std::string_view name) const { return directory_ + "/" + std::string(name); }

    // The raw, still untrusted text; a missing node or a xenstore failure is an Error.
    Result<std::string> read_untrusted(std::string_view name) const;

    // `parse` is one of the parsers in xenstore_values.h (or a lambda around one).
    template <class Parser>
    auto read(std::string_view name, Parser&& parse) const -> std::invoke_result_t<Parser, std::string_view> {
        auto raw = read_untrusted(name);
        if (!raw) return raw.error();
        auto parsed = std::forward<Parser>(parse)(std::string_view{raw.value()});
        if (!parsed) return Error{path_of(name) + ": " + parsed.error().message};
        return parsed;
    }

    // Like read(), but a missing node gives `fallback` (for optional nodes with a default).
    template <class Parser, class T>
    auto read_or(std::string_view name, Parser&& parse, T fallback) const
        -> std::invoke_result_t<Parser, std::string_view> {
        if (!exists(name)) return fallback;
        return read(name, std::forward<Parser>(parse));
    }

    [[nodiscard]] bool exists(std::string_view name) const;

private:
    xen::XenStore* store_;
    std::string directory_;
};

} // namespace twofold::xenbus
