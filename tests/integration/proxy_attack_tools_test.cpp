// Standard attack and audit tools against gatehouse-proxy on loopback, each run bounded:
// slowhttptest (slowloris, slow POST, slow read) while legitimate clients keep being served, and
// sslscan on the default HTTPS listener (Mozilla intermediate: TLS 1.2/1.3, ECDHE + AEAD only).
// A tool that is not installed skips its test with the reason (`make deps` installs both).

#include "net/tls.hpp"
#include "tests/integration/proxy_fixture.hpp"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace gatehouse::test {
namespace {

using namespace std::chrono_literals;

bool have_tool(const std::string& name) {
    return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command (bounded by `timeout` in the command itself) and returns its output.
std::string run(const std::string& command) {
    std::string out;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p) return out;
    char buffer[4096];
    while (auto n = std::fread(buffer, 1, sizeof buffer, p)) out.append(buffer, n);
    ::pclose(p);
    return out;
}

// Legitimate traffic beside an attack: one GET per fresh connection, in a loop, counted.
class legit_clients {
public:
    explicit legit_clients(tcp::endpoint to) : to_(to) {
        thread_ = std::thread([this] {
            while (!stop_) {
                try {
                    test_client client(to_, 3s);
                    auto res = client.roundtrip(make_request("GET", "/owa/"));
                    (res.result_int() == 200 ? ok_ : failed_)++;
                } catch (const std::exception&) {
                    ++failed_;
                }
            }
        });
    }
    ~legit_clients() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::uint64_t ok() const { return ok_; }
    std::uint64_t failed() const { return failed_; }

private:
    tcp::endpoint to_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> ok_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::thread thread_;
};

struct csv_row {
    unsigned seconds = 0, closed = 0, pending = 0, connected = 0, available = 0;
};

// slowhttptest's statistics: "Seconds,Closed,Pending,Connected,Service Available".
std::vector<csv_row> read_csv(const std::string& path) {
    std::vector<csv_row> rows;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        csv_row r;
        char comma;
        std::istringstream s(line);
        if (s >> r.seconds >> comma >> r.closed >> comma >> r.pending >> comma >> r.connected >>
            comma >> r.available)
            rows.push_back(r);
    }
    return rows;
}

class SlowClients : public ProxyTest {
protected:
    void SetUp() override {
        if (!have_tool("slowhttptest")) GTEST_SKIP() << "slowhttptest is not installed";
        backend_ = std::make_unique<fake_backend>([](backend_connection& c) {
            while (auto req = c.read_request())
                c.respond(200, req->target == "/big" ? std::string(1 << 20, 'b') : "ok");
        });
        // Timeouts scaled down (defaults 10 s head, 30 s body idle, 60 s send) so that each
        // attack is cut within a second and the whole test stays within seconds.
        start(R"({
          "listeners": { "http": { "address": "127.0.0.1", "port": 0,
            "limits": { "header_timeout_ms": 1000, "send_timeout_ms": 1000,
                        "keep_alive_timeout_ms": 1000 } } },
          "proxy": { "timeout_ms": 1000 },
          "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": ${PORT} } ] } },
          "rules": [ { "name": "all", "pattern": ".*",
                       "action": { "type": "route", "farm": "cas" } } ]
        })",
              {{"PORT", std::to_string(backend_->port())}}, 2);
        dir_ = std::filesystem::temp_directory_path() /
               ("gatehouse-slow-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override {
        ProxyTest::TearDown();
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }

    // Runs one attack for `seconds` with legitimate GETs beside it; checks that nearly every
    // legitimate request succeeded and that the proxy closed the attack's connections.
    void attack(const std::string& mode, const std::string& path, unsigned connections,
                unsigned seconds) {
        std::string url = "http://127.0.0.1:" + std::to_string(http().port()) + path;
        // Legitimate throughput before the attack, for the record.
        std::uint64_t baseline = 0;
        {
            legit_clients before(http());
            std::this_thread::sleep_for(1s);  // a measurement window, not a synchronisation
            before.stop();
            baseline = before.ok();
        }
        legit_clients during(http());
        auto csv = (dir_ / "stats").string();
        std::string output;
        std::thread tool([&] {
            output =
                run("timeout " + std::to_string(seconds + 10) + " slowhttptest " + mode + " -c " +
                    std::to_string(connections) + " -r " + std::to_string(connections) + " -l " +
                    std::to_string(seconds) + " -p 2 -u " + url + " -g -o " + csv);
        });
        // Near the end of the attack, what the proxy still holds: every attack connection
        // opened in the first second, so all of them are past their deadline by now.
        std::this_thread::sleep_for(std::chrono::seconds(seconds) - 1s);
        auto held = proxy_->stats();
        tool.join();
        during.stop();
        auto rows = read_csv(csv + ".csv");
        ASSERT_FALSE(rows.empty()) << output;
        std::uint64_t opened = 0;
        for (const auto& r : rows) opened = std::max<std::uint64_t>(opened, r.connected + r.closed);
        double rate_during = static_cast<double>(during.ok()) / seconds;
        RecordProperty("legit_per_s_before", std::to_string(baseline));
        RecordProperty("legit_per_s_during", std::to_string(rate_during));
        std::cout << "[ slowhttptest " << mode << " ] legit requests/s before " << baseline
                  << ", during " << rate_during << "; attack connections opened " << opened
                  << ", still held by the proxy near the end " << held.connections_active << "\n";
        auto total = during.ok() + during.failed();
        ASSERT_GT(total, 0u);
        EXPECT_GE(static_cast<double>(during.ok()) / static_cast<double>(total), 0.99)
            << during.failed() << " of " << total << " legitimate requests failed";
        EXPECT_GE(opened, connections * 9 / 10) << "the attack did not take place\n" << output;
        // Each attack connection was cut at its deadline (the legitimate client holds one).
        EXPECT_LE(held.connections_active, connections / 10 + 2)
            << "the proxy still holds the attack's connections\n"
            << output;
    }

    std::unique_ptr<fake_backend> backend_;
    std::filesystem::path dir_;
};

TEST_F(SlowClients, SlowlorisIsCutAtTheHeadDeadlineWhileOthersAreServed) {
    attack("-H -i 1 -x 10", "/owa/", 200, 5);
}

TEST_F(SlowClients, SlowPostIsCutAtTheBodyTimeoutWhileOthersAreServed) {
    attack("-B -i 2 -s 65536 -x 10", "/owa/", 200, 5);
}

TEST_F(SlowClients, SlowReadIsCutAtTheSendTimeoutWhileOthersAreServed) {
    attack("-X -w 512 -y 1024 -n 2 -z 32 -k 3", "/big", 100, 6);
}

// The default HTTPS listener offers the Mozilla intermediate profile and nothing weaker.
TEST(TlsProfile, DefaultListenerOffersOnlyMozillaIntermediate) {
    if (!have_tool("sslscan")) GTEST_SKIP() << "sslscan is not installed";
    auto authority = net::make_authority("Gatehouse Test CA");
    auto cert = net::issue_certificate(authority, {"mail.contoso.com", "127.0.0.1"});
    auto c = proxy::parse_config(R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
      "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": 1 } ] } },
      "rules": [ { "name": "all", "pattern": ".*", "action": { "type": "route", "farm": "cas" } } ]
    })",
                                 "test.json");
    c.listeners.push_back(proxy::listener_config{.name = "https",
                                                 .address = "127.0.0.1",
                                                 .port = 0,
                                                 .tls = true,
                                                 .certificates = {{.pem = cert}}});
    proxy::server_options options;
    options.threads = 1;
    proxy::proxy_server server(std::move(c), options);
    server.start();
    auto port = std::to_string(server.endpoint("https").port());
    auto out = run("timeout 60 sslscan --no-colour --no-heartbleed 127.0.0.1:" + port);
    server.stop(200ms);

    auto has = [&](const std::string& s) { return out.find(s) != std::string::npos; };
    for (auto off :
         {"SSLv2     disabled", "SSLv3     disabled", "TLSv1.0   disabled", "TLSv1.1   disabled"})
        EXPECT_TRUE(has(off)) << off << "\n" << out;
    EXPECT_TRUE(has("TLSv1.2   enabled")) << out;
    EXPECT_TRUE(has("TLSv1.3   enabled")) << out;

    const std::set<std::string> allowed{
        "TLS_AES_128_GCM_SHA256",       "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",  "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",  "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",  "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",    "DHE-RSA-CHACHA20-POLY1305"};
    std::istringstream lines(out);
    std::string line;
    unsigned accepted = 0;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string verdict, protocol, bits, unit, cipher;
        words >> verdict >> protocol >> bits >> unit >> cipher;
        if (verdict != "Accepted" && verdict != "Preferred") continue;
        ++accepted;
        EXPECT_TRUE(allowed.count(cipher)) << "weak or unexpected suite offered: " << line;
        EXPECT_TRUE(protocol == "TLSv1.2" || protocol == "TLSv1.3") << line;
    }
    EXPECT_GE(accepted, 4u) << out;
}

// Row 60: a TLS handshake trickled byte by byte is cut at the head deadline like a slow head.
TEST(TlsProfile, SlowHandshakeIsCutAtTheHeadDeadline) {
    auto authority = net::make_authority("Gatehouse Test CA");
    auto cert = net::issue_certificate(authority, {"mail.contoso.com"});
    auto c = proxy::parse_config(R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
      "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": 1 } ] } },
      "rules": [ { "name": "all", "pattern": ".*", "action": { "type": "route", "farm": "cas" } } ]
    })",
                                 "test.json");
    proxy::listener_config https{.name = "https", .address = "127.0.0.1", .port = 0, .tls = true};
    https.certificates = {{.pem = cert}};
    https.limits.header_timeout = 300ms;
    c.listeners.push_back(https);
    proxy::server_options options;
    options.threads = 1;
    proxy::proxy_server server(std::move(c), options);
    server.start();
    test_client client(server.endpoint("https"), 3s);
    auto t0 = std::chrono::steady_clock::now();
    client.send(std::string_view("\x16\x03\x01", 3));  // the first bytes of a ClientHello
    EXPECT_TRUE(client.wait_closed());
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 1500ms);
    server.stop(200ms);
}

// Row 67: a client that checked autodiscover's certificate cannot reach the vhost of another
// certificate on the same connection (421); names of the same certificate are fine.
TEST(TlsProfile, HostServedByAnotherCertificateIsMisdirected) {
    fake_backend cas(answer("ok"));
    auto authority = net::make_authority("Gatehouse Test CA");
    auto c = proxy::parse_config(R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
      "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": )" +
                                     std::to_string(cas.port()) + R"( } ] } },
      "rules": [ { "name": "all", "pattern": ".*", "action": { "type": "route", "farm": "cas" } } ]
    })",
                                 "test.json");
    proxy::listener_config https{.name = "https", .address = "127.0.0.1", .port = 0, .tls = true};
    https.certificates = {
        {.names = {"mail.contoso.com", "owa.contoso.com"},
         .pem = net::issue_certificate(authority, {"mail.contoso.com", "owa.contoso.com"})},
        {.names = {"autodiscover.contoso.com"},
         .pem = net::issue_certificate(authority, {"autodiscover.contoso.com"})}};
    c.listeners.push_back(https);
    proxy::server_options options;
    options.threads = 1;
    proxy::proxy_server server(std::move(c), options);
    server.start();
    auto ctx = net::make_client_context(net::client_tls_options{
        .verify = true, .trusted_pem = authority.chain_pem, .system_trust = false});
    {
        test_client client(server.endpoint("https"), *ctx, "autodiscover.contoso.com");
        auto res = client.roundtrip(make_request("GET", "/owa/", "mail.contoso.com"));
        EXPECT_EQ(res.result_int(), 421);
        EXPECT_EQ(cas.requests().size(), 0u);
    }
    {
        test_client client(server.endpoint("https"), *ctx, "mail.contoso.com");
        EXPECT_EQ(
            client.roundtrip(make_request("GET", "/owa/", "OWA.contoso.com:443")).result_int(),
            200);
        EXPECT_EQ(client.roundtrip(make_request("GET", "/owa/", "mail.contoso.com")).result_int(),
                  200);
    }
    server.stop(200ms);
}

}  // namespace
}  // namespace gatehouse::test
