// A standard EWS client library against the fake CAS: python3-exchangelib autodiscovers over TLS
// (trusting the fleet authority), authenticates with NTLM (verified NTLMv2 here) and lists the
// inbox. The script is tests/integration/exchangelib_list_inbox.py.

#include "tests/integration/fake_cas_fixture.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

namespace gatehouse::fake_cas::testing {
namespace {

struct run_result {
    int exit_code = -1;
    std::string output;
};

run_result run(const std::string& command) {
    run_result r;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return r;
    std::array<char, 4096> buf;
    while (auto n = std::fread(buf.data(), 1, buf.size(), pipe)) r.output.append(buf.data(), n);
    int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

class ExchangelibTest : public FleetTest {};

TEST_F(ExchangelibTest, AutodiscoversAuthenticatesWithNtlmAndListsTheInbox) {
    auto config = default_fleet(1);
    config.servers[0].tls.enabled = true;
    config.servers[0].auth = auth_mode::verify;
    start(std::move(config));
    auto ca = std::filesystem::temp_directory_path() /
              ("gatehouse-fake-cas-ca-" + std::to_string(::getpid()) + ".pem");
    std::ofstream(ca) << f().authority().chain_pem;
    std::string script =
        std::string(GATEHOUSE_SOURCE_DIR) + "/tests/integration/exchangelib_list_inbox.py";
    // The Debian package installs exchangelib for the system interpreter.
    auto r = run("timeout 60 /usr/bin/python3 " + script + " " + std::to_string(ep().port()) + " " +
                 ca.string() + " 2>&1");
    std::filesystem::remove(ca);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("EWS https://127.0.0.1:" + std::to_string(ep().port()) +
                            "/EWS/Exchange.asmx"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("AUTH NTLM"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("COUNT 5"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("SUBJECT Quarterly numbers"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("SUBJECT Welcome to Exchange"), std::string::npos) << r.output;

    auto o = server(0).observations();
    EXPECT_GE(o.at(vdir::autodiscover).statuses.at(200), 1u);
    EXPECT_GE(o.at(vdir::ews).statuses.at(200), 2u);
    EXPECT_GE(o.ntlm_handshakes, 2u);
    EXPECT_EQ(o.identity_mismatches, 0u);
    bool ntlm_connection = false;
    for (const auto& c : o.connections)
        ntlm_connection |= c.user == "CONTOSO\\jdoe" && c.auth_scheme == "NTLM" && c.tls;
    EXPECT_TRUE(ntlm_connection);
}

}  // namespace
}  // namespace gatehouse::fake_cas::testing
