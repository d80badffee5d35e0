#pragma once
// A read on a plain TCP socket that spares the system call Asio would waste on an empty socket.
//
// Asio registers each socket with epoll once, edge-triggered, and tries every read at once
// ("speculatively") before it waits. Its reactor stops trying first only after a read returned 0
// bytes, so a connection whose next bytes are not there yet (the back end still working, the
// client yet to send its next request) costs a recv() that fails with EAGAIN each time.
//
// A stream socket's recv() returns fewer bytes than asked only when it emptied the receive
// queue, and a byte that arrives later raises a new edge. So after a short read the next read may
// wait for that edge instead of trying first, unless the peer's FIN (or a reset) was already in
// the queue: recv() consumes a FIN along with the last bytes, reports it only on the next call,
// and no edge follows. The socket is therefore registered for EPOLLRDHUP too, and a short read
// counts as exhausting the socket only while the last events epoll reported for it had no
// EPOLLRDHUP, EPOLLHUP or EPOLLERR (readiness epoll reports is the socket's whole current state,
// so once a FIN is in, every later report carries EPOLLRDHUP; a FIN not reported yet is still to
// be reported, and that wakes the waiting read). The reactor takes the hint from the operation
// itself (done_and_exhausted), in the same step as the recv(), so no edge falls between the two.
//
// This reaches into Asio's epoll reactor (Boost 1.81) and is kept out of every unit but
// stream.cpp. It is used only on contexts whose reactor does no I/O locking (one thread runs
// them, BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO), where the operation reads the reactor's state
// without racing it.

#include "net/awaitable.hpp"

#include <memory>
#include <type_traits>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/scheduler.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#include <sys/epoll.h>

#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) || !defined(BOOST_ASIO_HAS_EPOLL)
#error "net/edge_read.hpp relies on Asio's epoll reactor"
#endif

namespace gatehouse::net::edge {

using reactor = asio::detail::reactor;

// The socket's implementation (descriptor, state bits, reactor registration): a protected
// member of basic_socket, named here through a pointer to member formed in a derived class.
struct socket_access : tcp::socket {
    static auto& implementation(tcp::socket& s) {
        return (s.*&socket_access::impl_).get_implementation();
    }
};

// Private members of the reactor, named through explicit instantiations (which may name them).
template <class Tag, typename Tag::type Member>
struct private_member {
    friend typename Tag::type member(Tag) { return Member; }
};
struct epoll_fd_tag {
    using type = int reactor::*;
    friend type member(epoll_fd_tag);
};
struct registered_events_tag {
    using type = std::uint32_t reactor::descriptor_state::*;
    friend type member(registered_events_tag);
};
template struct private_member<epoll_fd_tag, &reactor::epoll_fd_>;
template struct private_member<registered_events_tag,
                               &reactor::descriptor_state::registered_events_>;

// The events epoll last reported for a descriptor, kept in the operation Asio queues for it.
struct reported_events {
    using operation = asio::detail::scheduler_operation;
    struct access : operation {
        static unsigned int of(const reactor::descriptor_state* state) {
            // descriptor_state derives from the operation privately: a C-style cast may name
            // an inaccessible base.
            return ((const operation*)state)->*&access::task_result_;
        }
    };
};

// Registers `s` (open) for EPOLLRDHUP and returns its reactor, or nullptr when edge reads do
// not apply: the context locks its reactor's I/O (several threads may run it), or epoll refused.
inline reactor* enable(tcp::socket& s) {
    auto& context = asio::query(s.get_executor(), asio::execution::context);
    auto hint = asio::use_service<asio::detail::scheduler>(context).concurrency_hint();
    if (BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(REACTOR_IO, hint)) return nullptr;
    auto& impl = socket_access::implementation(s);
    reactor::descriptor_state* state = impl.reactor_data_;
    if (state == nullptr) return nullptr;
    auto& r = asio::use_service<reactor>(context);
    auto& registered = state->*member(registered_events_tag{});
    epoll_event ev{};
    ev.events = registered | EPOLLRDHUP;
    ev.data.ptr = state;
    if (::epoll_ctl(r.*member(epoll_fd_tag{}), EPOLL_CTL_MOD, impl.socket_, &ev) != 0)
        return nullptr;
    registered = ev.events;  // Asio's own later changes (EPOLLOUT) keep EPOLLRDHUP
    return &r;
}

template <class Handler, class IoExecutor>
class read_op : public asio::detail::reactor_op {
public:
    BOOST_ASIO_DEFINE_HANDLER_PTR(read_op);

    read_op(asio::detail::socket_type socket, const reactor::descriptor_state* state,
            asio::mutable_buffer buffer, Handler& handler, const IoExecutor& io_ex)
        : reactor_op(error_code{}, &read_op::do_perform, &read_op::do_complete),
          socket_(socket),
          state_(state),
          buffer_(buffer),
          handler_(std::move(handler)),
          work_(handler_, io_ex) {}

    static status do_perform(reactor_op* base) {
        auto* o = static_cast<read_op*>(base);
        if (!asio::detail::socket_ops::non_blocking_recv1(o->socket_, o->buffer_.data(),
                                                          o->buffer_.size(), 0, true, o->ec_,
                                                          o->bytes_transferred_))
            return not_done;  // EAGAIN: the reactor queues the operation for the next edge
        if (o->bytes_transferred_ == 0) return done_and_exhausted;    // end of stream or error
        if (o->bytes_transferred_ == o->buffer_.size()) return done;  // more may be queued
        // Short: the queue is empty; unless a FIN or reset came with it, an edge will follow.
        constexpr unsigned int end = EPOLLRDHUP | EPOLLHUP | EPOLLERR;
        return (reported_events::access::of(o->state_) & end) == 0 ? done_and_exhausted : done;
    }

    static void do_complete(void* owner, asio::detail::operation* base, const error_code&,
                            std::size_t) {
        auto* o = static_cast<read_op*>(base);
        ptr p = {std::addressof(o->handler_), o, o};
        asio::detail::handler_work<Handler, IoExecutor> w(std::move(o->work_));
        // The handler moves out before the operation's memory goes back to the allocator.
        asio::detail::binder2<Handler, error_code, std::size_t> handler(o->handler_, o->ec_,
                                                                        o->bytes_transferred_);
        p.h = std::addressof(handler.handler_);
        p.reset();
        if (owner) {
            asio::detail::fenced_block b(asio::detail::fenced_block::half);
            w.complete(handler, handler.handler_);
        }
    }

private:
    asio::detail::socket_type socket_;
    const reactor::descriptor_state* state_;
    asio::mutable_buffer buffer_;
    Handler handler_;
    asio::detail::handler_work<Handler, IoExecutor> work_;
};

struct initiate_read {
    template <class Handler>
    void operator()(Handler&& h, tcp::socket* socket, reactor* r,
                    asio::mutable_buffer buffer) const {
        using handler_type = std::decay_t<Handler>;
        handler_type handler(std::forward<Handler>(h));
        // Per-operation cancellation, an empty buffer: Asio's own read handles them.
        if (asio::get_associated_cancellation_slot(handler).is_connected() || buffer.size() == 0) {
            socket->async_read_some(buffer, std::move(handler));
            return;
        }
        using op = read_op<handler_type, tcp::socket::executor_type>;
        auto& impl = socket_access::implementation(*socket);
        const bool is_continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
        typename op::ptr p = {std::addressof(handler), op::ptr::allocate(handler), nullptr};
        p.p =
            new (p.v) op(impl.socket_, impl.reactor_data_, buffer, handler, socket->get_executor());
        namespace ops = asio::detail::socket_ops;
        if ((impl.state_ & ops::non_blocking) != 0 ||
            ops::set_internal_non_blocking(impl.socket_, impl.state_, true, p.p->ec_)) {
            r->start_op(reactor::read_op, impl.socket_, impl.reactor_data_, p.p, is_continuation,
                        true);
        } else {
            r->post_immediate_completion(p.p, is_continuation);
        }
        p.v = p.p = nullptr;
    }
};

// As socket.async_read_some(buffer, token), `r` being what enable(socket) returned.
template <class Token>
auto async_read_some(tcp::socket& socket, reactor& r, asio::mutable_buffer buffer, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(initiate_read{}, token,
                                                                      &socket, &r, buffer);
}

}  // namespace gatehouse::net::edge
