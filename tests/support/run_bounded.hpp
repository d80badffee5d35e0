#pragma once
// Runs a coroutine on an io_context until it finishes or a time limit passes, without waiting
// for other work on the context (servers keep running). A hang fails the test, never the CI job.

#include "net/awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <stdexcept>

namespace gatehouse::test {

template <class T>
T run_bounded(asio::io_context& ioc, awaitable<T> task,
              std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto result = asio::co_spawn(ioc, std::move(task), asio::use_future);
    auto deadline = steady_clock::now() + limit;
    while (result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        if (steady_clock::now() >= deadline)
            throw std::runtime_error("run_bounded: the coroutine did not finish in time");
        if (ioc.stopped()) ioc.restart();
        ioc.run_one_until(deadline);
    }
    return result.get();  // rethrows the coroutine's exception here
}

}  // namespace gatehouse::test
