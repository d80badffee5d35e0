#include "proxy/buffer_pool.hpp"

namespace gatehouse::proxy {

relay_buffer& relay_buffer::operator=(relay_buffer&& other) noexcept {
    if (this != &other) {
        release();
        pool_ = other.pool_;
        data_ = std::move(other.data_);
    }
    return *this;
}

relay_buffer::~relay_buffer() {
    release();
}

void relay_buffer::release() noexcept {
    if (data_ && pool_) pool_->give_back(std::move(data_));
    data_.reset();
}

relay_buffer buffer_pool::acquire() {
    taken_.add();
    if (!free_.empty()) {
        auto data = std::move(free_.back());
        free_.pop_back();
        return relay_buffer(this, std::move(data));
    }
    return relay_buffer(this, std::unique_ptr<char[]>(new char[relay_buffer::size()]));
}

void buffer_pool::give_back(std::unique_ptr<char[]> data) noexcept {
    returned_.add();
    if (free_.size() < max_free_) {
        try {
            free_.push_back(std::move(data));
        } catch (...) {
            // dropping the buffer frees it
        }
    }
}

}  // namespace gatehouse::proxy
