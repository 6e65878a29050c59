/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 * computestorage.h for Linux (hcs): present so that programs which include it (Microsoft's HCS quick start does)
 * compile. hcs does not implement the container-layer storage API (HcsImportLayer, HcsSetupBaseOSLayer, ...): no
 * function is declared or exported. It brings in the HCS types, as the Windows header does. */
#ifndef HCS_LINUX_COMPUTESTORAGE_H
#define HCS_LINUX_COMPUTESTORAGE_H

#include "computedefs.h"

#endif /* HCS_LINUX_COMPUTESTORAGE_H */
