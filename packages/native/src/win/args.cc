#include "args.h"

#include <cmath>

namespace procwire {

namespace {

// "type string", "undefined", "null": how Node's ERR_INVALID_ARG_TYPE
// messages describe what was received.
std::string Received(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "type boolean";
    case napi_number: return "type number";
    case napi_string: return "type string";
    case napi_symbol: return "type symbol";
    case napi_function: return "type function";
    case napi_bigint: return "type bigint";
    default: return "type object";
  }
}

[[noreturn]] void ThrowWithCode(Napi::Error error, const char* code) {
  error.Value().Set("code", Napi::String::New(error.Env(), code));
  throw error;
}

[[noreturn]] void ThrowArgType(const Napi::Value& value, const char* name, const char* expected) {
  std::string message =
      std::string("The \"") + name + "\" argument must be " + expected + ". Received " + Received(value);
  ThrowWithCode(Napi::TypeError::New(value.Env(), message), "ERR_INVALID_ARG_TYPE");
}

[[noreturn]] void ThrowArgValue(Napi::Env env, const char* name, const std::string& problem) {
  std::string message = std::string("The argument '") + name + "' " + problem;
  ThrowWithCode(Napi::TypeError::New(env, message), "ERR_INVALID_ARG_VALUE");
}

}  // namespace

int64_t IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min, int64_t max) {
  Napi::Value value = info[index];
  if (!value.IsNumber()) ThrowArgType(value, name, "of type number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (std::isfinite(number) && std::trunc(number) == number && number >= static_cast<double>(min) &&
      number <= static_cast<double>(max)) {
    return static_cast<int64_t>(number);
  }
  // Coercing a number to a string runs no user code.
  std::string message = std::string("The value of \"") + name +
                        "\" is out of range. It must be an integer >= " + std::to_string(min) +
                        " and <= " + std::to_string(max) + ". Received " + value.ToString().Utf8Value();
  ThrowWithCode(Napi::RangeError::New(info.Env(), message), "ERR_OUT_OF_RANGE");
}

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

Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = info[index];
  if (!value.IsFunction()) ThrowArgType(value, name, "of type function");
  return value.As<Napi::Function>();
}

Napi::Function OptionalFunctionArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info[index].IsUndefined()) return Napi::Function();
  return FunctionArg(info, index, name);
}

}  // namespace procwire
