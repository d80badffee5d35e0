#pragma once
// One client connection: TLS handshake, then requests one after the other (HTTP/1.1
// keep-alive). Each request is validated, given to the rules, and either answered by the proxy
// (404, redirect, custom response, error triple) or forwarded to a server of the chosen farm.
// While the response is awaited, a second coroutine streams the request body upstream; both
// bodies go through fixed relay buffers, so memory does not depend on body sizes.

#include "net/awaitable.hpp"
#include "proxy/client_address_limiter.hpp"

#include <cstddef>
#include <exception>

namespace gatehouse::proxy {

class worker;

// Serves the client connection `socket` accepted on listener `listener` until it closes or is
// parked (an idle connection compacted by the worker; a later request resumes it in a new
// coroutine). Runs on `w`'s context; never throws (failures end this connection only).
// `hold` is the connection's count under the listener's per-client cap (empty when off).
awaitable<void> run_session(worker* w, tcp::socket socket, std::size_t listener,
                            client_address_limiter::slot hold);

// The completion handler of a session's coroutine: logs what escaped it.
void log_session_end(std::exception_ptr e);

}  // namespace gatehouse::proxy
