// Copyright (c) hcs contributors. Licensed under the MIT licence.
// `#include <wil\result.h>` (a Windows-style path, as in Microsoft's samples) finds this file with gcc, which
// reads the backslash as part of the file name.
#include "wil/result.h"
