#include "args.h"

#include <string>

namespace procwire {

namespace {

[[noreturn]] void ThrowArgValue(Napi::Env env, const char* name, const std::string& problem) {
  std::string message = std::string("The argument '") + name + "' " + problem;
  ThrowWithCode(Napi::TypeError::New(env, message), "ERR_INVALID_ARG_VALUE");
}

}  // namespace

ObjectName ObjectNameArg(const Napi::CallbackInfo& info, size_t index, const char* name, const wchar_t* prefix,
                         size_t maxLength, bool backslashAllowed) {
  Napi::Value value = info[index];
  if (!value.IsString()) ThrowArgType(value, name, "of type string");
  Napi::String string = value.As<Napi::String>();
  // UTF-16 straight from V8: wchar_t is 16 bits wide with MSVC and mingw-w64.
  std::u16string units = string.Utf16Value();
  if (units.empty()) ThrowArgValue(info.Env(), name, "must not be empty");
  if (units.size() > maxLength) {
    ThrowArgValue(info.Env(), name, "must be at most " + std::to_string(maxLength) + " characters long");
  }
  for (char16_t unit : units) {
    // Windows would cut the name at a NUL; a backslash would reach another
    // name (a pipe name has no directories).
    if (unit == u'\0') ThrowArgValue(info.Env(), name, "must be a string without null bytes");
    if (unit == u'\\' && !backslashAllowed) ThrowArgValue(info.Env(), name, "must not contain a backslash");
  }
  ObjectName result;
  result.path = prefix;
  result.path.append(units.begin(), units.end());
  std::string prefixUtf8;
  for (const wchar_t* p = prefix; *p != L'\0'; ++p) prefixUtf8 += static_cast<char>(*p);  // the prefixes are ASCII
  result.utf8 = prefixUtf8 + string.Utf8Value();
  return result;
}

ByteView BytesArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = info[index];
  napi_env env = info.Env();
  void* data = nullptr;
  if (value.IsTypedArray()) {
    napi_typedarray_type type;
    size_t elements = 0;
    napi_status status = napi_get_typedarray_info(env, value, &type, &elements, &data, nullptr, nullptr);
    NAPI_THROW_IF_FAILED(env, status, ByteView{});
    // Bytes only: a wider element type would make "length" ambiguous.
    if (type == napi_uint8_array || type == napi_int8_array || type == napi_uint8_clamped_array) {
      return {static_cast<uint8_t*>(data), elements};
    }
  } else if (value.IsDataView()) {
    size_t bytes = 0;
    napi_status status = napi_get_dataview_info(env, value, &bytes, &data, nullptr, nullptr);
    NAPI_THROW_IF_FAILED(env, status, ByteView{});
    return {static_cast<uint8_t*>(data), bytes};
  }
  ThrowArgType(value, name, "an instance of Uint8Array, Buffer or DataView");
}

Napi::Function OptionalFunctionArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info[index].IsUndefined()) return Napi::Function();
  return FunctionArg(info, index, name);
}

}  // namespace procwire
