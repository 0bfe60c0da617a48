// Result<T>: a value or an error message, for the sender's pure core.
//
// The core never aborts on bad input (a malformed message, a truncated CopyData frame, a bad
// config value): it returns an error value and lets the event loop decide whether to log,
// dead-letter, or stop. std::expected is C++23; this is the small subset we need.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace crmsync::sender {

struct Error {
    std::string message;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    // Accessing the value of an error is a programming mistake: throw, never abort.
    T& value() & { return checked(); }
    const T& value() const& { return const_cast<Result*>(this)->checked(); }
    T&& value() && { return std::move(checked()); }
    T* operator->() { return &checked(); }
    const T* operator->() const { return &const_cast<Result*>(this)->checked(); }
    T& operator*() & { return checked(); }
    const T& operator*() const& { return const_cast<Result*>(this)->checked(); }

    const std::string& error() const {
        if (ok()) throw std::logic_error("Result::error() called on a value");
        return std::get<1>(state_).message;
    }

private:
    T& checked() {
        if (!ok()) throw std::logic_error("Result::value() called on an error: " + std::get<1>(state_).message);
        return std::get<0>(state_);
    }

    std::variant<T, Error> state_;
};

// A Result without a value.
using Status = Result<std::monostate>;

inline Status ok_status() { return Status(std::monostate{}); }

}  // namespace crmsync::sender
