#include "nodeArgs.h"

#include <cmath>
#include <string>

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

}  // namespace

void ThrowWithCode(Napi::Error error, const char* code) {
  error.Value().Set("code", Napi::String::New(error.Env(), code));
  throw error;
}

void ThrowArgType(const Napi::Value& value, const char* name, const char* expected) {
  std::string message =
      std::string("The \"") + name + "\" argument must be " + expected + ". Received " + Received(value);
  ThrowWithCode(Napi::TypeError::New(value.Env(), message), "ERR_INVALID_ARG_TYPE");
}

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

Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = info[index];
  if (!value.IsFunction()) ThrowArgType(value, name, "of type function");
  return value.As<Napi::Function>();
}

void ThrowInvalidState(Napi::Env env, const char* message) {
  ThrowWithCode(Napi::Error::New(env, message), "ERR_INVALID_STATE");
}

}  // namespace procwire
