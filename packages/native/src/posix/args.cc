#include "args.h"

#include <cmath>
#include <cstring>

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

size_t ElementSize(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array: return 1;
    case napi_int16_array:
    case napi_uint16_array: return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array: return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: return 8;
    default: return 0;  // a kind newer than these headers (Float16Array): refused, never guessed
  }
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

int DescriptorArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  return static_cast<int>(IntegerArg(info, index, name, 0, INT32_MAX));
}

unsigned ModeArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  return static_cast<unsigned>(IntegerArg(info, index, name, 0, 07777));
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = info[index];
  if (!value.IsString()) ThrowArgType(value, name, "of type string");
  std::string text = value.As<Napi::String>().Utf8Value();
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
    std::string message = std::string("The argument '") + name + "' must be a string without null bytes";
    ThrowWithCode(Napi::TypeError::New(info.Env(), message), "ERR_INVALID_ARG_VALUE");
  }
  return text;
}

ByteView BytesArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = info[index];
  napi_env env = info.Env();
  void* data = nullptr;
  // One query each: this sits on the send and receive paths.
  if (value.IsTypedArray()) {
    napi_typedarray_type type;
    size_t elements = 0;
    napi_status status = napi_get_typedarray_info(env, value, &type, &elements, &data, nullptr, nullptr);
    NAPI_THROW_IF_FAILED(env, status, ByteView{});
    size_t size = ElementSize(type);
    // A detached buffer reports no data and length 0: a valid empty view.
    if (size != 0) return {static_cast<uint8_t*>(data), elements * size};
  } else if (value.IsDataView()) {
    size_t bytes = 0;
    napi_status status = napi_get_dataview_info(env, value, &bytes, &data, nullptr, nullptr);
    NAPI_THROW_IF_FAILED(env, status, ByteView{});
    return {static_cast<uint8_t*>(data), bytes};
  }
  ThrowArgType(value, name, "an instance of Uint8Array or another ArrayBufferView");
}

Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = info[index];
  if (!value.IsFunction()) ThrowArgType(value, name, "of type function");
  return value.As<Napi::Function>();
}

}  // namespace procwire
