// UTF-16 (what the W functions speak) to UTF-8 (what error messages and
// JavaScript strings built with Napi::String::New take).
#pragma once

#include <cstddef>
#include <string>

namespace procwire {

std::string Utf8(const wchar_t* text, size_t length);
std::string Utf8(const std::wstring& text);

}  // namespace procwire
