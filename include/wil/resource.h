// Copyright (c) hcs contributors. Licensed under the MIT licence.
// wil/resource.h for Linux (hcs): a small, independently written subset of the RAII wrappers of the Windows
// Implementation Libraries (WIL), enough for Microsoft's HCS samples to compile unchanged with g++:
//   wil::unique_any<pointer, close_fn_t, close_fn>   move-only owner that calls close_fn(p) for a non-null p;
//   wil::unique_hlocal_string, wil::unique_hlocal     strings/memory the library returns (LocalFree);
//   wil::unique_handle                               a HANDLE closed with CloseHandle (NULL is "none");
//   wil::unique_event                                an event (CreateEventW/SetEvent/WaitForSingleObject);
//   wil::scope_exit(f)                               runs f when the returned object goes out of scope;
// and, once <computecore.h> is also included, the global aliases unique_hcs_operation, unique_hcs_system and
// unique_hcs_process. docs/c-api.md ("Headers") lists what is not provided.
#ifndef HCS_LINUX_WIL_RESOURCE_H
#define HCS_LINUX_WIL_RESOURCE_H

#ifndef __cplusplus
#error "<wil/resource.h> is C++ only; C programs call HcsClose*/LocalFree/CloseHandle themselves"
#endif

#include <cstddef>
#include <type_traits>
#include <utility>

#include "../windows.h"
#include "result.h"

namespace wil {

// Owns one resource: `pointer` is its handle type, close_fn (of type close_fn_t) releases it. A value-initialised
// pointer (NULL) means "owns nothing". Move-only.
template <typename pointer_t, typename close_fn_t, close_fn_t close_fn>
class unique_any {
public:
    using pointer = pointer_t;

    unique_any() noexcept = default;
    explicit unique_any(pointer value) noexcept : m_ptr(value) {}
    unique_any(std::nullptr_t) noexcept {}
    unique_any(unique_any&& other) noexcept : m_ptr(other.release()) {}
    unique_any(const unique_any&) = delete;
    unique_any& operator=(const unique_any&) = delete;
    ~unique_any() noexcept { reset(); }

    unique_any& operator=(unique_any&& other) noexcept
    {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }

    unique_any& operator=(std::nullptr_t) noexcept
    {
        reset();
        return *this;
    }

    // The owned value (still owned).
    pointer get() const noexcept { return m_ptr; }

    // Closes the owned value (if any) and owns `value` instead.
    void reset(pointer value = pointer()) noexcept
    {
        const pointer old = m_ptr;
        m_ptr = value;
        if (old != pointer()) {
            (void)close_fn(old);
        }
    }

    void reset(std::nullptr_t) noexcept { reset(); }

    // Gives up ownership without closing, and returns the value.
    pointer release() noexcept
    {
        const pointer value = m_ptr;
        m_ptr = pointer();
        return value;
    }

    // Closes the owned value and returns the address of the (now empty) storage, for an out-parameter.
    pointer* put() noexcept
    {
        reset();
        return &m_ptr;
    }

    // Same as put(): `&wrapper` passes the wrapper as an out-parameter (`HcsCreateComputeSystem(..., &system)`).
    pointer* operator&() noexcept { return put(); }

    // The address of the storage without closing (for an in/out parameter).
    pointer* addressof() noexcept { return &m_ptr; }

    explicit operator bool() const noexcept { return m_ptr != pointer(); }
    bool is_valid() const noexcept { return m_ptr != pointer(); }

    void swap(unique_any& other) noexcept
    {
        const pointer value = m_ptr;
        m_ptr = other.m_ptr;
        other.m_ptr = value;
    }

private:
    pointer m_ptr{};
};

template <typename P, typename F, F f>
inline void swap(unique_any<P, F, f>& a, unique_any<P, F, f>& b) noexcept
{
    a.swap(b);
}

template <typename P, typename F, F f>
inline bool operator==(const unique_any<P, F, f>& a, std::nullptr_t) noexcept
{
    return !a;
}

template <typename P, typename F, F f>
inline bool operator!=(const unique_any<P, F, f>& a, std::nullptr_t) noexcept
{
    return static_cast<bool>(a);
}

template <typename P, typename F, F f>
inline bool operator==(std::nullptr_t, const unique_any<P, F, f>& a) noexcept
{
    return !a;
}

template <typename P, typename F, F f>
inline bool operator!=(std::nullptr_t, const unique_any<P, F, f>& a) noexcept
{
    return static_cast<bool>(a);
}

// Memory and strings returned by libcomputecore.so (result documents): freed with LocalFree.
using unique_hlocal = unique_any<HLOCAL, decltype(&::LocalFree), ::LocalFree>;
using unique_hlocal_string = unique_any<PWSTR, decltype(&::LocalFree), ::LocalFree>;

// A HANDLE closed with CloseHandle. NULL means "none"; note that INVALID_HANDLE_VALUE is not treated as empty.
using unique_handle = unique_any<HANDLE, decltype(&::CloseHandle), ::CloseHandle>;

// How unique_event::create makes the event.
enum class EventOptions {
    None = 0x0,
    ManualReset = 0x1,
    Signaled = 0x2,
};
DEFINE_ENUM_FLAG_OPERATORS(EventOptions)

// An event object (auto-reset unless EventOptions::ManualReset).
class unique_event : public unique_any<HANDLE, decltype(&::CloseHandle), ::CloseHandle> {
public:
    using base = unique_any<HANDLE, decltype(&::CloseHandle), ::CloseHandle>;

    unique_event() noexcept = default;
    explicit unique_event(HANDLE event) noexcept : base(event) {}
    unique_event(std::nullptr_t) noexcept {}
    // Creates the event now (throws wil::ResultException on failure).
    explicit unique_event(EventOptions options) { create(options); }
    unique_event(unique_event&&) noexcept = default;
    unique_event& operator=(unique_event&&) noexcept = default;

    // Creates the event, replacing any owned one; false (GetLastError says why) on failure.
    bool try_create(EventOptions options = EventOptions::None, PCWSTR name = nullptr,
        LPSECURITY_ATTRIBUTES security = nullptr, bool* alreadyExists = nullptr) noexcept
    {
        const HANDLE event = ::CreateEventW(security, (options & EventOptions::ManualReset) == EventOptions::ManualReset,
            (options & EventOptions::Signaled) == EventOptions::Signaled, name);
        if (alreadyExists != nullptr) {
            *alreadyExists = false;
        }
        if (event == nullptr) {
            return false;
        }
        reset(event);
        return true;
    }

    // Creates the event, replacing any owned one; throws wil::ResultException on failure.
    void create(EventOptions options = EventOptions::None, PCWSTR name = nullptr,
        LPSECURITY_ATTRIBUTES security = nullptr, bool* alreadyExists = nullptr)
    {
        THROW_LAST_ERROR_IF(!try_create(options, name, security, alreadyExists));
    }

    void SetEvent() const noexcept { (void)::SetEvent(get()); }
    void ResetEvent() const noexcept { (void)::ResetEvent(get()); }

    // True if the event was signalled within timeoutMs (INFINITE: no limit).
    bool wait(DWORD timeoutMs = INFINITE) const noexcept { return ::WaitForSingleObject(get(), timeoutMs) == WAIT_OBJECT_0; }

    // True if the event is signalled now (for an auto-reset event this consumes the signal, as on Windows).
    bool is_signaled() const noexcept { return wait(0); }
};

// Runs a function when it goes out of scope, unless release() was called.
template <typename Function>
class scope_exit_t {
public:
    explicit scope_exit_t(Function f) noexcept : m_f(std::move(f)) {}
    scope_exit_t(scope_exit_t&& other) noexcept : m_f(std::move(other.m_f)), m_active(other.m_active)
    {
        other.m_active = false;
    }
    scope_exit_t(const scope_exit_t&) = delete;
    scope_exit_t& operator=(const scope_exit_t&) = delete;
    scope_exit_t& operator=(scope_exit_t&&) = delete;
    ~scope_exit_t() { reset(); }

    // Runs the function now (once).
    void reset()
    {
        if (m_active) {
            m_active = false;
            m_f();
        }
    }

    // Never runs the function.
    void release() noexcept { m_active = false; }

private:
    Function m_f;
    bool m_active = true;
};

template <typename Function>
[[nodiscard]] inline scope_exit_t<typename std::decay<Function>::type> scope_exit(Function&& f) noexcept
{
    return scope_exit_t<typename std::decay<Function>::type>(std::forward<Function>(f));
}

} // namespace wil

// The unique_hcs_* aliases, if <computecore.h> came first.
#include "hcs_unique.h"

#endif // HCS_LINUX_WIL_RESOURCE_H
