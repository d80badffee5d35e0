#pragma once
// Fixed-size relay buffers for bodies in flight, recycled per worker thread. A connection holds
// one only while it moves a body, so an idle connection costs no relay memory and a busy worker
// allocates nothing in steady state. Not thread-safe: one pool per worker.

#include "proxy/server_runtime.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace gatehouse::proxy {

class buffer_pool;

// A buffer on loan; goes back to its pool when destroyed.
class relay_buffer {
public:
    relay_buffer() = default;
    relay_buffer(buffer_pool* pool, std::unique_ptr<char[]> data) noexcept
        : pool_(pool), data_(std::move(data)) {}
    relay_buffer(relay_buffer&& other) noexcept = default;
    relay_buffer& operator=(relay_buffer&& other) noexcept;
    ~relay_buffer();

    char* data() const noexcept { return data_.get(); }
    static constexpr std::size_t size() noexcept { return 64 * 1024; }
    explicit operator bool() const noexcept { return data_ != nullptr; }
    void release() noexcept;

private:
    buffer_pool* pool_ = nullptr;
    std::unique_ptr<char[]> data_;
};

class buffer_pool {
public:
    // Keeps at most `max_free` returned buffers for reuse.
    explicit buffer_pool(std::size_t max_free = 256) : max_free_(max_free) {}

    relay_buffer acquire();
    // Buffers on loan right now. Safe to call from any thread.
    std::uint64_t in_use() const noexcept {
        auto taken = taken_.get();
        auto returned = returned_.get();
        return taken > returned ? taken - returned : 0;
    }

private:
    friend class relay_buffer;
    void give_back(std::unique_ptr<char[]> data) noexcept;

    std::size_t max_free_;
    std::vector<std::unique_ptr<char[]>> free_;
    counter taken_;
    counter returned_;
};

}  // namespace gatehouse::proxy
