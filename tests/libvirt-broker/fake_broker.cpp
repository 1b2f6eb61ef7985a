// A hostile stand-in for twofold-libvirt-broker: it speaks the protocol until the domain name
// of a lookup tells it to misbehave (garbage, wrong id, oversize line, EOF mid-reply, a hang,
// two replies, out-of-range values). A helper program of the tests only.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

namespace {

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n <= 0) {
            std::exit(1);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string info(std::string_view name, std::string_view state, int id) {
    return nlohmann::json{{"name", name}, {"state", state}, {"id", id}, {"persistent", true}}.dump();
}

std::string ok(std::uint64_t id, const std::string& result) {
    return "{\"v\":1,\"id\":" + std::to_string(id) + ",\"result\":" + result + "}\n";
}

// Returns false when the process should stop reading.
bool answer(int fd, const nlohmann::json& request) {
    const auto id = request.at("id").get<std::uint64_t>();
    const auto op = request.at("op").get<std::string>();
    if (op == "list") {
        write_all(fd, ok(id, "[" + info("fine", "running", 3) + "]"));
        return true;
    }
    const auto name = request.value("name", std::string{});
    if (name == "garbage") {
        write_all(fd, "this is not json\n");
    } else if (name == "wrong-id") {
        write_all(fd, ok(id + 1000, info(name, "running", 1)));
    } else if (name == "oversize") {
        write_all(fd, std::string((std::size_t{1} << 20) + 4096, 'x') + "\n");
    } else if (name == "eof") {
        write_all(fd, "{\"v\":1,\"id\":");
        std::exit(0);
    } else if (name == "hang") {
        std::this_thread::sleep_for(std::chrono::minutes(5));
    } else if (name == "two-lines") {
        write_all(fd, ok(id, info(name, "running", 1)) + ok(id, info(name, "running", 1)));
    } else if (name == "bad-state") {
        write_all(fd, ok(id, info(name, "zombie", 1)));
    } else if (name == "bad-domid") {
        write_all(fd, ok(id, info(name, "running", 99999)));
    } else if (name == "other-name") {
        write_all(fd, ok(id, info("secure", "running", 1)));
    } else if (name == "running") {
        write_all(fd, ok(id, info(name, "running", 7)));
    } else {
        write_all(fd, "{\"v\":1,\"id\":" + std::to_string(id) +
                          ",\"error\":{\"kind\":\"no-domain\",\"message\":\"no domain named '" + name + "'\"}}\n");
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    int fd = 3;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string_view(argv[i]) == "--link-fd") {
            fd = std::atoi(argv[i + 1]);
        }
    }
    std::string buffer;
    char chunk[4096];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) {
            return 0;
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
        for (auto end = buffer.find('\n'); end != std::string::npos; end = buffer.find('\n')) {
            const auto request = nlohmann::json::parse(buffer.substr(0, end), nullptr, false);
            buffer.erase(0, end + 1);
            if (request.is_discarded() || !answer(fd, request)) {
                return 1;
            }
        }
    }
}
