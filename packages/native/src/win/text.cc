#include "text.h"

#include "win32.h"

namespace procwire {

std::string Utf8(const wchar_t* text, size_t length) {
  if (length == 0) return std::string();
  const int units = static_cast<int>(length);
  int bytes = WideCharToMultiByte(CP_UTF8, 0, text, units, nullptr, 0, nullptr, nullptr);
  std::string result(static_cast<size_t>(bytes), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, units, &result[0], bytes, nullptr, nullptr);
  return result;
}

std::string Utf8(const std::wstring& text) {
  return Utf8(text.data(), text.size());
}

}  // namespace procwire
