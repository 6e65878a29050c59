// Copyright (c) hcs contributors. Licensed under the MIT licence.
// wil/result.h for Linux (hcs): a small, independently written subset of the error-handling macros of the Windows
// Implementation Libraries (WIL), enough for Microsoft's HCS samples to compile unchanged with g++. It is not WIL:
// docs/c-api.md ("Headers") lists what it provides and what it leaves out.
//
// Behaviour:
//  - THROW_* throw wil::ResultException (a std::exception) carrying the HRESULT, the file:line and a message;
//  - THROW_IF_FAILED(hr) is an expression whose value is hr;
//  - *_MSG macros format printf-style, and understand MSVC's %ws / %S (a wchar_t* string) and %ls, converting the
//    UTF-32 argument to UTF-8 themselves (glibc has no %ws, and its %ls fails on non-ASCII in the "C" locale);
//  - LOG_* macros evaluate to their HRESULT and print nothing;
//  - WI_ASSERT is compiled out unless RESULT_DEBUG is defined, then it is assert().
// Never let one of these exceptions leave an HCS callback: it would unwind into the library and end the process.
#ifndef HCS_LINUX_WIL_RESULT_H
#define HCS_LINUX_WIL_RESULT_H

#ifndef __cplusplus
#error "<wil/result.h> is C++ only; C programs test HRESULTs with FAILED()/SUCCEEDED() from <winerror.h>"
#endif

#include <cassert>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cwchar>
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "../windows.h"

namespace wil {

// Identity, as in WIL: documents (and type-checks) that a value is an HRESULT.
inline constexpr HRESULT verify_hresult(HRESULT hr) noexcept { return hr; }

namespace details {

// Appends one code point as UTF-8; a value that is not a Unicode scalar value becomes U+FFFD.
inline void AppendUtf8(std::string& out, std::uint32_t c)
{
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        c = 0xFFFD;
    }
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

// A wide (UTF-32) string as UTF-8, at most maxChars characters of it (negative: all). NULL reads "(null)".
inline std::string WideToUtf8(const wchar_t* s, long maxChars = -1)
{
    if (s == nullptr) {
        return "(null)";
    }
    std::string out;
    for (long i = 0; s[i] != L'\0' && (maxChars < 0 || i < maxChars); ++i) {
        AppendUtf8(out, static_cast<std::uint32_t>(s[i]));
    }
    return out;
}

// Appends text padded to width (counted in code points, not bytes); left-justified with the '-' flag.
inline void AppendPadded(std::string& out, const std::string& text, long width, bool left)
{
    long chars = 0;
    for (char ch : text) {
        if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) {
            ++chars;
        }
    }
    const std::string pad(width > chars ? static_cast<std::size_t>(width - chars) : 0, ' ');
    out += left ? text + pad : pad + text;
}

// snprintf of one conversion into out.
template <typename T>
inline void AppendPrintf(std::string& out, const std::string& spec, T value)
{
    char small[128];
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    const int n = std::snprintf(small, sizeof small, spec.c_str(), value);
    if (n < 0) {
        return;
    }
    if (static_cast<std::size_t>(n) < sizeof small) {
        out.append(small, static_cast<std::size_t>(n));
        return;
    }
    std::string big(static_cast<std::size_t>(n) + 1, '\0');
    std::snprintf(&big[0], big.size(), spec.c_str(), value);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    out.append(big.data(), static_cast<std::size_t>(n));
}

// printf-style formatting with MSVC's string conventions: %s is a char* string, %ws / %ls / %S a wchar_t* string
// (written as UTF-8), %c / %wc / %lc / %C likewise for one character; MSVC's I64/I32/I size prefixes are accepted.
// %n is not supported (its argument is skipped). An unknown conversion is copied literally.
inline std::string FormatV(const char* format, va_list args)
{
    std::string out;
    if (format == nullptr) {
        return out;
    }
    for (const char* p = format; *p != '\0'; ++p) {
        if (*p != '%') {
            out += *p;
            continue;
        }
        const char* start = p++;
        if (*p == '%') {
            out += '%';
            continue;
        }
        std::string flags;
        while (*p == '-' || *p == '+' || *p == ' ' || *p == '#' || *p == '0' || *p == '\'') {
            flags += *p++;
        }
        long width = -1;
        if (*p == '*') {
            width = va_arg(args, int);
            if (width < 0) {
                flags += '-';
                width = -width;
            }
            ++p;
        } else if (*p >= '0' && *p <= '9') {
            width = 0;
            while (*p >= '0' && *p <= '9') {
                width = width * 10 + (*p++ - '0');
            }
        }
        long precision = -1;
        if (*p == '.') {
            ++p;
            precision = 0;
            if (*p == '*') {
                precision = va_arg(args, int);
                ++p;
            } else {
                while (*p >= '0' && *p <= '9') {
                    precision = precision * 10 + (*p++ - '0');
                }
            }
        }
        // Length: hh h l ll L j z t w q, and MSVC's I64 I32 I.
        std::string length;
        if (p[0] == 'I' && p[1] == '6' && p[2] == '4') {
            length = "ll";
            p += 3;
        } else if (p[0] == 'I' && p[1] == '3' && p[2] == '2') {
            p += 3;
        } else if (p[0] == 'I') {
            length = "z";
            ++p;
        } else if ((p[0] == 'h' && p[1] == 'h') || (p[0] == 'l' && p[1] == 'l')) {
            length.assign(p, 2);
            p += 2;
        } else if (*p == 'h' || *p == 'l' || *p == 'L' || *p == 'j' || *p == 'z' || *p == 't' || *p == 'w' ||
            *p == 'q') {
            length = (*p == 'q') ? "ll" : std::string(1, *p);
            ++p;
        }
        const char conversion = *p;
        const bool left = flags.find('-') != std::string::npos;
        std::string spec = "%" + flags;
        if (width >= 0) {
            spec += std::to_string(width);
        }
        if (precision >= 0) {
            spec += "." + std::to_string(precision);
        }
        switch (conversion) {
        case 's':
        case 'S': {
            const bool wide = conversion == 'S' || length == "w" || length == "l";
            if (wide) {
                AppendPadded(out, WideToUtf8(va_arg(args, const wchar_t*), precision), width, left);
            } else {
                const char* s = va_arg(args, const char*);
                std::string text = s == nullptr ? std::string("(null)") : std::string(s);
                if (precision >= 0 && static_cast<std::size_t>(precision) < text.size()) {
                    text.resize(static_cast<std::size_t>(precision));
                }
                AppendPadded(out, text, width, left);
            }
            break;
        }
        case 'c':
        case 'C': {
            std::string text;
            if (conversion == 'C' || length == "w" || length == "l") {
                AppendUtf8(text, static_cast<std::uint32_t>(va_arg(args, wint_t)));
            } else {
                text += static_cast<char>(va_arg(args, int));
            }
            AppendPadded(out, text, width, left);
            break;
        }
        case 'd':
        case 'i': {
            std::intmax_t v;
            if (length == "ll") {
                v = va_arg(args, long long);
            } else if (length == "l") {
                v = va_arg(args, long);
            } else if (length == "j") {
                v = va_arg(args, std::intmax_t);
            } else if (length == "z" || length == "t") {
                v = va_arg(args, std::ptrdiff_t);
            } else {
                const int i = va_arg(args, int);
                v = length == "hh" ? static_cast<signed char>(i) : length == "h" ? static_cast<short>(i) : i;
            }
            AppendPrintf(out, spec + "j" + conversion, v);
            break;
        }
        case 'u':
        case 'o':
        case 'x':
        case 'X': {
            std::uintmax_t v;
            if (length == "ll") {
                v = va_arg(args, unsigned long long);
            } else if (length == "l") {
                v = va_arg(args, unsigned long);
            } else if (length == "j") {
                v = va_arg(args, std::uintmax_t);
            } else if (length == "z" || length == "t") {
                v = va_arg(args, std::size_t);
            } else {
                const unsigned int u = va_arg(args, unsigned int);
                v = length == "hh" ? static_cast<unsigned char>(u)
                    : length == "h" ? static_cast<unsigned short>(u)
                                    : u;
            }
            AppendPrintf(out, spec + "j" + conversion, v);
            break;
        }
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G':
        case 'a':
        case 'A':
            if (length == "L") {
                AppendPrintf(out, spec + "L" + conversion, va_arg(args, long double));
            } else {
                AppendPrintf(out, spec + conversion, va_arg(args, double));
            }
            break;
        case 'p':
            AppendPrintf(out, spec + "p", va_arg(args, void*));
            break;
        case 'n':
            (void)va_arg(args, void*);
            break;
        default:
            // Unknown or truncated conversion: copy it as written and stop consuming arguments for it.
            out.append(start, static_cast<std::size_t>(p - start) + (conversion != '\0' ? 1 : 0));
            if (conversion == '\0') {
                return out;
            }
            break;
        }
    }
    return out;
}

inline std::string Format(const char* format, ...)
{
    va_list args;
    va_start(args, format);
    std::string s = FormatV(format, args);
    va_end(args);
    return s;
}

// The documented name of the HCS and common HRESULTs, or nullptr.
inline const char* HResultName(HRESULT hr) noexcept
{
    switch (hr) {
#define HCS_WIL_NAME(x) \
    case x:             \
        return #x;
        HCS_WIL_NAME(S_FALSE)
        HCS_WIL_NAME(E_NOTIMPL)
        HCS_WIL_NAME(E_POINTER)
        HCS_WIL_NAME(E_ABORT)
        HCS_WIL_NAME(E_FAIL)
        HCS_WIL_NAME(E_UNEXPECTED)
        HCS_WIL_NAME(E_ACCESSDENIED)
        HCS_WIL_NAME(E_HANDLE)
        HCS_WIL_NAME(E_OUTOFMEMORY)
        HCS_WIL_NAME(E_INVALIDARG)
        HCS_WIL_NAME(HCS_E_TERMINATED_DURING_START)
        HCS_WIL_NAME(HCS_E_IMAGE_MISMATCH)
        HCS_WIL_NAME(HCS_E_HYPERV_NOT_INSTALLED)
        HCS_WIL_NAME(HCS_E_INVALID_STATE)
        HCS_WIL_NAME(HCS_E_UNEXPECTED_EXIT)
        HCS_WIL_NAME(HCS_E_TERMINATED)
        HCS_WIL_NAME(HCS_E_CONNECT_FAILED)
        HCS_WIL_NAME(HCS_E_CONNECTION_TIMEOUT)
        HCS_WIL_NAME(HCS_E_CONNECTION_CLOSED)
        HCS_WIL_NAME(HCS_E_UNKNOWN_MESSAGE)
        HCS_WIL_NAME(HCS_E_UNSUPPORTED_PROTOCOL_VERSION)
        HCS_WIL_NAME(HCS_E_INVALID_JSON)
        HCS_WIL_NAME(HCS_E_SYSTEM_NOT_FOUND)
        HCS_WIL_NAME(HCS_E_SYSTEM_ALREADY_EXISTS)
        HCS_WIL_NAME(HCS_E_SYSTEM_ALREADY_STOPPED)
        HCS_WIL_NAME(HCS_E_PROTOCOL_ERROR)
        HCS_WIL_NAME(HCS_E_INVALID_LAYER)
        HCS_WIL_NAME(HCS_E_WINDOWS_INSIDER_REQUIRED)
        HCS_WIL_NAME(HCS_E_SERVICE_NOT_AVAILABLE)
        HCS_WIL_NAME(HCS_E_OPERATION_NOT_STARTED)
        HCS_WIL_NAME(HCS_E_OPERATION_ALREADY_STARTED)
        HCS_WIL_NAME(HCS_E_OPERATION_PENDING)
        HCS_WIL_NAME(HCS_E_OPERATION_TIMEOUT)
        HCS_WIL_NAME(HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET)
        HCS_WIL_NAME(HCS_E_OPERATION_RESULT_ALLOCATION_FAILED)
        HCS_WIL_NAME(HCS_E_ACCESS_DENIED)
        HCS_WIL_NAME(HCS_E_GUEST_CRITICAL_ERROR)
        HCS_WIL_NAME(HCS_E_PROCESS_INFO_NOT_AVAILABLE)
        HCS_WIL_NAME(HCS_E_SERVICE_DISCONNECT)
        HCS_WIL_NAME(HCS_E_PROCESS_ALREADY_STOPPED)
        HCS_WIL_NAME(HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION)
        HCS_WIL_NAME(HCS_E_OPERATION_ALREADY_CANCELLED)
#undef HCS_WIL_NAME
    default:
        return nullptr;
    }
}

} // namespace details

// What every THROW_* macro throws: the HRESULT, where it was thrown, and the formatted message (may be empty).
class ResultException : public std::exception {
public:
    ResultException(HRESULT hr, const char* file, int line, std::string message)
        : m_hr(hr), m_file(file != nullptr ? file : ""), m_line(line), m_message(std::move(message))
    {
        char code[16];
        std::snprintf(code, sizeof code, "0x%08X", static_cast<unsigned int>(hr));
        m_what = m_file + ":" + std::to_string(m_line) + ": " + code;
        if (const char* name = details::HResultName(hr)) {
            m_what += std::string(" (") + name + ")";
        }
        if (!m_message.empty()) {
            m_what += ": " + m_message;
        }
    }

    // The HRESULT of the failure.
    HRESULT GetErrorCode() const noexcept { return m_hr; }
    // "file:line: 0x8037010D (HCS_E_INVALID_JSON): message".
    const char* what() const noexcept override { return m_what.c_str(); }
    // The formatted message alone (empty when none was given).
    const std::string& GetMessage() const noexcept { return m_message; }
    const char* GetFile() const noexcept { return m_file.c_str(); }
    int GetLine() const noexcept { return m_line; }

private:
    HRESULT m_hr;
    std::string m_file;
    int m_line;
    std::string m_message;
    std::string m_what;
};

// The HRESULT of the exception being handled (call only inside a catch block): a ResultException's code,
// E_OUTOFMEMORY for std::bad_alloc, HRESULT_FROM_WIN32(ERROR_UNHANDLED_EXCEPTION) for anything else.
inline HRESULT ResultFromCaughtException() noexcept
{
    try {
        throw;
    } catch (const ResultException& e) {
        return e.GetErrorCode();
    } catch (const std::bad_alloc&) {
        return E_OUTOFMEMORY;
    } catch (...) {
        return HRESULT_FROM_WIN32(ERROR_UNHANDLED_EXCEPTION);
    }
}

// Runs f and turns any exception into its HRESULT (S_OK if none): the way to keep exceptions out of HCS callbacks.
template <typename Functor>
inline HRESULT ResultFromException(Functor&& f) noexcept
{
    try {
        f();
        return S_OK;
    } catch (...) {
        return ResultFromCaughtException();
    }
}

namespace details {

[[noreturn]] inline void ThrowHr(const char* file, int line, HRESULT hr, std::string message = std::string())
{
    throw ResultException(hr, file, line, std::move(message));
}

[[noreturn]] inline void ThrowHrMsg(const char* file, int line, HRESULT hr, const char* format, ...)
{
    va_list args;
    va_start(args, format);
    std::string message = FormatV(format, args);
    va_end(args);
    ThrowHr(file, line, hr, std::move(message));
}

inline HRESULT ThrowIfFailed(const char* file, int line, HRESULT hr)
{
    if (FAILED(hr)) {
        ThrowHr(file, line, hr);
    }
    return hr;
}

inline bool ThrowHrIf(const char* file, int line, HRESULT hr, bool condition)
{
    if (condition) {
        ThrowHr(file, line, hr);
    }
    return condition;
}

template <typename Pointer>
inline const Pointer& ThrowHrIfNull(const char* file, int line, HRESULT hr, const Pointer& pointer)
{
    if (pointer == nullptr) {
        ThrowHr(file, line, hr);
    }
    return pointer;
}

// GetLastError() as an HRESULT; E_FAIL if the last error is 0 (a failure must never read as success).
inline HRESULT LastErrorHr() noexcept
{
    const DWORD error = ::GetLastError();
    return error == 0 ? E_FAIL : HRESULT_FROM_WIN32(error);
}

inline bool ThrowLastErrorIf(const char* file, int line, bool condition)
{
    if (condition) {
        ThrowHr(file, line, LastErrorHr());
    }
    return condition;
}

inline BOOL ThrowIfWin32BoolFalse(const char* file, int line, BOOL result)
{
    if (!result) {
        ThrowHr(file, line, LastErrorHr());
    }
    return result;
}

inline DWORD ThrowIfWin32Error(const char* file, int line, DWORD error)
{
    if (error != 0) {
        ThrowHr(file, line, HRESULT_FROM_WIN32(error));
    }
    return error;
}

[[noreturn]] inline void FailFast(const char* file, int line, HRESULT hr, const char* what) noexcept
{
    std::fprintf(stderr, "%s:%d: fail fast 0x%08X: %s\n", file, line, static_cast<unsigned int>(hr), what);
    std::abort();
}

#ifdef RESULT_DEBUG
// WI_VERIFY under RESULT_DEBUG: the condition is evaluated once, asserted, and returned.
inline bool Verify(bool condition, const char* text, const char* file, int line) noexcept
{
    if (!condition) {
        std::fprintf(stderr, "%s:%d: WI_VERIFY failed: %s\n", file, line, text);
        std::abort();
    }
    return condition;
}
#endif

} // namespace details
} // namespace wil

// ---- Throwing ----
#define THROW_HR(hr) ::wil::details::ThrowHr(__FILE__, __LINE__, ::wil::verify_hresult(hr))
#define THROW_HR_MSG(hr, ...) ::wil::details::ThrowHrMsg(__FILE__, __LINE__, ::wil::verify_hresult(hr), __VA_ARGS__)
#define THROW_IF_FAILED(hr) ::wil::details::ThrowIfFailed(__FILE__, __LINE__, ::wil::verify_hresult(hr))
// hr is evaluated first; the message arguments only if it failed (so they may read what the call wrote).
#define THROW_IF_FAILED_MSG(hr, ...)                                                                  \
    ([&]() -> HRESULT {                                                                               \
        const HRESULT hcsWilHr_ = ::wil::verify_hresult(hr);                                         \
        if (FAILED(hcsWilHr_)) {                                                                      \
            ::wil::details::ThrowHrMsg(__FILE__, __LINE__, hcsWilHr_, __VA_ARGS__);                  \
        }                                                                                             \
        return hcsWilHr_;                                                                             \
    }())
#define THROW_HR_IF(hr, condition) ::wil::details::ThrowHrIf(__FILE__, __LINE__, (hr), static_cast<bool>(condition))
#define THROW_HR_IF_MSG(hr, condition, ...)                                                            \
    ([&]() -> bool {                                                                                  \
        const bool hcsWilCondition_ = static_cast<bool>(condition);                                  \
        if (hcsWilCondition_) {                                                                       \
            ::wil::details::ThrowHrMsg(__FILE__, __LINE__, (hr), __VA_ARGS__);                       \
        }                                                                                             \
        return hcsWilCondition_;                                                                      \
    }())
#define THROW_HR_IF_NULL(hr, pointer) ::wil::details::ThrowHrIfNull(__FILE__, __LINE__, (hr), (pointer))
#define THROW_IF_NULL_ALLOC(pointer) THROW_HR_IF_NULL(E_OUTOFMEMORY, pointer)
#define THROW_LAST_ERROR() ::wil::details::ThrowHr(__FILE__, __LINE__, ::wil::details::LastErrorHr())
#define THROW_LAST_ERROR_IF(condition) \
    ::wil::details::ThrowLastErrorIf(__FILE__, __LINE__, static_cast<bool>(condition))
#define THROW_LAST_ERROR_IF_NULL(pointer) THROW_LAST_ERROR_IF((pointer) == nullptr)
#define THROW_IF_WIN32_BOOL_FALSE(win32BOOL) \
    ::wil::details::ThrowIfWin32BoolFalse(__FILE__, __LINE__, static_cast<BOOL>(win32BOOL))
#define THROW_WIN32(win32err) THROW_HR(HRESULT_FROM_WIN32(win32err))
#define THROW_IF_WIN32_ERROR(win32err) ::wil::details::ThrowIfWin32Error(__FILE__, __LINE__, (win32err))

// ---- Returning (statements: they return from the enclosing function) ----
#define RETURN_HR(hr) return ::wil::verify_hresult(hr)
#define RETURN_IF_FAILED(hr)                                  \
    do {                                                      \
        const HRESULT hcsWilHr_ = ::wil::verify_hresult(hr); \
        if (FAILED(hcsWilHr_)) {                              \
            return hcsWilHr_;                                 \
        }                                                     \
    } while (0)
#define RETURN_HR_IF(hr, condition) \
    do {                            \
        if (condition) {            \
            return (hr);            \
        }                           \
    } while (0)
#define RETURN_HR_IF_NULL(hr, pointer) RETURN_HR_IF(hr, (pointer) == nullptr)
#define RETURN_IF_NULL_ALLOC(pointer) RETURN_HR_IF_NULL(E_OUTOFMEMORY, pointer)
#define RETURN_LAST_ERROR() return ::wil::details::LastErrorHr()
#define RETURN_LAST_ERROR_IF(condition)                     \
    do {                                                    \
        if (condition) {                                    \
            return ::wil::details::LastErrorHr();           \
        }                                                   \
    } while (0)
#define RETURN_LAST_ERROR_IF_NULL(pointer) RETURN_LAST_ERROR_IF((pointer) == nullptr)
#define RETURN_IF_WIN32_BOOL_FALSE(win32BOOL) RETURN_LAST_ERROR_IF(!(win32BOOL))
#define RETURN_IF_WIN32_ERROR(win32err)                                   \
    do {                                                                  \
        const DWORD hcsWilError_ = (win32err);                           \
        if (hcsWilError_ != 0) {                                          \
            return HRESULT_FROM_WIN32(hcsWilError_);                      \
        }                                                                 \
    } while (0)
#define CATCH_RETURN()                                     \
    catch (...)                                            \
    {                                                      \
        return ::wil::ResultFromCaughtException();         \
    }

// ---- Logging: hcs prints nothing; these evaluate to their argument. ----
#define LOG_IF_FAILED(hr) ::wil::verify_hresult(hr)
#define LOG_IF_FAILED_MSG(hr, ...) ::wil::verify_hresult(hr)
#define LOG_HR(hr) ::wil::verify_hresult(hr)
#define LOG_HR_MSG(hr, ...) ::wil::verify_hresult(hr)
#define LOG_HR_IF(hr, condition) static_cast<bool>(condition)
#define LOG_HR_IF_NULL(hr, pointer) (pointer)
#define LOG_LAST_ERROR_IF(condition) static_cast<bool>(condition)
#define LOG_IF_WIN32_BOOL_FALSE(win32BOOL) (win32BOOL)
#define LOG_CAUGHT_EXCEPTION() ::wil::ResultFromCaughtException()
#define CATCH_LOG()                                        \
    catch (...)                                            \
    {                                                      \
        (void)::wil::ResultFromCaughtException();          \
    }

// ---- Fail fast: print to stderr and abort() ----
#define FAIL_FAST_HR(hr) ::wil::details::FailFast(__FILE__, __LINE__, (hr), #hr)
#define FAIL_FAST_IF_FAILED(hr)                                                                   \
    do {                                                                                          \
        const HRESULT hcsWilHr_ = ::wil::verify_hresult(hr);                                     \
        if (FAILED(hcsWilHr_)) {                                                                  \
            ::wil::details::FailFast(__FILE__, __LINE__, hcsWilHr_, #hr);                        \
        }                                                                                         \
    } while (0)
#define FAIL_FAST_IF(condition)                                                                    \
    do {                                                                                          \
        if (condition) {                                                                          \
            ::wil::details::FailFast(__FILE__, __LINE__, E_UNEXPECTED, #condition);              \
        }                                                                                         \
    } while (0)
#define FAIL_FAST_IF_NULL(pointer) FAIL_FAST_IF((pointer) == nullptr)

// ---- Assertions: compiled out (the condition is not evaluated) unless RESULT_DEBUG is defined. ----
#ifdef RESULT_DEBUG
#define WI_ASSERT(condition) assert(condition)
#define WI_ASSERT_MSG(condition, msg) assert((condition) && (msg))
#define WI_VERIFY(condition) ::wil::details::Verify(static_cast<bool>(condition), #condition, __FILE__, __LINE__)
#define WI_VERIFY_SUCCEEDED(hr) ((void)::wil::details::Verify(SUCCEEDED(hr), #hr, __FILE__, __LINE__))
#else
#define WI_ASSERT(condition) ((void)sizeof(!(condition)))
#define WI_ASSERT_MSG(condition, msg) ((void)sizeof(!(condition)))
#define WI_VERIFY(condition) static_cast<bool>(condition)
#define WI_VERIFY_SUCCEEDED(hr) ((void)(hr))
#endif
#define WI_ASSERT_NOASSUME WI_ASSERT

// ---- Flag helpers ----
#define WI_IsFlagSet(val, flag) (((val) & (flag)) == (flag))
#define WI_IsFlagClear(val, flag) (((val) & (flag)) != (flag))
#define WI_IsAnyFlagSet(val, flags) (((val) & (flags)) != static_cast<decltype((val) & (flags))>(0))
#define WI_AreAllFlagsSet(val, flags) (((val) & (flags)) == (flags))
#define WI_SetFlag(var, flag) ((var) |= (flag))
#define WI_ClearFlag(var, flag) ((var) &= ~(flag))

#endif // HCS_LINUX_WIL_RESULT_H
