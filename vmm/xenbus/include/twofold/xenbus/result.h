#pragma once
// A value or an error, for outcomes a guest can cause. Guest input never throws: a bad value
// is an ordinary outcome the caller must look at (std::expected would do, but it is C++23).
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace twofold::xenbus {

struct Error {
    std::string message;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}       // NOLINT: implicit by design
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}   // NOLINT: implicit by design

    [[nodiscard]] bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    // Reading the wrong alternative is a programming error, not a guest-caused one.
    [[nodiscard]] const T& value() const& { return std::get<0>(state_); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(state_)); }
    [[nodiscard]] const Error& error() const& { return std::get<1>(state_); }

private:
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit by design

    [[nodiscard]] bool ok() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] const Error& error() const& {
        if (!failed_) throw std::logic_error("Result<void>::error() on success");
        return error_;
    }

private:
    Error error_;
    bool failed_ = false;
};

} // namespace twofold::xenbus
