// The configuration parser: arbitrary text must give a configuration or a config_error naming
// the file and a JSON path, never another exception, a crash or a hang. Oracles beyond that:
// an accepted configuration validates or fails with config_error too, compiles its rules or
// fails with config_error, and time scaling by 1 changes nothing while scaling by 2 never
// shortens a duration.

#include "proxy/config.hpp"
#include "proxy/rules.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace gatehouse::proxy;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "oracle failed: %s\n", what);
    std::abort();
}

void check_error(const config_error& e) {
    std::string what = e.what();
    if (what.rfind("fuzz.json: ", 0) != 0) fail("error message does not name the file");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    config c;
    try {
        c = parse_config(text, "fuzz.json", "/nonexistent/gatehouse-fuzz");
    } catch (const config_error& e) {
        check_error(e);
        return 0;
    }
    try {
        validate(c, "fuzz.json");
        rule_set rules(c, "fuzz.json");
    } catch (const config_error& e) {
        check_error(e);
        return 0;
    }
    auto same = scale_durations(c, 1.0);
    auto doubled = scale_durations(c, 2.0);
    if (same.proxy.timeout != c.proxy.timeout || same.stop_timeout != c.stop_timeout)
        fail("scaling by 1 changed a duration");
    for (std::size_t i = 0; i < c.listeners.size(); ++i) {
        if (same.listeners[i].limits.header_timeout != c.listeners[i].limits.header_timeout)
            fail("scaling by 1 changed a listener timeout");
        if (doubled.listeners[i].limits.header_timeout < c.listeners[i].limits.header_timeout)
            fail("scaling by 2 shortened a listener timeout");
    }
    if (doubled.proxy.timeout < c.proxy.timeout) fail("scaling by 2 shortened the proxy timeout");
    return 0;
}
