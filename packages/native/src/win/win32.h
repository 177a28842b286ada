// The one way the Windows sources include the Win32 API, so every file sees
// the same declarations under MSVC and under mingw-w64: no min/max macros
// (they break std::min), none of the rarely used headers windows.h drags in.
// Include it first, before anything else can include windows.h.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif

#include <windows.h>
