// Copyright (c) hcs contributors. Licensed under the MIT licence.
// Behaviour of hcs's WIL subset (include/wil), run by HeaderTests without libcomputecore.so: this program defines
// the Win32 compatibility functions and HcsClose* itself (as counting fakes). Prints "wil: ok" as its only output;
// a failed check prints "FAILED line N: ..." to stderr and exits 1.
//   wil_behaviour            run the checks
//   wil_behaviour assert     run WI_ASSERT(false): aborts when built with -DRESULT_DEBUG, returns 0 otherwise
#include <computecore.h>
#include <wil/resource.h>
#include <wil/result.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

// ---- Counting fakes of the functions libcomputecore.so exports ----
namespace {
int g_localFrees;
int g_handleCloses;
int g_operationCloses;
int g_systemCloses;
int g_processCloses;
DWORD g_lastError;

struct FakeEvent {
    bool manualReset;
    bool signaled;
};
} // namespace

extern "C" {
HLOCAL LocalFree(HLOCAL memory)
{
    ++g_localFrees;
    std::free(memory);
    return nullptr;
}
BOOL CloseHandle(HANDLE handle)
{
    ++g_handleCloses;
    delete static_cast<FakeEvent*>(handle);
    return TRUE;
}
HANDLE CreateEventW(LPSECURITY_ATTRIBUTES, BOOL manualReset, BOOL initialState, LPCWSTR)
{
    return new FakeEvent{manualReset != FALSE, initialState != FALSE};
}
BOOL SetEvent(HANDLE event)
{
    static_cast<FakeEvent*>(event)->signaled = true;
    return TRUE;
}
BOOL ResetEvent(HANDLE event)
{
    static_cast<FakeEvent*>(event)->signaled = false;
    return TRUE;
}
DWORD WaitForSingleObject(HANDLE handle, DWORD)
{
    auto* event = static_cast<FakeEvent*>(handle);
    if (!event->signaled) {
        return WAIT_TIMEOUT;
    }
    if (!event->manualReset) {
        event->signaled = false;
    }
    return WAIT_OBJECT_0;
}
DWORD GetLastError(void) { return g_lastError; }
void HcsCloseOperation(HCS_OPERATION) { ++g_operationCloses; }
void HcsCloseComputeSystem(HCS_SYSTEM) { ++g_systemCloses; }
void HcsCloseProcess(HCS_PROCESS) { ++g_processCloses; }
}

// ---- A tiny check harness ----
namespace {
int g_failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            std::fprintf(stderr, "FAILED line %d: %s\n", __LINE__, #cond);       \
            ++g_failures;                                                        \
        }                                                                        \
    } while (0)

#define CHECK_EQ_STR(actual, expected)                                                                    \
    do {                                                                                                  \
        const std::string a_ = (actual);                                                                  \
        const std::string e_ = (expected);                                                                \
        if (a_ != e_) {                                                                                   \
            std::fprintf(stderr, "FAILED line %d: [%s] != [%s]\n", __LINE__, a_.c_str(), e_.c_str());  \
            ++g_failures;                                                                                 \
        }                                                                                                 \
    } while (0)

// The message a THROW_* statement produced (or "no throw").
template <typename F>
std::string MessageOf(F&& f, HRESULT* code = nullptr)
{
    try {
        f();
    } catch (const wil::ResultException& e) {
        if (code != nullptr) {
            *code = e.GetErrorCode();
        }
        return e.GetMessage();
    }
    return "no throw";
}

PWSTR Duplicate(const wchar_t* s)
{
    const size_t bytes = (std::wcslen(s) + 1) * sizeof(wchar_t);
    auto* copy = static_cast<PWSTR>(std::malloc(bytes));
    std::memcpy(copy, s, bytes);
    return copy;
}

// Writes a result document, then fails: what HcsWaitForOperationResult does for a failed operation.
HRESULT FailWithDocument(PWSTR* document)
{
    *document = Duplicate(L"{\"Error\":-2143878899,\"ErrorMessage\":\"Ungültig ✗\"}");
    return HCS_E_INVALID_JSON;
}

HRESULT ReturnsEarly(HRESULT hr, bool* reachedEnd)
{
    RETURN_IF_FAILED(hr);
    *reachedEnd = true;
    return S_OK;
}

HRESULT ReturnsIf(bool condition)
{
    RETURN_HR_IF(E_ABORT, condition);
    return S_FALSE;
}

HRESULT CatchesIntoHresult(HRESULT hr)
try {
    THROW_HR(hr);
}
CATCH_RETURN()

void FormatChecks()
{
    using wil::details::Format;
    // MSVC's %ws, %S and the standard %ls all take a wchar_t* string and come out as UTF-8 (in the "C" locale).
    CHECK_EQ_STR(Format("%ws", L"Grüße ✓ 😀"), "Grüße ✓ 😀");
    CHECK_EQ_STR(Format("%ls|%S", L"ä", L"€"), "ä|€");
    CHECK_EQ_STR(Format("%s and %ws", "narrow", L"wide"), "narrow and wide");
    CHECK_EQ_STR(Format("[%-6ws][%6ws][%.2ws]", L"ab", L"ab", L"abcd"), "[ab    ][    ab][ab]");
    CHECK_EQ_STR(Format("[%5s][%-5s][%.1s]", "x", "y", "zz"), "[    x][y    ][z]");
    CHECK_EQ_STR(Format("%ws|%s", static_cast<const wchar_t*>(nullptr), static_cast<const char*>(nullptr)),
        "(null)|(null)");
    CHECK_EQ_STR(Format("%c%wc%lc%C", 'a', L'ß', L'€', L'😀'), "aß€😀");
    CHECK_EQ_STR(Format("%d %i %u %x %X %o", -5, 7, 4000000000u, 255u, 255u, 8u), "-5 7 4000000000 ff FF 10");
    CHECK_EQ_STR(Format("%08X %#x", 0x8037010Du, 16u), "8037010D 0x10");
    CHECK_EQ_STR(Format("%ld %lld %llu %zu %jd", -1L, -2LL, 3ULL, static_cast<size_t>(4), static_cast<intmax_t>(5)),
        "-1 -2 3 4 5");
    CHECK_EQ_STR(Format("%I64d %I64u %I32d", -6LL, 7ULL, 8), "-6 7 8");
    CHECK_EQ_STR(Format("%hhd %hd %hu", 300, 70000, 70000), "44 4464 4464");
    CHECK_EQ_STR(Format("%5.2f|%-8.3e|%g", 3.14159, 1234.5, 0.5), " 3.14|1.234e+03|0.5");
    CHECK_EQ_STR(Format("%*d|%-*d|%.*f", 4, 1, 3, 2, 1, 2.25), "   1|2  |2.2");
    CHECK_EQ_STR(Format("100%% done"), "100% done");
    CHECK_EQ_STR(Format("%y stays"), "%y stays");
    CHECK_EQ_STR(Format("%p", nullptr).empty() ? "empty" : "ok", "ok");
    CHECK_EQ_STR(Format("%ws", L"\x110000"), "\xEF\xBF\xBD"); // not a code point: U+FFFD
}

void ThrowChecks()
{
    // THROW_IF_FAILED is an expression yielding the HRESULT; it throws only for failures.
    CHECK(THROW_IF_FAILED(S_FALSE) == S_FALSE);
    HRESULT code = S_OK;
    CHECK_EQ_STR(MessageOf([] { THROW_IF_FAILED(E_INVALIDARG); }, &code), "");
    CHECK(code == E_INVALIDARG);

    // what(): file:line, the code, its name and the message.
    try {
        THROW_HR_MSG(HCS_E_INVALID_JSON, "bad %ws at %d", L"Größe", 3);
    } catch (const wil::ResultException& e) {
        const std::string what = e.what();
        CHECK(what.find("wil_behaviour.cpp:") != std::string::npos);
        CHECK(what.find(":" + std::to_string(__LINE__ - 4) + ":") != std::string::npos);
        CHECK(what.find("0x8037010D (HCS_E_INVALID_JSON): bad Größe at 3") != std::string::npos);
        CHECK(e.GetLine() == __LINE__ - 6);
    }

    // THROW_IF_FAILED_MSG evaluates the call before the message arguments, so "%ws" shows the document it wrote.
    wil::unique_hlocal_string document;
    const int freesBefore = g_localFrees;
    CHECK_EQ_STR(MessageOf([&] { THROW_IF_FAILED_MSG(FailWithDocument(&document), "%ws", document.get()); }, &code),
        "{\"Error\":-2143878899,\"ErrorMessage\":\"Ungültig ✗\"}");
    CHECK(code == HCS_E_INVALID_JSON);
    CHECK(g_localFrees == freesBefore);
    CHECK(THROW_IF_FAILED_MSG(S_OK, "%s", "unused") == S_OK);

    CHECK(THROW_HR_IF(E_FAIL, false) == false);
    CHECK_EQ_STR(MessageOf([] { THROW_HR_IF(E_FAIL, 1 + 1 == 2); }, &code), "");
    CHECK(code == E_FAIL);
    CHECK_EQ_STR(MessageOf([] { THROW_HR_IF_MSG(E_ABORT, true, "n=%d", 4); }, &code), "n=4");
    int value = 0;
    CHECK(THROW_HR_IF_NULL(E_POINTER, &value) == &value);
    CHECK_EQ_STR(MessageOf([] { THROW_HR_IF_NULL(E_POINTER, static_cast<int*>(nullptr)); }, &code), "");
    CHECK(code == E_POINTER);

    g_lastError = ERROR_ACCESS_DENIED;
    CHECK(THROW_LAST_ERROR_IF(false) == false);
    CHECK_EQ_STR(MessageOf([] { THROW_LAST_ERROR_IF(true); }, &code), "");
    CHECK(code == E_ACCESSDENIED);
    g_lastError = 0;
    CHECK_EQ_STR(MessageOf([] { THROW_LAST_ERROR(); }, &code), "");
    CHECK(code == E_FAIL); // a failure with no last error must not read as success
    CHECK_EQ_STR(MessageOf([] { THROW_WIN32(ERROR_NOT_SUPPORTED); }, &code), "");
    CHECK(code == HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED));

    bool reachedEnd = false;
    CHECK(ReturnsEarly(HCS_E_OPERATION_TIMEOUT, &reachedEnd) == HCS_E_OPERATION_TIMEOUT && !reachedEnd);
    CHECK(ReturnsEarly(S_FALSE, &reachedEnd) == S_OK && reachedEnd);
    CHECK(ReturnsIf(true) == E_ABORT && ReturnsIf(false) == S_FALSE);
    CHECK(CatchesIntoHresult(HCS_E_SYSTEM_NOT_FOUND) == HCS_E_SYSTEM_NOT_FOUND);
    CHECK(wil::ResultFromException([] { throw std::bad_alloc(); }) == E_OUTOFMEMORY);
    CHECK(wil::ResultFromException([] {}) == S_OK);
    CHECK(LOG_IF_FAILED(E_FAIL) == E_FAIL); // and prints nothing (HeaderTests checks stderr is empty)
    CHECK(LOG_IF_FAILED_MSG(E_FAIL, "%ws", L"x") == E_FAIL);

    // The error codes and the HRESULT helpers.
    CHECK(HRESULT_FROM_WIN32(ERROR_CANCELLED) == static_cast<HRESULT>(0x800704C7u));
    CHECK(HRESULT_FROM_WIN32(0) == S_OK);
    CHECK(FAILED(HCS_E_OPERATION_PENDING) && SUCCEEDED(S_FALSE));
    CHECK(HCS_E_INVALID_JSON < 0); // a 32-bit signed HRESULT
}

void ResourceChecks()
{
    static_assert(std::is_same<unique_hcs_operation,
                      wil::unique_any<HCS_OPERATION, decltype(&HcsCloseOperation), HcsCloseOperation>>::value,
        "unique_hcs_operation is exactly the samples' alias");
    static_assert(!std::is_copy_constructible<unique_hcs_system>::value, "move-only");
    static_assert(std::is_nothrow_move_constructible<unique_hcs_system>::value, "movable");
    static_assert(!std::is_convertible<unique_hcs_system, bool>::value, "explicit operator bool");

    auto* fake = reinterpret_cast<HCS_SYSTEM>(static_cast<uintptr_t>(0x1000));
    {
        unique_hcs_system system;
        CHECK(!system && system.get() == nullptr && system == nullptr);
        HCS_SYSTEM* out = &system; // operator&: the address of the (emptied) storage
        *out = fake;
        CHECK(system && system.get() == fake);
        unique_hcs_system moved = std::move(system);
        CHECK(!system && moved.get() == fake && g_systemCloses == 0);
        (void)&moved; // closes the old value before handing out the storage
        CHECK(g_systemCloses == 1 && !moved);
        moved.reset(fake);
        CHECK(moved.release() == fake && !moved);
        moved.reset(fake);
        moved.reset();
        CHECK(g_systemCloses == 2);
        moved.reset(fake);
    }
    CHECK(g_systemCloses == 3);

    {
        unique_hcs_operation operation{reinterpret_cast<HCS_OPERATION>(static_cast<uintptr_t>(0x2000))};
        unique_hcs_process process{reinterpret_cast<HCS_PROCESS>(static_cast<uintptr_t>(0x3000))};
        CHECK(operation.is_valid() && process != nullptr);
    }
    CHECK(g_operationCloses == 1 && g_processCloses == 1);

    const int frees = g_localFrees;
    {
        wil::unique_hlocal_string text{Duplicate(L"json")};
        CHECK(std::wcscmp(text.get(), L"json") == 0);
        *text.put() = Duplicate(L"other");
        CHECK(g_localFrees == frees + 1);
    }
    CHECK(g_localFrees == frees + 2);

    {
        wil::unique_event event;
        event.create();
        CHECK(event && !event.wait(0));
        event.SetEvent();
        CHECK(event.wait(0) && !event.wait(0)); // auto-reset
        wil::unique_event manual(wil::EventOptions::ManualReset | wil::EventOptions::Signaled);
        CHECK(manual.wait(0) && manual.is_signaled());
        manual.ResetEvent();
        CHECK(!manual.wait(0));
    }
    CHECK(g_handleCloses == 2);

    int ran = 0;
    {
        auto cleanup = wil::scope_exit([&] { ++ran; });
        auto dismissed = wil::scope_exit([&] { ran += 10; });
        dismissed.release();
    }
    CHECK(ran == 1);
}

void DefinitionChecks()
{
    // Flag operators keep the enum type; a capture-less lambda converts to both callback types.
    constexpr HCS_EVENT_OPTIONS options = HcsEventOptionEnableOperationCallbacks | HcsEventOptionEnableVmLifecycle;
    static_assert(options == 3, "flags combine");
    HCS_EVENT_OPTIONS mutableOptions = HcsEventOptionNone;
    mutableOptions |= HcsEventOptionEnableLiveMigrationEvents;
    CHECK(WI_IsFlagSet(mutableOptions, HcsEventOptionEnableLiveMigrationEvents));
    CHECK(!WI_IsAnyFlagSet(mutableOptions, HcsEventOptionEnableOperationCallbacks));
    HCS_OPERATION_OPTIONS operationOptions = HcsOperationOptionProgressUpdate | HcsOperationOptionReserved1;
    CHECK(operationOptions == 3);
    HCS_EVENT_CALLBACK eventCallback = [](HCS_EVENT* event, void* context) {
        *static_cast<HCS_EVENT_TYPE*>(context) = event->Type;
    };
    HCS_OPERATION_COMPLETION completion = [](HCS_OPERATION, void*) {};
    (void)completion;
    HCS_EVENT event{HcsEventGroupOperationInfo, L"{}", nullptr};
    HCS_EVENT_TYPE seen = HcsEventInvalid;
    eventCallback(&event, &seen);
    CHECK(seen == HcsEventGroupOperationInfo && static_cast<uint32_t>(seen) == 0xC0000001u);
    CHECK(HcsOperationTypeNone < 0 && HCS_INVALID_OPERATION_ID == 0xFFFFFFFFFFFFFFFFull);
    CHECK(reinterpret_cast<intptr_t>(INVALID_HANDLE_VALUE) == -1);
    CHECK(INFINITE == 0xFFFFFFFFu && WAIT_TIMEOUT == 0x102u && WAIT_FAILED == 0xFFFFFFFFu && WAIT_OBJECT_0 == 0u);
    CHECK(GENERIC_ALL == 0x10000000u);
}
} // namespace

int main(int argc, char** argv)
{
    if (argc > 1 && std::strcmp(argv[1], "assert") == 0) {
        WI_ASSERT(false);
        return 0;
    }
    FormatChecks();
    ThrowChecks();
    ResourceChecks();
    DefinitionChecks();
    if (g_failures != 0) {
        return 1;
    }
    std::printf("wil: ok\n");
    return 0;
}
