/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 * The RAII aliases for HCS handles (C++). Microsoft's samples declare these themselves; hcs declares them once both
 * <computecore.h> and <wil/resource.h> are included, in either order (each includes this file at its end). A
 * program's own identical alias declaration still compiles (C++ allows redeclaring an alias to the same type).
 * Define HCS_NO_UNIQUE_HCS_ALIASES to leave them out. No include guard on purpose: the second inclusion defines. */
#if defined(__cplusplus) && defined(HCS_LINUX_COMPUTECORE_H) && defined(HCS_LINUX_WIL_RESOURCE_H) && \
    !defined(HCS_NO_UNIQUE_HCS_ALIASES) && !defined(HCS_LINUX_WIL_HCS_UNIQUE_DEFINED)
#define HCS_LINUX_WIL_HCS_UNIQUE_DEFINED
using unique_hcs_operation = wil::unique_any<HCS_OPERATION, decltype(&HcsCloseOperation), HcsCloseOperation>;
using unique_hcs_system = wil::unique_any<HCS_SYSTEM, decltype(&HcsCloseComputeSystem), HcsCloseComputeSystem>;
using unique_hcs_process = wil::unique_any<HCS_PROCESS, decltype(&HcsCloseProcess), HcsCloseProcess>;
#endif
