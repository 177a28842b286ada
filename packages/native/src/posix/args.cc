#include "args.h"

#include <cstring>

namespace procwire {

namespace {

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

}  // namespace procwire
