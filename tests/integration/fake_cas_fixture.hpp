#pragma once
// A fleet of fake CAS servers on loopback for integration tests, with helpers to talk to the
// servers and to the control API. Every wait is bounded by the test client's timeout.

#include "fake-cas/config.hpp"
#include "fake-cas/encoding.hpp"
#include "fake-cas/fleet.hpp"
#include "fake-cas/ntlm.hpp"
#include "tests/support/test_client.hpp"

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gatehouse::fake_cas::testing {

class FleetTest : public ::testing::Test {
protected:
    // Starts `config` (servers default to plain HTTP on 127.0.0.1:0).
    void start(fleet_config config) {
        fleet_ = std::make_unique<fleet>(std::move(config));
        fleet_->start();
    }
    void start(unsigned servers, double time_scale = 1.0) {
        auto c = default_fleet(servers);
        c.time_scale = time_scale;
        start(std::move(c));
    }
    void TearDown() override {
        if (fleet_) fleet_->stop();
    }

    fleet& f() { return *fleet_; }
    server_handle& server(std::size_t i) { return fleet_->server(i); }
    tcp::endpoint ep(std::size_t i = 0) { return fleet_->server(i).endpoint(); }

    // A control API call; returns (status, parsed JSON body).
    std::pair<unsigned, nlohmann::json> control(std::string_view method, std::string_view target,
                                                const std::string& body = {}) {
        auto endpoint = fleet_->control_endpoint();
        EXPECT_TRUE(endpoint.has_value());
        test::test_client c(*endpoint);
        auto req = test::make_request(method, target, "127.0.0.1", body);
        if (!body.empty()) req.set(http::field::content_type, "application/json");
        auto res = c.roundtrip(std::move(req));
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(res.body());
        } catch (const std::exception&) {
            j = res.body();
        }
        return {res.result_int(), j};
    }

    std::unique_ptr<fleet> fleet_;
};

// The NTLM client side of a handshake on one connection. Returns the final response.
inline test::response ntlm_roundtrip(test::test_client& c, test::request req, std::string_view user,
                                     std::string_view domain, std::string_view password,
                                     std::string_view scheme = "NTLM",
                                     ntlm_challenge_view* challenge_out = nullptr) {
    auto first = req;
    first.set(http::field::authorization,
              std::string(scheme) + " " + base64_encode(build_ntlm_negotiate()));
    auto r1 = c.roundtrip(first);
    if (r1.result_int() != 401) return r1;
    auto header = std::string(r1[http::field::www_authenticate]);
    auto token = base64_decode(header.substr(header.find(' ') + 1));
    if (!token) return r1;
    auto challenge = parse_ntlm_challenge(*token);
    if (!challenge) return r1;
    if (challenge_out) *challenge_out = *challenge;
    bytes blob = {1, 1, 0, 0, 0, 0, 0, 0};
    auto ft = to_filetime(std::chrono::system_clock::now());
    for (int i = 0; i < 8; ++i) blob.push_back(static_cast<std::uint8_t>(ft >> (8 * i)));
    for (int i = 0; i < 8; ++i) blob.push_back(static_cast<std::uint8_t>(0x40 + i));
    blob.insert(blob.end(), {0, 0, 0, 0});
    blob.insert(blob.end(), challenge->target_info.begin(), challenge->target_info.end());
    blob.insert(blob.end(), {0, 0, 0, 0});
    auto nt = compute_ntlm_v2_response(password, user, domain, challenge->server_challenge, blob);
    req.set(http::field::authorization,
            std::string(scheme) + " " +
                base64_encode(build_ntlm_authenticate(user, domain, "WS01", nt)));
    return c.roundtrip(std::move(req));
}

inline std::string basic(std::string_view user, std::string_view password) {
    return "Basic " + base64_encode(std::string(user) + ":" + std::string(password));
}

}  // namespace gatehouse::fake_cas::testing
