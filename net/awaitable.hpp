#pragma once
// Names every Gatehouse component uses for Asio, Beast and coroutines. Boost 1.81 has no default
// completion token that can be co_awaited, so every asynchronous call passes one explicitly:
// `use_awaitable` (throws on error) or `use_nothrow` (yields a tuple whose first element is the
// error code). Network failures are values: code on the data path uses `use_nothrow`.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <new>

namespace boost::beast {}
namespace boost::beast::http {}

namespace gatehouse {

namespace asio = boost::asio;         // from <boost/asio.hpp>
namespace beast = boost::beast;       // from <boost/beast.hpp>
namespace http = boost::beast::http;  // from <boost/beast/http.hpp>
using tcp = asio::ip::tcp;
using boost::system::error_code;

template <class T = void>
using awaitable = asio::awaitable<T>;

using asio::use_awaitable;

// co_await op(..., use_nothrow) yields (error_code, results...) and never throws.
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// An associated allocator for the handler of an operation that stays pending for long (an idle
// connection's wait): each operation gets an allocation of its own size. With the default
// (std::allocator), Asio recycles per-thread blocks and such an operation may keep whatever
// larger block a busy request freed last.
template <class T>
struct exact_allocator {
    using value_type = T;
    exact_allocator() noexcept = default;
    template <class U>
    exact_allocator(const exact_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
    friend bool operator==(exact_allocator, exact_allocator) noexcept { return true; }
};

using steady_clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

}  // namespace gatehouse
