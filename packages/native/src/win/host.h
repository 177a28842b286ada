// What the addon borrows from the Node executable that loaded it.
//
// A C runtime file descriptor means something only to the C runtime that
// made it, and node.exe links its own (the static UCRT), which neither an
// MSVC-built addon (/MT: another static copy) nor a mingw-w64 one
// (msvcrt.dll) shares. A descriptor that `new net.Socket({ fd })` can use
// must therefore come from node.exe's runtime: libuv's uv_open_osfhandle,
// which node.exe exports (as it exports all of libuv), calls it there.
#pragma once

#include "win32.h"

namespace procwire {

// uv_open_osfhandle(handle) in the host's C runtime: a descriptor that owns
// `handle` from now on (closing the descriptor closes the handle), or -1
// when the host has no such function (ERROR_PROC_NOT_FOUND in *error) or
// its C runtime refused (ERROR_TOO_MANY_OPEN_FILES in *error).
int HostOpenOsfHandle(HANDLE handle, DWORD* error);

}  // namespace procwire
