// Each Windows source file adds its own functions to the addon's exports.
#pragma once

#include <napi.h>

namespace procwire {

void InitConstants(Napi::Env env, Napi::Object exports);
void InitSystem(Napi::Env env, Napi::Object exports);

}  // namespace procwire
