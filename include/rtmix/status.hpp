// rtmix::Status: the result of every control-side call that can fail.
//
// Control calls never throw for a user mistake (an unknown path, a value out of range, a cycle);
// they return a Status whose message is ready to show to a person.
#pragma once

#include <string>
#include <utility>

namespace rtmix {

class [[nodiscard]] Status {
public:
    enum class Code {
        ok,
        unknown_path,     ///< a parameter path, track or bus that does not exist
        out_of_range,     ///< a value outside the parameter's range
        invalid_value,    ///< a value of the wrong kind (text where a number is expected, ...)
        duplicate_name,   ///< a track or bus of that name exists already
        invalid_name,     ///< empty, or holds a character a path cannot carry
        cycle,            ///< the routing change would make the signal flow in a circle
        queue_full,       ///< the control->audio queue had no room; nothing was changed
        limit_reached,    ///< a fixed capacity is too small (sends per strip, the queue size)
    };

    Status() = default;
    Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
    static Status success() { return {}; }

    bool ok() const noexcept { return code_ == Code::ok; }
    explicit operator bool() const noexcept { return ok(); }
    Code code() const noexcept { return code_; }
    /// What went wrong, for a person (empty when ok).
    const std::string& message() const noexcept { return message_; }

private:
    Code code_ = Code::ok;
    std::string message_;
};

}  // namespace rtmix
