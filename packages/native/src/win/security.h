// The security descriptor of every named object this addon creates
// (mailslots, pipe instances): the current user owns it and is the only one
// its DACL admits. Windows would otherwise give a new pipe or mailslot the
// default DACL of the process token, which for a named pipe also lets
// Everyone and Anonymous read it, and lets any local user connect.
#pragma once

#include "win32.h"

#include <napi.h>

#include <string>

namespace procwire {

// "O:<sid>D:P(A;;GA;;;<sid>)": the user of the process token owns the object
// and gets every right (GENERIC_ALL, which each object type maps to its full
// access); the DACL is protected (P), so no inheritable ACE from a parent
// can widen it, and holds nothing else, so every other account (SYSTEM and
// Administrators included) is denied by default.
class OwnerOnlySecurity {
 public:
  OwnerOnlySecurity() = default;
  OwnerOnlySecurity(const OwnerOnlySecurity&) = delete;
  OwnerOnlySecurity& operator=(const OwnerOnlySecurity&) = delete;
  ~OwnerOnlySecurity();

  // Builds the descriptor; 0, or the Win32 error of the call named in `*syscall`.
  DWORD Build(const char** syscall);

  // For CreateMailslotW, CreateNamedPipeW: not inheritable.
  SECURITY_ATTRIBUTES* Attributes() { return &attributes_; }

 private:
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;  // LocalAlloc'ed by ConvertStringSecurityDescriptorToSecurityDescriptorW
  SECURITY_ATTRIBUTES attributes_{};
};

// The SID of the process token's user ("S-1-5-21-..."); 0 or a Win32 error,
// the failing call in `*syscall`.
DWORD CurrentUserSid(std::wstring* sid, const char** syscall);

// The owner and DACL of an open kernel object as SDDL
// ("O:S-1-5-21-...D:P(A;;FA;;;S-1-5-21-...)"), read back from Windows with
// GetSecurityInfo; 0 or a Win32 error.
DWORD DescribeSecurity(HANDLE handle, std::string* sddl, const char** syscall);

}  // namespace procwire
