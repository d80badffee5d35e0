#include "fake-cas/encoding.hpp"

#include <gtest/gtest.h>

namespace gatehouse::fake_cas {
namespace {

TEST(Encoding, Base64RoundTripsAllLengths) {
    std::string s;
    for (int i = 0; i < 40; ++i) {
        auto enc = base64_encode(s);
        auto dec = base64_decode(enc);
        ASSERT_TRUE(dec);
        EXPECT_EQ(std::string(dec->begin(), dec->end()), s);
        auto url = base64url_decode(
            base64url_encode({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}));
        ASSERT_TRUE(url);
        EXPECT_EQ(std::string(url->begin(), url->end()), s);
        s.push_back(static_cast<char>(i * 37));
    }
    EXPECT_EQ(base64_encode("jdoe:P@ssw0rd"), "amRvZTpQQHNzdzByZA==");
    EXPECT_FALSE(base64_decode("a$b="));
}

TEST(Encoding, Utf16RoundTripsNonAscii) {
    std::string s = "J\xc3\xa9r\xc3\xb4me \xf0\x9f\x93\xa7";
    EXPECT_EQ(from_utf16le(utf16le(s)), s);
    EXPECT_EQ(utf16le("A"), (bytes{'A', 0}));
}

TEST(Encoding, FormValuesAreDecoded) {
    std::string_view form =
        "destination=https%3A%2F%2Fmail%2Fowa%2F&username=contoso%5Cjdoe&password=a+b";
    EXPECT_EQ(form_value(form, "username"), "contoso\\jdoe");
    EXPECT_EQ(form_value(form, "password"), "a b");
    EXPECT_EQ(form_value(form, "destination"), "https://mail/owa/");
    EXPECT_FALSE(form_value(form, "flags"));
}

TEST(Encoding, IdentitiesNormaliseToTheAccountName) {
    EXPECT_EQ(normalize_user("CONTOSO\\JDoe"), "jdoe");
    EXPECT_EQ(normalize_user("jdoe@contoso.com"), "jdoe");
    EXPECT_EQ(normalize_user("jdoe"), "jdoe");
}

TEST(Encoding, CookieValuesAreFoundByExactName) {
    std::string_view h = "cadataTTL=x; cadata=abc==; X-OWA-CANARY=c";
    EXPECT_EQ(cookie_value(h, "cadata"), "abc==");
    EXPECT_EQ(cookie_value(h, "cadataTTL"), "x");
    EXPECT_FALSE(cookie_value(h, "cadataKey"));
}

}  // namespace
}  // namespace gatehouse::fake_cas
